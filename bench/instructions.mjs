// Instructions per call, counted by valgrind (callgrind): a figure that does not move with the load
// of a shared machine, for A/B decisions that the CPU-time bench cannot resolve on 2 busy cores.
//
//   node bench/instructions.mjs [--clients=hopwise,undici.request] [--workloads=ok,redirect3] [--n=400,1200]
//
// Each client × workload runs twice under valgrind in a fresh process, with `warm-up + n1` and
// `warm-up + n2` calls; the difference divided by n2 − n1 is the cost of one settled call (start-up,
// module loading, the JIT's first compiles and the warm-up cancel out). The server runs outside
// valgrind (bench/server.mjs). Slow (valgrind runs node ~50× slower): a minute or two per row.
// HOPWISE_DIST works as in the bench (compare two builds).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, WORKLOADS, startServer, loadClients, workloadTarget } from './lib.mjs';

if (process.argv[2] === '--child') {
  const { clientFile, workload, base, context, warmup, count } = JSON.parse(process.argv[3]);
  const w = WORKLOADS[workload];
  const adapter = (await import(pathToFileURL(clientFile).href)).default;
  await adapter.setup(base, context);
  let bad = 0;
  for (let i = 0; i < warmup + count; i++) {
    const r = await adapter.run({ id: w.id, url: w.url(base, i) });
    if (!w.check(r, i)) bad++;
  }
  await adapter.teardown();
  if (bad) console.error(`${bad} wrong answers`);
  process.exit(bad ? 1 : 0);
}

const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const wanted = opt('clients', 'hopwise,undici.request').split(',');
const workloads = opt('workloads', 'ok').split(',');
const [n1, n2] = opt('n', '400,1200').split(',').map(Number);
const warmup = Number(opt('warmup', '600'));

function counted(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all', process.execPath, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`exit ${code}: ${err.slice(-600)}`));
      resolve(Number(m[1]));
    });
  });
}

const server = await startServer();
try {
  const clients = (await loadClients()).filter((c) => wanted.some((w) => c.name === w));
  for (const wid of workloads) {
    for (const c of clients) {
      if (!c.workloads.includes(wid)) continue;
      const run = (count) => counted([path.join(BENCH_DIR, 'instructions.mjs'), '--child', JSON.stringify({ clientFile: c.file, workload: wid, ...workloadTarget(server, wid), warmup, count })]);
      const a = await run(n1);
      const b = await run(n2);
      console.log(`${WORKLOADS[wid].label}\t${c.name}\t${Math.round((b - a) / (n2 - n1))} instructions/call`);
    }
  }
} finally {
  await server.stop();
}
