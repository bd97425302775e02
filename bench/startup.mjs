// Startup: what a person waits for when they type `hopwise URL`, as ratios to a floor measured in the
// same run. `node bench/startup.mjs [--reps=N] [--quick]`, or the `startup` section of run.mjs.
//
// Each case is a fresh `node` process, run REPS times, interleaved (A B C D ... A B C D ...) so a burst
// of load from elsewhere lands on every case; the median is reported. Measured per process:
//  - cpu: user + system time of the whole process (from a preloaded one-line hook that reads
//    process.cpuUsage() at exit, so node's own bootstrap is included, as for the floor);
//  - wall: from spawn to exit, seen by this harness;
//  - tail: from the last byte on stdout to exit (what keeps the process alive after the work).
// Cases:
//  - floor: a plain script that imports undici, follows a local 3-hop chain by hand and exits (and
//    the same with --liftoff-only, the V8 flag the bin sets for itself, to show what is hopwise's own);
//  - hopwise URL / hopwise trace URL: the built bin (dist/cli/hopwise.mjs) on the same chain, and
//    trace through tsc's unbundled modules (dist/cli/main.js);
//  - import('hopwise') against import('undici'): loading the library and nothing else.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer, median, ROOT_DIR } from './lib.mjs';

// the bin as installed (the bundle, scripts/bundle-cli.mjs), and tsc's unbundled modules for comparison
const BIN = path.join(ROOT_DIR, 'dist', 'cli', 'hopwise.mjs');
const UNBUNDLED = path.join(ROOT_DIR, 'dist', 'cli', 'main.js');

const FLOOR = (url) => `
import { request } from 'undici';
let url = ${JSON.stringify(url)};
for (let i = 0; i < 10; i++) {
  const res = await request(url, { method: 'GET' });
  if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
    await res.body.dump();
    url = new URL(res.headers.location, url).href;
    continue;
  }
  process.stdout.write(await res.body.text());
  break;
}`;

/** Runs one process; resolves { cpu, wall, tail } in ms, or rejects when it fails. */
function once(args, rusageFile) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = t0;
    let out = '';
    let err = '';
    const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(path.dirname(rusageFile), 'rusage.mjs')).href, ...args], {
      cwd: ROOT_DIR,
      env: { ...process.env, NO_COLOR: '1', HOPWISE_RUSAGE: rusageFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => ((out += d), (last = performance.now())));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const end = performance.now();
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 400)}`));
      const cpu = Number(readFileSync(rusageFile, 'utf8'));
      resolve({ cpu, wall: end - t0, tail: end - last, out });
    });
  });
}

/** The startup section: returns { rows, ratios } with medians in ms. */
export async function runStartup({ reps = 7, log = () => {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-startup-'));
  writeFileSync(
    path.join(dir, 'rusage.mjs'),
    `import fs from 'node:fs';\nprocess.on('exit', () => { const u = process.cpuUsage(); fs.writeFileSync(process.env.HOPWISE_RUSAGE, String((u.user + u.system) / 1000)); });\n`,
  );
  if (!existsSync(BIN)) throw new Error(`${BIN} is not built: npm run build (or node scripts/bundle-cli.mjs after tsc)`);
  const server = await startServer();
  const url = `${server.base}/redirect/3`;
  const cases = [
    { name: 'floor: undici by hand', args: ['--input-type=module', '-e', FLOOR(url)] },
    // the same floor with the V8 flag the bin sets for itself (see src/cli/main.ts): what is left is hopwise's
    { name: 'floor, --liftoff-only', args: ['--liftoff-only', '--input-type=module', '-e', FLOOR(url)] },
    { name: 'hopwise URL', args: [BIN, url] },
    { name: 'hopwise trace URL', args: [BIN, 'trace', url] },
    { name: 'hopwise trace URL, unbundled', args: [UNBUNDLED, 'trace', url] },
    { name: "import('undici')", args: ['--input-type=module', '-e', "await import('undici')"] },
    // by its name, from the package's own directory (a self-reference): what its exports map serves
    { name: "import('hopwise')", args: ['--input-type=module', '-e', "await import('hopwise')"] },
  ];
  const samples = new Map(cases.map((c) => [c.name, []]));
  try {
    // one warm-up round (file-system cache), not counted
    for (const c of cases) await once(c.args, path.join(dir, 'u'));
    for (let r = 0; r < reps; r++) {
      for (const c of cases) samples.get(c.name).push(await once(c.args, path.join(dir, 'u')));
      log(`startup rep ${r + 1}/${reps}`);
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = cases.map((c) => {
    const s = samples.get(c.name);
    return { name: c.name, cpu: median(s.map((x) => x.cpu)), wall: median(s.map((x) => x.wall)), tail: median(s.map((x) => x.tail)) };
  });
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const ratio = (a, b) => ({ cpu: by[a].cpu / by[b].cpu, wall: by[a].wall / by[b].wall });
  const ratios = {
    'hopwise URL / floor': ratio('hopwise URL', 'floor: undici by hand'),
    'hopwise trace URL / floor': ratio('hopwise trace URL', 'floor: undici by hand'),
    'hopwise trace URL / floor, --liftoff-only': ratio('hopwise trace URL', 'floor, --liftoff-only'),
    "import('hopwise') / import('undici')": ratio("import('hopwise')", "import('undici')"),
  };
  return { reps, rows, ratios };
}

export function renderStartup({ reps, rows, ratios }) {
  const f = (n) => n.toFixed(0).padStart(6);
  const lines = [
    `Startup (median of ${reps} fresh processes each; ms)`,
    '',
    '| case | CPU | wall | last output → exit |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${f(r.cpu)} | ${f(r.wall)} | ${f(r.tail)} |`),
    '',
    '| ratio | CPU | wall | goal |',
    '|---|---:|---:|---|',
    ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${v.cpu.toFixed(2)}× | ${v.wall.toFixed(2)}× | ${k.startsWith('import') ? '≤ 1.10×' : k.includes('trace') ? '≤ 1.20×' : ''} |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const repsArg = argv.find((a) => a.startsWith('--reps='));
  const reps = repsArg ? Number(repsArg.slice(7)) : argv.includes('--quick') ? 3 : 9;
  const result = await runStartup({ reps, log: (s) => process.stderr.write(`[startup] ${s}\n`) });
  process.stdout.write(renderStartup(result));
}
