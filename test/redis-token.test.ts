// sharedToken's lock against a real redis-server: a dead lock holder is a typed error after a
// bounded wait, a fetch that outlives its lock cannot overwrite the token, and a Redis that is gone
// fails the request with ERR_STORE and the trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedToken } from '../src/redis/index.js';
import { bearer, HopwiseError, Session } from '../src/index.js';
import { REDIS_SKIP, redisClient, startRedis, type RedisServer } from './helpers/redis.ts';
import { router, startServers, type TestServers } from './helpers/servers.ts';

let redis: RedisServer;
let servers: TestServers;
let keys = 0;
const fresh = (): string => `token-${process.pid}-${++keys}`;
const ctx = (refresh: boolean) => ({ url: new URL('http://a.test/'), method: 'GET', refresh });

describe('sharedToken', { skip: REDIS_SKIP }, () => {
  before(async () => {
    redis = await startRedis();
    servers = await startServers(router);
  });
  after(async () => {
    await servers?.close();
    await redis?.stop();
  });

  test('concurrent callers of one process share one fetch, and a refresh after a newer token appeared uses it', async () => {
    let fetches = 0;
    const source = sharedToken({ url: redis.url, key: fresh(), ttlMs: 60_000, fetch: async () => `t${++fetches}` });
    try {
      const first = await Promise.all(Array.from({ length: 20 }, () => source(ctx(false))));
      assert.deepStrictEqual(new Set(first), new Set(['t1']));
      const refreshed = await Promise.all(Array.from({ length: 20 }, () => source(ctx(true))));
      assert.deepStrictEqual(new Set(refreshed), new Set(['t2']));
      // A late 401 for t1 (handed out before the refresh): t2 is newer, so nothing is fetched.
      assert.equal(await source(ctx(true)), 't2');
      assert.equal(fetches, 2);
    } finally {
      await source.close();
    }
  });

  test('a lock holder that dies (its lock ends with no token stored) is ERR_STORE for the waiters, after a bounded wait', async () => {
    const key = fresh();
    const peek = await redisClient(redis.url);
    // Another process took the lock and died: the lock lasts 300 ms.
    await peek.set(`hopwise:token:{${key}}:lock`, 'someone-else', { PX: 300 });
    const source = sharedToken({ url: redis.url, key, ttlMs: 60_000, fetch: () => 'never' });
    try {
      const t0 = Date.now();
      await assert.rejects(source(ctx(false)), (err: HopwiseError) => err.code === 'ERR_STORE' && /stopped/.test(err.message));
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      peek.destroy();
      await source.close();
    }
  });

  test('a wait longer than waitMs is ERR_STORE, while the holder still holds the lock', async () => {
    const key = fresh();
    const peek = await redisClient(redis.url);
    await peek.set(`hopwise:token:{${key}}:lock`, 'slow-one', { PX: 10_000 });
    const source = sharedToken({ url: redis.url, key, ttlMs: 60_000, waitMs: 200, fetch: () => 'never' });
    try {
      await assert.rejects(source(ctx(false)), (err: HopwiseError) => err.code === 'ERR_STORE' && /waitMs/.test(err.message));
    } finally {
      peek.destroy();
      await source.close();
    }
  });

  test('a fetch that takes longer than lockMs does not overwrite the token of the process that took the lock over', async () => {
    const key = fresh();
    const slow = sharedToken({
      url: redis.url,
      key,
      ttlMs: 60_000,
      lockMs: 100,
      fetch: () => new Promise((r) => setTimeout(() => r('stale'), 300)),
    });
    const fast = sharedToken({ url: redis.url, key, ttlMs: 60_000, lockMs: 5000, fetch: () => 'fresh' });
    try {
      const slowCall = source(slow);
      await new Promise((r) => setTimeout(r, 150));
      // The slow one's lock has ended: the fast one takes it and stores its token.
      assert.equal(await fast(ctx(false)), 'fresh');
      await assert.rejects(slowCall, (err: HopwiseError) => err.code === 'ERR_STORE' && /lockMs/.test(err.message));
      const peek = await redisClient(redis.url);
      assert.match(String(await peek.get(`hopwise:token:{${key}}`)), /:fresh$/);
      peek.destroy();
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
    function source(s: typeof slow) {
      return s(ctx(false));
    }
  });

  test('a session whose token source cannot reach Redis fails with ERR_STORE and the trace, not an auth error', async () => {
    const gone = await startRedis();
    await gone.kill();
    const source = sharedToken({ url: gone.url, key: fresh(), ttlMs: 60_000, timeoutMs: 300, fetch: () => 'x' });
    const s = new Session({ connectTo: servers.connectTo, auth: [bearer(source)] });
    try {
      const err = (await s.fetch('http://a.test/need-auth').catch((e: unknown) => e)) as HopwiseError;
      assert.ok(err instanceof HopwiseError);
      assert.equal(err.code, 'ERR_STORE');
      assert.ok(Array.isArray(err.hops));
      assert.equal(servers.received.filter((r) => r.path === '/need-auth').length, 0, 'nothing was sent without the token');
    } finally {
      await s.close();
      await source.close();
    }
  });

  test('bad options are named', () => {
    assert.throws(() => sharedToken({ key: '', ttlMs: 1, fetch: () => 'x' }), { code: 'ERR_INVALID_OPTION', message: /key/ });
    assert.throws(() => sharedToken({ key: 'k', ttlMs: 0, fetch: () => 'x' }), { code: 'ERR_INVALID_OPTION', message: /ttlMs/ });
    assert.throws(() => sharedToken({ key: 'k', ttlMs: 1, fetch: () => 'x', ttl: 5 } as never), { code: 'ERR_UNKNOWN_OPTION', message: /ttl/ });
  });
});
