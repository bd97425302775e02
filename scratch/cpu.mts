import { startRedis, redisClient } from '/work/wt-redis/test/helpers/redis.ts';
import { RedisCookieStore } from '/work/wt-redis/dist/redis/index.js';
import { Session } from '/work/wt-redis/dist/index.js';
import { startServer } from '/work/wt-redis/bench/lib.mjs';
const r = await startRedis();
const srv = await startServer();
const peek = await redisClient(r.url);
const rcpu = async () => { const info = String(await peek.sendCommand(['INFO', 'cpu'])); const u = Number(/used_cpu_user:([\d.]+)/.exec(info)![1]); const s = Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]); return (u + s) * 1e6; };
for (const mode of ['memory', 'redis', 'memory', 'redis']) {
  const store = mode === 'redis' ? new RedisCookieStore({ url: r.url, namespace: 'x' + Math.random() }) : undefined;
  const s = new Session(store ? { cookies: store } : {});
  const call = async (i: number) => { const res = await s.fetch(`${srv.base}/cookie-chain/3?n=v${i}`); await res.json(); };
  for (let i = 0; i < 1000; i++) await call(i);
  const c0 = process.cpuUsage(); const r0 = await rcpu(); const t0 = performance.now();
  const N = 2000;
  for (let i = 0; i < N; i++) await call(i);
  const c = process.cpuUsage(c0); const r1 = await rcpu();
  console.log(mode, 'wall µs/chain', ((performance.now() - t0) * 1000 / N).toFixed(0), 'client cpu µs/chain', ((c.user + c.system) / N).toFixed(0), 'redis cpu µs/chain', ((r1 - r0) / N).toFixed(0), store?.stats);
  await s.close(); await store?.close();
}
peek.destroy(); await srv.stop(); await r.stop();
