// A review of the shared-store batching (RedisCookieStore.batch, the session's #settleCookies):
// every way a response is handed on has its cookies in Redis first, nothing hangs when Redis or
// the store goes away, two chains in one process do not fail each other, and close()/clear() with
// lines queued settle them. Real redis-server (read directly to check), real servers on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisCookieStore } from '../src/redis/index.js';
import { bearer, Session } from '../src/index.js';
import type { Hop } from '../src/trace/types.js';
import { REDIS_SKIP, redisClient, startRedis, type RedisServer } from './helpers/redis.ts';
import { redirect, startServers, type TestServers } from './helpers/servers.ts';

let redis: RedisServer;
let servers: TestServers;
let direct: Awaited<ReturnType<typeof redisClient>>;
let namespaces = 0;
const fresh = (): string => `review-${process.pid}-${++namespaces}`;
/** Released by a test: the streamed body's second half. */
let release: (() => void) | undefined;

/** name=value of every cookie Redis holds for a namespace, sorted (read directly, not through a store). */
async function inRedis(namespace: string): Promise<string[]> {
  const all = await direct.hGetAll(`hopwise:cookies:{${namespace}}:jar`);
  return Object.entries(all)
    .filter(([k]) => !k.endsWith('@'))
    .map(([, rec]) => {
      const w = JSON.parse(rec.slice(1)) as { n: string; v: string };
      return `${w.n}=${w.v}`;
    })
    .sort();
}

/** Redis holds these cookies (among others). */
async function holds(namespace: string, ...cookies: string[]): Promise<void> {
  const all = await inRedis(namespace);
  for (const c of cookies) assert.ok(all.includes(c), `Redis holds ${all.join(', ')}, not ${c}`);
}

describe('RedisCookieStore batching, reviewed', { skip: REDIS_SKIP }, () => {
  before(async () => {
    redis = await startRedis();
    direct = await redisClient(redis.url);
    let flaky = 0;
    servers = await startServers(async (req, res) => {
      const url = new URL(req.url!, 'http://x');
      switch (url.pathname) {
        case '/manual':
          return redirect(res, 302, '/elsewhere', { 'set-cookie': 'manual=1; Path=/' });
        case '/head':
          res.writeHead(200, { 'set-cookie': 'head=1; Path=/' });
          return void res.end();
        case '/stream':
          res.writeHead(200, { 'set-cookie': 'stream=1; Path=/', 'content-type': 'text/plain' });
          res.write('first half;');
          await new Promise<void>((r) => (release = r));
          return void res.end('second half');
        case '/flaky':
          // 503 once (with a cookie), then 200 with another.
          if (flaky++ % 2 === 0) {
            res.writeHead(503, { 'set-cookie': 'retry1=1; Path=/', 'retry-after': '0' });
            return void res.end();
          }
          res.writeHead(200, { 'set-cookie': 'retry2=1; Path=/' });
          return void res.end('ok');
        case '/meta':
          res.writeHead(200, { 'set-cookie': 'meta=1; Path=/', 'content-type': 'text/html' });
          return void res.end('<html><head><meta http-equiv="refresh" content="0; url=/landing"></head></html>');
        case '/landing':
          res.writeHead(200, { 'set-cookie': 'landing=1; Path=/' });
          return void res.end(req.headers.cookie ?? '');
        case '/hooked':
          return redirect(res, 302, '/landing', { 'set-cookie': 'hooked=1; Path=/' });
        case '/error-mode':
          return redirect(res, 302, '/landing', { 'set-cookie': 'errmode=1; Path=/' });
        case '/slow':
          await new Promise((r) => setTimeout(r, 300));
          res.writeHead(200, { 'set-cookie': `slow=${url.searchParams.get('v') ?? '1'}; Path=/` });
          return void res.end('slow');
        case '/api':
          // A 401 (with a cookie) to the old token, 200 (with another) to the refreshed one.
          if (req.headers.authorization !== 'Bearer new') {
            res.writeHead(401, { 'set-cookie': 'denied=1; Path=/', 'www-authenticate': 'Bearer' });
            return void res.end();
          }
          res.writeHead(200, { 'set-cookie': 'api=1; Path=/' });
          return void res.end('api');
        case '/set':
          res.writeHead(200, { 'set-cookie': `${url.searchParams.get('n')}=${url.searchParams.get('v')}; Path=/` });
          return void res.end('set');
        case '/set-then-hang':
          return redirect(res, 302, '/hang', { 'set-cookie': `${url.searchParams.get('n')}=1; Path=/` });
        case '/hang':
          await new Promise((r) => setTimeout(r, 1500));
          return void res.end('late');
        default:
          res.end(req.headers.cookie ?? '');
      }
    });
  });
  after(async () => {
    await direct?.quit();
    await servers?.close();
    await redis?.stop();
  });

  test('every way a response is handed on (manual redirect, HEAD, a streamed body, a retry, a meta refresh, a hook) has its cookies in Redis when fetch resolves', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, retry: { limit: 1, backoff: 0 }, followMetaRefresh: true, hooks: { beforeRedirect: () => {} }, timeout: { total: 5000 } });
    try {
      const manual = await s.fetch('http://a.test/manual', { redirect: 'manual' });
      assert.equal(manual.status, 302);
      assert.deepStrictEqual(await inRedis(namespace), ['manual=1']);
      const head = await s.fetch('http://a.test/head', { method: 'HEAD' });
      assert.equal(head.status, 200);
      await holds(namespace, 'head=1');
      // The body has not finished arriving (the server holds its second half): the cookie is in Redis already.
      const stream = await s.fetch('http://a.test/stream');
      await holds(namespace, 'stream=1');
      release?.();
      assert.equal(await stream.text(), 'first half;second half');
      const retried = await s.fetch('http://a.test/flaky');
      assert.equal(retried.status, 200);
      await holds(namespace, 'retry1=1', 'retry2=1');
      const meta = await s.fetch('http://a.test/meta');
      assert.equal(meta.url, 'http://a.test/landing');
      await holds(namespace, 'meta=1', 'landing=1');
      const hooked = await s.fetch('http://a.test/hooked');
      assert.equal(hooked.status, 200);
      await holds(namespace, 'hooked=1');
      await Promise.all([manual, head, retried, meta, hooked].map((r) => r.text()));
      // What every trace says was stored is what Redis holds.
      const said = new Set(
        [manual, head, stream, retried, meta, hooked]
          .flatMap((r) => r.hops.flatMap((h) => h.decisions))
          .filter((d) => d.subject === 'set-cookie' && d.action === 'stored')
          .map((d) => `${d.name}=1`),
      );
      assert.deepStrictEqual([...said].sort(), await inRedis(namespace));
    } finally {
      await s.close();
      await store.close();
    }
  });

  test('a 401 answered with a refreshed token has the cookies of both answers in Redis when fetch resolves', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    let calls = 0;
    const s = new Session({ cookies: store, connectTo: servers.connectTo, auth: bearer(() => (calls++ === 0 ? 'old' : 'new')), timeout: { total: 5000 } });
    try {
      const res = await s.fetch('http://a.test/api');
      assert.equal(res.status, 200);
      assert.equal(calls, 2);
      assert.deepStrictEqual(await inRedis(namespace), ['api=1', 'denied=1']);
      assert.equal(await res.text(), 'api');
    } finally {
      await s.close();
      await store.close();
    }
  });

  test("redirect: 'error' writes the hop's cookie to Redis before the error is thrown", async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, timeout: { total: 5000 } });
    try {
      await assert.rejects(s.fetch('http://a.test/error-mode', { redirect: 'error' }), (e: Error & { code?: string }) => e.code !== 'ERR_STORE');
      assert.deepStrictEqual(await inRedis(namespace), ['errmode=1']);
    } finally {
      await s.close();
      await store.close();
    }
  });
  test('a store closed while its first round trip is still connecting leaves no Redis connection open behind it', async () => {
    const count = async (): Promise<number> =>
      String(await direct.sendCommand(['CLIENT', 'LIST']))
        .trim()
        .split('\n').length;
    const baseline = await count();
    // close() at several points of the first connection: before it starts, while the redis package
    // loads, while the client connects.
    for (const turns of [0, 1, 2, 5]) {
      const namespace = fresh();
      const store = new RedisCookieStore({ url: redis.url, namespace });
      const pending = store.setCookie('early=1; Path=/', new URL('http://a.test/'));
      for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
      await store.close();
      // Written before the close (and then in Redis), or ERR_STORE.
      const written = await pending.then(
        () => true,
        (e: { code?: string }) => (assert.equal(e.code, 'ERR_STORE'), false),
      );
      assert.deepStrictEqual(await inRedis(namespace), written ? ['early=1'] : []);
    }
    // A client made after close() would stay connected for good (and keep the process alive).
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await count(), baseline);
  });

  test('lines queued when the store is closed fail with ERR_STORE at once, and are not in Redis', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    await store.cookies();
    const url = new URL('http://a.test/');
    const queued = [store.setCookie('q1=1; Path=/', url), store.setCookie('q2=1; Path=/', url)];
    const closing = store.close();
    const t0 = performance.now();
    const results = await Promise.allSettled(queued);
    await closing;
    const took = performance.now() - t0;
    assert.ok(took < 1000, `took ${took} ms`);
    // Each line either was written (and says so) or failed with ERR_STORE; nothing claims a write Redis did not take.
    const stored = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`q${i + 1}=1`] : (assert.equal((r.reason as { code?: string }).code, 'ERR_STORE'), [])));
    assert.deepStrictEqual(await inRedis(namespace), stored);
  });

  test('Redis frozen while a chain writes its cookies: ERR_STORE with the trace within timeout.total, and the next request, once Redis is back, is served and written', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace, timeoutMs: 1500 });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, timeout: { total: 400 } });
    try {
      await (await s.fetch('http://a.test/warm')).text();
      const t0 = performance.now();
      // Frozen while the server takes its time: the lookup went through, the write does not.
      const freeze = setTimeout(() => redis.pause(), 100);
      let err: (Error & { code?: string; hops?: Hop[] }) | undefined;
      try {
        await s.fetch('http://a.test/slow?v=frozen');
      } catch (e) {
        err = e as typeof err;
      } finally {
        clearTimeout(freeze);
        redis.resume();
      }
      const took = performance.now() - t0;
      assert.equal(err?.code, 'ERR_STORE');
      assert.ok(took < 1200, `took ${took} ms`);
      const d = err?.hops?.[0]?.decisions.find((x) => x.subject === 'set-cookie');
      assert.match(d?.detail ?? '', /not confirmed by the shared store/);
      // The queue drains: the next chain is served, and its cookie (and whatever was queued) reaches Redis.
      const next = await s.fetch('http://a.test/set?n=after&v=1');
      assert.equal(next.status, 200);
      await holds(namespace, 'after=1');
    } finally {
      redis.resume();
      await s.close();
      await store.close();
    }
  });

  test('two chains of one process: one aborted after its first hop set a cookie does not fail the other, and both cookies end in Redis', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, timeout: { total: 5000 } });
    try {
      await (await s.fetch('http://a.test/warm')).text();
      const ac = new AbortController();
      const aborted = s.fetch('http://a.test/set-then-hang?n=gone', { signal: ac.signal });
      const other = s.fetch('http://a.test/slow?v=kept');
      setTimeout(() => ac.abort(), 150);
      await assert.rejects(aborted, { code: 'ERR_ABORTED' });
      const res = await other;
      assert.equal(res.status, 200);
      const d = res.hops[0]!.decisions.find((x) => x.subject === 'set-cookie');
      assert.equal(d?.action, 'stored');
      assert.doesNotMatch(d.detail, /not confirmed/);
      assert.deepStrictEqual(await inRedis(namespace), ['gone=1', 'slow=kept']);
    } finally {
      await s.close();
      await store.close();
    }
  });

  test('a chain aborted while its Set-Cookie waits for another round trip still has that cookie written once Redis answers, not left queued in the process', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace, timeoutMs: 3000 });
    const s = new Session({ cookies: store, connectTo: servers.connectTo });
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    try {
      await (await s.fetch('http://a.test/warm')).text();
      const ac = new AbortController();
      // Its lookup goes through; its response (300 ms later) comes while another chain's lookup is stuck.
      const aborted = s.fetch('http://a.test/slow?v=waited', { signal: ac.signal });
      await sleep(100);
      redis.pause();
      const other = s.fetch('http://a.test/other');
      await sleep(300);
      ac.abort();
      await assert.rejects(aborted, { code: 'ERR_ABORTED' });
      redis.resume();
      assert.equal((await other).status, 200);
      // No other request comes: the aborted chain's line is written on its own.
      const until = performance.now() + 1000;
      while (!(await inRedis(namespace)).includes('slow=waited') && performance.now() < until) await sleep(20);
      assert.deepStrictEqual(await inRedis(namespace), ['slow=waited']);
    } finally {
      redis.resume();
      await s.close();
      await store.close();
    }
  });

  test('clear() with lines queued writes them first, then Redis and every cache are empty, and the store goes on working', async () => {
    const namespace = fresh();
    const [one, two] = [new RedisCookieStore({ url: redis.url, namespace }), new RedisCookieStore({ url: redis.url, namespace })];
    try {
      const url = new URL('http://a.test/');
      await two!.setCookie('old=1; Path=/', url);
      await one!.cookies();
      const queued = one!.setCookie('queued=1; Path=/', url);
      const cleared = one!.clear();
      assert.equal((await queued).stored, true);
      await cleared;
      assert.deepStrictEqual(await inRedis(namespace), []);
      assert.deepStrictEqual(await one!.cookies(), []);
      assert.deepStrictEqual(await two!.cookies(), []);
      await one!.setCookie('later=1; Path=/', url);
      assert.deepStrictEqual(await inRedis(namespace), ['later=1']);
      assert.deepStrictEqual(
        (await two!.cookies()).map((c) => c.name),
        ['later'],
      );
    } finally {
      await one!.close();
      await two!.close();
    }
  });
});
