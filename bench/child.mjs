// One client × one workload × one rep, in its own process (so one client's JIT state, heap and
// sockets never colour another's). Sends one `result` message to the parent and exits.
//
// argv[2]: JSON { clientFile, workload, base, context, warmup, count }. Server counters come via the parent.
import { pathToFileURL } from 'node:url';
import { WORKLOADS, askStats } from './lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const w = WORKLOADS[cfg.workload];

function send(msg) {
  return new Promise((resolve) => process.send({ type: 'result', ...msg }, resolve));
}

function describe(err) {
  const code = err?.code ? `${err.code}: ` : '';
  return `${code}${err?.message ?? String(err)}`.replace(/\s+/g, ' ').slice(0, 200);
}

let adapter;
try {
  adapter = (await import(pathToFileURL(cfg.clientFile).href)).default;
  if (!cfg.base) throw new Error('the bench server has no port for this workload');
  await adapter.setup(cfg.base, cfg.context ?? { workload: cfg.workload });
} catch (err) {
  await send({ unavailable: `setup failed: ${describe(err)}` });
  process.exit(0);
}

let failures = 0;
let thrown = 0;
const samples = [];
let i = 0;

async function call(timed) {
  const n = i++;
  try {
    const r = await adapter.run({ id: w.id, url: w.url(cfg.base, n) });
    if (!w.check(r, n)) {
      failures++;
      if (samples.length < 3) samples.push(`wrong answer: status ${r?.status}, body ${JSON.stringify(r?.body)?.slice(0, 120)}`);
    }
  } catch (err) {
    failures++;
    thrown++;
    if (samples.length < 3) samples.push(`threw ${describe(err)}`);
    // An optional client (hopwise while it is being written) that cannot do even its first call is
    // "unavailable", not a wrong answer.
    if (!timed && n === 0 && adapter.optional) throw err;
  }
}

try {
  // Warm-up: JIT, connection pool, jar state. Not timed, connections not counted.
  for (let k = 0; k < cfg.warmup; k++) {
    await call(false);
    if (thrown >= 20 && thrown === i) throw new Error(`every call threw; first: ${samples[0]}`);
  }
} catch (err) {
  if (adapter.optional) {
    await send({ unavailable: `first request failed: ${describe(err)}` });
  } else {
    await send({ error: describe(err), failures, samples });
  }
  process.exit(0);
}

// No forced gc() here: a forced full GC can flush compiled code and feedback, and the next calls
// pay to rebuild it (measured). GC during the loop is part of what a client costs.
const before = await askStats();
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let k = 0; k < cfg.count; k++) await call(true);
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(cpu0);
const after = await askStats();

try {
  await adapter.teardown();
} catch {
  // A teardown problem is not a measurement problem; the process exits anyway.
}

await send({
  calls: cfg.count,
  wallNs: Number(t1 - t0),
  cpuUserUs: cpu.user,
  cpuSystemUs: cpu.system,
  newConnections: after.connections - before.connections,
  serverRequests: after.requests - before.requests,
  failures,
  samples,
});
process.exit(0);
