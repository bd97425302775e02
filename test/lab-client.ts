/**
 * A deliberately dumb client for the lab tests: one request, no redirect following, no cookie jar.
 * It routes a logical lab URL itself — port from the lab's connectTo rules, Host header from the URL,
 * and for https the SNI servername and `ca` — so the certificate check of the logical hostname runs.
 */
import http from 'node:http';
import https from 'node:https';
import type { Lab } from '../src/lab/index.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** CA to trust for https (default: the lab's); null = Node's default store. */
  ca?: string | null;
  /** SNI / certificate hostname to check, when it should differ from the URL's. */
  servername?: string;
  agent?: http.Agent | false;
}

/** The real address for a logical URL, read from `lab.connectTo` (`:PORT1:HOST2:PORT2`). */
export function route(lab: Pick<Lab, 'connectTo'>, url: string): { host: string; port: number } {
  const u = new URL(url);
  const logical = u.port || (u.protocol === 'https:' ? '443' : '80');
  for (const rule of lab.connectTo) {
    const m = /^([^:]*):(\d+):(.+):(\d+)$/.exec(rule);
    if (m && (m[1] === '' || m[1] === u.hostname) && m[2] === logical) return { host: m[3]!.replace(/^\[|\]$/g, ''), port: Number(m[4]) };
  }
  throw new Error(`no connectTo rule for ${url}`);
}

export function send(lab: Pick<Lab, 'connectTo' | 'ca'>, url: string, opts: SendOptions = {}): Promise<Reply> {
  const u = new URL(url);
  const { host, port } = route(lab, url);
  const tls = u.protocol === 'https:';
  const headers: Record<string, string> = { host: u.host, ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const common = {
      host,
      port,
      method: opts.method ?? 'GET',
      path: u.pathname + u.search,
      headers,
      agent: opts.agent ?? false,
    };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = tls
      ? https.request(
          {
            ...common,
            servername: opts.servername ?? u.hostname,
            ...(opts.ca === null ? {} : { ca: opts.ca ?? lab.ca }),
          },
          onResponse,
        )
      : http.request(common, onResponse);
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Names of the cookies in a Set-Cookie list. */
export function setCookies(reply: Reply): string[] {
  return reply.headers['set-cookie'] ?? [];
}

/** `sid=<value>` from the first Set-Cookie of a reply, ready for a Cookie header. */
export function sidCookie(reply: Reply): string {
  const sc = setCookies(reply).find((c) => c.startsWith('sid='));
  if (!sc) throw new Error('no sid Set-Cookie');
  return sc.split(';')[0]!;
}
