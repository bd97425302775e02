import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CookieJar, type Hop } from '../src/index.ts';
import { chainRunner, r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

const { run } = chainRunner(() => srv);

const cookieDecisions = (hops: Hop[], name: string) =>
  hops.flatMap((h, i) => h.decisions.filter((d) => (d.subject === 'cookie' || d.subject === 'set-cookie') && d.name === name).map((d) => ({ hop: i, ...d })));

describe('cookies across hops', () => {
  it('sends a cookie set on a 302 with the very next hop', async () => {
    const { got, hops } = await run(r('https://a.test', 302, '/echo', 'sid=abc; Path=/; HttpOnly'));
    assert.equal(got[1]!.headers.cookie, 'sid=abc');
    const ds = cookieDecisions(hops, 'sid');
    assert.deepEqual(
      ds.map((d) => [d.hop, d.subject, d.action]),
      [
        [0, 'set-cookie', 'stored'],
        [1, 'cookie', 'sent'],
      ],
    );
  });

  it('does not send a host-only cookie to a subdomain, and the trace says host-only', async () => {
    const { got, hops } = await run(r('https://example.com', 302, 'https://www.example.com/echo', 'sid=abc; Path=/'));
    assert.equal(got[1]!.headers.cookie, undefined);
    const withheld = cookieDecisions(hops, 'sid').find((d) => d.subject === 'cookie')!;
    assert.equal(withheld.action, 'withheld');
    assert.equal(withheld.reason, 'host-only');
  });

  it('withholds a Path=/app cookie from /dashboard with path-mismatch', async () => {
    const { got, hops } = await run(r('https://a.test', 302, '/echo?dashboard', 'sid=abc; Path=/app'));
    assert.equal(got[1]!.headers.cookie, undefined);
    const withheld = cookieDecisions(hops, 'sid').find((d) => d.subject === 'cookie')!;
    assert.equal(withheld.reason, 'path-mismatch');
  });

  it('does not send a Secure cookie after an allowed downgrade to http', async () => {
    const { got, hops } = await run(r('https://a.test', 302, 'http://a.test/echo', 'sid=abc; Path=/; Secure'), { allowDowngrade: true });
    assert.equal(got[1]!.scheme, 'http');
    assert.equal(got[1]!.headers.cookie, undefined);
    assert.equal(cookieDecisions(hops, 'sid').find((d) => d.subject === 'cookie')!.reason, 'secure-only');
  });

  it('sends a Domain=example.com cookie from api.example.com to www.example.com', async () => {
    const { got } = await run(r('https://api.example.com', 302, 'https://www.example.com/echo', 'sid=abc; Domain=example.com; Path=/'));
    assert.equal(got[1]!.headers.cookie, 'sid=abc');
  });

  it('rejects a Secure cookie set over http and says why', async () => {
    const { got, hops } = await run(r('http://a.test', 302, 'https://a.test/echo', 'sid=abc; Path=/; Secure'));
    assert.equal(got[1]!.headers.cookie, undefined);
    assert.equal(cookieDecisions(hops, 'sid')[0]!.reason, 'secure-from-insecure');
  });

  it('sends a cookie set over http after the upgrade to https', async () => {
    const { got } = await run(r('http://a.test', 301, 'https://a.test/echo', 'sid=abc; Path=/'));
    assert.equal(got[1]!.headers.cookie, 'sid=abc');
  });

  it('keeps cookies in the session jar across fetches, and uses a jar passed in', async () => {
    const jar = new CookieJar();
    jar.setCookie('pre=1; Path=/', 'https://a.test/');
    const { got } = await run('https://a.test/echo', { cookies: jar });
    assert.equal(got[0]!.headers.cookie, 'pre=1');
  });

  it('sends no cookies and stores none with cookies: false', async () => {
    const { got, jar } = await run(r('https://a.test', 302, '/echo', 'sid=abc; Path=/'), { cookies: false });
    assert.equal(got[1]!.headers.cookie, undefined);
    assert.equal(jar, undefined);
  });
});
