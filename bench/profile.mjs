// Where does hopwise's time go? Runs hopwise (built dist, defaults) on /ok and /redirect/3 in a child
// under `node --cpu-prof`, then prints the top self-time functions of the timed loop (the warm-up's
// samples are cut out by timestamp) and a split by area: hopwise's own code, undici, Node internals,
// GC. The raw .cpuprofile files stay in bench/.tmp/profiles/ for Chrome DevTools / speedscope.
//
//   node bench/profile.mjs [--quick] [--top=N] [--workload=ok|redirect3|cookie3]
//   npm run bench -- --profile        (after the bench, same thing)
import { fork } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BENCH_DIR, DIST_INDEX, WORKLOADS, startServer } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const PROFILE_DIR = path.join(BENCH_DIR, '.tmp', 'profiles');

// ---- child: warm up, then the profiled loop; report the loop's window on the monotonic clock ----
async function child(base, wid, warmup, count) {
  const adapter = (await import(pathToFileURL(path.join(BENCH_DIR, 'clients', 'hopwise.mjs')).href)).default;
  await adapter.setup(base);
  const w = WORKLOADS[wid];
  let failures = 0;
  let i = 0;
  const call = async () => {
    const n = i++;
    const r = await adapter.run({ id: wid, url: w.url(base, n) });
    if (!w.check(r, n)) failures++;
  };
  for (let k = 0; k < warmup; k++) await call();
  // V8's profile timestamps and process.hrtime are both CLOCK_MONOTONIC (µs vs ns).
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const c0 = process.cpuUsage();
  for (let k = 0; k < count; k++) await call();
  const cpu = process.cpuUsage(c0);
  const endUs = Number(process.hrtime.bigint() / 1000n);
  await adapter.teardown();
  return { startUs, endUs, calls: count, cpuUs: cpu.user + cpu.system, failures };
}

if (process.argv[2] === '--child') {
  const [, , , base, wid, warmup, count] = process.argv;
  let result;
  try {
    result = await child(base, wid, Number(warmup), Number(count));
  } catch (err) {
    result = { error: String(err?.stack ?? err).slice(0, 500) };
  }
  // Exit normally so --cpu-prof writes its file.
  process.send({ type: 'result', ...result }, () => process.disconnect());
}

// ---- analysis ----
function shortLocation(url, line) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + '/node_modules/'.length);
  else if (u.includes('/dist/')) u = `dist/${u.slice(u.lastIndexOf('/dist/') + 6)}`;
  else if (u.startsWith(BENCH_DIR)) u = `bench/${path.relative(BENCH_DIR, u)}`;
  return `${u}:${line + 1}`;
}

function areaOf(url, fn) {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)' || fn === '(root)') return 'V8 (program: compiler, runtime, unattributed)';
  // Native functions without a script: socket writes (writeLatin1String/writev, whose kernel time on
  // loopback includes delivering the bytes to the server), URL and JSON parsing, microtask running.
  if (!url) return 'native (socket writes, URL/JSON parsing, microtasks)';
  if (url.startsWith('wasm://')) return 'undici';
  if (url.includes('/node_modules/undici/')) return 'undici'; // (its llhttp parser is the wasm above)
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.includes('/dist/')) return 'hopwise (dist)';
  if (url.startsWith('node:')) return 'Node internals';
  if (url.includes('/bench/')) return 'bench harness';
  return 'other';
}

export function analyse(profile, window, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const self = new Map(); // node id → µs
  let t = profile.startTime;
  let inWindow = 0;
  const { samples, timeDeltas } = profile;
  for (let k = 0; k < samples.length; k++) {
    t += timeDeltas[k];
    const dur = k + 1 < timeDeltas.length ? timeDeltas[k + 1] : 0;
    if (window && (t < window.startUs || t > window.endUs)) continue;
    inWindow++;
    self.set(samples[k], (self.get(samples[k]) ?? 0) + dur);
  }
  const windowed = window && inWindow > 0;
  if (window && inWindow === 0) return analyse(profile, null, top); // clocks disagree: use every sample
  const fns = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const fn = cf.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    // A native function (socket write, JSON.parse) says little alone: name its JS caller too.
    let key = `${fn}  ${shortLocation(cf.url, cf.lineNumber)}`;
    const parent = parentOf.get(id);
    if (!cf.url && !fn.startsWith('(') && parent) {
      key = `${fn} ← ${parent.callFrame.functionName || '(anonymous)'}  ${shortLocation(parent.callFrame.url, parent.callFrame.lineNumber)}`;
    }
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(cf.url, fn);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { windowed, total, idle, fns: sorted(fns).slice(0, top), areas: sorted(areas) };
}

function render(wid, res, a) {
  const L = [];
  const pct = (us) => `${((us / a.total) * 100).toFixed(1)} %`;
  L.push(`### hopwise on \`${WORKLOADS[wid].label}\``, '');
  L.push(
    `${res.calls.toLocaleString('en-US')} calls profiled${a.windowed ? ' (warm-up excluded)' : ' (whole process: the warm-up window could not be isolated)'}; ` +
      `${(res.cpuUs / res.calls).toFixed(1)} µs CPU per call under the profiler (the profiler itself adds cost); ` +
      `busy ${(a.total / 1000).toFixed(0)} ms, idle (waiting for the server) ${(a.idle / 1000).toFixed(0)} ms.${res.failures ? ` **${res.failures} wrong answers.**` : ''}`,
    '',
  );
  L.push('| area | self time | share of busy time |', '| --- | --- | --- |');
  for (const [area, us] of a.areas) L.push(`| ${area} | ${(us / 1000).toFixed(1)} ms | ${pct(us)} |`);
  L.push('', '| # | function (location) | self time | share |', '| --- | --- | --- | --- |');
  a.fns.forEach(([key, us], k) => L.push(`| ${k + 1} | \`${key.replace(/\|/g, '\\|')}\` | ${(us / 1000).toFixed(1)} ms | ${pct(us)} |`));
  L.push('');
  return L.join('\n');
}

function profileChild(base, wid, warmup, count) {
  return new Promise((resolve) => {
    let result = null;
    const name = `hopwise-${wid}.cpuprofile`;
    const c = fork(SELF, ['--child', base, wid, String(warmup), String(count)], {
      execArgv: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), 300_000);
    c.on('message', (m) => m?.type === 'result' && (result = m));
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ...(result ?? { error: `profile child exited (${code}) without a result` }), file: path.join(PROFILE_DIR, name) });
    });
  });
}

export async function runProfile({ quick = false, top = 25, workloads = ['ok', 'redirect3'], write = true } = {}) {
  if (!existsSync(DIST_INDEX)) {
    console.log(`hopwise profile: unavailable (${DIST_INDEX} not built; run npm run build in the repo root)`);
    return null;
  }
  await mkdir(PROFILE_DIR, { recursive: true });
  for (const f of await readdir(PROFILE_DIR)) if (f.endsWith('.cpuprofile')) await rm(path.join(PROFILE_DIR, f));
  const server = await startServer();
  const parts = [
    '# Where hopwise spends its CPU',
    '',
    `Node ${process.version}, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}. \`node --cpu-prof\` on hopwise (built \`dist/\`, default options, trace on). ` +
      "Self time = samples in the function's own code, not its callees; idle (the client waiting for the server) is left out of the shares. " +
      'A native function is shown with its JS caller (`native ← caller`).',
    '',
  ];
  try {
    for (const wid of workloads) {
      const ex = WORKLOADS[wid].exchanges;
      const warmup = Math.ceil((quick ? 1000 : 5000) / ex);
      const count = Math.ceil((quick ? 4000 : 20000) / ex);
      process.stderr.write(`[profile] hopwise ${WORKLOADS[wid].label}: ${warmup} warm-up + ${count} profiled calls\n`);
      const res = await profileChild(server.base, wid, warmup, count);
      if (res.error) {
        parts.push(`### hopwise on \`${WORKLOADS[wid].label}\``, '', `Error: ${res.error}`, '');
        continue;
      }
      const profile = JSON.parse(await readFile(res.file, 'utf8'));
      parts.push(render(wid, res, analyse(profile, { startUs: res.startUs, endUs: res.endUs }, top)), `Raw profile: \`bench/.tmp/profiles/${path.basename(res.file)}\` (open in Chrome DevTools → Performance, or speedscope).`, '');
    }
  } finally {
    await server.stop();
  }
  const md = parts.join('\n');
  process.stdout.write(`${md}\n`);
  if (write) await writeFile(path.join(BENCH_DIR, 'PROFILE.md'), md);
  return md;
}

if (process.argv[1] === SELF && process.argv[2] !== '--child') {
  const arg = (n) => process.argv.find((x) => x.startsWith(`--${n}=`))?.slice(n.length + 3);
  await runProfile({
    quick: process.argv.includes('--quick'),
    top: Number(arg('top') ?? 25),
    workloads: arg('workload') ? arg('workload').split(',') : undefined,
  });
}
