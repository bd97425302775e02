// The cookie jar alone: hopwise CookieJar vs tough-cookie (its sync API), 10,000 cookies over 1,000
// domains. Operations: insert, replace, lookup of a host with 10 matching cookies, lookup of a host
// with none; and the heap each jar holds for the 10,000 cookies.
//
// Every measurement runs in a child process (one per jar per rep, reps interleaved), so neither jar
// runs on a heap or JIT warmed by the other. Standalone: `node bench/jar.mjs [--quick]`.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { DIST_INDEX, runChild, median, minMax, gcNow, tick } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const DOMAINS = 1000;
const PER_DOMAIN = 10;

// A realistic mix: half the cookies on Path=/ and half on Path=/app, some HttpOnly, some with
// Max-Age, some SameSite, one Domain cookie per host. All 10 of a host match http://dI.example.com/app/page.
function line(i, j, gen) {
  let s = `k${j}=value${gen}_${i}_${j}; Path=${j < 5 ? '/' : '/app'}`;
  if (j % 3 === 0) s += '; HttpOnly';
  else if (j % 3 === 1) s += '; Max-Age=86400';
  else s += '; SameSite=Lax';
  if (j === 9) s += `; Domain=d${i}.example.com`;
  return s;
}
const setUrl = (i) => `http://d${i}.example.com/app/`;
const hitUrl = (i) => `http://d${i}.example.com/app/page`;
const missUrl = (i) => `http://n${i}.example.org/app/page`;

async function makeJar(impl) {
  if (impl === 'tough-cookie') {
    const { CookieJar } = await import('tough-cookie');
    const jar = new CookieJar();
    return { set: (l, u) => jar.setCookieSync(l, u), get: (u) => jar.getCookieStringSync(u), jar };
  }
  const mod = await import(pathToFileURL(DIST_INDEX).href);
  if (typeof mod.CookieJar !== 'function') throw new Error('dist/index.js exports no CookieJar');
  const jar = new mod.CookieJar();
  return { set: (l, u) => jar.setCookie(l, u), get: (u) => jar.getCookieString(u), jar };
}

function fill(j, gen) {
  for (let i = 0; i < DOMAINS; i++) {
    const u = setUrl(i);
    for (let k = 0; k < PER_DOMAIN; k++) j.set(line(i, k, gen), u);
  }
}

/** CPU µs for `fn`, which performs `ops` operations → ops per CPU-second. */
function opsPerSec(ops, fn) {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (ops * 1e6) / Math.max(1, c.user + c.system);
}

async function childOps(impl) {
  // Same sizes in --quick (a jar run takes milliseconds; short runs mostly measure the JIT): quick
  // only runs fewer reps.
  const lookups = 100_000;
  const fills = 4;
  // Warm-up on a throwaway jar so the first timed insert is not the JIT's first look at the code.
  // It replaces too (a second fill), for both jars alike: otherwise the replace path is compiled for
  // the first time inside the timed replace window and that measures the JIT, not the jar.
  const warm = await makeJar(impl);
  fill(warm, 0);
  fill(warm, 1);
  for (let n = 0; n < 5000; n++) warm.get(hitUrl(n % DOMAINS));
  for (let n = 0; n < 5000; n++) warm.get(missUrl(n % DOMAINS));

  let jars = [];
  for (let f = 0; f < fills; f++) jars.push(await makeJar(impl));
  const insert = opsPerSec(DOMAINS * PER_DOMAIN * fills, () => {
    for (const j of jars) fill(j, 1);
  });
  const j = jars[0];
  jars = null;
  const replace = opsPerSec(DOMAINS * PER_DOMAIN * fills, () => {
    for (let f = 0; f < fills; f++) fill(j, 2 + f);
  });

  // Correctness, outside the timing: 10 cookies (this generation's) on a hit, none on a miss.
  const hit = j.get(hitUrl(123));
  const gen = 1 + fills;
  const parts = hit ? hit.split('; ') : [];
  const wrong = [];
  if (parts.length !== PER_DOMAIN || !parts.every((p) => p.includes(`value${gen}_123_`))) wrong.push(`hit lookup returned ${JSON.stringify(hit).slice(0, 200)}`);
  const miss = j.get(missUrl(123));
  if (miss !== '') wrong.push(`miss lookup returned ${JSON.stringify(miss).slice(0, 200)}`);

  // No forced gc() between the timed sections: it can throw away compiled code (measured on the
  // HTTP bench), and a jar's own garbage is part of its cost.
  let sink = 0;
  const lookup10 = opsPerSec(lookups, () => {
    for (let n = 0; n < lookups; n++) sink += j.get(hitUrl((n * 7) % DOMAINS)).length;
  });
  const lookup0 = opsPerSec(lookups, () => {
    for (let n = 0; n < lookups; n++) sink += j.get(missUrl((n * 7) % DOMAINS)).length;
  });
  return { insert, replace, lookup10, lookup0, wrong, sink };
}

async function childMem(impl) {
  // Load the module and make (then drop) one cookie first so code and lazy tables are not counted.
  const warm = await makeJar(impl);
  warm.set(line(0, 0, 0), setUrl(0));
  await tick();
  gcNow();
  const h0 = process.memoryUsage().heapUsed;
  let j = await makeJar(impl);
  fill(j, 1); // the lines are built and dropped inside: what stays is what the jar keeps
  await tick();
  gcNow();
  const h1 = process.memoryUsage().heapUsed;
  const check = j.get(hitUrl(5)).split('; ').length;
  j = null;
  return { bytes: h1 - h0, check };
}

if (process.argv[2] === '--child') {
  const [, , , mode, impl] = process.argv;
  let result;
  try {
    result = mode === 'ops' ? await childOps(impl) : await childMem(impl);
  } catch (err) {
    result = impl === 'hopwise' ? { unavailable: String(err?.message ?? err).slice(0, 200) } : { error: String(err?.stack ?? err) };
  }
  process.send({ type: 'result', ...result }, () => process.exit(0));
}

export const JAR_IMPLS = ['tough-cookie', 'hopwise'];

/** Run the jar bench; returns { impls: { name: { ops: {...: [..reps]}, mem: [..], unavailable?, wrong: [] } } }. */
export async function runJarBench({ quick = false, reps = quick ? 2 : 5, log = () => {} } = {}) {
  const out = {};
  for (const impl of JAR_IMPLS) out[impl] = { ops: { insert: [], replace: [], lookup10: [], lookup0: [] }, mem: [], wrong: [], errors: [] };
  if (!existsSync(DIST_INDEX)) out.hopwise.unavailable = 'dist/index.js not built (run npm run build in the repo root)';
  const live = () => JAR_IMPLS.filter((i) => !out[i].unavailable);
  for (let r = 0; r < reps; r++) {
    for (const impl of live()) {
      const res = await runChild(SELF, ['--child', 'ops', impl], { execArgv: ['--expose-gc'], timeoutMs: 120_000 });
      if (res.unavailable) out[impl].unavailable = res.unavailable;
      else if (res.error) out[impl].errors.push(res.error);
      else {
        for (const k of Object.keys(out[impl].ops)) out[impl].ops[k].push(res[k]);
        out[impl].wrong.push(...res.wrong);
      }
    }
    log(`jar ops rep ${r + 1}/${reps}`);
  }
  const memReps = quick ? 1 : 3;
  for (let r = 0; r < memReps; r++) {
    for (const impl of live()) {
      const res = await runChild(SELF, ['--child', 'mem', impl], { execArgv: ['--expose-gc'], timeoutMs: 60_000 });
      if (res.unavailable) out[impl].unavailable = res.unavailable;
      else if (res.error) out[impl].errors.push(res.error);
      else {
        out[impl].mem.push(res.bytes);
        if (res.check !== PER_DOMAIN) out[impl].wrong.push(`memory jar lookup gave ${res.check} cookies, not ${PER_DOMAIN}`);
      }
    }
  }
  log('jar memory done');
  for (const impl of JAR_IMPLS) {
    const o = out[impl];
    o.summary = {};
    for (const [k, xs] of Object.entries(o.ops)) o.summary[k] = { median: median(xs), range: minMax(xs) };
    o.summary.mem = { median: median(o.mem), range: minMax(o.mem) };
  }
  return out;
}

// Standalone run: print the raw summary.
if (process.argv[1] === SELF && process.argv[2] !== '--child') {
  const res = await runJarBench({ quick: process.argv.includes('--quick'), log: (s) => console.error(s) });
  for (const [impl, o] of Object.entries(res)) {
    console.log(impl, o.unavailable ? `unavailable (${o.unavailable})` : JSON.stringify(o.summary), o.wrong.length ? o.wrong : '', o.errors.length ? o.errors : '');
  }
}
