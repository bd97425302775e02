import { runCli } from './helpers/cli.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session, type Hop, type HopwiseError } from '../src/index.ts';
import { planRetry, retryAfterMs, type RetryPolicy } from '../src/hop/retry.ts';
import { echo, startServers, type TestServers } from './helpers/servers.ts';

/** Per-test counters: /flaky?id=X&fail=N&s=503&ra=1 answers s (with Retry-After ra) N times, then echoes. */
const counts = new Map<string, number>();
let srv: TestServers;
before(async () => {
  srv = await startServers((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const q = url.searchParams;
    const id = q.get('id') ?? '';
    const n = (counts.get(id) ?? 0) + 1;
    counts.set(id, n);
    if (n <= Number(q.get('fail') ?? 0)) {
      if (url.pathname === '/reset') return void req.socket.destroy();
      const headers: Record<string, string> = {};
      if (q.get('ra')) headers['retry-after'] = q.get('ra')!;
      res.writeHead(Number(q.get('s') ?? 503), headers);
      return void res.end('busy');
    }
    return echo(req, res);
  });
});
after(() => srv.close());

const session = (o: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...o });
const retries = (hops: Hop[]) => hops.flatMap((h) => h.decisions.filter((d) => d.subject === 'retry'));
let seq = 0;
const id = () => `t${++seq}`;

describe('retries', () => {
  it('retries a 503 with Retry-After: 1 twice and returns the 200, three exchanges in the trace', async () => {
    const s = session();
    const t0 = Date.now();
    const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=2&s=503&ra=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.hops.map((h) => h.status),
      [503, 503, 200],
    );
    const d = retries(res.hops);
    assert.deepEqual(
      d.map((x) => [x.reason, x.facts.waitMs, x.facts.source]),
      [
        ['retry-status', 1000, 'retry-after'],
        ['retry-status', 1000, 'retry-after'],
      ],
    );
    assert.ok(Date.now() - t0 >= 1900, 'waited for Retry-After twice');
    await s.close();
  });

  it('does not retry the same POST, and says why', async () => {
    const s = session();
    const tag = id();
    const res = await s.fetch(`https://a.test/flaky?id=${tag}&fail=2&s=503&ra=1`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 503);
    assert.equal(res.hops.length, 1);
    assert.equal(counts.get(tag), 1);
    assert.equal(retries(res.hops)[0]?.reason, 'not-idempotent');
    await s.close();
  });

  it('retries a POST listed in retry.methods, sending its body again', async () => {
    const s = session({ retry: { methods: ['POST'], backoff: 5 } });
    const tag = id();
    const res = await s.fetch(`https://a.test/flaky?id=${tag}&fail=1&s=502`, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).body, 'payload');
    const got = srv.received.filter((r) => r.path.includes(`id=${tag}&`));
    assert.deepEqual(
      got.map((r) => r.body.toString()),
      ['payload', 'payload'],
    );
    assert.equal(retries(res.hops)[0]?.facts.source, 'backoff');
    await s.close();
  });

  it('returns a 5xx at once with retry: false (and with retry: 0)', async () => {
    for (const retry of [false, 0] as const) {
      const s = session({ retry });
      const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=1&s=500`);
      assert.equal(res.status, 500);
      assert.equal(res.hops.length, 1);
      assert.deepEqual(retries(res.hops), []);
      await s.close();
    }
  });

  it('stops after the limit and records it', async () => {
    const s = session({ retry: { limit: 2, backoff: 5 } });
    const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=9&s=504`);
    assert.equal(res.status, 504);
    assert.equal(res.hops.length, 3);
    assert.equal(retries(res.hops).at(-1)?.reason, 'retries-exhausted');
    await s.close();
  });

  it('returns the answer when Retry-After is longer than retry.maxRetryAfter', async () => {
    const s = session({ retry: { maxRetryAfter: 2000 } });
    const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=1&s=429&ra=120`);
    assert.equal(res.status, 429);
    assert.equal(retries(res.hops)[0]?.reason, 'retry-after-too-long');
    await s.close();
  });

  it('never waits past timeout.total', async () => {
    const s = session({ timeout: { total: 1500 } });
    const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=1&s=503&ra=5`);
    assert.equal(res.status, 503);
    assert.equal(retries(res.hops)[0]?.reason, 'retry-past-total');
    await s.close();
  });

  it('retries a connection reset before any response byte, as its own hop', async () => {
    const s = session({ retry: { backoff: 5 } });
    const res = await s.fetch(`https://a.test/reset?id=${id()}&fail=1`);
    assert.equal(res.status, 200);
    assert.equal(res.hops.length, 2);
    assert.equal(res.hops[0]?.error?.code, 'ERR_NETWORK');
    assert.equal(retries(res.hops)[0]?.reason, 'retry-reset');
    await s.close();
  });

  it('fails with the reset when the method is not retried', async () => {
    const s = session({ retry: { backoff: 5 } });
    await assert.rejects(
      s.fetch(`https://a.test/reset?id=${id()}&fail=1`, { method: 'POST', body: 'x' }),
      (e: HopwiseError) => e.code === 'ERR_NETWORK' && retries(e.hops)[0]?.reason === 'not-idempotent',
    );
    await s.close();
  });

  it('refuses a malformed retry option with a message that says what is expected', () => {
    assert.throws(() => new Session({ retry: -1 }), /retry must be a whole number/);
    assert.throws(() => new Session({ retry: { limt: 2 } as never }), /Did you mean 'limit'/);
  });
});

describe('planRetry (pure)', () => {
  const policy: RetryPolicy = { limit: 2, methods: new Set(['GET']), statuses: new Set([503]), maxRetryAfter: 60_000, backoff: 1000, maxTime: undefined };
  const base = { policy, method: 'GET', body: undefined, retries: 0, status: 503, retryAfter: undefined, now: Date.parse('2026-01-01T00:00:00Z'), remaining: undefined };

  it('reads Retry-After as seconds or an HTTP-date (RFC 9110 §10.2.3)', () => {
    assert.equal(retryAfterMs('3', base.now), 3000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:07 GMT', base.now), 7000);
    assert.equal(retryAfterMs('soon', base.now), undefined);
    const p = planRetry({ ...base, retryAfter: 'Thu, 01 Jan 2026 00:00:02 GMT', random: 0 });
    assert.equal(p.retry && p.waitMs, 2000);
  });

  it('backs off exponentially with jitter: between half and all of backoff × 2^n', () => {
    for (const [retries, lo, hi] of [
      [0, 500, 1000],
      [1, 1000, 2000],
    ] as const) {
      const a = planRetry({ ...base, retries, random: 0 });
      const b = planRetry({ ...base, retries, random: 0.999 });
      assert.ok(a.retry && b.retry);
      assert.equal(a.waitMs, lo);
      assert.ok(b.waitMs <= hi && b.waitMs > lo);
    }
  });
});

describe('the CLI', () => {
  const cli = (args: string[]) => runCli(args);
  const conn = () => srv.connectTo.flatMap((c) => ['--connect-to', c]);

  it('--retry N sets the retries, --retry 0 turns them off', async () => {
    const ok = await cli(['--retry', '1', ...conn(), `http://a.test/flaky?id=${id()}&fail=1&s=503&ra=0`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).method, 'GET');
    const tag = id();
    const off = await cli(['--retry', '0', '-s', '-o', '/dev/null', '-w', '%{http_code}', ...conn(), `http://a.test/flaky?id=${tag}&fail=1&s=503`]);
    assert.equal(off.stdout, '503');
    assert.equal(counts.get(tag), 1);
  });

  it('--retry-max-time S: no retry starts later than S seconds after the first request', async () => {
    const tag = id();
    const res = await cli(['trace', '--json', '--retry-max-time', '0.5', ...conn(), `http://a.test/flaky?id=${tag}&fail=1&s=503&ra=1`]);
    assert.equal(counts.get(tag), 1, res.stderr);
    assert.match(res.stdout, /retry-past-total/);
  });
});

describe('retries are not redirects', () => {
  it('keeps res.redirected false and counts no redirect for a retried exchange', async () => {
    const s = session({ retry: { backoff: 5 } });
    const res = await s.fetch(`https://a.test/flaky?id=${id()}&fail=1&s=500`);
    assert.equal(res.hops.length, 2);
    assert.equal(res.redirected, false);
    await s.close();
  });
});
