import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HopwiseError, Session } from '../src/index.ts';
import { renderHop } from '../src/trace/render-text.ts';
import { router, startServers, type TestServers } from './helpers/servers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let srv: TestServers;
before(
  async () =>
    (srv = await startServers(async (req, res) => {
      const p = req.url!;
      if (p === '/drip-stall') {
        // Headers and a first part of the body, then nothing.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        return void res.write('0123456789');
      }
      if (p === '/cut') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('0123456789');
        await sleep(50);
        return void req.socket.destroy();
      }
      if (p === '/hints') {
        const t = setInterval(() => res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }), 50);
        req.socket.once('close', () => clearInterval(t));
        return;
      }
      if (p === '/slow-redirect') {
        res.writeHead(302, { location: '/echo', 'content-length': '100' });
        for (let i = 0; i < 100 && !req.socket.destroyed; i++) {
          res.write('x');
          await sleep(200);
        }
        return void res.end();
      }
      if (p === '/slow-page') {
        res.writeHead(200, { 'content-type': 'text/html' });
        for (let i = 0; i < 30 && !req.socket.destroyed; i++) {
          res.write(`<p>${i}</p>`);
          await sleep(100);
        }
        return void res.end('</html>');
      }
      if (p === '/slow') {
        await sleep(100);
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(String(req.socket.remotePort));
      }
      return router(req, res);
    })),
);
after(() => srv.close());

const session = (opts: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...opts });

async function failure(p: Promise<unknown>): Promise<HopwiseError> {
  const e = await p.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof HopwiseError, `not a HopwiseError: ${String(e)}`);
  assert.ok(e.hops.length > 0, 'err.hops is empty');
  return e;
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  for await (const _ of body as unknown as AsyncIterable<Uint8Array>);
}

describe('errors while reading the body, after fetch() resolved', () => {
  it('a stalled body is ERR_TIMEOUT naming timeout.body, in text() and in body iteration', async () => {
    const s = session({ timeout: { body: 200 } });
    const e1 = await failure((await s.fetch('https://a.test/drip-stall')).text());
    assert.equal(e1.code, 'ERR_TIMEOUT');
    assert.match(e1.message, /timeout\.body/);
    assert.equal(e1.hops[0]!.error?.code, 'ERR_TIMEOUT');
    const e2 = await failure(drain((await s.fetch('https://a.test/drip-stall')).body));
    assert.equal(e2.code, 'ERR_TIMEOUT');
    await s.destroy();
  });

  it('timeout.total firing during the body is ERR_TIMEOUT naming timeout.total', async () => {
    const s = session({ timeout: { total: 400 } });
    const res = await s.fetch('https://a.test/drip-stall');
    const e = await failure(res.arrayBuffer());
    assert.equal(e.code, 'ERR_TIMEOUT');
    assert.match(e.message, /timeout\.total/);
    await s.destroy();
  });

  it('an abort during the body is ERR_ABORTED named AbortError', async () => {
    const s = session();
    const ac = new AbortController();
    const res = await s.fetch('https://a.test/drip-stall', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await failure(res.json());
    assert.equal(e.code, 'ERR_ABORTED');
    assert.equal(e.name, 'AbortError');
    await s.destroy();
  });

  it('a connection cut mid-body is ERR_NETWORK', async () => {
    const s = session();
    const e = await failure((await s.fetch('https://a.test/cut')).text());
    assert.equal(e.code, 'ERR_NETWORK');
    await s.close();
  });
});

describe('nothing hangs', () => {
  it('a server sending 103 Early Hints forever cannot hold the request past timeout.headers', async () => {
    const s = session({ timeout: { headers: 300 } });
    const t0 = Date.now();
    const e = await failure(s.fetch('https://a.test/hints'));
    assert.equal(e.code, 'ERR_TIMEOUT');
    assert.match(e.message, /timeout\.headers/);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    await s.destroy();
  });

  it('a 3xx body dripped slowly is cut off and the redirect followed', async () => {
    const s = session();
    const t0 = Date.now();
    const res = await s.fetch('https://a.test/slow-redirect');
    assert.equal(res.status, 200);
    assert.equal(res.hops.length, 2);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    await res.text();
    await s.close();
  });

  it('a sniffed HTML page dripped slowly resolves within timeout.body and is still returned whole', async () => {
    const s = session({ timeout: { body: 500 } });
    const t0 = Date.now();
    const res = await s.fetch('https://a.test/slow-page');
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    const text = await res.text();
    assert.match(text, /^<p>0<\/p><p>1<\/p>/);
    assert.match(text, /<p>29<\/p><\/html>$/);
    await s.close();
  });

  it('close() returns within a bounded time with a stuck request and an unread body in flight', async () => {
    const s = session();
    const stuck = s.fetch('https://a.test/stall').then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as HopwiseError,
    );
    const unread = await s.fetch('https://a.test/drip-stall');
    const t0 = Date.now();
    await s.close();
    assert.ok(Date.now() - t0 < 2500, `close took ${Date.now() - t0} ms`);
    // The stuck request ends with close(), not when timeout.headers (30 s) fires much later.
    assert.equal((await stuck).code, 'ERR_SESSION_CLOSED');
    assert.ok(Date.now() - t0 < 2500, `the stuck request ended ${Date.now() - t0} ms after close()`);
    const e = await failure(unread.text());
    assert.equal(e.code, 'ERR_SESSION_CLOSED');
  });

  it('close() does not wait when every body was read or cancelled', async () => {
    const s = session();
    await (await s.fetch('https://a.test/echo')).text();
    await (await s.fetch('https://a.test/echo', { method: 'HEAD' })).text();
    await (await s.fetch('https://a.test/echo')).body?.cancel();
    const t0 = Date.now();
    await s.close();
    assert.ok(Date.now() - t0 < 500, `close took ${Date.now() - t0} ms`);
  });

  it('destroy() ends everything at once', async () => {
    const s = session();
    const stuck = s.fetch('https://a.test/stall').then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e as HopwiseError,
    );
    await sleep(100);
    const t0 = Date.now();
    await s.destroy();
    assert.ok(Date.now() - t0 < 500, `destroy took ${Date.now() - t0} ms`);
    const e = await stuck;
    assert.ok(e instanceof HopwiseError);
    assert.equal(e.code, 'ERR_SESSION_CLOSED');
  });

  it('caps connections per origin with the connections option', async () => {
    const s = session({ connections: 1 });
    const ports = await Promise.all([1, 2, 3].map(async () => (await s.fetch('http://a.test/slow')).text()));
    assert.equal(new Set(ports).size, 1);
    await s.close();
    assert.throws(
      () => new Session({ connections: 0 }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
  });
});

describe('uploads answered early, hooks that throw, failed hops in the trace', () => {
  it('follows a 307 sent before the upload was read (then the connection closed) with the body replayed', async () => {
    // A raw server: /early answers 307 at once and closes; /got reads the whole body and reports its size.
    const raw = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (head.startsWith('POST /early')) {
          sock.write('HTTP/1.1 307 Temporary Redirect\r\nLocation: /got\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          sock.destroy();
          return;
        }
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length - end - 4 >= len) {
          const body = `got ${len}`;
          sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const s = new Session();
    try {
      const res = await s.fetch(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/early`, { method: 'POST', body: Buffer.alloc(4 * 1024 * 1024, 7) });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `got ${4 * 1024 * 1024}`);
      assert.equal(res.hops.length, 2);
    } finally {
      await s.destroy();
      raw.close();
    }
  });

  it('an error thrown by beforeRedirect is ERR_HOOK with the trace, the hook’s error as cause', async () => {
    const boom = new Error('hook failed with secret sk-live-123');
    const s = session({
      hooks: {
        beforeRedirect: () => {
          throw boom;
        },
      },
    });
    const e = await failure(s.fetch('https://a.test/chain/1'));
    assert.equal(e.code, 'ERR_HOOK');
    assert.equal(e.cause, boom);
    assert.equal(e.hops.length, 1);
    assert.doesNotMatch(e.message, /sk-live/);
    await s.close();
  });

  it('a hop that failed before connecting is not shown as a reused connection', async () => {
    const s = new Session();
    const e = await failure(s.fetch('http://127.0.0.1:1/'));
    assert.equal(e.code, 'ERR_CONNECT');
    assert.doesNotMatch(renderHop(e.hops[0]!), /reused connection/);
    await s.close();
  });
});
