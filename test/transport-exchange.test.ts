// The exchange (src/transport/exchange.ts): undici's dispatch() with hopwise's own handler, the body
// held until it is read whole, streamed, dropped or destroyed. Real servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HopwiseError, Session } from '../src/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIG = 32 * 1024 * 1024;

let server: Server;
let base: string;
/** How many bytes of /big the server managed to hand to its socket, and whether it finished. */
const big = { written: 0, finished: false, closed: false };

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json') return void res.end('\ufeff{"ok":true}');
    if (req.url === '/mb') return void res.end('y'.repeat(1024 * 1024));
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG) });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = (): void => {
        while (big.written < BIG) {
          big.written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(() => (big.finished = true));
      };
      res.once('close', () => (big.closed = true));
      return pump();
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

describe('the exchange and its body', () => {
  it('a body that arrived whole but was not read yet fails with ERR_ABORTED when the signal aborts (Fetch: abort fetch)', async () => {
    const session = new Session();
    const ac = new AbortController();
    const res = await session.fetch(`${base}/json`, { signal: ac.signal });
    await sleep(30); // the whole body is in by now
    ac.abort();
    await assert.rejects(res.text(), (err: unknown) => err instanceof HopwiseError && err.code === 'ERR_ABORTED' && err.name === 'AbortError' && err.hops.length === 1);
    await session.close();
  });

  it('a body read before the abort is not taken back, and json() drops a byte order mark as Fetch does', async () => {
    const session = new Session();
    const ac = new AbortController();
    const res = await session.fetch(`${base}/json`, { signal: ac.signal });
    assert.deepEqual(await res.json(), { ok: true });
    ac.abort();
    await session.close();
  });

  it('a 1 MiB body read with text() arrives whole, past the bytes held before anyone reads', async () => {
    const session = new Session();
    const res = await session.fetch(`${base}/mb`);
    await sleep(50); // the socket pauses at the high-water mark until text() asks
    const text = await res.text();
    assert.equal(text.length, 1024 * 1024);
    assert.ok(/^y+$/.test(text));
    await session.close();
  });

  it('a body nobody reads holds the server back (back-pressure), instead of being buffered in memory', async () => {
    const session = new Session();
    const res = await session.fetch(`${base}/big`);
    assert.equal(res.status, 200);
    await sleep(300);
    // Socket buffers on both sides take a few MiB at most; the client kept none of the rest.
    assert.equal(big.finished, false, 'the server could send the whole 32 MiB to a client that never read it');
    assert.ok(big.written < BIG / 2, `the server wrote ${big.written} bytes`);
    await res.body?.cancel();
    await session.close();
    await sleep(50);
    assert.equal(big.closed, true, 'cancelling the body closes its connection');
  });
});
