/**
 * HTTP Digest access authentication (RFC 7616): MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256
 * (and its -sess form); qop `auth` and `auth-int`; `userhash`; the nonce count; RFC 2069
 * compatibility when the challenge has no qop. The provider sends nothing until a 401 challenges it
 * (ctx.challenge), is applied only in its scope like every provider, and answers a `stale=true`
 * challenge once more with the new nonce (the session decides that; the provider only computes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { HopwiseOptionError } from '../errors.js';
import type { AuthContext, AuthProvider, ScopeOption } from './auth.js';
import { parseScopeOption } from './auth.js';
import type { Challenge } from './challenge.js';

/** RFC 7616 §6.1 algorithm names → Node hash names. */
const ALGORITHMS: Record<string, string> = {
  md5: 'md5',
  'md5-sess': 'md5',
  'sha-256': 'sha256',
  'sha-256-sess': 'sha256',
  'sha-512-256': 'sha512-256',
  'sha-512-256-sess': 'sha512-256',
};

export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  method: string;
  /** The request-target as sent (path and query). */
  uri: string;
  nonce: string;
  /** The algorithm as the challenge named it (default MD5). */
  algorithm?: string;
  /** 'auth', 'auth-int', or undefined (RFC 2069). */
  qop?: 'auth' | 'auth-int' | undefined;
  /** 8 hex digits, e.g. '00000001'. */
  nc?: string;
  cnonce?: string;
  /** The entity body, for auth-int. */
  body?: Buffer;
  /** true when the challenge said userhash=true: the username is sent hashed (RFC 7616 §3.4.4). */
  userhash?: boolean;
}

/** The `response` value and the `username` to send (hashed when userhash), per RFC 7616 §3.4.1–§3.4.4. */
export function digestResponse(d: DigestInput): { response: string; username: string } {
  const alg = (d.algorithm ?? 'MD5').toLowerCase();
  const hashName = ALGORITHMS[alg];
  if (hashName === undefined) throw new HopwiseOptionError('ERR_INVALID_OPTION', `digest(): the server asked for algorithm ${d.algorithm}, which RFC 7616 does not define`);
  const H = (s: string | Buffer): string => createHash(hashName).update(s).digest('hex');
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (alg.endsWith('-sess')) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = d.qop === 'auth-int' ? H(`${d.method}:${d.uri}:${H(d.body ?? Buffer.alloc(0))}`) : H(`${d.method}:${d.uri}`);
  const response = d.qop ? H(`${ha1}:${d.nonce}:${d.nc ?? '00000001'}:${d.cnonce ?? ''}:${d.qop}:${ha2}`) : H(`${ha1}:${d.nonce}:${ha2}`);
  return { response, username: d.userhash ? H(`${d.username}:${d.realm}`) : d.username };
}

/** The qop values offered, lower-case; empty when the challenge has none (RFC 2069). */
const offeredQop = (c: Challenge): string[] =>
  (c.params.qop ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/**
 * Whether a Digest challenge can be answered: it has a nonce, an algorithm RFC 7616 §6.1 defines
 * (httpbin, for one, offers a plain `SHA-512` it does not), and qop `auth`, `auth-int` or none. Any
 * other challenge is passed over for the next the server offers (RFC 7616 §3.7), never guessed at.
 */
function answersDigest(c: Challenge): boolean {
  if (c.scheme !== 'digest' || c.params.nonce === undefined) return false;
  if (ALGORITHMS[(c.params.algorithm ?? 'MD5').toLowerCase()] === undefined) return false;
  const offered = offeredQop(c);
  return offered.length === 0 || offered.includes('auth') || offered.includes('auth-int');
}

/** A quoted-string (RFC 9110 §5.6.4): `"` and `\` escaped. */
const q = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** RFC 8187 ext-value for a username that is not plain ASCII (RFC 7616 §3.4.4 `username*`). */
const extValue = (s: string): string => `UTF-8''${encodeURIComponent(s).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;

export interface DigestOptions extends ScopeOption {
  /** For tests: the client nonce to use instead of a random one. */
  cnonce?: () => string;
}

/**
 * `Authorization: Digest ...` (RFC 7616), answered only to a Digest challenge in scope: nothing is
 * sent before the server asks. `digest(user, pass, { scope })`.
 */
export function digest(user: string, pass: string, options?: DigestOptions): AuthProvider {
  if (typeof user !== 'string' || user === '') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'digest(): user must be a non-empty string');
  if (typeof pass !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'digest(): password must be a string');
  if (/[\r\n\0]/.test(user) || /[\r\n\0]/.test(pass)) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'digest(): user and password cannot contain CR, LF or NUL');
  const { scope, extra } = parseScopeOption(options, 'digest()', ['cnonce']);
  const makeCnonce = typeof extra.cnonce === 'function' ? (extra.cnonce as () => string) : () => randomBytes(16).toString('base64url');
  /** Nonce counts per server nonce (RFC 7616 §3.4: nc counts the requests sent with that nonce). */
  const counts = new Map<string, number>();
  return {
    kind: 'digest',
    header: 'authorization',
    scope,
    schemes: ['digest'],
    canRefresh: false,
    answers: answersDigest,
    value(ctx: AuthContext): string | undefined {
      const c: Challenge | undefined = ctx.challenge;
      if (!c || !answersDigest(c)) return undefined;
      const p = c.params;
      const realm = p.realm ?? '';
      const nonce = p.nonce ?? '';
      const algorithm = p.algorithm ?? 'MD5';
      const offered = offeredQop(c);
      const body = ctx.body?.();
      // auth is preferred when offered (it does not need the body); auth-int when it is the only one offered.
      let qop: 'auth' | 'auth-int' | undefined;
      if (offered.includes('auth')) qop = 'auth';
      else if (offered.includes('auth-int')) {
        if (body === undefined) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'digest(): the server asks for qop=auth-int, but the request body cannot be read again to hash it');
        qop = 'auth-int';
      }
      const uri = ctx.url.pathname + ctx.url.search;
      const n = (counts.get(nonce) ?? 0) + 1;
      counts.set(nonce, n);
      if (counts.size > 64) counts.delete(counts.keys().next().value as string);
      const nc = n.toString(16).padStart(8, '0');
      const cnonce = qop || algorithm.toLowerCase().endsWith('-sess') ? makeCnonce() : undefined;
      const userhash = p.userhash?.toLowerCase() === 'true';
      const { response, username } = digestResponse({
        username: user,
        password: pass,
        realm,
        method: ctx.method,
        uri,
        nonce,
        algorithm,
        qop,
        nc,
        ...(cnonce !== undefined ? { cnonce } : {}),
        ...(body !== undefined ? { body } : {}),
        userhash,
      });
      const parts: string[] = [];
      // RFC 7616 §3.4.4: a username that cannot be a quoted-string in ASCII goes as username*.
      if (!userhash && /[^\x20-\x7e]/.test(username)) parts.push(`username*=${extValue(username)}`);
      else parts.push(`username=${q(username)}`);
      parts.push(`realm=${q(realm)}`, `uri=${q(uri)}`, `algorithm=${p.algorithm ?? 'MD5'}`, `nonce=${q(nonce)}`);
      if (qop) parts.push(`nc=${nc}`, `cnonce=${q(cnonce ?? '')}`, `qop=${qop}`);
      else if (cnonce !== undefined) parts.push(`cnonce=${q(cnonce)}`);
      parts.push(`response=${q(response)}`);
      if (p.opaque !== undefined) parts.push(`opaque=${q(p.opaque)}`);
      if (userhash) parts.push('userhash=true');
      return `Digest ${parts.join(', ')}`;
    },
  };
}
