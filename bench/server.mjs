// The benchmark's target server. run.mjs forks it (its own process, so its CPU is never counted in a
// client's process.cpuUsage()) and learns the ports over IPC.
//
// Listeners on 127.0.0.1, port 0:
//  - the workload port: /ok, /redirect/N, /cookie-chain/N. Its `connection` events are counted.
//  - a control port: /stats only. Kept separate so that asking for the count never opens a
//    connection that would itself be counted (the count is the "new connections per chain" figure).
//  - a forward proxy port: absolute-form requests (`GET http://127.0.0.1:PORT/ok`) for the workload
//    port, answered in this process by the same handler (so the proxied workloads measure what a
//    client does to go through a proxy, not a second hop on the loopback). Counted as connections.
//  - an HTTP/2 port (TLS, h2 only, a certificate from a throwaway CA made at start): the same paths.
//    Its sessions are counted as connections. The CA's PEM goes to the parent with the ports.
import http from 'node:http';
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let connections = 0;
let requests = 0;

const OK_BODY = JSON.stringify({ ok: true, service: 'hopwise-bench' });

function send(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}

function app(req, res) {
  requests++;
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q);

  if (path === '/ok') {
    send(res, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(OK_BODY) }, OK_BODY);
    return;
  }

  // /redirect/N → /redirect/N-1 → ... → /ok, each a relative (path-absolute) 302 with an empty body.
  let m = /^\/redirect\/(\d+)$/.exec(path);
  if (m) {
    const n = Number(m[1]);
    const location = n <= 1 ? '/ok' : `/redirect/${n - 1}`;
    send(res, 302, { location, 'content-length': 0 });
    return;
  }

  // /cookie-chain/N?n=NONCE: hop N sets cN=NONCE and redirects to /cookie-chain/N-1?n=NONCE; at 0 the
  // server echoes the Cookie header it received. The nonce changes every chain, so a client only
  // passes if it stored this chain's cookies (replacing the previous chain's) and sent them back.
  m = /^\/cookie-chain\/(\d+)$/.exec(path);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) {
      const body = JSON.stringify({ cookie: req.headers.cookie ?? '' });
      send(res, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body);
      return;
    }
    const nonce = new URLSearchParams(query).get('n') ?? 'x';
    send(res, 302, {
      location: `/cookie-chain/${n - 1}${query}`,
      'set-cookie': `c${n}=${nonce}; Path=/`,
      'content-length': 0,
    });
    return;
  }

  send(res, 404, { 'content-type': 'text/plain', 'content-length': 9 }, 'not found');
}

const server = http.createServer(app);

// Long keep-alive so that an idle moment (a GC pause, a slow client) never closes a connection and
// shows up as a "new connection" that the client did not cause.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.requestTimeout = 0;
server.on('connection', () => {
  connections++;
});

const control = http.createServer((req, res) => {
  if (req.url === '/stats') {
    const body = JSON.stringify({ connections, requests });
    send(res, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body);
    return;
  }
  send(res, 404, { 'content-length': 0 }, '');
});
control.keepAliveTimeout = 60_000;

function listen(s) {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s.address().port));
  });
}

const port = await listen(server);
const controlPort = await listen(control);

// The forward proxy: only absolute-form requests for the workload port; anything else is refused.
const origin = `http://127.0.0.1:${port}`;
const proxy = http.createServer((req, res) => {
  if (!req.url.startsWith(`${origin}/`)) {
    send(res, 502, { 'content-length': 0 }, '');
    return;
  }
  req.url = req.url.slice(origin.length);
  app(req, res);
});
proxy.keepAliveTimeout = 60_000;
proxy.headersTimeout = 61_000;
proxy.requestTimeout = 0;
proxy.on('connection', () => {
  connections++;
});
const proxyPort = await listen(proxy);

// HTTP/2 over TLS with a throwaway CA (openssl; without it there is no h2 port and the h2 workload
// is reported unavailable).
let h2Port;
let caCert;
try {
  const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-bench-ca-'));
  const f = (n) => path.join(dir, n);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hopwise bench CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('key.pem'), '-out', f('req.csr'));
  // The server certificate's names: the address the bench connects to.
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  ssl('x509', '-req', '-in', f('req.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('cert.pem'));
  caCert = readFileSync(f('ca.pem'), 'utf8');
  const h2 = http2.createSecureServer({ key: readFileSync(f('key.pem')), cert: readFileSync(f('cert.pem')), allowHTTP1: false }, app);
  rmSync(dir, { recursive: true, force: true });
  h2.on('session', () => {
    connections++;
  });
  h2Port = await listen(h2);
} catch (err) {
  console.error(`bench server: no HTTP/2 port (${String(err?.message ?? err).split('\n')[0]})`);
}

if (process.send) {
  process.send({ type: 'ready', port, controlPort, proxyPort, h2Port, caCert });
  // The parent going away (even by a crash) must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg) => {
    if (msg?.type === 'stop') process.exit(0);
  });
} else {
  console.log(`bench server: http://127.0.0.1:${port}  (stats: http://127.0.0.1:${controlPort}/stats, proxy: http://127.0.0.1:${proxyPort}${h2Port ? `, h2: https://127.0.0.1:${h2Port}` : ''})`);
}
