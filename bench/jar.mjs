// The cookie jar alone: hopwise CookieJar vs tough-cookie (its sync API), 10,000 cookies over 1,000
// domains, measured through the calls the session really makes: `setCookie(line, URL)` for every
// Set-Cookie line and `evaluate(URL)` for every request (tough-cookie: `setCookieSync` /
// `getCookieStringSync` with the same URL objects). Operations: insert, replace, lookup of a host
// with 10 matching cookies, lookup of a host with none; and the memory each jar holds.
//
// Every measurement runs in a child process (one per jar per rep, reps interleaved), so neither jar
// runs on a heap or JIT warmed by the other. Standalone: `node bench/jar.mjs [--quick]`.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DIST_INDEX, DIST_DIR, runChild, median, minMax, gcNow, tick } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const DOMAINS = 1000;
const PER_DOMAIN = 10;

// A realistic mix: half the cookies on Path=/ and half on Path=/app, some HttpOnly, some with
// Max-Age, some SameSite, one Domain cookie per host. All 10 of a host match http://dI.example.com/app/page.
function line(i, j, gen, host = SET_URLS[i].hostname) {
  let s = `k${j}=value${gen}_${i}_${j}; Path=${j < 5 ? '/' : '/app'}`;
  if (j % 3 === 0) s += '; HttpOnly';
  else if (j % 3 === 1) s += '; Max-Age=86400';
  else s += '; SameSite=Lax';
  if (j === 9) s += `; Domain=${host}`;
  return s;
}
// URL objects, built once per process outside every timed or measured window: the session hands the
// jar the URL it already parsed for the request, so parsing is not the jar's cost.
const SET_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://d${i}.example.com/app/`));
const HIT_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://d${i}.example.com/app/page`));
const MISS_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://n${i}.example.org/app/page`));
// The memory runs warm up on other hosts: a table kept across jars (say, of host names) then grows
// in the measured run and stays once its jar is dropped, where the check below sees it.
const WARM_SET_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://d${i}.warm.example/app/`));
const WARM_HIT_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://d${i}.warm.example/app/page`));
const WARM_MISS_URLS = Array.from({ length: DOMAINS }, (_, i) => new URL(`http://n${i}.warm.test/app/page`));

// Wrappers as classes, not closures over the jar: optimised code may hold on to a closure it was
// specialised for, and with it the jar the memory check expects to see collected.
class ToughJar {
  constructor(jar) {
    this.jar = jar;
  }
  set(l, u) {
    return this.jar.setCookieSync(l, u);
  }
  get(u) {
    return this.jar.getCookieStringSync(u);
  }
  // tough-cookie has no trace to read: what a request needs from it is the header.
  traced(u) {
    return this.jar.getCookieStringSync(u).length;
  }
}

class HopwiseJar {
  constructor(jar) {
    this.jar = jar;
  }
  set(l, u) {
    return this.jar.setCookie(l, u);
  }
  get(u) {
    return this.jar.evaluate(u).header;
  }
  // What the session's prepare phase does with an evaluation: the header, and every verdict read
  // for the trace (sent or not, its reason, the cookie's name and value).
  traced(u) {
    const { header, verdicts } = this.jar.evaluate(u);
    let n = header.length;
    for (const v of verdicts) n += (v.sent ? 1 : 0) + v.reason.length + v.cookie.name.length + v.cookie.value.length;
    return n;
  }
}

// The memory runs load the jar's own module of the build (its `cookies/index.js`), not the package
// entry: they run without the JIT (see `runJarBench`), and the entry loads undici, whose HTTP parser
// needs WebAssembly, which `--jitless` turns off.
const JAR_ONLY = process.argv[3] === 'mem';
const HOPWISE_MODULE = JAR_ONLY ? path.join(DIST_DIR, 'cookies', 'index.js') : DIST_INDEX;

async function makeJar(impl) {
  if (impl === 'tough-cookie') {
    const { CookieJar } = await import('tough-cookie');
    return new ToughJar(new CookieJar());
  }
  const mod = await import(pathToFileURL(HOPWISE_MODULE).href);
  if (typeof mod.CookieJar !== 'function') throw new Error('dist/index.js exports no CookieJar');
  return new HopwiseJar(new mod.CookieJar());
}

function fill(j, gen, urls = SET_URLS) {
  for (let i = 0; i < DOMAINS; i++) {
    const u = urls[i];
    for (let k = 0; k < PER_DOMAIN; k++) j.set(line(i, k, gen, u.hostname), u);
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
  for (let n = 0; n < 5000; n++) warm.get(HIT_URLS[n % DOMAINS]);
  for (let n = 0; n < 5000; n++) warm.traced(HIT_URLS[n % DOMAINS]);
  for (let n = 0; n < 5000; n++) warm.get(MISS_URLS[n % DOMAINS]);

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
  const wrong = check(j, 1 + fills);

  // No forced gc() between the timed sections: it can throw away compiled code (measured on the
  // HTTP bench), and a jar's own garbage is part of its cost.
  let sink = 0;
  const lookup10 = opsPerSec(lookups, () => {
    for (let n = 0; n < lookups; n++) sink += j.get(HIT_URLS[(n * 7) % DOMAINS]).length;
  });
  const lookup10Traced = opsPerSec(lookups, () => {
    for (let n = 0; n < lookups; n++) sink += j.traced(HIT_URLS[(n * 7) % DOMAINS]);
  });
  const lookup0 = opsPerSec(lookups, () => {
    for (let n = 0; n < lookups; n++) sink += j.get(MISS_URLS[(n * 7) % DOMAINS]).length;
  });
  return { insert, replace, lookup10, lookup10Traced, lookup0, wrong, sink };
}

function check(j, gen) {
  const wrong = [];
  const hit = j.get(HIT_URLS[123]);
  const parts = hit ? hit.split('; ') : [];
  if (parts.length !== PER_DOMAIN || !parts.every((p) => p.includes(`value${gen}_123_`))) wrong.push(`hit lookup returned ${JSON.stringify(hit).slice(0, 200)}`);
  const miss = j.get(MISS_URLS[123]);
  if (miss !== '') wrong.push(`miss lookup returned ${JSON.stringify(miss).slice(0, 200)}`);
  return wrong;
}

/**
 * Heap used plus ArrayBuffer memory (typed arrays live outside the heap), after a full GC: the least
 * of a few readings, each after a turn of the event loop and a GC. A single reading now and then
 * counted ~100-200 KB that the next GC freed (a garbage collection leaves some work to later).
 */
async function memNow() {
  let least = Infinity;
  for (let k = 0; k < 4; k++) {
    await tick();
    gcNow();
    const m = process.memoryUsage();
    least = Math.min(least, m.heapUsed + m.arrayBuffers);
  }
  return least;
}

/**
 * One memory run: `inserts` cookies then 20,000 lookups (half hits, half misses) on a new jar, the
 * memory it holds then, and what is left once the jar is dropped. The "empty" run (inserts = 0) is
 * the same run on an empty jar; the parent subtracts it, which cancels the code compiled for the
 * calls and the lazily built tables of the module, so what remains is what the cookies cost.
 */
async function childMem(impl, inserts) {
  // The same warm-up in both runs, on a throwaway jar given the whole workload: the code is
  // compiled and optimised and the module's tables built before the first reading, so neither
  // reading counts the JIT's work.
  let warm = await makeJar(impl);
  fill(warm, 0, WARM_SET_URLS);
  for (let n = 0; n < 20_000; n++) warm.get((n & 1 ? WARM_MISS_URLS : WARM_HIT_URLS)[n % DOMAINS]);
  warm = null;
  const m0 = await memNow();
  let j = await makeJar(impl);
  if (inserts) fill(j, 1); // the lines are built and dropped inside: what stays is what the jar keeps
  let sink = 0;
  for (let n = 0; n < 10_000; n++) sink += j.get(HIT_URLS[n % DOMAINS]).length;
  for (let n = 0; n < 10_000; n++) sink += j.get(MISS_URLS[n % DOMAINS]).length;
  const m1 = await memNow();
  const wrong = inserts ? check(j, 1) : [];
  // Dropped: nothing of the jar may stay referenced (a process-wide table holding its strings would).
  const ref = new WeakRef(j.jar);
  j = null;
  const m2 = await memNow();
  const collected = ref.deref() === undefined;
  return { held: m1 - m0, left: m2 - m0, collected, wrong, sink };
}

if (process.argv[2] === '--child') {
  const [, , , mode, impl, arg] = process.argv;
  let result;
  try {
    result = mode === 'ops' ? await childOps(impl) : await childMem(impl, arg === 'full');
  } catch (err) {
    result = impl === 'hopwise' ? { unavailable: String(err?.message ?? err).slice(0, 200) } : { error: String(err?.stack ?? err) };
  }
  process.send({ type: 'result', ...result }, () => process.exit(0));
}

export const JAR_IMPLS = ['tough-cookie', 'hopwise'];

/**
 * Run the jar bench; returns { impls: { name: { ops: {...: [..reps]}, mem: [..], memLeft: [..],
 * unavailable?, wrong: [] } } }. `mem` is net of the empty-jar run, per rep.
 */
export async function runJarBench({ quick = false, reps = quick ? 2 : 5, ops = true, log = () => {} } = {}) {
  const out = {};
  for (const impl of JAR_IMPLS) out[impl] = { ops: { insert: [], replace: [], lookup10: [], lookup10Traced: [], lookup0: [] }, mem: [], memLeft: [], wrong: [], errors: [] };
  if (!existsSync(DIST_INDEX)) out.hopwise.unavailable = 'dist/index.js not built (run npm run build in the repo root)';
  const live = () => JAR_IMPLS.filter((i) => !out[i].unavailable);
  const take = (impl, res) => {
    if (res.unavailable) out[impl].unavailable = res.unavailable;
    else if (res.error) out[impl].errors.push(res.error);
    else return res;
    return null;
  };
  for (let r = 0; r < (ops ? reps : 0); r++) {
    for (const impl of live()) {
      const res = take(impl, await runChild(SELF, ['--child', 'ops', impl], { execArgv: ['--expose-gc'], timeoutMs: 900_000 }));
      if (!res) continue;
      for (const k of Object.keys(out[impl].ops)) out[impl].ops[k].push(res[k]);
      out[impl].wrong.push(...res.wrong);
    }
    log(`jar ops rep ${r + 1}/${reps}`);
  }
  const memReps = quick ? 1 : 3;
  for (let r = 0; r < memReps; r++) {
    for (const impl of live()) {
      // Without the JIT: optimised code is heap too, and how much of it a run leaves depends on
      // which functions were (de)optimised when, which moved the figure by ~100 KB between runs.
      // The objects a jar keeps are laid out the same in the interpreter. Bytecode is not flushed
      // either (V8 drops the bytecode of functions idle over a few GCs, to compile it again later).
      // JAR_BENCH_JIT=1 keeps the JIT (for a jar too slow to run interpreted, e.g. an old build).
      const flags = process.env.JAR_BENCH_JIT === '1' ? ['--expose-gc', '--no-flush-bytecode'] : ['--expose-gc', '--jitless', '--no-flush-bytecode'];
      const mem = (kind) => runChild(SELF, ['--child', 'mem', impl, kind], { execArgv: flags, timeoutMs: 900_000 });
      const full = take(impl, await mem('full'));
      const empty = take(impl, await mem('empty'));
      if (!full || !empty) continue;
      out[impl].mem.push(full.held - empty.held);
      // What is left once the full jar is dropped, against the reading before it existed (not net
      // of the empty run: lookups on an empty jar would grow a process-wide table just the same).
      out[impl].memLeft.push(full.left);
      out[impl].wrong.push(...full.wrong);
      if (!full.collected || !empty.collected) out[impl].wrong.push('a dropped jar was never garbage-collected');
    }
  }
  log('jar memory done');
  for (const impl of JAR_IMPLS) {
    const o = out[impl];
    o.summary = {};
    for (const [k, xs] of Object.entries(o.ops)) o.summary[k] = { median: median(xs), range: minMax(xs) };
    o.summary.mem = { median: median(o.mem), range: minMax(o.mem) };
    o.summary.memLeft = { median: median(o.memLeft), range: minMax(o.memLeft) };
  }
  return out;
}

// Standalone run: print the summary, ops/s as integers and memory in MB, with the ratios.
if (process.argv[1] === SELF && process.argv[2] !== '--child') {
  // --no-ops: memory only (for a build whose operations take minutes).
  const res = await runJarBench({ quick: process.argv.includes('--quick'), ops: !process.argv.includes('--no-ops'), log: (s) => console.error(s) });
  const mb = (b) => (b / 1048576).toFixed(3);
  const t = res['tough-cookie'];
  for (const [impl, o] of Object.entries(res)) {
    if (o.unavailable) {
      console.log(impl, `unavailable (${o.unavailable})`);
      continue;
    }
    const s = o.summary;
    const row = ['insert', 'replace', 'lookup10', 'lookup10Traced', 'lookup0'].map((k) => {
      const ratio = t.unavailable ? '' : ` (${(s[k].median / t.summary[k].median).toFixed(2)}x)`;
      return `${k} ${Math.round(s[k].median)} [${Math.round(s[k].range[0])}-${Math.round(s[k].range[1])}]${ratio}`;
    });
    const memRatio = t.unavailable ? '' : ` (${(s.mem.median / t.summary.mem.median).toFixed(2)}x)`;
    row.push(`mem ${mb(s.mem.median)} MB [${mb(s.mem.range[0])}-${mb(s.mem.range[1])}]${memRatio}`);
    row.push(`left after drop ${mb(s.memLeft.median)} MB [${mb(s.memLeft.range[0])}-${mb(s.memLeft.range[1])}]`);
    console.log(impl, row.join(' | '), o.wrong.length ? o.wrong : '', o.errors.length ? o.errors : '');
  }
}
