/**
 * Secret-looking names: the one list decides both which headers are credentials and which query
 * parameters are secrets. Real API-key header names from public APIs must be caught; ordinary
 * headers must not be.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HopwiseError as HopwiseErrorClass, Session } from '../src/index.ts';
import { after, before, describe, it } from 'node:test';
import { isSecretQueryName, redactUrl } from '../src/credentials/sensitive.ts';
import { r, router, startServers, chainRunner, type TestServers } from './helpers/servers.ts';
import type { HopwiseError } from '../src/index.ts';

let srv: TestServers;
before(
  async () =>
    (srv = await startServers((req, res) => {
      // Two Location headers that disagree, and a Location with bare userinfo (no //).
      if (req.url === '/two-locations')
        return void (
          res.writeHead(302, [
            ['location', 'https://a.test/echo'],
            ['location', 'https://b.test/echo'],
          ] as never),
          res.end()
        );
      if (req.url?.startsWith('/to-code')) return void (res.writeHead(302, { location: 'https://b.test/echo?code=C0DE&state=ok' }), res.end());
      if (req.url?.startsWith('/loc?l=')) {
        // A Location chosen by the property test, sent as raw bytes (latin1), whatever it contains.
        const loc = Buffer.from(decodeURIComponent(req.url.slice(7)), 'base64').toString('latin1');
        try {
          res.writeHead(302, { location: loc });
        } catch {
          res.writeHead(302, { location: '/echo' });
        }
        return void res.end();
      }
      if (req.url === '/bare-userinfo') return void (res.writeHead(302, { location: 'https:bob:PASS@b.test/echo' }), res.end());
      return router(req, res);
    })),
);
after(() => srv.close());
const { run, runError } = chainRunner(() => srv);

describe('secret-looking names', () => {
  it('uses the same list for query parameters, plus OAuth code and sig', () => {
    for (const name of [
      'access_token',
      'api_key',
      'apikey',
      'key',
      'sig',
      'signature',
      'code',
      'client_secret',
      'X-Amz-Signature',
      'X-Amz-Credential',
      'X-Amz-Security-Token',
      'password',
      'session_id',
    ])
      assert.ok(isSecretQueryName(name), name);
    for (const name of ['page', 'q', 'id', 'next']) assert.ok(!isSecretQueryName(name), name);
    assert.equal(redactUrl('https://a.test/cb?code=abc&state=s&X-Amz-Signature=f00'), 'https://a.test/cb?code=redacted&state=s&X-Amz-Signature=redacted');
  });

  it('strips X-MBX-APIKEY on a cross-origin redirect: the next server never receives it', async () => {
    const { got } = await run(r('https://a.test', 302, 'https://b.test/echo'), { headers: { 'X-MBX-APIKEY': 'k3y' } });
    assert.equal(got[0]!.headers['x-mbx-apikey'], 'k3y');
    assert.equal(got[1]!.headers['x-mbx-apikey'], undefined);
  });
});

describe('what a redirect cannot smuggle', () => {
  it('refuses two Location headers that disagree instead of joining or guessing', async () => {
    const { err, got } = await runError('https://a.test/two-locations');
    assert.equal((err as HopwiseError).code, 'ERR_INVALID_REDIRECT');
    assert.equal(got.length, 1, 'neither target was requested');
    assert.equal(err.hops[0]!.decisions.at(-1)?.reason, 'invalid-location');
  });

  it('removes userinfo written without // and never puts the password in a path, the trace or a header', async () => {
    const { got, hops } = await run('https://a.test/bare-userinfo');
    // Against a same-scheme base the URL parser reads `https:…` as a relative path: the hop stays on
    // a.test, and without the userinfo the password is in neither the path nor any header.
    assert.equal(got.length, 2);
    assert.doesNotMatch(JSON.stringify(got.map((g) => [g.path, g.headers])), /PASS|bob/);
    assert.ok(hops[0]!.decisions.some((d) => d.reason === 'userinfo-dropped'));
    assert.doesNotMatch(JSON.stringify(hops), /PASS/);
  });

  it('never sends a caller-set Host, Origin or Referer to another origin, even a trusted one', async () => {
    const headers = { origin: 'https://a.test', referer: 'https://a.test/page?access_token=t0k', host: 'a.test' };
    const { got, hops } = await run(r('https://a.test', 302, r('https://a.test', 302, 'https://b.test/echo')), { headers, trust: ['b.test'] });
    assert.equal(got[1]!.headers.referer, headers.referer, 'kept on the same origin');
    assert.equal(got[2]!.headers.origin, undefined);
    assert.equal(got[2]!.headers.referer, undefined);
    assert.equal(got[2]!.headers.host, 'b.test', 'Host is the hop’s own');
    const d = hops[2]!.decisions.find((x) => x.subject === 'header' && x.name === 'referer');
    assert.equal(d?.reason, 'origin-bound');
  });
});

describe('secret query values in everything hopwise writes', () => {
  it('redacts secret query values in hops, the HAR and the doctor, and keeps the real URL on the response', async () => {
    const { toHar } = await import('../src/trace/har.ts');
    const { diagnose } = await import('../src/index.ts');
    const target = 'https://b.test/echo?code=C0DE&state=ok';
    const { res, got, hops } = await run('https://a.test/to-code?access_token=T0KEN', { headers: { authorization: 'Bearer x', referer: 'https://a.test/?api_key=R3F' } });
    assert.equal(got[0]!.path.includes('access_token=T0KEN'), true, 'the server still receives the URL as given');
    assert.equal(res.url, target, 'the response keeps the real URL');
    const everything = JSON.stringify([hops, toHar(hops), diagnose(hops)]);
    for (const secret of ['T0KEN', 'C0DE', 'R3F']) assert.ok(!everything.includes(secret), `${secret} is redacted`);
    assert.match(hops[0]!.url, /access_token=redacted/);
    assert.equal(hops[1]!.url, 'https://b.test/echo?code=redacted&state=ok');
  });
});

describe('properties (fast-check, bounded, fixed seeds)', () => {
  it('refuses up front, naming the header, any value the wire cannot carry, and sends the rest as given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 12 }), async (v) => {
        let s: Session;
        try {
          s = new Session({ connectTo: srv.connectTo, ca: srv.ca, headers: { 'x-v': v } });
        } catch (err) {
          assert.ok(err instanceof HopwiseErrorClass && err.code === 'ERR_INVALID_OPTION' && err.message.includes("'x-v'"), String(err));
          assert.ok(/[^\t\x20-\x7e\x80-\xff]/.test(v), `refused a value the wire can carry: ${JSON.stringify(v)}`);
          return;
        }
        const n = srv.received.length;
        const res = await s.fetch('https://a.test/echo');
        await res.text();
        await s.close();
        const got = srv.received[n]!.headers['x-v'];
        assert.equal(Buffer.from(String(got ?? ''), 'latin1').toString('latin1'), v.replace(/^[\t ]+|[\t ]+$/g, ''));
      }),
      { numRuns: 60, seed: 9110 },
    );
  });

  it('ends any Location a server sends in bounded time, with a response or a typed error carrying the trace, and no credential to another origin', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, headers: { authorization: 'Bearer p', 'x-api-key': 'k' }, timeout: { total: 5000 }, maxRedirects: 3 });
    const hosts = fc.constantFrom('a.test', 'b.test', 'A.TEST', 'a.test.', 'x.example.com', '127.0.0.1', '[::1]', 'bob:S3CRETPW@b.test', 'a.test:8443');
    const location = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc
        .tuple(
          fc.constantFrom('https://', 'http://', '//', 'https:', 'HTTPS://', 'https:\\\\', 'javascript:', 'file://'),
          hosts,
          fc.constantFrom('', '/echo', '/echo?token=t#f', '/%2e%2e/echo', '/../echo'),
        )
        .map((p) => p.join('')),
    );
    await fc.assert(
      fc.asyncProperty(location, async (loc) => {
        const n = srv.received.length;
        const t0 = Date.now();
        try {
          const res = await s.fetch(`https://a.test/loc?l=${encodeURIComponent(Buffer.from(loc, 'latin1').toString('base64'))}`);
          await res.text();
          assert.ok(res.hops.length >= 1);
        } catch (err) {
          assert.ok(err instanceof HopwiseErrorClass, String(err));
          assert.ok(err.hops.length >= 1, 'the trace comes with the error');
        }
        assert.ok(Date.now() - t0 < 6000, 'bounded time');
        for (const g of srv.received.slice(n)) {
          if (g.host !== 'a.test' || g.scheme !== 'https') {
            assert.equal(g.headers.authorization, undefined, `no Authorization to ${g.scheme}://${g.host}`);
            assert.equal(g.headers['x-api-key'], undefined);
          }
          assert.ok(!JSON.stringify(g.headers).includes('S3CRETPW'), 'userinfo never became a credential');
        }
      }),
      { numRuns: 80, seed: 7231 },
    );
    await s.close();
  });
});

describe('CLI argument errors', () => {
  it('never repeat a value that may be a secret', async () => {
    const { parseArgs } = await import('../src/cli/args.ts');
    for (const argv of [
      ['-H', 'Authorization Bearer S3CRET', 'https://a.test/'],
      ['-F', 'S3CRET', 'https://a.test/'],
      ['-u', 'S3CRET', 'https://a.test/'],
      ['--proxy-user', 'S3CRET', 'https://a.test/'],
    ]) {
      assert.throws(
        () => parseArgs(argv),
        (err: Error) => !err.message.includes('S3CRET'),
        argv[0],
      );
    }
    const { optionsFromArgs } = await import('../src/cli/args.ts');
    const { basic, bearer, CookieJar } = await import('../src/index.ts');
    const parsed = parseArgs(['-b', 'sid=S3CRET; broken', 'https://a.test/']);
    assert.ok(parsed.command === 'fetch');
    await assert.rejects(optionsFromArgs(parsed.request, { read: async () => Buffer.from(''), basic, bearer, CookieJar }), (err: Error) => /-b/.test(err.message) && !err.message.includes('S3CRET'));
  });
});
