/**
 * The recording proxy of `hopwise record`: an HTTP forward proxy on 127.0.0.1 (port 0) that forwards
 * every exchange and keeps a copy of it (headers as sent and received, bodies capped, timings).
 *
 *   plain HTTP  the client sends the absolute-form request (RFC 9112 §3.2.2) to the proxy;
 *   HTTPS       the client sends CONNECT host:port (RFC 9110 §9.3.6); the proxy answers 200, then
 *               terminates TLS itself with a certificate for that host signed by a CA made for this
 *               run (the program trusts it through SSL_CERT_FILE and friends), reads the requests
 *               inside, and makes its own TLS connection upstream, checked against the system's CAs
 *               plus `--cacert`.
 *
 * Why not an interception library: mockttp (the well-kept one) was measured for this on Node 20:
 * 124 packages and 39 MB in node_modules (graphql, express-style middleware, websocket and PAC
 * stacks), and one of its dependencies (@whatwg-node/promise-helpers) declares node >= 22.15, below
 * which hopwise must run. What interception needs is small and in Node itself: `node:tls` wraps the
 * CONNECT socket as a server (SNI picks the certificate) and `node:http` parses what is inside; the
 * certificates are minted with the lab's CA code (src/lab/certs.ts, node-forge, already a
 * dependency). One RSA key serves every host certificate, so a new host costs one signature
 * (~10 ms), not a key generation. The CA's private key lives only in this process's memory.
 *
 * The recorder forwards; it never decides. What the program sent is what it sent: the diagnosis is
 * the doctor's, from the HAR made of these exchanges (src/record/har.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCa, issueServerCertificate, serverKeyPair, serverKeyPairAsync, type GeneratedCa, type KeyPair } from '../lab/certs.js';
import { parseConnectTo, route, type ConnectToRule } from '../transport/connect-to.js';
import { trustOf } from '../transport/trust.js';

/** Bytes of each body kept for the HAR (the size is always counted in full). */
export const BODY_CAP = 64 * 1024;

/** One request/response exchange as it went through the recorder. Raw: nothing is redacted here. */
export interface Exchange {
  /** Order of arrival (0-based). */
  index: number;
  started: Date;
  method: string;
  /** Absolute URL (scheme from how the program came: plain or CONNECT). */
  url: string;
  httpVersion: string;
  /** Request headers as the program sent them (hop-by-hop headers for the proxy itself left out). */
  requestHeaders: [string, string][];
  requestBody: Buffer;
  requestBodySize: number;
  /** 0 when no response came from upstream (then `error` says why). */
  status: number;
  statusText: string;
  responseHeaders: [string, string][];
  responseBody: Buffer;
  /** Bytes as they came on the wire (encoded), counted in full. */
  responseBodySize: number;
  /** Milliseconds: connect (-1 when a kept-alive connection was reused), ssl, send, wait, receive. */
  timings: { connect: number; ssl: number; send: number; wait: number; receive: number };
  /** True when the exchange ended (response read to the end, or failed). */
  done: boolean;
  error?: { code: string; message: string };
}

export interface RecorderOptions {
  /** PEM CA certificates trusted for upstream TLS, besides the system's (`--cacert`). */
  ca?: string[];
  /** curl `--connect-to` rules for the recorder's upstream connections. */
  connectTo?: string[];
}

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), and the proxy's own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardable(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const n of raw[i + 1]!.split(',')) named.add(n.trim().toLowerCase());
  }
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push([raw[i]!, raw[i + 1]!]);
  }
  return out;
}

/** `host:port` of a CONNECT request target (authority-form), IPv6 in brackets. */
function parseAuthority(target: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port };
}

const since = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000;

export class Recorder {
  readonly exchanges: Exchange[] = [];
  /** Things the recorder saw that are not exchanges (a TLS handshake the program refused, a bad CONNECT). */
  readonly notes: string[] = [];
  readonly #ca: GeneratedCa;
  readonly #keys: KeyPair;
  readonly #contexts = new Map<string, tls.SecureContext>();
  readonly #rules: ConnectToRule[];
  readonly #outer: http.Server;
  /** Parses the requests inside intercepted TLS connections. */
  readonly #inner: http.Server;
  readonly #httpAgent = new http.Agent({ keepAlive: true });
  readonly #httpsAgent: https.Agent;
  /** The CONNECT target of each intercepted TLS socket. */
  readonly #tunnels = new WeakMap<Socket, { host: string; port: number }>();
  readonly #sockets = new Set<Socket>();
  #port = 0;

  /** A recorder with its CA; the two RSA keys (CA, host certificates) are generated in parallel. */
  static async create(options: RecorderOptions = {}): Promise<Recorder> {
    const [caKeys, keys] = await Promise.all([serverKeyPairAsync(), serverKeyPairAsync()]);
    return new Recorder(options, caKeys, keys);
  }

  constructor(options: RecorderOptions = {}, caKeys: KeyPair = serverKeyPair(), keys: KeyPair = serverKeyPair()) {
    this.#ca = createCa(`hopwise record CA (this run only, ${new Date().toISOString()})`, 'hopwise record', caKeys);
    this.#keys = keys;
    this.#rules = parseConnectTo(options.connectTo ?? []);
    // Node's roots plus the extra ones, as one secure context made once (not a context per connection).
    this.#httpsAgent = new https.Agent({ keepAlive: true, ...trustOf(options.ca ?? []) });
    this.#outer = http.createServer((req, res) => this.#onPlain(req, res));
    this.#outer.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.#onConnect(req, socket, head));
    this.#inner = http.createServer((req, res) => {
      const t = this.#tunnels.get(req.socket);
      if (!t) return void res.destroy();
      const authority = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
      this.#forward(req, res, new URL(`https://${authority}${t.port === 443 ? '' : `:${t.port}`}${req.url ?? '/'}`));
    });
    for (const s of [this.#outer, this.#inner]) {
      s.on('clientError', (_e, socket: Socket) => socket.destroy());
      s.on('connection', (socket: Socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      });
    }
  }

  /** PEM of this run's CA certificate (what the program must trust). */
  get caPem(): string {
    return this.#ca.certPem;
  }

  /** `http://127.0.0.1:PORT`, once listening. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#outer.once('error', reject);
      this.#outer.listen(0, '127.0.0.1', () => {
        this.#outer.off('error', reject);
        this.#port = (this.#outer.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Waits (at most `graceMs`) for exchanges still in flight, then closes every connection. */
  async close(graceMs = 2000): Promise<void> {
    const until = Date.now() + graceMs;
    while (this.exchanges.some((e) => !e.done) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.#sockets) s.destroy();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
    await new Promise<void>((resolve) => this.#outer.close(() => resolve()));
  }

  #context(host: string): tls.SecureContext {
    let ctx = this.#contexts.get(host);
    if (!ctx) {
      const cert = issueServerCertificate(this.#ca, [host], this.#keys, 'hopwise record');
      ctx = tls.createSecureContext({ key: this.#keys.privatePem, cert });
      this.#contexts.set(host, ctx);
    }
    return ctx;
  }

  #onPlain(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL | undefined;
    try {
      url = /^https?:\/\//i.test(req.url ?? '') ? new URL(req.url!) : undefined;
    } catch {
      /* answered below */
    }
    if (!url || url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('hopwise record: this is a forward proxy; send absolute-form http:// requests, or CONNECT for https.\n');
      return;
    }
    this.#forward(req, res, url);
  }

  #onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      this.notes.push(`a CONNECT to '${req.url ?? ''}' was refused: not host:port`);
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      // only HTTP/1.1 inside: node:http parses it, and every client falls back to it
      ALPNProtocols: ['http/1.1'],
      secureContext: this.#context(target.host),
      SNICallback: (servername, cb) => {
        try {
          cb(null, this.#context(servername.toLowerCase()));
        } catch (e) {
          cb(e as Error);
        }
      },
    });
    this.#tunnels.set(tlsSocket, target);
    tlsSocket.on('error', (e: NodeJS.ErrnoException) => {
      // The usual cause: the program does not trust the run's CA (it reads none of the CA variables).
      this.notes.push(
        `the TLS handshake with the program for ${target.host}:${target.port} failed (${e.code ?? e.message}): does the program read SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or NODE_EXTRA_CA_CERTS?`,
      );
      tlsSocket.destroy();
    });
    this.#inner.emit('connection', tlsSocket);
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const t0 = performance.now();
    const headers = forwardable(req.rawHeaders);
    // an HTTP/1.0 client may send none; without it Node would write the --connect-to address
    if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['Host', url.host]);
    const ex: Exchange = {
      index: this.exchanges.length,
      started: new Date(),
      method: req.method ?? 'GET',
      url: url.href,
      httpVersion: `HTTP/${req.httpVersion}`,
      requestHeaders: headers,
      requestBody: Buffer.alloc(0),
      requestBodySize: 0,
      status: 0,
      statusText: '',
      responseHeaders: [],
      responseBody: Buffer.alloc(0),
      responseBodySize: 0,
      timings: { connect: -1, ssl: -1, send: 0, wait: -1, receive: -1 },
      done: false,
    };
    this.exchanges.push(ex);
    const keptReq: Buffer[] = [];
    const keptRes: Buffer[] = [];
    const tls_ = url.protocol === 'https:';
    const logicalPort = Number(url.port) || (tls_ ? 443 : 80);
    const to = route(this.#rules, url.hostname, logicalPort);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const upstream = (tls_ ? https : http).request({
      host: to.host,
      port: to.port,
      method: ex.method,
      path: url.pathname + url.search,
      headers: headers.flat(),
      agent: tls_ ? this.#httpsAgent : this.#httpAgent,
      // the logical name for SNI and the certificate check, whatever address --connect-to chose
      ...(tls_ ? { servername: isIP(host) ? '' : host, checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(host, cert) } : {}),
    });
    let sentAt = t0;
    let headersAt = t0;
    const fail = (code: string, message: string): void => {
      if (ex.done) return;
      ex.error = { code, message };
      ex.done = true;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`hopwise record: could not reach ${url.origin}: ${message}\n`);
      } else res.destroy();
    };
    upstream.on('socket', (s: Socket) => {
      const fresh = s.connecting || (tls_ && !(s as tls.TLSSocket).encrypted);
      if (!fresh) return;
      s.once('connect', () => (ex.timings.connect = since(t0)));
      if (tls_) s.once('secureConnect', () => (ex.timings.ssl = Math.max(0, since(t0) - Math.max(0, ex.timings.connect))));
    });
    upstream.on('finish', () => {
      sentAt = performance.now();
      ex.timings.send = Math.round((sentAt - t0 - Math.max(0, ex.timings.connect) - Math.max(0, ex.timings.ssl)) * 1000) / 1000;
      if (ex.timings.send < 0) ex.timings.send = 0;
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ERR_UPSTREAM', e.message));
    upstream.on('response', (up) => {
      headersAt = performance.now();
      ex.timings.wait = Math.round((headersAt - sentAt) * 1000) / 1000;
      ex.status = up.statusCode ?? 0;
      ex.statusText = up.statusMessage ?? '';
      ex.responseHeaders = forwardable(up.rawHeaders);
      res.writeHead(ex.status, ex.statusText, ex.responseHeaders.flat());
      up.on('data', (chunk: Buffer) => {
        if (ex.responseBodySize < BODY_CAP) keptRes.push(chunk);
        ex.responseBodySize += chunk.length;
        // a slow program must slow the upstream read, not fill this process's memory
        if (!res.write(chunk)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => {
        ex.responseBody = Buffer.concat(keptRes);
        ex.timings.receive = since(headersAt);
        ex.done = true;
        res.end();
      });
      up.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ERR_UPSTREAM', `the response was cut off: ${e.message}`));
    });
    req.on('data', (chunk: Buffer) => {
      if (ex.requestBodySize < BODY_CAP) keptReq.push(chunk);
      ex.requestBodySize += chunk.length;
    });
    req.on('end', () => (ex.requestBody = Buffer.concat(keptReq)));
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!ex.done) {
        upstream.destroy();
        fail('ERR_CLIENT_GONE', 'the program closed the connection before the response ended');
      }
    });
    req.pipe(upstream);
  }
}
