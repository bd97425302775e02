// A chain's cookie writes to a RedisCookieStore go in one round trip before delivery, and the trace
// tells the final truth: each Set-Cookie line is decided at once against the store's cache (the
// chain's next hop sends it), and written with the chain's other lines before the response is
// handed on; when another worker wrote first, the lines are decided again against what Redis holds
// and the trace shows those decisions. Real redis-server, real servers on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../src/doctor/index.js';
import { RedisCookieStore } from '../src/redis/index.js';
import { Session } from '../src/index.js';
import { REDIS_SKIP, startRedis, type RedisServer } from './helpers/redis.ts';
import { redirect, startServers, type TestServers } from './helpers/servers.ts';

let redis: RedisServer;
let servers: TestServers;
let namespaces = 0;
const fresh = (): string => `batch-${process.pid}-${++namespaces}`;
/** Runs once while worker B's chain is between its hops (the race of the second test). */
let between: (() => Promise<void>) | undefined;

describe('RedisCookieStore writes a chain in one round trip', { skip: REDIS_SKIP }, () => {
  before(async () => {
    redis = await startRedis();
    servers = await startServers(async (req, res) => {
      const url = new URL(req.url!, 'http://x');
      const step = /^\/chain\/(\d)$/.exec(url.pathname);
      if (step) {
        const n = Number(step[1]);
        return redirect(res, 302, n < 3 ? `/chain/${n + 1}` : '/done', { 'set-cookie': `c${n}=v${n}; Path=/` });
      }
      if (url.pathname === '/a-login') {
        res.writeHead(200, { 'set-cookie': 'sid=a; Path=/; Secure; HttpOnly' });
        return void res.end('a');
      }
      if (url.pathname === '/slow-login') return redirect(res, 302, '/sleep', { 'set-cookie': 'sid=slow; Path=/' });
      if (url.pathname === '/sleep') {
        await new Promise((r) => setTimeout(r, 2500));
        return void res.end('late');
      }
      if (url.pathname === '/b-login') return redirect(res, 302, '/b-next', { 'set-cookie': 'sid=b; Path=/; HttpOnly' });
      if (url.pathname === '/b-next') {
        const run = between;
        between = undefined;
        await run?.();
        return void res.end('b');
      }
      res.end(req.headers.cookie ?? '');
    });
  });
  after(async () => {
    await servers?.close();
    await redis?.stop();
  });

  test('a chain of three Set-Cookie hops makes one write round trip, and a request another worker starts after delivery sees all three cookies', async () => {
    const namespace = fresh();
    const [one, two] = [new RedisCookieStore({ url: redis.url, namespace }), new RedisCookieStore({ url: redis.url, namespace })];
    const [s1, s2] = [one, two].map((cookies) => new Session({ cookies, connectTo: servers.connectTo, timeout: { total: 5000 } }));
    try {
      await (await s1!.fetch('http://a.test/warm')).text();
      const before = one.stats.roundTrips;
      const res = await s1!.fetch('http://a.test/chain/1');
      // One version check for the chain's first hop, one write of its three lines at delivery.
      assert.equal(one.stats.roundTrips - before, 2);
      assert.deepStrictEqual(
        res.hops.map((h) => h.url),
        ['http://a.test/chain/1', 'http://a.test/chain/2', 'http://a.test/chain/3', 'http://a.test/done'],
      );
      // The chain's own writes reach its next hops before Redis has them.
      const received = servers.at('a.test');
      assert.equal(received.find((r) => r.path === '/chain/3')?.headers.cookie, 'c1=v1; c2=v2');
      assert.equal(received.find((r) => r.path === '/done')?.headers.cookie, 'c1=v1; c2=v2; c3=v3');
      // Delivered (the body not read yet): the other worker's request sees all three.
      const other = await s2!.fetch('http://a.test/seen');
      assert.equal(await other.text(), 'c1=v1; c2=v2; c3=v3');
      assert.equal(servers.at('a.test').find((r) => r.path === '/seen')?.headers.cookie, 'c1=v1; c2=v2; c3=v3');
      assert.equal(await res.text(), 'c1=v1; c2=v2; c3=v3');
      // The trace: each hop's stored decision is final (nothing was decided again).
      for (const h of res.hops.slice(0, 3)) {
        const d = h.decisions.find((x) => x.subject === 'set-cookie');
        assert.equal(d?.action, 'stored');
        assert.doesNotMatch(d?.detail ?? '', /decided again|not confirmed/);
      }
      // A chain that sets nothing writes nothing: one round trip, the check.
      const quiet = one.stats.roundTrips;
      await (await s1!.fetch('http://a.test/seen')).text();
      assert.equal(one.stats.roundTrips - quiet, 1);
    } finally {
      for (const s of [s1, s2]) await s?.close();
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('two workers racing on one cookie: the loser’s trace shows what Redis holds, the doctor reads it, and nothing claims a write that did not land', async () => {
    const namespace = fresh();
    const [aStore, bStore] = [new RedisCookieStore({ url: redis.url, namespace }), new RedisCookieStore({ url: redis.url, namespace })];
    const a = new Session({ cookies: aStore, connectTo: servers.connectTo, ca: servers.ca, timeout: { total: 5000 } });
    const b = new Session({ cookies: bStore, connectTo: servers.connectTo, timeout: { total: 5000 } });
    try {
      // Worker B (http) logs in; while its chain is between hops, worker A (https) logs in with a
      // Secure cookie of the same name and delivers first. B's line was stored in its cache and sent
      // on its next hop; against what Redis holds it is refused (RFC 6265bis §5.7 step 16).
      between = async () => void (await (await a.fetch('https://app.example.com/a-login')).text());
      const res = await b.fetch('http://app.example.com/b-login');
      assert.equal(await res.text(), 'b');
      assert.equal(bStore.stats.conflicts, 1, 'the race happened');
      const received = servers.at('app.example.com');
      assert.equal(received.find((r) => r.path === '/b-next')?.headers.cookie, 'sid=b', 'B sent its own first decision');

      // What Redis holds: A's Secure cookie.
      const reader = new RedisCookieStore({ url: redis.url, namespace });
      const held = await reader.cookies();
      await reader.close();
      assert.deepStrictEqual(
        held.map((c) => [c.name, c.value, c.secure]),
        [['sid', 'a', true]],
      );

      // B's trace: the final decision, what the chain went on with, and the hop that sent the value Redis did not keep.
      const login = res.hops[0]!.decisions.find((d) => d.subject === 'set-cookie');
      assert.equal(login?.action, 'rejected');
      assert.equal(login?.reason, 'overwrite-secure');
      assert.match(login?.detail ?? '', /decided again .*another worker wrote first, or a failover lost writes\); the chain's next hops went by the first decision \(stored sid\)/);
      assert.ok(!res.hops.some((h) => h.decisions.some((d) => d.subject === 'set-cookie' && d.action === 'stored')), 'no stored decision for a write Redis refused');
      const sent = res.hops[1]!.decisions.find((d) => d.subject === 'cookie' && d.name === 'sid');
      assert.equal(sent?.action, 'sent');
      assert.match(sent?.detail ?? '', /which Redis did not keep: sid had changed in Redis first, by another worker/);

      // The doctor reads the final decision.
      const finding = diagnose(res.hops).find((f) => f.code === 'set-cookie-rejected-overwrite-secure');
      assert.ok(finding, 'the doctor names the refusal');

      // A's trace is untouched: its write landed.
      const next = await a.fetch('https://app.example.com/who');
      assert.equal(await next.text(), 'sid=a');
    } finally {
      between = undefined;
      await a.close();
      await b.close();
      await Promise.all([aStore.close(), bStore.close()]);
    }
  });

  test('a chain that fails after a hop set a cookie still writes it before the error is thrown, and its trace is final', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, maxRedirects: 1, timeout: { total: 5000 } });
    try {
      const err = (await s.fetch('http://a.test/chain/1').catch((e: unknown) => e)) as { code: string; hops: { decisions: { subject: string; detail: string }[] }[] };
      assert.equal(err.code, 'ERR_TOO_MANY_REDIRECTS');
      const reader = new RedisCookieStore({ url: redis.url, namespace });
      assert.equal(await reader.getCookieString('http://a.test/'), 'c1=v1; c2=v2');
      await reader.close();
      for (const h of err.hops) for (const d of h.decisions) if (d.subject === 'set-cookie') assert.doesNotMatch(d.detail, /not confirmed/);
    } finally {
      await s.close();
      await store.close();
    }
  });

  test('a chain past timeout.total after a hop set a cookie does not wait for the write: its trace says the cookie was not confirmed, and the write still lands', async () => {
    const namespace = fresh();
    const store = new RedisCookieStore({ url: redis.url, namespace });
    const s = new Session({ cookies: store, connectTo: servers.connectTo, timeout: { total: 1000 } });
    try {
      const err = (await s.fetch('http://a.test/slow-login').catch((e: unknown) => e)) as { code: string; hops: { decisions: { subject: string; action: string; detail: string }[] }[] };
      assert.equal(err.code, 'ERR_TIMEOUT');
      const d = err.hops[0]!.decisions.find((x) => x.subject === 'set-cookie');
      assert.equal(d?.action, 'stored');
      assert.match(d?.detail ?? '', /not confirmed by the shared store: the request ended before the write was acknowledged/);
      const reader = new RedisCookieStore({ url: redis.url, namespace });
      let header = '';
      for (let i = 0; i < 50 && header === ''; i++) {
        header = await reader.getCookieString('http://a.test/');
        if (header === '') await new Promise((r) => setTimeout(r, 20));
      }
      await reader.close();
      assert.equal(header, 'sid=slow');
    } finally {
      await s.close();
      await store.close();
    }
  });

  test('many chains at once in two processes sharing a namespace all finish, each sending its own cookies and leaving all of them in Redis', async () => {
    const namespace = fresh();
    const stores = [new RedisCookieStore({ url: redis.url, namespace }), new RedisCookieStore({ url: redis.url, namespace })];
    const sessions = stores.map((cookies) => new Session({ cookies, connectTo: servers.connectTo, timeout: { total: 8000 } }));
    try {
      const bodies = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await sessions[i % 2]!.fetch(`http://a.test/chain/1?i=${i}`)).text()));
      for (const body of bodies) assert.equal(body, 'c1=v1; c2=v2; c3=v3');
      const reader = new RedisCookieStore({ url: redis.url, namespace });
      assert.equal(await reader.getCookieString('http://a.test/'), 'c1=v1; c2=v2; c3=v3');
      await reader.close();
      // Chains of one process share round trips: fewer than two per chain.
      for (const s of stores) assert.ok(s.stats.roundTrips < 30, `round trips: ${s.stats.roundTrips}`);
    } finally {
      for (const s of sessions) await s.close();
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
