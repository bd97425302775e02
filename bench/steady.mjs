// Steady state: many /redirect/3 chains on ONE hopwise session. The heap after (full gc) must be
// about the heap before (±10 %), and the session must keep no hops: a WeakRef to the `hops` of every
// sampled response must be dead once the caller has dropped the responses.
//
// Runs as a child with --expose-gc. Standalone: `node bench/steady.mjs [--quick]` (starts its own server).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { DIST_INDEX, WORKLOADS, runChild, startServer, gcNow, tick } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);

async function heapAfterGc() {
  // Several rounds: undici frees sockets' buffers and timers on later ticks.
  for (let k = 0; k < 3; k++) {
    await tick();
    gcNow();
  }
  return process.memoryUsage().heapUsed;
}

async function child(base, chains) {
  let Session;
  try {
    ({ Session } = await import(pathToFileURL(DIST_INDEX).href));
    if (typeof Session !== 'function') throw new Error('dist/index.js exports no Session');
  } catch (err) {
    return { unavailable: `cannot load hopwise: ${err?.message ?? err}` };
  }
  let session;
  try {
    session = new Session();
    await (await session.fetch(base + '/ok')).json();
  } catch (err) {
    return { unavailable: `first request failed: ${err?.message ?? err}`.slice(0, 200) };
  }
  const w = WORKLOADS.redirect3;
  const url = w.url(base);
  let failures = 0;
  const samples = [];
  const hopCounts = new Map();

  let calls = 0;
  async function one(refs) {
    calls++;
    try {
      const res = await session.fetch(url);
      const body = await res.json();
      if (!w.check({ status: res.status, body })) {
        failures++;
        if (samples.length < 3) samples.push(`wrong answer: ${res.status} ${JSON.stringify(body).slice(0, 100)}`);
      }
      const hops = res.hops;
      const n = Array.isArray(hops) ? hops.length : -1;
      hopCounts.set(n, (hopCounts.get(n) ?? 0) + 1);
      if (refs && hops && typeof hops === 'object') {
        refs.push(new WeakRef(hops));
        if (hops[0] && typeof hops[0] === 'object') refs.push(new WeakRef(hops[0]));
      }
    } catch (err) {
      failures++;
      if (samples.length < 3) samples.push(`threw ${err?.code ?? ''} ${err?.message ?? err}`.slice(0, 200));
      // A session that cannot do any chain at all: stop rather than spin for minutes.
      if (failures >= 100 && failures === calls) throw err;
    }
  }

  // Long enough that JIT feedback, pools and lazily built tables are in place before "before".
  const warmup = Math.min(2000, Math.max(1000, chains / 20));
  for (let k = 0; k < warmup; k++) await one(null);
  const before = await heapAfterGc();

  const refs = [];
  const series = [before];
  const every = Math.max(1, Math.floor(chains / 10));
  const sampleEvery = Math.max(1, Math.floor(chains / 200));
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let k = 1; k <= chains; k++) {
    await one(k % sampleEvery === 0 ? refs : null);
    if (k % every === 0 && k < chains) series.push(await heapAfterGc());
  }
  const cpu = process.cpuUsage(c0);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const after = await heapAfterGc();
  series.push(after);
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  await session.close?.();
  return {
    chains,
    warmup,
    before,
    after,
    series,
    sampledHopObjects: refs.length,
    hopObjectsAlive: alive,
    hopCounts: Object.fromEntries(hopCounts),
    failures,
    samples,
    wallNs,
    cpuUs: cpu.user + cpu.system,
  };
}

if (process.argv[2] === '--child') {
  let result;
  try {
    result = await child(process.argv[3], Number(process.argv[4]));
  } catch (err) {
    result = { error: String(err?.stack ?? err).slice(0, 500) };
  }
  process.send({ type: 'result', ...result }, () => process.exit(0));
}

export async function runSteady({ quick = false, chains = quick ? 5000 : 100_000, base, log = () => {} } = {}) {
  if (!existsSync(DIST_INDEX)) return { unavailable: 'dist/index.js not built (run npm run build in the repo root)' };
  log(`steady state: ${chains} chains of /redirect/3 on one hopwise session`);
  // Generous timeout: a slow build should show up as a slow number, not as a harness error.
  return runChild(SELF, ['--child', base, String(chains)], { execArgv: ['--expose-gc'], timeoutMs: quick ? 60_000 : 480_000 });
}

if (process.argv[1] === SELF && process.argv[2] !== '--child') {
  const server = await startServer();
  try {
    const res = await runSteady({ quick: process.argv.includes('--quick'), base: server.base, log: (s) => console.error(s) });
    console.log(JSON.stringify(res, null, 2));
  } finally {
    await server.stop();
  }
}
