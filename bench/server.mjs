// The benchmark's target server. run.mjs forks it (its own process, so its CPU is never counted in a
// client's process.cpuUsage()) and learns the ports over IPC.
//
// Two listeners on 127.0.0.1, port 0:
//  - the workload port: /ok, /redirect/N, /cookie-chain/N. Its `connection` events are counted.
//  - a control port: /stats only. Kept separate so that asking for the count never opens a
//    connection that would itself be counted (the count is the "new connections per chain" figure).
import http from 'node:http';

let connections = 0;
let requests = 0;

const OK_BODY = JSON.stringify({ ok: true, service: 'hopwise-bench' });

function send(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}

const server = http.createServer((req, res) => {
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
});

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

if (process.send) {
  process.send({ type: 'ready', port, controlPort });
  // The parent going away (even by a crash) must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg) => {
    if (msg?.type === 'stop') process.exit(0);
  });
} else {
  console.log(`bench server: http://127.0.0.1:${port}  (stats: http://127.0.0.1:${controlPort}/stats)`);
}
