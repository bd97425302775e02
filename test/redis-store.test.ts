// RedisCookieStore against a real redis-server (started on a free loopback port for this file):
// the same answers as the in-memory jar on random Set-Cookie sequences, namespaces that isolate,
// read-your-writes between stores, the trace's `store: 'redis'`, and ERR_STORE with the trace when
// Redis dies in the middle of a chain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CookieJar } from '../src/cookies/index.js';
import { RedisCookieStore } from '../src/redis/index.js';
import { diagnose, HopwiseError, Session } from '../src/index.js';
import { toHar } from '../src/trace/har.js';
import { renderTrace } from '../src/trace/render-text.js';
import { cookieCommands, run, type Command } from './helpers/cookie-commands.ts';
import { REDIS_SKIP, redisClient, startRedis, type RedisServer } from './helpers/redis.ts';
import { chainRunner, redirect, router, startServers, type TestServers } from './helpers/servers.ts';

let redis: RedisServer;
let servers: TestServers;
let namespaces = 0;
/** A namespace no other test of this run uses. */
const fresh = (): string => `test-${process.pid}-${++namespaces}`;

/** The Redis store's answer to a command, in the shape `run` gives for the in-memory jar (no `size`, no `store`). */
async function runShared(store: RedisCookieStore, c: Command): Promise<unknown> {
  // The same objects without the store's mark (a Verdict is a class instance: kept as one).
  const strip = <T extends object>(x: T): T => {
    assert.equal((x as { store?: string }).store, 'redis');
    delete (x as { store?: string }).store;
    return x;
  };
  switch (c.kind) {
    case 'set':
      return strip(await store.setCookie(c.line, c.url));
    case 'evaluate': {
      const context: { initiator?: string; method?: string } = {};
      if (c.initiator !== undefined) context.initiator = c.initiator;
      if (c.method !== undefined) context.method = c.method;
      const r = await store.evaluate(new URL(c.url), context);
      return { ...r, verdicts: r.verdicts.map(strip) };
    }
    case 'get':
      return { header: await store.getCookieString(c.url) };
    case 'explain':
      return (await store.explain(c.url)).map(strip);
    case 'cookies':
      return store.cookies();
    case 'tick':
      return undefined;
  }
}

/** The in-memory jar's answer without `size` (the shared store has no size of its own: other processes change it). */
function runLocal(jar: CookieJar, c: Command): unknown {
  const r = run(jar, c);
  if (r !== null && typeof r === 'object' && 'size' in r) {
    const { size: _size, ...rest } = r as { size: number };
    return rest;
  }
  return r;
}

describe('RedisCookieStore', { skip: REDIS_SKIP }, () => {
  before(async () => {
    redis = await startRedis();
    servers = await startServers((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/login') return redirect(res, 302, '/home', { 'set-cookie': 'sid=s3cr3t-login; Path=/; HttpOnly' });
      if (url.pathname === '/logout') return redirect(res, 302, '/home', { 'set-cookie': 'sid=; Path=/; Max-Age=0' });
      if (url.pathname === '/home') {
        res.writeHead(req.headers.cookie?.includes('sid=s3cr3t-login') ? 200 : 401);
        return void res.end(req.headers.cookie ?? '');
      }
      return router(req, res);
    });
  });
  after(async () => {
    await servers?.close();
    await redis?.stop();
  });

  test('a Redis store gives the same answers as the in-memory jar for any sequence of Set-Cookie lines and lookups', async () => {
    // The clock starts now (Redis drops cookies dead for minutes by its own clock), moved by the commands.
    const T0 = Math.floor(Date.now() / 1000) * 1000;
    const { commands, limits } = cookieCommands(T0);
    await fc.assert(
      fc.asyncProperty(commands, limits, async (commands, limits) => {
        let t = T0;
        const now = () => t;
        const namespace = fresh();
        const local = new CookieJar({ ...limits, now });
        const shared = new RedisCookieStore({ url: redis.url, namespace, now, ...limits });
        // A second process on the same namespace, reading only: it sees the same jar through Redis.
        const other = new RedisCookieStore({ url: redis.url, namespace, now, ...limits });
        try {
          for (const [i, c] of commands.entries()) {
            if (c.kind === 'tick') t += c.ms;
            assert.deepStrictEqual(await runShared(shared, c), runLocal(local, c), `command ${i}: ${JSON.stringify(c)}`);
          }
          assert.deepStrictEqual(await shared.cookies(), local.cookies());
          assert.deepStrictEqual(await other.cookies(), local.cookies(), 'a second store reading the namespace from Redis');
        } finally {
          await Promise.all([shared.close(), other.close()]);
        }
      }),
      { numRuns: 60, seed: 6265 },
    );
  });

  test('a store kept current by the change feed holds the same jar as one rebuilt from the whole namespace, after any sequence of changes', async () => {
    const T0 = Math.floor(Date.now() / 1000) * 1000;
    const { commands, limits } = cookieCommands(T0);
    // One connection for the stores that rebuild (each new store's first look is the whole namespace).
    const client = await redisClient(redis.url);
    let patched = 0;
    try {
      await fc.assert(
        fc.asyncProperty(commands, limits, async (commands, limits) => {
          let t = T0;
          const now = () => t;
          const namespace = fresh();
          const writer = new RedisCookieStore({ url: redis.url, namespace, now, ...limits });
          // Another process that looks after every change: it is patched with what changed.
          const follower = new RedisCookieStore({ url: redis.url, namespace, now, ...limits });
          try {
            for (const [i, c] of commands.entries()) {
              if (c.kind === 'tick') t += c.ms;
              await runShared(writer, c);
              const before = follower.stats.refreshes;
              const seen = await follower.cookies();
              if (follower.stats.refreshes === before) continue;
              patched++;
              // Patched just now: it holds the namespace as Redis has it, as a rebuild from it does.
              const rebuilt = new RedisCookieStore({ client, namespace, now, ...limits });
              assert.deepStrictEqual(seen, await rebuilt.cookies(), `after command ${i}: ${JSON.stringify(c)}`);
              assert.equal(rebuilt.stats.reloads, 1);
              await rebuilt.close();
            }
            assert.ok(follower.stats.reloads <= 1, 'the follower rebuilt its cache only on its first look');
          } finally {
            await Promise.all([writer.close(), follower.close()]);
          }
        }),
        { numRuns: 60, seed: 6265 },
      );
      assert.ok(patched > 100, `the change feed was exercised (${patched} patches)`);
    } finally {
      client.destroy();
    }
  });

  test('a cookie one store sets is sent by another store of the same namespace on its next request, and never by another namespace', async () => {
    const namespace = fresh();
    const [a, b, elsewhere] = [namespace, namespace, fresh()].map((n) => new RedisCookieStore({ url: redis.url, namespace: n }));
    const { session } = chainRunner(() => servers);
    const sa = session({ cookies: a! });
    const sb = session({ cookies: b! });
    const sc = session({ cookies: elsewhere! });
    try {
      const login = await sa.fetch('http://a.test/login');
      assert.equal(login.status, 200);
      const start = servers.received.length;
      assert.equal((await sb.fetch('http://a.test/home')).status, 200);
      assert.equal((await sc.fetch('http://a.test/home')).status, 401);
      const got = servers.received.slice(start);
      assert.match(String(got[0]!.headers.cookie), /sid=s3cr3t-login/, 'the other store sent the login cookie');
      assert.equal(got[1]!.headers.cookie, undefined, 'another namespace sent nothing');
      // The logout of one store is the logout of both.
      await sb.fetch('http://a.test/logout');
      const res = await sa.fetch('http://a.test/home');
      assert.equal(res.status, 401);
      assert.equal(servers.received[servers.received.length - 1]!.headers.cookie, undefined);
    } finally {
      await Promise.all([sa.close(), sb.close(), sc.close()]);
      await Promise.all([a!.close(), b!.close(), elsewhere!.close()]);
    }
  });

  test('the trace says a cookie came from Redis: sent, withheld and stored cookies carry store: redis', async () => {
    const store = new RedisCookieStore({ url: redis.url, namespace: fresh() });
    const { run } = chainRunner(() => servers);
    try {
      const { hops } = await run('http://a.test/login', { cookies: store });
      const stored = hops[0]!.decisions.find((d) => d.subject === 'set-cookie');
      assert.equal(stored?.subject === 'set-cookie' && stored.facts?.store, 'redis');
      const sent = hops[1]!.decisions.find((d) => d.subject === 'cookie' && d.name === 'sid');
      assert.equal(sent?.subject === 'cookie' && sent.facts?.store, 'redis');
      // The in-memory jar's trace has no store fact.
      const plain = await run('http://a.test/login');
      const local = plain.hops[1]!.decisions.find((d) => d.subject === 'cookie' && d.name === 'sid');
      assert.equal(local?.subject === 'cookie' && 'store' in (local.facts ?? {}), false);
    } finally {
      await store.close();
    }
  });

  test('two stores writing the same namespace at once both land: a write against an old version is decided again, not lost', async () => {
    const namespace = fresh();
    const stores = Array.from({ length: 4 }, () => new RedisCookieStore({ url: redis.url, namespace }));
    try {
      await Promise.all(stores.flatMap((s, i) => Array.from({ length: 10 }, (_, k) => s.setCookie(`c${i}_${k}=v; Path=/`, 'http://example.com/'))));
      const reader = new RedisCookieStore({ url: redis.url, namespace });
      const header = await reader.getCookieString('http://example.com/');
      await reader.close();
      const names = header.split('; ').map((p) => p.split('=')[0]);
      assert.equal(names.length, 40);
      assert.equal(new Set(names).size, 40);
      assert.ok(
        stores.some((s) => s.stats.conflicts > 0),
        'the writes did race',
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test("a write that only replaces values lands over another process's new values without a retry; one that deletes is decided again", async () => {
    const namespace = fresh();
    const a = new RedisCookieStore({ url: redis.url, namespace });
    const b = new RedisCookieStore({ url: redis.url, namespace });
    const url = 'http://example.com/';
    try {
      await a.setCookie('x=1; Path=/', url);
      await a.setCookie('y=1; Path=/', url);
      await b.evaluate(new URL(url));
      await a.setCookie('x=2; Path=/', url); // b has not seen this value
      const r = await b.setCookie('y=2; Path=/', url);
      assert.equal(r.stored && r.reason, 'replaced');
      assert.equal(b.stats.conflicts, 0, 'a value change elsewhere does not conflict with a replacement');
      assert.equal(await b.getCookieString(url), 'x=2; y=2');
      await a.setCookie('x=3; Path=/', url);
      const gone = await b.setCookie('x=; Path=/; Max-Age=0', url);
      assert.equal(gone.reason, 'deleted');
      assert.equal(b.stats.conflicts, 1, 'a deletion waits for the exact version');
      assert.equal(await a.getCookieString(url), 'y=2');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a lookup when nothing changed is one small round trip, and after another process wrote it fetches only what changed, not the namespace', async () => {
    const namespace = fresh();
    const a = new RedisCookieStore({ url: redis.url, namespace });
    const b = new RedisCookieStore({ url: redis.url, namespace });
    try {
      await a.setCookie('sid=1; Path=/', 'http://example.com/');
      await b.evaluate(new URL('http://example.com/'));
      const before = b.stats;
      for (let i = 0; i < 5; i++) assert.equal((await b.evaluate(new URL('http://example.com/x'))).header, 'sid=1');
      assert.equal(b.stats.roundTrips - before.roundTrips, 5);
      assert.equal(b.stats.reloads, before.reloads);
      await a.setCookie('sid=2; Path=/', 'http://example.com/');
      assert.equal((await b.evaluate(new URL('http://example.com/'))).header, 'sid=2');
      assert.equal(b.stats.reloads, before.reloads, 'no rebuild from the whole namespace');
      assert.equal(b.stats.refreshes, before.refreshes + 1, 'one refresh with what changed');
      assert.equal(b.stats.roundTrips - before.roundTrips, 6, 'in the same round trip as the version check');
      // A deletion reaches the other store the same way.
      await a.setCookie('sid=; Path=/; Max-Age=0', 'http://example.com/');
      assert.equal((await b.evaluate(new URL('http://example.com/'))).header, '');
      assert.equal(b.stats.reloads, before.reloads);
      assert.equal(b.stats.refreshes, before.refreshes + 2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('after the client reconnects (it may reach another server: a failover) the cache is rebuilt from the whole namespace, not patched', async () => {
    const namespace = fresh();
    const a = new RedisCookieStore({ url: redis.url, namespace });
    const peek = await redisClient(redis.url);
    const url = new URL('http://example.com/');
    try {
      await a.setCookie('sid=1; Path=/', url);
      await a.evaluate(url);
      assert.equal(a.stats.reloads, 1);
      // Drop every other connection; the store's client reconnects by itself (no call of the store fails meanwhile).
      const others = async (): Promise<number> =>
        String(await peek.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal']))
          .trim()
          .split('\n').length - 1;
      assert.equal(await others(), 1);
      await peek.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      for (let i = 0; i < 200 && (await others()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await others(), 1, 'the store reconnected');
      assert.equal((await a.evaluate(url)).header, 'sid=1');
      assert.equal(a.stats.reloads, 2, 'rebuilt after the reconnect');
    } finally {
      peek.destroy();
      await a.close();
    }
  });

  test('Redis keeps an expiry for cookies that have one, and drops cookies long dead by its own clock', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace, now: () => Date.now() - 3_600_000 });
    const peek = await redisClient(redis.url);
    try {
      // Set an hour in the past by this store's clock: by Redis's clock it is long dead.
      await store.setCookie('old=1; Max-Age=60', 'http://example.com/');
      await store.setCookie('keep=1; Max-Age=86400', 'http://example.com/');
      const exp = await peek.zRangeWithScores(`hopwise:cookies:{${namespace}}:exp`, 0, -1);
      assert.deepStrictEqual(
        exp.map((e) => JSON.parse(e.value)[1]),
        ['keep'],
        'the dead cookie was dropped by the next write',
      );
    } finally {
      peek.destroy();
      await store.close();
    }
  });

  test('Redis killed between a hop that set a cookie and delivery fails the request with ERR_STORE and the trace, within timeout.total, and the next call reloads', async () => {
    const own = await startRedis();
    const store = new RedisCookieStore({ url: own.url, namespace: fresh(), timeoutMs: 500 });
    const local = await startServers(async (req, res) => {
      if (req.url === '/start') return redirect(res, 302, '/step');
      if (req.url === '/step') {
        await own.kill();
        return redirect(res, 302, '/end', { 'set-cookie': 'sid=1; Path=/' });
      }
      res.end('end');
    });
    const s = new Session({ cookies: store, connectTo: local.connectTo, timeout: { total: 3000 } });
    try {
      await s.fetch('http://a.test/');
      const t0 = Date.now();
      const err = await s.fetch('http://a.test/start').then(
        () => assert.fail('expected ERR_STORE'),
        (e: unknown) => e as HopwiseError,
      );
      assert.ok(err instanceof HopwiseError);
      assert.equal(err.code, 'ERR_STORE');
      assert.ok(Date.now() - t0 < 3000, 'within timeout.total');
      // The chain's own next hop sent the cookie its /step stored (a chain sees its own writes); the
      // write, due before delivery, failed: no response, and the hop whose cookie was lost says so.
      assert.deepStrictEqual(
        err.hops.map((h) => h.url),
        ['http://a.test/start', 'http://a.test/step', 'http://a.test/end'],
      );
      assert.equal(local.received.find((r) => r.path === '/end')?.headers.cookie, 'sid=1');
      assert.equal(err.hops[1]!.error?.code, 'ERR_STORE');
      assert.match(err.message, /storing the cookies of http:\/\/a\.test\/step|127\.0\.0\.1/);
      const decision = err.hops[1]!.decisions.find((d) => d.subject === 'set-cookie');
      assert.equal(decision?.action, 'stored');
      assert.match(decision?.detail ?? '', /not confirmed by the shared store: the write failed \(ERR_STORE\)/, 'never reported as done');
      // Never a silent empty jar: the next request fails too, until Redis is back.
      const ends = local.received.filter((r) => r.path === '/end').length;
      const again = await s.fetch('http://a.test/end').catch((e: unknown) => e as HopwiseError);
      assert.equal((again as HopwiseError).code, 'ERR_STORE');
      assert.equal(local.received.filter((r) => r.path === '/end').length, ends, 'nothing was sent without the jar');
      // Redis back (empty, as after losing what it had not saved): the cache is rebuilt from it, so
      // the cookie Redis never acknowledged is not sent.
      await own.restart();
      const reloads = store.stats.reloads;
      let res;
      for (let i = 0; i < 60 && !res; i++) res = await s.fetch('http://a.test/end').catch(() => new Promise((r) => setTimeout(r, 50)).then(() => undefined));
      assert.equal(await res?.text(), 'end');
      assert.equal(store.stats.reloads, reloads + 1, 'the next call rebuilt the cache');
      assert.equal(local.received.at(-1)?.headers.cookie, undefined);
    } finally {
      await s.close();
      await store.close();
      await local.close();
      await own.stop();
    }
  });

  test('a Redis that stops answering (not closed, just silent) fails the lookup with ERR_STORE within timeout.total', async () => {
    const own = await startRedis();
    const store = new RedisCookieStore({ url: own.url, namespace: fresh(), timeoutMs: 60_000 });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, timeout: { total: 800 } });
    try {
      await s.fetch('http://a.test/echo');
      // Frozen: the connection stays open, and nothing answers.
      own.pause();
      const sentBefore = servers.received.filter((r) => r.path === '/echo').length;
      const t0 = Date.now();
      const err = (await s.fetch('http://a.test/echo').catch((e: unknown) => e)) as HopwiseError;
      assert.equal(err.code, 'ERR_STORE');
      assert.match(err.message, /timeout\.total \(800 ms\)/);
      assert.ok(Date.now() - t0 < 2000);
      // The hop that could not go ends the trace, with its error; nothing was sent; the trace renders.
      assert.deepStrictEqual(
        err.hops.map((h) => [h.url, h.status, h.error?.code, Object.keys(h.requestHeaders).length]),
        [['http://a.test/echo', 0, 'ERR_STORE', 0]],
      );
      assert.equal(servers.received.filter((r) => r.path === '/echo').length, sentBefore);
      assert.match(renderTrace(err.hops, { error: err }), /#0 GET http:\/\/a\.test\/echo/);
      assert.equal(toHar(err.hops).log.entries.length, 1);
      assert.ok(Array.isArray(diagnose(err.hops)));
    } finally {
      own.resume();
      await s.close();
      await store.close();
      await own.stop();
    }
  });

  test('bad options are ERR_INVALID_OPTION or ERR_UNKNOWN_OPTION, named', () => {
    assert.throws(() => new RedisCookieStore({} as never), { code: 'ERR_INVALID_OPTION', message: /namespace/ });
    assert.throws(() => new RedisCookieStore({ namespace: 'x', nmespace: 'y' } as never), { code: 'ERR_UNKNOWN_OPTION', message: /nmespace/ });
    assert.throws(() => new RedisCookieStore({ namespace: 'x', url: 'redis://h', client: {} as never }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => new RedisCookieStore({ namespace: 'x', client: {} as never }), { code: 'ERR_INVALID_OPTION', message: /node-redis/ });
  });
});
