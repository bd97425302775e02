import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session, bearer, basic, header, type Hop, type HopwiseError } from '../src/index.ts';
import { chainRunner, r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

const { session, run } = chainRunner(() => srv);

const decision = (hops: Hop[], subject: string, name: string) => hops.flatMap((h) => h.decisions.filter((d) => d.subject === subject && d.name === name));
const TOKEN = { authorization: 'Bearer s3cret-token' };

describe('sensitive headers across origins', () => {
  it('keeps Authorization on a same-origin 302', async () => {
    const { last, hops } = await run(r('https://a.test', 302, '/echo'), { headers: TOKEN });
    assert.equal(last.headers.authorization, 'Bearer s3cret-token');
    assert.equal(decision(hops, 'header', 'authorization').at(-1)?.reason, 'same-origin');
  });

  it('strips Authorization on a cross-host 302 and says cross-origin', async () => {
    const { last, hops } = await run(r('https://a.test', 302, 'https://b.test/echo'), { headers: TOKEN });
    assert.equal(last.host, 'b.test');
    assert.equal(last.headers.authorization, undefined);
    const d = decision(hops, 'header', 'authorization').at(-1)!;
    assert.equal(d.action, 'stripped');
    assert.equal(d.reason, 'cross-origin');
    assert.deepEqual(d.facts, { from: 'https://a.test', to: 'https://b.test', sameSite: false });
  });

  it('strips Authorization on a cross-port 302 on the same host', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://a.test:8443/echo'), { headers: TOKEN });
    assert.equal(last.headers.authorization, undefined);
  });

  it('strips Authorization on a cross-scheme (https to http) 302 when the downgrade is allowed', async () => {
    const { last, hops } = await run(r('https://a.test', 302, 'http://a.test/echo'), { headers: TOKEN, allowDowngrade: true });
    assert.equal(last.scheme, 'http');
    assert.equal(last.headers.authorization, undefined);
    assert.ok(hops[0]!.decisions.some((d) => d.reason === 'downgrade-allowed'));
  });

  it('refuses an https to http downgrade by default with ERR_INSECURE_REDIRECT and sends nothing to http', async () => {
    const before = srv.received.length;
    const s = session({ headers: TOKEN });
    await assert.rejects(s.fetch(r('https://a.test', 302, 'http://a.test/echo')), (err: HopwiseError) => {
      assert.equal(err.code, 'ERR_INSECURE_REDIRECT');
      assert.equal(err.hops.length, 1);
      assert.equal(err.hops[0]!.decisions.at(-1)?.reason, 'downgrade-refused');
      assert.ok(!err.message.includes('s3cret'));
      return true;
    });
    await s.close();
    assert.deepEqual(
      srv.received.slice(before).map((x) => x.scheme),
      ['https'],
    );
  });

  it('keeps a stripped header stripped when the chain comes back (a → b → a)', async () => {
    const { got, last, hops } = await run(r('https://a.test', 302, r('https://b.test', 302, 'https://a.test/echo')), { headers: TOKEN });
    assert.deepEqual(
      got.map((g) => g.host),
      ['a.test', 'b.test', 'a.test'],
    );
    assert.equal(last.headers.authorization, undefined);
    assert.equal(decision(hops, 'header', 'authorization').at(-1)!.reason, 'stripped-earlier');
  });

  it('keeps Authorization on an http:80 to https:443 upgrade of the same host', async () => {
    const { last, hops } = await run(r('http://a.test', 301, 'https://a.test/echo'), { headers: TOKEN });
    assert.equal(last.scheme, 'https');
    assert.equal(last.headers.authorization, 'Bearer s3cret-token');
    assert.equal(decision(hops, 'header', 'authorization').at(-1)!.reason, 'https-upgrade');
  });

  it('does not treat http:8080 to https:8443 as an upgrade', async () => {
    const { last } = await run(r('http://a.test:8080', 302, 'https://a.test:8443/echo'), { headers: TOKEN });
    assert.equal(last.headers.authorization, undefined);
  });

  it('strips secret-looking custom headers (X-Api-Key, X-Auth-Token, X-Request-Signature) but forwards ordinary ones', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://b.test/echo'), {
      headers: { 'X-Api-Key': 'k1', 'X-Auth-Token': 't1', 'X-Request-Signature': 'sig', 'X-Trace-Id': 'abc', Accept: 'application/json' },
    });
    assert.equal(last.headers['x-api-key'], undefined);
    assert.equal(last.headers['x-auth-token'], undefined);
    assert.equal(last.headers['x-request-signature'], undefined);
    assert.equal(last.headers['x-trace-id'], 'abc');
    assert.equal(last.headers.accept, 'application/json');
  });

  it('strips a header named in sensitiveHeaders across origins', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://b.test/echo'), { headers: { 'X-Tenant': 'acme' }, sensitiveHeaders: ['X-Tenant'] });
    assert.equal(last.headers['x-tenant'], undefined);
  });

  it('strips a caller Cookie header across origins', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://b.test/echo'), {}, { headers: { Cookie: 'sid=1' } });
    assert.equal(last.headers.cookie, undefined);
  });

  it('redacts secrets in the trace but keeps the scheme word', async () => {
    const { hops } = await run(r('https://a.test', 302, '/echo'), { headers: TOKEN });
    assert.equal(hops[0]!.requestHeaders.authorization, 'Bearer ‹redacted›');
    assert.ok(!JSON.stringify(hops).includes('s3cret'));
  });
});

describe('trust patterns', () => {
  it('forwards Authorization into an exactly trusted origin', async () => {
    const { last, hops } = await run(r('https://a.test', 302, 'https://api.example.com/echo'), { headers: TOKEN, trust: ['api.example.com'] });
    assert.equal(last.headers.authorization, 'Bearer s3cret-token');
    assert.equal(decision(hops, 'header', 'authorization').at(-1)!.reason, 'trusted');
  });

  it('forwards Authorization into a wildcard-trusted subdomain', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://x.example.com/echo'), { headers: TOKEN, trust: ['*.example.com'] });
    assert.equal(last.headers.authorization, 'Bearer s3cret-token');
  });

  it('does not let *.example.com match evilexample.com (no suffix tricks)', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://evilexample.com/echo'), { headers: TOKEN, trust: ['*.example.com'] });
    assert.equal(last.host, 'evilexample.com');
    assert.equal(last.headers.authorization, undefined);
  });

  it('does not let *.example.com match example.com itself', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://example.com/echo'), { headers: TOKEN, trust: ['*.example.com'] });
    assert.equal(last.headers.authorization, undefined);
  });

  it('does not let example.com match example.com.evil.test', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://example.com.evil.test/echo'), { headers: TOKEN, trust: ['example.com'] });
    assert.equal(last.host, 'example.com.evil.test');
    assert.equal(last.headers.authorization, undefined);
  });

  it('treats a trailing-dot host as a different host from the trusted one', async () => {
    const { last } = await run(r('https://a.test', 302, 'https://example.com./echo'), { headers: TOKEN, trust: ['example.com'] });
    assert.equal(last.headers.authorization, undefined);
  });

  it('never trusts http: unless the pattern says so', async () => {
    const { last } = await run(r('http://a.test', 302, 'http://api.example.com/echo'), { headers: TOKEN, trust: ['api.example.com'] });
    assert.equal(last.headers.authorization, undefined);
    const ok = await run(r('http://a.test', 302, 'http://api.example.com/echo'), { headers: TOKEN, trust: ['http://api.example.com'] });
    assert.equal(ok.last.headers.authorization, 'Bearer s3cret-token');
  });

  it('matches the port a pattern names and only that port', async () => {
    const yes = await run(r('https://a.test', 302, 'https://api.example.com:8443/echo'), { headers: TOKEN, trust: ['https://api.example.com:8443'] });
    assert.equal(yes.last.headers.authorization, 'Bearer s3cret-token');
    const no = await run(r('https://a.test', 302, 'https://api.example.com:8443/echo'), { headers: TOKEN, trust: ['api.example.com'] });
    assert.equal(no.last.headers.authorization, undefined);
  });

  it('still strips on an open redirect from a trusted API to an untrusted host', async () => {
    const { got } = await run(r('https://api.example.com', 302, 'https://evilexample.com/echo'), { headers: { ...TOKEN, 'X-Api-Key': 'k' }, trust: ['api.example.com'] });
    assert.equal(got[1]!.headers.authorization, undefined);
    assert.equal(got[1]!.headers['x-api-key'], undefined);
  });
});

describe('scoped auth providers', () => {
  it('re-applies a bearer provider at every hop in scope, including a trusted-looking other host in its scope', async () => {
    const { got, hops } = await run(r('https://a.test', 302, r('https://api.example.com', 302, 'https://api.example.com/echo')), { auth: bearer('tok', { scope: ['a.test', 'api.example.com'] }) });
    assert.deepEqual(
      got.map((g) => g.headers.authorization),
      ['Bearer tok', 'Bearer tok', 'Bearer tok'],
    );
    assert.equal(decision(hops, 'auth', 'authorization').at(-1)!.reason, 'in-scope');
  });

  it('never applies a provider outside its scope, and says out-of-scope', async () => {
    const { got, hops } = await run(r('https://a.test', 302, r('https://b.test', 302, 'https://a.test/echo')), { auth: bearer('tok', { scope: 'a.test' }) });
    assert.deepEqual(
      got.map((g) => g.headers.authorization),
      ['Bearer tok', undefined, 'Bearer tok'],
    );
    assert.equal(decision(hops, 'auth', 'authorization')[1]!.reason, 'out-of-scope');
  });

  it('defaults the scope to the first origin and its https upgrade', async () => {
    const { got } = await run(r('http://a.test', 301, r('https://a.test', 302, 'https://b.test/echo')), { auth: basic('alice', 'pw') });
    const expected = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    assert.deepEqual(
      got.map((g) => g.headers.authorization),
      [expected, expected, undefined],
    );
  });

  it('applies a header() provider with a custom name only in scope', async () => {
    const { got } = await run(r('https://api.example.com', 302, 'https://b.test/echo'), { auth: header('X-Api-Key', 'k-123', { scope: 'api.example.com' }) });
    assert.deepEqual(
      got.map((g) => g.headers['x-api-key']),
      ['k-123', undefined],
    );
  });

  it('asks a function token for a fresh credential once after a 401 and retries the hop', async () => {
    const s = session({ auth: bearer(({ refresh }) => (refresh ? 'fresh' : 'stale')) });
    const before = srv.received.length;
    const res = await s.fetch('https://a.test/need-token?t=fresh');
    assert.equal(res.status, 200);
    await s.close();
    assert.deepEqual(
      srv.received.slice(before).map((g) => g.headers.authorization),
      ['Bearer stale', 'Bearer fresh'],
    );
    assert.equal(res.hops.length, 2);
    assert.equal(res.hops[1]!.decisions.find((d) => d.subject === 'auth' && d.action === 'refreshed')?.reason, 'refreshed-after-401');
  });

  it('retries a 401 only once per chain, then returns it', async () => {
    const s = session({ auth: bearer(() => 'always-wrong') });
    const before = srv.received.length;
    const res = await s.fetch('https://a.test/need-token?t=right');
    assert.equal(res.status, 401);
    await s.close();
    assert.equal(srv.received.length - before, 2);
  });

  it('does not retry a 401 for a static token', async () => {
    const s = session({ auth: bearer('static') });
    const before = srv.received.length;
    const res = await s.fetch('https://a.test/need-token?t=right');
    assert.equal(res.status, 401);
    await s.close();
    assert.equal(srv.received.length - before, 1);
  });

  it('rejects malformed provider arguments with ERR_INVALID_OPTION', () => {
    assert.throws(() => bearer(''), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => basic('a:b', 'x'), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => header('bad name', 'v'), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => bearer('t', { scope: 'evil.*' }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => bearer('t', { scopes: 'a' } as never), { code: 'ERR_UNKNOWN_OPTION' });
  });
});

describe('auth provider failures', () => {
  it('turns a throwing token function into ERR_INVALID_OPTION without quoting its message', async () => {
    const s = new Session({
      connectTo: srv.connectTo,
      ca: srv.ca,
      auth: bearer(() => {
        throw new Error('vault said no for token abc123');
      }),
    });
    await assert.rejects(s.fetch('https://a.test/echo'), (err: Error & { code: string; cause: Error }) => {
      assert.equal(err.code, 'ERR_INVALID_OPTION');
      assert.ok(!err.message.includes('abc123'));
      assert.match(err.cause.message, /vault/);
      return true;
    });
    await s.close();
  });

  it('refuses a provider value that would split the header', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, auth: header('X-Key', () => 'a\r\nX-Evil: 1') });
    await assert.rejects(s.fetch('https://a.test/echo'), { code: 'ERR_INVALID_OPTION' });
    await s.close();
  });
});
