// The benchmark: hopwise against its peers, side by side, as ratios to the raw-undici floor measured
// in the same run. `npm run bench` (full, < 10 min) or `npm run bench -- --quick` (< 1 min).
//
// Options:
//   --quick            2 reps of 300 calls, short warm-up, 5,000 steady-state chains (CI smoke run)
//   --reps=N --count=N --warmup=N   override reps / calls per rep / warm-up HTTP exchanges
//   --steady=N         chains for the steady-state run
//   --only=a,b         only clients whose name contains one of these (floors are always kept)
//   --no-jar --no-steady --no-startup --no-redis   skip those sections (redis: four workers sharing a
//                      RedisCookieStore; skipped with a line when redis-server is not installed)
//   --startup-reps=N   fresh processes per startup case (default 7, quick 3; see startup.mjs)
//   --profile          after the run, profile hopwise on /ok and /redirect/3 (see profile.mjs)
//   --out=FILE         where to write the Markdown (default bench/RESULTS.md)
//
// Exit code: 1 when the harness breaks or any client gives a wrong answer; never for a missed target.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { BENCH_DIR, WORKLOADS, startServer, loadClients, runChild, median, minMax, DIST_INDEX, workloadTarget } from './lib.mjs';
import { runJarBench } from './jar.mjs';
import { runSteady } from './steady.mjs';
import { runStartup, renderStartup } from './startup.mjs';
import { runRedisBench, renderRedis } from './redis.mjs';
import { renderReport } from './report.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : undefined;
};

const quick = flag('quick');
const config = {
  quick,
  // Quick is CI's smoke run (< 60 s on a loaded 2-core box): 2 reps; its ratios are indicative only.
  reps: Number(opt('reps') ?? (quick ? 2 : 5)),
  count: Number(opt('count') ?? (quick ? 300 : 2000)),
  // Warm-up in HTTP exchanges (a 3-hop chain is 4), not calls: V8 needs a few thousand runs of a
  // client's code before its cost per call settles (measured here: undici fetch takes ~5,000
  // exchanges; before that a call can cost 3-5x its settled price). Quick runs trade accuracy for time.
  warmup: Number(opt('warmup') ?? (quick ? 300 : 5000)),
  steadyChains: Number(opt('steady') ?? (quick ? 5000 : 100_000)),
};
const only = opt('only')?.split(',').filter(Boolean);
const out = path.resolve(opt('out') ?? path.join(BENCH_DIR, 'RESULTS.md'));
const log = (s) => process.stderr.write(`[bench] ${s}\n`);
const started = Date.now();
const loadAtStart = os.loadavg();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

let harnessErrors = [];
let server;
try {
  server = await startServer();
  log(`server on ${server.base}; ${quick ? 'quick' : 'full'} run: ${config.reps} reps × ${config.count} calls (warm-up ${config.warmup} exchanges)`);

  let clients = await loadClients();
  if (only) clients = clients.filter((c) => c.floorFor.length || only.some((o) => c.name.includes(o)));
  if (!existsSync(DIST_INDEX)) log(`hopwise: ${DIST_INDEX} not found; it will be reported as unavailable`);

  // One cell per client × workload it runs. Reps are interleaved across all cells (A B C A B C ...),
  // so a burst of load from the other engineers' tests is spread over every client, not one.
  const cells = [];
  for (const wid of Object.keys(WORKLOADS)) {
    // The HTTP/2 port needs a certificate from openssl: without it that workload is left out (said once), not a failure.
    if (WORKLOADS[wid].h2 && !server.h2base) {
      log(`${WORKLOADS[wid].label}: not run (the bench server has no HTTP/2 port: is openssl installed?)`);
      continue;
    }
    for (const c of clients) if (c.workloads.includes(wid)) cells.push({ client: c, workload: wid, reps: [], errors: [], samples: [] });
  }
  const unavailable = new Map();
  for (let r = 0; r < config.reps; r++) {
    for (const cell of cells) {
      if (unavailable.has(cell.client.name)) continue;
      const res = await runChild(
        path.join(BENCH_DIR, 'child.mjs'),
        [JSON.stringify({ clientFile: cell.client.file, workload: cell.workload, ...workloadTarget(server, cell.workload), warmup: Math.ceil(config.warmup / WORKLOADS[cell.workload].exchanges), count: config.count })],
        { timeoutMs: quick ? 30_000 : 120_000, statsUrl: server.statsUrl },
      );
      if (res.unavailable) {
        if (!cell.client.optional) harnessErrors.push(`${cell.client.name}: ${res.unavailable}`);
        unavailable.set(cell.client.name, res.unavailable);
        log(`${cell.client.name}: unavailable (${res.unavailable})`);
        continue;
      }
      if (res.error) {
        cell.errors.push(res.error);
        harnessErrors.push(`${cell.client.name} ${WORKLOADS[cell.workload].label}: ${res.error}`);
        log(`${cell.client.name} ${WORKLOADS[cell.workload].label}: ERROR ${res.error}`);
        continue;
      }
      const cpuUs = res.cpuUserUs + res.cpuSystemUs;
      cell.reps.push({
        cpuPerCall: cpuUs / res.calls,
        callsPerSec: res.calls / (res.wallNs / 1e9),
        connsPerCall: res.newConnections / res.calls,
        exchangesSeen: res.serverRequests / res.calls,
        failures: res.failures,
      });
      for (const s of res.samples) if (cell.samples.length < 3) cell.samples.push(s);
      if (res.failures) log(`${cell.client.name} ${WORKLOADS[cell.workload].label}: ${res.failures} FAILURES, e.g. ${res.samples[0]}`);
    }
    log(`rep ${r + 1}/${config.reps} done (${elapsed()})`);
  }

  const summarize = (xs) => ({ median: median(xs), range: minMax(xs) });
  for (const cell of cells) {
    const reps = cell.reps;
    cell.summary = {
      cpuPerCall: summarize(reps.map((x) => x.cpuPerCall)),
      callsPerSec: summarize(reps.map((x) => x.callsPerSec)),
      connsPerCall: summarize(reps.map((x) => x.connsPerCall)),
      exchanges: median(reps.map((x) => x.exchangesSeen)),
      failures: reps.reduce((a, x) => a + x.failures, 0),
    };
  }

  let jar = null;
  if (!flag('no-jar')) {
    jar = await runJarBench({ quick, log });
    for (const [impl, o] of Object.entries(jar)) {
      for (const e of o.errors) harnessErrors.push(`jar ${impl}: ${e}`);
    }
    log(`jar done (${elapsed()})`);
  }

  let steady = null;
  if (!flag('no-steady')) {
    steady = unavailable.has('hopwise')
      ? { unavailable: unavailable.get('hopwise') }
      : await runSteady({ quick, chains: config.steadyChains, base: server.base, log });
    if (steady.error) harnessErrors.push(`steady state: ${steady.error}`);
    log(`steady state done (${elapsed()})`);
  }

  let startup = null;
  if (!flag('no-startup')) {
    try {
      startup = await runStartup({ reps: Number(opt('startup-reps') ?? (quick ? 3 : 7)), log });
    } catch (err) {
      harnessErrors.push(`startup: ${err?.message ?? err}`);
    }
    log(`startup done (${elapsed()})`);
  }

  let redisBench = null;
  if (!flag('no-redis')) {
    try {
      redisBench = await runRedisBench({ quick, log });
      if (redisBench.skipped) log(`redis: skipped (${redisBench.skipped})`);
      for (const e of redisBench.errors ?? []) harnessErrors.push(`redis ${e}`);
    } catch (err) {
      harnessErrors.push(`redis: ${err?.message ?? err}`);
    }
    log(`redis done (${elapsed()})`);
  }

  let md = await renderReport({ loadAtStart, config, cells, clients, unavailable, jar, steady, harnessErrors, seconds: (Date.now() - started) / 1000 });
  if (startup) md += `\n## ${renderStartup(startup)}`;
  if (redisBench) md += `\n${renderRedis(redisBench)}`;
  await writeFile(out, md);
  process.stdout.write(md);
  log(`wrote ${path.relative(process.cwd(), out) || out} in ${elapsed()}`);

  const failures =
    cells.reduce((a, c) => a + c.summary.failures, 0) +
    (steady?.failures ?? 0) +
    (jar ? Object.values(jar).reduce((a, o) => a + o.wrong.length, 0) : 0);
  if (failures) log(`${failures} wrong answers: see the failures column`);
  if (harnessErrors.length) log(`harness errors:\n  ${harnessErrors.join('\n  ')}`);
  process.exitCode = failures || harnessErrors.length ? 1 : 0;
} catch (err) {
  log(`harness broke: ${err?.stack ?? err}`);
  process.exitCode = 2;
} finally {
  await server?.stop();
}

if (flag('profile') && process.exitCode === 0) {
  const { runProfile } = await import('./profile.mjs');
  await runProfile({ quick });
}
