// Shared plumbing for the bench: the server process, child processes, workloads and their checks.
import { fork } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(BENCH_DIR, '..');
// The built package as npm serves it (its "." export: the bundle, dist/bundle/index.js), never src/.
// HOPWISE_DIST points the bench at another build's entry (say, a branch's dist/index.js copied
// aside) to compare two builds under the same run. DIST_DIR: tsc's output of that build (the jar's
// memory runs load its cookies/index.js alone).
export const DIST_INDEX = process.env.HOPWISE_DIST ? path.resolve(process.env.HOPWISE_DIST) : packageEntry();
export const DIST_DIR = process.env.HOPWISE_DIST ? path.dirname(DIST_INDEX) : path.join(ROOT_DIR, 'dist');

function packageEntry() {
  return packageExport('.') ?? path.join(ROOT_DIR, 'dist', 'index.js');
}

/** hopwise/redis of the build being measured: what the package serves, or beside $HOPWISE_DIST's entry. */
export function redisEntry() {
  const dir = path.dirname(DIST_INDEX);
  if (!process.env.HOPWISE_DIST) return packageExport('./redis') ?? path.join(dir, 'redis', 'index.js');
  return path.basename(dir) === 'bundle' ? path.join(dir, 'redis.js') : path.join(dir, 'redis', 'index.js');
}

/** The file the package's exports serve for `subpath` ('.', './redis', ...), if package.json says. */
export function packageExport(subpath) {
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8'));
    const entry = pkg.exports?.[subpath]?.default;
    if (typeof entry === 'string') return path.join(ROOT_DIR, entry);
  } catch {
    // no package.json to read
  }
  return undefined;
}

// The workloads. `url(base, i)` builds the i-th call's URL (`base`: the server's http origin, or its
// HTTP/2 origin for `h2` workloads); `check` says whether the answer is right. For /cookie-chain/3
// the nonce changes every call so only this call's cookies can pass. `proxy`: the client goes through
// the bench's forward proxy (absolute-form, as for any http: target). A client adapter learns the
// workload, the proxy URL and the HTTP/2 port's CA in `setup(base, { workload, proxy, ca })`.
export const WORKLOADS = {
  ok: {
    id: 'ok',
    label: '/ok',
    exchanges: 1,
    url: (base) => `${base}/ok`,
    check: (r) => r.status === 200 && r.body?.ok === true,
  },
  redirect3: {
    id: 'redirect3',
    label: '/redirect/3',
    exchanges: 4,
    url: (base) => `${base}/redirect/3`,
    check: (r) => r.status === 200 && r.body?.ok === true,
  },
  cookie3: {
    id: 'cookie3',
    label: '/cookie-chain/3',
    exchanges: 4,
    url: (base, i) => `${base}/cookie-chain/3?n=v${i}`,
    check: (r, i) => r.status === 200 && cookieEchoHas(r.body?.cookie, 3, `v${i}`),
  },
  okProxy: {
    id: 'okProxy',
    label: '/ok via a proxy',
    exchanges: 1,
    proxy: true,
    url: (base) => `${base}/ok`,
    check: (r) => r.status === 200 && r.body?.ok === true,
  },
  redirect3h2: {
    id: 'redirect3h2',
    label: '/redirect/3 over h2',
    exchanges: 4,
    h2: true,
    url: (base) => `${base}/redirect/3`,
    check: (r) => r.status === 200 && r.body?.ok === true,
  },
};

/** The base URL a workload's calls go to, and what its clients' setup gets besides. */
export function workloadTarget(server, wid) {
  const w = WORKLOADS[wid];
  return { base: w.h2 ? server.h2base : server.base, context: { workload: wid, proxy: w.proxy ? server.proxy : undefined, ca: w.h2 ? server.caCert : undefined } };
}

// The echoed Cookie header must hold c1..cN exactly once each, all with this chain's nonce
// (a stale value or a duplicate means the jar did not replace the previous chain's cookie).
export function cookieEchoHas(header, n, nonce) {
  if (typeof header !== 'string') return false;
  const seen = new Map();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    seen.set(name, (seen.get(name) ?? 0) + (part.slice(eq + 1).trim() === nonce ? 1 : 100));
  }
  for (let k = 1; k <= n; k++) if (seen.get(`c${k}`) !== 1) return false;
  return true;
}

/** Fork the server (its own process: its CPU must never land in a client's cpuUsage). */
export function startServer() {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(BENCH_DIR, 'server.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => reject(new Error('bench server did not start in 10 s')), 10_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited early (${code})`)));
    child.once('message', (msg) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        base: `http://127.0.0.1:${msg.port}`,
        statsUrl: `http://127.0.0.1:${msg.controlPort}/stats`,
        proxy: `http://127.0.0.1:${msg.proxyPort}`,
        h2base: msg.h2Port ? `https://127.0.0.1:${msg.h2Port}` : undefined,
        caCert: msg.caCert,
        stop() {
          return new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', r);
            child.send({ type: 'stop' });
          });
        },
      });
    });
  });
}

/** The server's counters, over the control port (a connection the workload port never sees). */
export function getStats(statsUrl) {
  return new Promise((resolve, reject) => {
    http
      .get(statsUrl, { agent: false }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve(JSON.parse(data)));
      })
      .on('error', reject);
  });
}

/**
 * The server's counters, asked of the parent over IPC. A measuring child must not make its own
 * node:http request: that runs Node's http client code (net.Socket, streams, events) with other
 * object shapes, the JIT deoptimises the code undici shares with it, and the next ~1,000 calls of
 * the timed loop pay for recompiling (measured: +100-200 % on /ok for 1,000 calls).
 */
export function askStats() {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg?.type !== 'stats') return;
      process.off('message', onMessage);
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg);
    };
    process.on('message', onMessage);
    process.send({ type: 'stats?' });
  });
}

/**
 * Run a bench script as a child and resolve with the one `result` message it sends.
 * A child that crashes, hangs past `timeoutMs` or sends nothing resolves with `{ error }`.
 */
export function runChild(script, args, { execArgv = [], timeoutMs = 120_000, statsUrl } = {}) {
  return new Promise((resolve) => {
    let result = null;
    let stderr = '';
    const child = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    const timer = setTimeout(() => {
      result ??= { error: `timed out after ${Math.round(timeoutMs / 1000)} s` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (msg) => {
      if (msg?.type === 'result') result = msg;
      // The child asks for the server's counters over IPC (see askStats) and we fetch them for it.
      else if (msg?.type === 'stats?' && statsUrl) {
        getStats(statsUrl).then(
          (s) => child.connected && child.send({ type: 'stats', ...s }),
          (err) => child.connected && child.send({ type: 'stats', error: String(err) }),
        );
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!result) {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        result = { error: `child exited (${signal ?? code}) without a result${tail ? `: ${tail}` : ''}` };
      }
      resolve(result);
    });
  });
}

/** Client adapters: every clients/*.mjs not starting with `_` (and not `enabled: false`), in their `order`. */
export async function loadClients() {
  const dir = path.join(BENCH_DIR, 'clients');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.mjs') && !f.startsWith('_'));
  const clients = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(dir, file)).href);
    const a = mod.default;
    if (a.enabled === false) continue;
    clients.push({
      file: path.join(dir, file),
      name: a.name,
      order: a.order ?? 100,
      optional: !!a.optional,
      floorFor: a.floorFor ?? [],
      workloads: a.workloads ?? [],
      na: a.na ?? {},
    });
  }
  clients.sort((x, y) => x.order - y.order || x.name.localeCompare(y.name));
  return clients;
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function minMax(xs) {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length ? [Math.min(...s), Math.max(...s)] : [NaN, NaN];
}

export function gcNow() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

/** Let pending callbacks (and WeakRef "kept alive until the end of this job" rules) settle. */
export const tick = () => new Promise((r) => setImmediate(r));
