/**
 * Real servers for tests: one plain HTTP and one TLS listener on 127.0.0.1 port 0, a throwaway CA
 * for the run, and connectTo rules that send every logical host to them (':80:' → http, ':443:' →
 * https, ':8080:' and ':8443:' → the same listeners, for cross-port cases). Every request is recorded
 * with its headers and body before the handler answers, so tests assert on what the server received.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LabCertificates } from '../../src/lab/certs.ts';
import { runCertificates } from './run-certs.ts';
import { Session, type HopwiseError } from '../../src/index.ts';

export interface Received {
  scheme: 'http' | 'https';
  host: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: http.IncomingMessage & { body: Buffer; scheme: 'http' | 'https' }, res: http.ServerResponse) => void | Promise<void>;

const HOSTS = ['a.test', 'b.test', 'c.test', 'example.com', 'api.example.com', 'www.example.com', 'x.example.com', 'evilexample.com', 'example.com.evil.test', 'example.com.', 'app.example.com'];
/** SDKs' real API hostnames, reached through connectTo (fetch-sdks-more). */
HOSTS.push('api.openai.com', 'api.anthropic.com');

/** The run's throwaway CA and server certificate (one for every file of a run: ./run-certs.ts). */
let certs: Promise<LabCertificates> | undefined;

/** The CA and server certificate the test servers use (for a.test, b.test, example.com, ...), for a server of a test's own. */
export function testCertificates(): Promise<LabCertificates> {
  return (certs ??= runCertificates(HOSTS));
}

export interface TestServers {
  connectTo: string[];
  ca: string;
  received: Received[];
  /** Requests received for one host (logical Host header without port). */
  at(host: string): Received[];
  close(): Promise<void>;
}

export async function startServers(handler: Handler): Promise<TestServers> {
  const tls = await testCertificates();
  const received: Received[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const onRequest = (scheme: 'http' | 'https') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ scheme, host: String(req.headers.host ?? '').replace(/:\d+$/, ''), method: req.method!, path: req.url!, headers: req.headers, body });
      Promise.resolve(handler(Object.assign(req, { body, scheme }), res)).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  };
  const plain = http.createServer(onRequest('http'));
  const secure = https.createServer({ key: tls.key, cert: tls.cert }, onRequest('https'));
  for (const s of [plain, secure]) s.on('connection', (sock) => (sockets.add(sock), sock.on('close', () => sockets.delete(sock))));
  for (const s of [plain, secure]) s.on('secureConnection', (sock) => (sockets.add(sock), sock.on('close', () => sockets.delete(sock))));
  await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const hp = (plain.address() as AddressInfo).port;
  const sp = (secure.address() as AddressInfo).port;
  return {
    connectTo: [`:80:127.0.0.1:${hp}`, `:443:127.0.0.1:${sp}`, `:8080:127.0.0.1:${hp}`, `:8443:127.0.0.1:${sp}`],
    ca: tls.caCert,
    received,
    at: (host) => received.filter((r) => r.host === host),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/** Answer with a redirect. */
export function redirect(res: http.ServerResponse, status: number, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { location, ...headers });
  res.end();
}

/** Answer JSON describing what arrived: handy as the end of a chain. */
export function echo(req: http.IncomingMessage & { body: Buffer }, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodySize: req.body.length, body: req.body.toString('utf8') }));
}

/**
 * A generic router so each test can spell its chain in the URL:
 *   /r?s=302&u=<url>          redirect with status s to u (u may itself be a /r URL: chains nest)
 *   /r?s=302&u=<url>&c=<set-cookie>  the same, also setting a cookie
 *   /echo                      200 JSON of what arrived
 *   /status?s=300&u=<url>      answer status s, with Location u when given
 *   /chain/N                   302 to /chain/N-1, /chain/0 echoes
 *   /loop                      302 to itself
 *   /pingpong                  a.test ↔ b.test, forever
 *   /stall                     never answers
 *   /need-auth                 200 when Authorization arrived, else 401
 *   /need-token?t=T            200 when Authorization is 'Bearer T', else 401
 */
export const router: Handler = (req, res) => {
  const url = new URL(req.url!, 'http://x');
  const q = url.searchParams;
  const p = url.pathname;
  if (p === '/r') {
    const headers: Record<string, string> = {};
    if (q.get('c')) headers['set-cookie'] = q.get('c')!;
    return redirect(res, Number(q.get('s') ?? 302), q.get('u')!, headers);
  }
  if (p === '/echo') return echo(req, res);
  if (p === '/status') {
    res.writeHead(Number(q.get('s')), q.get('u') ? { location: q.get('u')! } : {});
    return void res.end(`status ${q.get('s')}`);
  }
  if (p.startsWith('/chain/')) {
    const n = Number(p.slice(7));
    return n === 0 ? echo(req, res) : redirect(res, 302, `/chain/${n - 1}`);
  }
  if (p === '/loop') return redirect(res, 302, '/loop');
  if (p === '/pingpong') return redirect(res, 302, `${req.scheme}://${req.headers.host?.startsWith('a.test') ? 'b.test' : 'a.test'}/pingpong`);
  if (p === '/stall') return; // never answers
  if (p === '/need-token') {
    const ok = req.headers.authorization === `Bearer ${q.get('t')}`;
    res.writeHead(ok ? 200 : 401);
    return void res.end(ok ? 'ok' : 'bad token');
  }
  if (p === '/need-auth') {
    res.writeHead(req.headers.authorization ? 200 : 401);
    return void res.end(req.headers.authorization ? 'ok' : 'no credentials');
  }
  res.writeHead(404);
  res.end('not found');
};

/** `/r` URL builder: r('https://a.test', 302, target). */
export function r(origin: string, status: number, target: string, cookie?: string): string {
  const u = new URL('/r', origin);
  u.searchParams.set('s', String(status));
  u.searchParams.set('u', target);
  if (cookie) u.searchParams.set('c', cookie);
  return u.href;
}

type SessionOptions = import('../../src/index.ts').SessionOptions;
type FetchInit = import('../../src/index.ts').FetchInit;

/**
 * Sessions wired to the test servers, and one-call chains that report what the servers received:
 * `run` for a chain that must succeed, `runError` for one that must fail. `servers` is read at call
 * time, so it can be assigned in a `before` hook.
 */
export function chainRunner(servers: () => TestServers) {
  const session = (opts: SessionOptions = {}) => new Session({ connectTo: servers().connectTo, ca: servers().ca, ...opts });
  async function run(url: string, opts: SessionOptions = {}, init: FetchInit = {}) {
    const s = session(opts);
    const start = servers().received.length;
    try {
      const res = await s.fetch(url, init);
      await res.text();
      const got = servers().received.slice(start);
      return { res, got, last: got[got.length - 1]!, hops: res.hops, jar: s.cookies };
    } finally {
      await s.close();
    }
  }
  async function runError(url: string, opts: SessionOptions = {}, init: FetchInit = {}) {
    const s = session(opts);
    const start = servers().received.length;
    try {
      const res = await s.fetch(url, init);
      await res.text();
    } catch (err) {
      return { err: err as HopwiseError, got: servers().received.slice(start) };
    } finally {
      await s.close();
    }
    throw new Error('expected the fetch to fail');
  }
  return { session, run, runError };
}
