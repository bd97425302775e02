// Many workers, one session: four worker processes run /cookie-chain/3 against the bench server,
// sharing one RedisCookieStore namespace, next to the same four with an in-memory jar each. Reports
// the fleet's throughput as a ratio (shared / in-memory, reps interleaved in one run) and Redis
// round trips per hop (on /cookie-chain/3, four hops: the first hop's version check and one write of
// the chain's three cookies before delivery, 0.50); plus /redirect/3 with a logged-in namespace, where no hop changes a cookie
// (the cost of a lookup when nothing changed: one small round trip, no reload). On /redirect/3 the
// in-memory workers hold the same login cookie (they log in during warm-up), so both sides send it.
//
// The machine is shared: a rep is short, the two sides of a ratio run back to back, and their order
// alternates from rep to rep (ABBA), so a load that comes or goes weighs on both sides alike; the
// ratio reported is the median of the reps'. CPU per call (the workers' and redis-server's, as the
// kernel counts it) is reported too: it moves less with other load than throughput does.
//
// Needs redis-server (Debian's; skipped with one line when absent) and the built package (dist/).
// `node bench/redis.mjs [--quick]` runs it alone; run.mjs runs it unless --no-redis.
import { fork, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, median, minMax, redisEntry, startServer } from './lib.mjs';

const WORKERS = 4;
const HOPS_PER_CALL = 4;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > until) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `redis://127.0.0.1:${port}`, cpuMs: () => cpuMsOf(child.pid), stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGKILL')))) };
}

/** CPU ms a process has used (user + system, Linux /proc); 0 where that cannot be read. */
function cpuMsOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** Four workers at once; the fleet's calls per second (all calls over the slowest worker's wall time). */
async function runFleet(cfg, redis) {
  const children = [];
  try {
    const ready = [];
    for (let w = 0; w < WORKERS; w++) {
      const child = fork(path.join(BENCH_DIR, 'redis-worker.mjs'), [JSON.stringify({ ...cfg, worker: w })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
          child.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error(`unexpected ${m.type}`))));
        }),
      );
    }
    await Promise.all(ready);
    const done = children.map((child) => new Promise((resolve) => child.once('message', resolve)));
    const redis0 = redis.cpuMs();
    for (const child of children) child.send('go');
    const results = await Promise.all(done);
    const redisUs = (redis.cpuMs() - redis0) * 1000;
    const calls = results.reduce((a, r) => a + r.calls, 0);
    const wallNs = Math.max(...results.map((r) => r.wallNs));
    const sum = (k) => results.reduce((a, r) => a + r[k], 0);
    return {
      callsPerSec: calls / (wallNs / 1e9),
      cpuUsPerCall: (sum('cpuUs') + (cfg.mode === 'redis' ? redisUs : 0)) / calls,
      failures: sum('failures'),
      sample: results.find((r) => r.sample)?.sample,
      roundTripsPerHop: sum('roundTrips') / (calls * HOPS_PER_CALL),
      reloadsPerHop: sum('reloads') / (calls * HOPS_PER_CALL),
      refreshesPerHop: sum('refreshes') / (calls * HOPS_PER_CALL),
      conflictsPerHop: sum('conflicts') / (calls * HOPS_PER_CALL),
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

export async function runRedisBench({ quick = false, log = () => {} } = {}) {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return { skipped: 'redis-server is not installed (apt-get install redis-server)' };
  const reps = Number(process.env.HOPWISE_REDIS_REPS ?? (quick ? 1 : 6));
  const count = Number(process.env.HOPWISE_REDIS_COUNT ?? (quick ? 60 : 800));
  const warmup = quick ? 30 : 1000;
  const redis = await startRedis();
  const server = await startServer();
  const cells = { memory: [], redis: [], memoryRead: [], redisRead: [] };
  const errors = [];
  try {
    // The namespace for the read-only workload holds a login cookie for the bench server's host.
    const { RedisCookieStore } = await import(pathToFileURL(redisEntry()).href);
    const seed = new RedisCookieStore({ url: redis.url, namespace: 'bench-read' });
    await seed.setCookie('sid=logged-in; Path=/', `${server.base}/`);
    await seed.close();
    for (let r = 0; r < reps; r++) {
      const base = { base: server.base, redisUrl: redis.url, count, warmup };
      const pairs = [
        [
          ['memory', { ...base, mode: 'memory', workload: 'cookie3' }],
          ['redis', { ...base, mode: 'redis', workload: 'cookie3', namespace: `bench-${r}` }],
        ],
        [
          ['memoryRead', { ...base, mode: 'memory', workload: 'redirect3' }],
          ['redisRead', { ...base, mode: 'redis', workload: 'redirect3', namespace: 'bench-read' }],
        ],
      ];
      // ABBA: odd reps run the shared store first.
      const runs = pairs.flatMap((pair) => (r % 2 === 1 ? [...pair].reverse() : pair));
      for (const [cell, cfg] of runs) {
        const res = await runFleet(cfg, redis);
        cells[cell].push(res);
        if (res.failures) errors.push(`${cell}: ${res.failures} wrong answers, e.g. ${res.sample}`);
      }
      log(`redis rep ${r + 1}/${reps} done`);
    }
  } finally {
    await server.stop();
    await redis.stop();
  }
  const ratios = cells.redis.map((x, i) => x.callsPerSec / cells.memory[i].callsPerSec);
  const readRatios = cells.redisRead.map((x, i) => x.callsPerSec / cells.memoryRead[i].callsPerSec);
  const med = (cell, k) => median(cells[cell].map((x) => x[k]));
  return {
    reps,
    count,
    ratio: median(ratios),
    ratioRange: minMax(ratios),
    readRatio: median(readRatios),
    readRatioRange: minMax(readRatios),
    memory: med('memory', 'callsPerSec'),
    redis: med('redis', 'callsPerSec'),
    memoryRead: med('memoryRead', 'callsPerSec'),
    redisRead: med('redisRead', 'callsPerSec'),
    cpu: { memory: med('memory', 'cpuUsPerCall'), redis: med('redis', 'cpuUsPerCall'), memoryRead: med('memoryRead', 'cpuUsPerCall'), redisRead: med('redisRead', 'cpuUsPerCall') },
    roundTripsPerHop: med('redis', 'roundTripsPerHop'),
    reloadsPerHop: med('redis', 'reloadsPerHop'),
    conflictsPerHop: med('redis', 'conflictsPerHop'),
    readRoundTripsPerHop: med('redisRead', 'roundTripsPerHop'),
    readReloadsPerHop: med('redisRead', 'reloadsPerHop'),
    refreshesPerHop: med('redis', 'refreshesPerHop'),
    errors,
  };
}

export function renderRedis(r) {
  if (r.skipped) return `## Many workers, one session (Redis)\n\nSkipped: ${r.skipped}.\n`;
  const f = (x, d = 2) => x.toFixed(d);
  const range = ([a, b]) => `${f(a)}–${f(b)}`;
  return [
    '## Many workers, one session (Redis)',
    '',
    `${WORKERS} worker processes at once, each running sequential calls (${r.count} per worker, ${r.reps} rep${r.reps > 1 ? 's' : ''}, the two sides back to back in alternating order), hopwise from dist/.`,
    'The ratio is the fleet sharing one `RedisCookieStore` namespace over the same fleet with an in-memory jar per worker (the median of the reps). CPU per call: the workers\' and redis-server\'s.',
    '',
    '| workload | in-memory jars (calls/s) | shared Redis store (calls/s) | ratio (range) | CPU µs per call, in-memory / shared | Redis round trips per hop | cache rebuilds per hop |',
    '| --- | --: | --: | --: | --: | --: | --: |',
    `| /cookie-chain/3 (every hop sets a cookie) | ${Math.round(r.memory)} | ${Math.round(r.redis)} | ${f(r.ratio)}× (${range(r.ratioRange)}) | ${Math.round(r.cpu.memory)} / ${Math.round(r.cpu.redis)} | ${f(r.roundTripsPerHop)} | ${f(r.reloadsPerHop)} |`,
    `| /redirect/3, logged in (nothing changes) | ${Math.round(r.memoryRead)} | ${Math.round(r.redisRead)} | ${f(r.readRatio)}× (${range(r.readRatioRange)}) | ${Math.round(r.cpu.memoryRead)} / ${Math.round(r.cpu.redisRead)} | ${f(r.readRoundTripsPerHop)} | ${f(r.readReloadsPerHop)} |`,
    '',
    `Cache refreshes with only what changed, per hop on /cookie-chain/3: ${f(r.refreshesPerHop)} (the other workers' writes, fetched in the version check's round trip).`,
    `Write conflicts retried per hop on /cookie-chain/3: ${f(r.conflictsPerHop)} (four workers write the same three cookies all the time).`,
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runRedisBench({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(`[bench] ${s}\n`) });
  process.stdout.write(renderRedis(r));
  if (r.errors?.length) {
    process.stderr.write(`${r.errors.join('\n')}\n`);
    process.exitCode = 1;
  }
}

