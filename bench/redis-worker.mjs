// One worker of the Redis bench (redis.mjs): a hopwise Session from the built package, on a
// RedisCookieStore (mode 'redis') or its own in-memory jar (mode 'memory'). It warms up, says ready,
// waits for 'go' (all workers start together), runs `count` sequential calls, and reports its wall
// time, wrong answers and the store's round trips.
import { pathToFileURL } from 'node:url';
import { DIST_INDEX, redisEntry } from './lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const { Session } = await import(pathToFileURL(DIST_INDEX).href);
let store;
if (cfg.mode === 'redis') {
  const { RedisCookieStore } = await import(pathToFileURL(redisEntry()).href);
  store = new RedisCookieStore({ url: cfg.redisUrl, namespace: cfg.namespace });
}
const session = new Session(store ? { cookies: store } : {});

// /cookie-chain/3: c1..c3 each exactly once. With one jar per worker, all with this chain's nonce;
// with a shared jar, the other workers' chains write the same names between this chain's hops, so
// any chain's value is right (the shared session is doing its job), but never a duplicate or a gap.
function check(body, nonce) {
  if (cfg.workload === 'redirect3') return body?.ok === true;
  const seen = new Map();
  for (const part of String(body?.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const own = part.slice(eq + 1).trim() === nonce;
    seen.set(name, (seen.get(name) ?? 0) + (own || cfg.mode === 'redis' ? 1 : 100));
  }
  return [1, 2, 3].every((k) => seen.get(`c${k}`) === 1);
}

let failures = 0;
let sample;
async function call(i) {
  const nonce = `w${cfg.worker}v${i}`;
  const url = cfg.workload === 'redirect3' ? `${cfg.base}/redirect/3` : `${cfg.base}/cookie-chain/3?n=${nonce}`;
  const res = await session.fetch(url);
  const body = await res.json();
  if (res.status !== 200 || !check(body, nonce)) {
    failures++;
    sample ??= JSON.stringify(body).slice(0, 200);
  }
}

// On /redirect/3 an in-memory worker holds the login cookie the shared namespace holds (the bench
// server sets none there), so both sides send one cookie per hop.
if (!store && cfg.workload === 'redirect3') {
  const r = session.cookies?.setCookie('sid=logged-in; Path=/', `${cfg.base}/`);
  if (!r?.stored) throw new Error('the in-memory worker could not hold the login cookie');
}
for (let i = 0; i < cfg.warmup; i++) await call(-i - 1);
failures = 0;
const before = store?.stats;
process.send({ type: 'ready' });
process.once('message', async () => {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < cfg.count; i++) await call(i);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const after = store?.stats;
  const delta = (k) => (after && before ? after[k] - before[k] : 0);
  process.send({ type: 'done', wallNs, calls: cfg.count, failures, sample, cpuUs: cpu.user + cpu.system, roundTrips: delta('roundTrips'), reloads: delta('reloads'), refreshes: delta('refreshes'), conflicts: delta('conflicts') });
  await session.close();
  await store?.close();
  process.disconnect();
});
