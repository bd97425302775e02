import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, Headers as UndiciHeaders, type Dispatcher } from 'undici';
import { HopwiseError, HopwiseResponse, Session } from '../src/index.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(
  async () =>
    (srv = await startServers(async (req, res) => {
      if (req.url === '/form') {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
        return void res.end('a=1&b=two');
      }
      if (req.url === '/multipart') {
        const fd = new FormData();
        fd.append('name', 'hop');
        fd.append('file', new Blob(['bytes'], { type: 'text/plain' }), 'f.txt');
        const encoded = new Response(fd);
        res.writeHead(200, { 'content-type': encoded.headers.get('content-type')! });
        return void res.end(Buffer.from(await encoded.arrayBuffer()));
      }
      return router(req, res);
    })),
);
after(() => srv.close());

const session = () => new Session({ connectTo: srv.connectTo, ca: srv.ca });
type Echo = { method: string; url: string; headers: Record<string, string>; body: string };

/** Something like node-fetch's Headers: private storage, readable only through its methods. */
class ForeignHeaders {
  readonly #map = new Map<string, string>();
  constructor(init: Record<string, string>) {
    for (const [k, v] of Object.entries(init)) this.#map.set(k.toLowerCase(), v);
  }
  forEach(cb: (value: string, name: string) => void): void {
    for (const [k, v] of this.#map) cb(v, k);
  }
}

describe('session.fetch is a drop-in fetch', () => {
  it('is assignable to typeof fetch and works detached', async () => {
    const s = session();
    const f: typeof fetch = s.fetch; // type-level: no cast needed
    const res = await f('http://a.test/echo');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Echo).url, '/echo');
    await s.close();
  });

  it('returns a real Response with url, redirected, hops, clone() and formData()', async () => {
    const s = session();
    const res = await s.fetch(r('http://a.test', 302, 'http://a.test/echo'));
    assert.ok(res instanceof Response);
    assert.ok(res instanceof HopwiseResponse);
    assert.equal(res.url, 'http://a.test/echo');
    assert.equal(res.redirected, true);
    assert.equal(res.hops.length, 2);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const copy = res.clone();
    assert.ok(copy instanceof Response);
    assert.deepEqual(await copy.json(), await res.json());
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), TypeError);

    const form = await (await s.fetch('http://a.test/form')).formData();
    assert.equal(form.get('b'), 'two');
    const multi = await (await s.fetch('http://a.test/multipart')).formData();
    assert.equal(multi.get('name'), 'hop');
    assert.equal(await (multi.get('file') as Blob).text(), 'bytes');
    await s.close();
  });

  it('reads method, headers, body, signal and redirect from a Request, and init overrides them', async () => {
    const s = session();
    const req = new Request('http://a.test/echo', { method: 'POST', body: 'hello', headers: { 'x-a': '1', authorization: 'Bearer req' } });
    const got = (await (await s.fetch(req)).json()) as Echo;
    assert.equal(got.method, 'POST');
    assert.equal(got.body, 'hello');
    assert.equal(got.headers['x-a'], '1');
    assert.equal(got.headers.authorization, 'Bearer req');

    const over = (await (await s.fetch(new Request('http://a.test/echo', { headers: { 'x-a': '1' } }), { headers: { 'x-b': '2' } })).json()) as Echo;
    assert.equal(over.headers['x-a'], undefined);
    assert.equal(over.headers['x-b'], '2');

    const manual = await s.fetch(new Request(r('http://a.test', 302, '/echo'), { redirect: 'manual' }));
    assert.equal(manual.status, 302);
    await manual.text();

    const aborted = new Request('http://a.test/echo', { signal: AbortSignal.abort() });
    await assert.rejects(s.fetch(aborted), (e: HopwiseError) => e.code === 'ERR_ABORTED' && e.name === 'AbortError');
    await s.close();
  });

  it('sends headers given as another package’s Headers, a forEach-only object, a Map or pairs, never dropping Authorization', async () => {
    const s = session();
    const shapes: unknown[] = [
      new UndiciHeaders({ authorization: 'Bearer t1', 'x-k': 'v' }),
      new ForeignHeaders({ Authorization: 'Bearer t1', 'X-K': 'v' }),
      new Map([
        ['authorization', 'Bearer t1'],
        ['x-k', 'v'],
      ]),
      [
        ['authorization', 'Bearer t1'],
        ['x-k', 'v'],
      ],
      { authorization: 'Bearer t1', 'x-k': 'v' },
    ];
    for (const headers of shapes) {
      const got = (await (await s.fetch('http://a.test/echo', { headers: headers as HeadersInit })).json()) as Echo;
      assert.equal(got.headers.authorization, 'Bearer t1', String((headers as object).constructor?.name));
      assert.equal(got.headers['x-k'], 'v');
    }
    class Opaque {
      readonly #secret = 'Bearer hidden';
      get size(): number {
        return this.#secret.length;
      }
    }
    await assert.rejects(s.fetch('http://a.test/echo', { headers: new Opaque() as unknown as HeadersInit }), (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION' && /Opaque/.test(e.message));
    await s.close();
  });

  it('accepts and ignores the RequestInit keys with no meaning here, ignores undefined keys, and names a truly unknown one', async () => {
    const s = session();
    const init = {
      cache: 'no-store',
      credentials: 'include',
      mode: 'cors',
      referrerPolicy: 'no-referrer',
      referrer: 'about:client',
      integrity: '',
      keepalive: false,
      priority: 'high',
      window: null,
      agent: undefined,
    } as RequestInit;
    assert.equal((await s.fetch('http://a.test/echo', init)).status, 200);
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed '));
        c.enqueue(new TextEncoder().encode('body'));
        c.close();
      },
    });
    const got = (await (await s.fetch('http://a.test/echo', { method: 'POST', body: chunks, duplex: 'half' } as RequestInit)).json()) as Echo;
    assert.equal(got.body, 'streamed body');
    await assert.rejects(s.fetch('http://a.test/echo', { retries: 3 } as RequestInit), (e: HopwiseError) => e.code === 'ERR_UNKNOWN_OPTION' && /'retries'/.test(e.message));
    await s.close();
  });

  it('uses a per-call undici dispatcher for every hop, hopwise still deciding the redirects', async () => {
    const port = Number(/:(\d+)$/.exec(srv.connectTo[0]!)![1]);
    let dispatched = 0;
    const agent = new Agent();
    const counting = agent.compose((dispatch: Dispatcher['dispatch']) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const s = new Session();
    const origin = `http://127.0.0.1:${port}`;
    const res = await s.fetch(r(origin, 302, `${origin}/echo`, 'sid=1; Path=/'), { dispatcher: counting });
    assert.equal(((await res.json()) as Echo).headers.cookie, 'sid=1');
    assert.equal(dispatched, 2);
    assert.equal(res.hops.length, 2);
    await s.close();
    await agent.close();
  });

  it('rejects like fetch: network and policy failures are TypeErrors with codes, an abort is an AbortError', async () => {
    const s = session();
    const refused = await s.fetch('http://127.0.0.1:1/').catch((e: unknown) => e as HopwiseError);
    assert.ok(refused instanceof TypeError && refused instanceof HopwiseError);
    assert.equal(refused.code, 'ERR_CONNECT');
    const loop = await s.fetch('http://a.test/loop').catch((e: unknown) => e as HopwiseError);
    assert.ok(loop instanceof TypeError && loop instanceof HopwiseError);
    assert.equal(loop.code, 'ERR_REDIRECT_LOOP');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const aborted = (await s.fetch('http://a.test/stall', { signal: ac.signal }).catch((e: unknown) => e)) as HopwiseError;
    assert.equal(aborted.name, 'AbortError');
    assert.equal(aborted.code, 'ERR_ABORTED');
    assert.ok(aborted instanceof HopwiseError);
    await s.destroy();
  });
});

describe('null bodies', () => {
  it('has body null for a HEAD answer and a 204, as Fetch does, and text() is empty', async () => {
    const s = session();
    const head = await s.fetch('http://a.test/echo', { method: 'HEAD' });
    assert.equal(head.body, null);
    assert.equal(await head.text(), '');
    const none = await s.fetch('http://a.test/status?s=204');
    assert.equal(none.status, 204);
    assert.equal(none.body, null);
    assert.equal(await none.text(), '');
    const ok = await s.fetch('http://a.test/echo');
    assert.notEqual(ok.body, null);
    await ok.text();
    await s.close();
  });
});
