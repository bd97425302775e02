/**
 * Small helpers the scenarios use to read a request and build a response. A response is plain data
 * (status, header list, body); the server writes it.
 */
import { randomBytes } from 'node:crypto';

export interface LabResponse {
  status: number;
  /** A list, so that a header (Set-Cookie) may repeat. */
  headers: Array<[string, string]>;
  body: string | Buffer;
}

/** What a scenario handler is given for one request. */
export interface RequestContext<S> {
  scheme: 'http' | 'https';
  /** Hostname (lower-case, no port). */
  hostname: string;
  /** Logical port: 80, 443 or 8080. */
  port: number;
  /** Logical origin, e.g. `https://api.hopwise.test` or `http://api.hopwise.test:8080`. */
  origin: string;
  method: string;
  /** Path after the scenario prefix, e.g. `/start` (never empty; `/` at least). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** The first bytes of the body (up to 64 KiB), for form parsing. */
  body: Buffer;
  bodySize: number;
  cookies: Map<string, string[]>;
  state: S;
}

export function text(status: number, body: string, headers: Array<[string, string]> = []): LabResponse {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8'], ...headers], body: body.endsWith('\n') ? body : body + '\n' };
}

export function json(status: number, value: unknown, headers: Array<[string, string]> = []): LabResponse {
  return { status, headers: [['content-type', 'application/json'], ...headers], body: JSON.stringify(value) };
}

export function html(status: number, body: string, headers: Array<[string, string]> = []): LabResponse {
  return { status, headers: [['content-type', 'text/html; charset=utf-8'], ...headers], body };
}

export function redirect(status: number, location: string, headers: Array<[string, string]> = []): LabResponse {
  return {
    status,
    headers: [['location', location], ['content-type', 'text/plain; charset=utf-8'], ...headers],
    body: `${status} redirect to ${location}\n`,
  };
}

export function parseCookies(header: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!name) continue;
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return out;
}

export function newSid(): string {
  return randomBytes(12).toString('hex');
}

/** True when an `Authorization: Bearer <token>` arrived. */
export function hasBearer(ctx: RequestContext<unknown>): boolean {
  return /^Bearer\s+\S+/i.test(ctx.headers['authorization'] ?? '');
}

/** The user name a login asks for: form or query `user`, else 'alice'. */
export function loginUser(ctx: RequestContext<unknown>): string {
  let user = ctx.query.get('user');
  const type = ctx.headers['content-type'] ?? '';
  if (!user && type.startsWith('application/x-www-form-urlencoded')) {
    user = new URLSearchParams(ctx.body.toString('utf8')).get('user');
  }
  return user && /^[\w.-]{1,32}$/.test(user) ? user : 'alice';
}

/** The user of the first `sid` cookie that names a known session. */
export function sessionUser(ctx: RequestContext<unknown>, sessions: Map<string, string | null>): string | undefined {
  for (const sid of ctx.cookies.get('sid') ?? []) {
    const user = sessions.get(sid);
    if (typeof user === 'string') return user;
  }
  return undefined;
}
