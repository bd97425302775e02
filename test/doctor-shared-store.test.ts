// The doctor tells a shared session from a local one: the phases record `store: 'redis'` on every
// cookie decision a RedisCookieStore answered, and the session findings say what that means (another
// worker may have set or removed the cookie; this change reaches every worker). Real redis-server,
// real servers on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../src/doctor/index.js';
import { RedisCookieStore } from '../src/redis/index.js';
import { Session } from '../src/index.js';
import { REDIS_SKIP, startRedis, type RedisServer } from './helpers/redis.ts';
import { redirect, router, startServers, type TestServers } from './helpers/servers.ts';

let redis: RedisServer;
let servers: TestServers;
const BASE = 'http://app.example.com';

describe('the doctor on a session shared through Redis', { skip: REDIS_SKIP }, () => {
  before(async () => {
    redis = await startRedis();
    servers = await startServers((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/login') return redirect(res, 302, '/home', { 'set-cookie': 'sid=fleet-session-1; Path=/; HttpOnly' });
      // A handler that does not know the session: it ends it, and sends the client back to log in.
      if (url.pathname === '/reports') return redirect(res, 302, '/login', { 'set-cookie': 'sid=; Path=/; Max-Age=0' });
      if (url.pathname === '/home') return void res.end('home');
      return router(req, res);
    });
  });
  after(async () => {
    await servers?.close();
    await redis?.stop();
  });

  test('a worker whose request carried the session another worker logged in with, deleted by the server, gets a finding that says the session is shared', async () => {
    const namespace = `doctor-${process.pid}`;
    const stores = [new RedisCookieStore({ url: redis.url, namespace }), new RedisCookieStore({ url: redis.url, namespace })];
    const [login, worker] = stores.map((cookies) => new Session({ cookies, connectTo: servers.connectTo, timeout: { total: 3000 } }));
    try {
      await (await login!.fetch(`${BASE}/login`, { method: 'POST', body: 'user=a' })).text();
      const res = await worker!.fetch(`${BASE}/reports`);
      await res.text();
      // What the server received: the worker sent the cookie it never received itself.
      const reports = servers.at('app.example.com').find((r) => r.path === '/reports');
      assert.equal(reports?.headers.cookie, 'sid=fleet-session-1');
      const deleted = diagnose(res.hops).find((f) => f.code === 'session-cookie-deleted');
      assert.ok(deleted, 'a session-cookie-deleted finding');
      assert.equal(deleted.facts.store, 'redis');
      assert.match(deleted.fix.client, /shared through Redis/);
    } finally {
      for (const s of [login, worker]) await s?.close();
      for (const s of stores) await s.close();
    }
  });

  test('the same chain on an in-memory jar says nothing of a shared store', async () => {
    const session = new Session({ connectTo: servers.connectTo });
    await (await session.fetch(`${BASE}/login`, { method: 'POST', body: 'user=a' })).text();
    const res = await session.fetch(`${BASE}/reports`);
    await res.text();
    const deleted = diagnose(res.hops).find((f) => f.code === 'session-cookie-deleted');
    assert.ok(deleted);
    assert.equal(deleted.facts.store, undefined);
    assert.doesNotMatch(deleted.fix.client, /shared through/);
    await session.close();
  });
});
