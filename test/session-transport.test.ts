import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session, HopwiseError } from '../src/index.ts';
import { parseConnectTo, route } from '../src/transport/connect-to.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

const session = (extra: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...extra });

describe('options', () => {
  it('rejects an unknown option by name and suggests the close one', () => {
    assert.throws(
      () => new Session({ maxRedirect: 3 } as never),
      (err: HopwiseError) => {
        assert.equal(err.code, 'ERR_UNKNOWN_OPTION');
        assert.match(err.message, /'maxRedirect'.*Did you mean 'maxRedirects'/);
        return true;
      },
    );
    assert.throws(() => new Session({ timeout: { totl: 5 } } as never), /Did you mean 'total'/);
  });

  it('rejects an unknown fetch() init option', async () => {
    const s = session();
    await assert.rejects(s.fetch('https://a.test/echo', { redirects: 'manual' } as never), { code: 'ERR_UNKNOWN_OPTION' });
    await s.close();
  });

  it('rejects wrong option types with a message saying what was expected', () => {
    assert.throws(() => new Session({ maxRedirects: -1 }), /maxRedirects must be a whole number/);
    assert.throws(() => new Session({ redirect: 'folow' as never }), /redirect must be 'follow', 'manual' or 'error'/);
    assert.throws(() => new Session({ trust: 'api.example.com' as never }), /trust must be an array/);
    assert.throws(() => new Session({ trust: ['https://*.*.example.com'] }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => new Session({ headers: { 'x-a': 'a\r\nx-b: b' } }), /CR, LF or NUL/);
    assert.throws(() => new Session({ connectTo: ['nonsense'] }), /HOST1:PORT1:HOST2:PORT2/);
    assert.throws(() => new Session({ timeout: { total: 0 } }), /timeout.total must be a positive number/);
  });

  it('rejects URLs it cannot fetch with ERR_INVALID_URL and never echoes a password', async () => {
    const s = session();
    await assert.rejects(s.fetch('not a url'), { code: 'ERR_INVALID_URL' });
    await assert.rejects(s.fetch('ftp://a.test/'), { code: 'ERR_INVALID_URL' });
    await assert.rejects(s.fetch('https://bob:hunter2@a.test/'), (err: Error & { code: string }) => err.code === 'ERR_INVALID_URL' && !err.message.includes('hunter2'));
    await s.close();
  });
});

describe('connectTo', () => {
  it('parses curl rules, including any-host and IPv6', () => {
    const rules = parseConnectTo(['api.example.com:443:127.0.0.1:8443', ':80:[::1]:8080', 'x.test::y.test:']);
    assert.deepEqual(route(rules, 'api.example.com', 443), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(route(rules, 'other.test', 80), { host: '::1', port: 8080 });
    assert.deepEqual(route(rules, 'x.test', 9999), { host: 'y.test', port: 9999 });
    assert.deepEqual(route(rules, 'none.test', 443), { host: 'none.test', port: 443 });
  });

  it('keeps the logical Host header, SNI and certificate check when routing elsewhere', async () => {
    const s = session();
    const res = await s.fetch('https://api.example.com/echo');
    const body = (await res.json()) as { headers: Record<string, string> };
    assert.equal(body.headers.host, 'api.example.com');
    await s.close();
  });

  it('fails with ERR_TLS when the certificate is not trusted (no ca option), never disabling the check', async () => {
    const s = new Session({ connectTo: srv.connectTo });
    await assert.rejects(s.fetch('https://a.test/echo'), (err: HopwiseError) => {
      assert.equal(err.code, 'ERR_TLS');
      assert.equal(err.hops.length, 1);
      assert.equal(err.hops[0]!.status, 0);
      return true;
    });
    await s.close();
  });

  it('fails with ERR_TLS when the certificate does not name the logical host', async () => {
    const s = session({ connectTo: [...srv.connectTo.slice(1), ...srv.connectTo] });
    await assert.rejects(s.fetch('https://not-in-cert.test/echo'), { code: 'ERR_TLS' });
    await s.close();
  });

  it('records connect and TLS timings on new connections and reuses warm connections across chains', async () => {
    const s = session();
    const first = await s.fetch('https://a.test/chain/2');
    await first.text();
    assert.equal(first.hops[0]!.newConnection, true);
    assert.ok(first.hops[0]!.timings.tls! > 0);
    assert.ok(first.hops[0]!.timings.connect! <= first.hops[0]!.timings.tls!);
    // undici's pool may open a second socket on the first chain (the first one is not yet marked idle
    // when the next hop is dispatched); once warm, a whole chain runs on existing connections.
    const second = await s.fetch('https://a.test/chain/3');
    await second.text();
    assert.deepEqual(
      second.hops.map((h) => h.newConnection),
      [false, false, false, false],
    );
    await s.close();
  });
});

describe('timeouts and aborts', () => {
  it('ends a chain that stalls mid-way with ERR_TIMEOUT inside timeout.total, with the partial trace', async () => {
    // The budget must outlast the first hop even on a loaded machine, so the connection (and its
    // TLS handshake) is warmed first and the budget is a second: the stall is what must end it.
    const s = session({ timeout: { total: 1000 } });
    await (await s.fetch('https://a.test/echo')).text();
    const t0 = Date.now();
    await assert.rejects(s.fetch(r('https://a.test', 302, '/stall')), (err: HopwiseError) => {
      assert.equal(err.code, 'ERR_TIMEOUT');
      assert.match(err.message, /timeout.total \(1000 ms\)/);
      assert.equal(err.hops.length, 2);
      assert.equal(err.hops[1]!.error?.code, 'ERR_TIMEOUT');
      return true;
    });
    assert.ok(Date.now() - t0 < 3000);
    await s.close();
  });

  it('ends a stalled hop with ERR_TIMEOUT after timeout.headers', async () => {
    const s = session({ timeout: { headers: 200 } });
    await assert.rejects(s.fetch('https://a.test/stall'), (err: HopwiseError) => err.code === 'ERR_TIMEOUT' && /timeout.headers/.test(err.message));
    await s.close();
  });

  it("stops with ERR_ABORTED when the caller's signal aborts", async () => {
    const s = session();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(s.fetch('https://a.test/stall', { signal: ac.signal }), { code: 'ERR_ABORTED' });
    await s.close();
  });

  it('fails with ERR_CONNECT when nothing listens', async () => {
    const s = new Session({ connectTo: [':80:127.0.0.1:1'] });
    await assert.rejects(s.fetch('http://a.test/'), { code: 'ERR_CONNECT' });
    await s.close();
  });

  it('refuses to fetch after close()', async () => {
    const s = session();
    await s.close();
    await assert.rejects(s.fetch('https://a.test/echo'), { code: 'ERR_SESSION_CLOSED' });
  });
});

describe('the response', () => {
  it('implements the Fetch Response reading API', async () => {
    const s = session();
    const res = await s.fetch(r('https://a.test', 302, '/echo'));
    assert.equal(res.status, 200);
    assert.equal(res.statusText, 'OK');
    assert.equal(res.ok, true);
    assert.equal(res.redirected, true);
    assert.equal(res.url, 'https://a.test/echo');
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(((await res.json()) as { method: string }).method, 'GET');
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), TypeError);
    for (const read of ['text', 'arrayBuffer', 'bytes', 'blob'] as const) {
      const again = await s.fetch('https://a.test/echo');
      const v = await again[read]();
      assert.ok(v !== undefined);
    }
    const streamed = await s.fetch('https://a.test/echo');
    const chunks: Uint8Array[] = [];
    for await (const c of streamed.body as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    assert.ok(Buffer.concat(chunks).toString().includes('"method":"GET"'));
    await s.close();
  });

  it('returns every Set-Cookie line separately from headers.getSetCookie()', async () => {
    const s = session({ cookies: false });
    const res = await s.fetch(r('https://a.test', 302, '/echo', 'a=1, b=2'), { redirect: 'manual' });
    assert.deepEqual(res.headers.getSetCookie(), ['a=1, b=2']);
    assert.equal(res.hops[0]!.decisions.find((d) => d.subject === 'set-cookie')?.reason, 'cookies-disabled');
    await s.close();
  });
});
