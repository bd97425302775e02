/**
 * Scoped auth providers. A provider is applied at every hop whose URL is in its scope and never
 * outside it (DESIGN.md "Auth providers"). With no scope, the scope is the origin of the chain's first
 * request plus its https upgrade, decided per chain by the header policy.
 */
import { HopwiseOptionError } from '../errors.js';
import { isToken } from '../syntax.js';
import type { Challenge } from './challenge.js';
import { parseHostPattern, type HostPattern } from './patterns.js';

export type { Challenge } from './challenge.js';

export interface AuthContext {
  url: URL;
  method: string;
  /** true when a 401 asked for a fresh credential (the provider may refresh a token). */
  refresh: boolean;
  /**
   * The `WWW-Authenticate` challenge this request answers (RFC 9110 §11.6.1), parsed: the one of the
   * 401 that asked, or the last one of this origin later in the chain. Undefined before any challenge.
   */
  challenge?: Challenge | undefined;
  /** The request body as bytes, when it can be read again (Digest qop=auth-int hashes it). */
  body?: () => Buffer | undefined;
}

export type CredentialSource = string | ((ctx: AuthContext) => string | Promise<string>);

export interface AuthProvider {
  /** 'bearer', 'basic', 'header', or a custom name. */
  readonly kind: string;
  /** The request header this provider sets (any case). */
  readonly header: string;
  /** Host patterns; undefined = the chain's first origin and its https upgrade. */
  readonly scope?: readonly HostPattern[];
  /** true when asking again with refresh:true may give a different credential (a 401 retry makes sense). */
  readonly canRefresh: boolean;
  /**
   * The auth schemes (lower-case) this provider answers in a `WWW-Authenticate` challenge; default
   * `[kind]`. When several providers are in scope, the challenge's scheme picks the one that answers.
   */
  readonly schemes?: readonly string[];
  /**
   * Whether this provider can answer this challenge of one of its schemes (default: yes). A challenge
   * it cannot answer is passed over for the next one the 401 offers (RFC 7616 §3.7: the first one
   * the client supports), and when none is left the 401 is returned as an unanswered challenge.
   */
  answers?(challenge: Challenge): boolean;
  /** The header value; `undefined` sends nothing on this hop (e.g. before a challenge). */
  value(ctx: AuthContext): string | undefined | Promise<string | undefined>;
}

/** The schemes a provider answers: its own list, or its kind. */
export function schemesOf(p: AuthProvider): readonly string[] {
  return p.schemes ?? [p.kind.toLowerCase()];
}

export interface ScopeOption {
  /** Host patterns, same syntax as `trust`: 'api.example.com', '*.example.com', 'https://h:8443'. */
  scope?: string | string[];
}

function parseScope(scope: ScopeOption['scope'], what: string): readonly HostPattern[] | undefined {
  if (scope === undefined) return undefined;
  const list = Array.isArray(scope) ? scope : [scope];
  if (list.length === 0) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${what}: scope is an empty list, so the credential would never be sent; omit scope for the default`);
  return list.map((s) => parseHostPattern(s, `${what} scope`));
}

/** Validate `{ scope, ...extra }` options of a provider factory. */
export function parseScopeOption(opts: unknown, what: string, extra: readonly string[]): { scope: readonly HostPattern[] | undefined; extra: Record<string, unknown> } {
  if (opts === undefined) return { scope: undefined, extra: {} };
  if (typeof opts !== 'object' || opts === null) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${what}: options must be an object like { scope: 'api.example.com' }`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(opts)) {
    if (key === 'scope') continue;
    if (!extra.includes(key)) throw new HopwiseOptionError('ERR_UNKNOWN_OPTION', `${what}: unknown option '${key}' (known: scope${extra.map((e) => `, ${e}`).join('')})`);
    out[key] = v;
  }
  return { scope: parseScope((opts as ScopeOption).scope, what), extra: out };
}

function checkOptions(opts: unknown, what: string): ScopeOption {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${what}: options must be an object like { scope: 'api.example.com' }`);
  for (const key of Object.keys(opts)) {
    if (key !== 'scope') throw new HopwiseOptionError('ERR_UNKNOWN_OPTION', `${what}: unknown option '${key}' (the only option is 'scope')`);
  }
  return opts as ScopeOption;
}

function source(value: CredentialSource, what: string): (ctx: AuthContext) => string | Promise<string> {
  if (typeof value === 'function') return value;
  if (typeof value !== 'string' || value === '') throw new HopwiseOptionError('ERR_INVALID_OPTION', `${what}: expected a non-empty string or a function returning one`);
  if (/[\r\n\0]/.test(value)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${what}: the credential contains a line break or NUL, which would split the header`);
  return () => value;
}

/** `Authorization: Bearer <token>`; a function token is asked per hop and may refresh after a 401. */
export function bearer(token: CredentialSource, options?: ScopeOption): AuthProvider {
  const opts = checkOptions(options, 'bearer()');
  const get = source(token, 'bearer()');
  return {
    kind: 'bearer',
    header: 'authorization',
    scope: parseScope(opts.scope, 'bearer()'),
    canRefresh: typeof token === 'function',
    async value(ctx) {
      return `Bearer ${await get(ctx)}`;
    },
  };
}

/** `Authorization: Basic base64(user:pass)` (RFC 7617, UTF-8). */
export function basic(user: string, pass: string, options?: ScopeOption): AuthProvider {
  const opts = checkOptions(options, 'basic()');
  if (typeof user !== 'string' || user.includes(':')) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'basic(): user must be a string without ":" (RFC 7617 §2)');
  if (typeof pass !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'basic(): password must be a string');
  const encoded = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  return { kind: 'basic', header: 'authorization', scope: parseScope(opts.scope, 'basic()'), canRefresh: false, value: () => encoded };
}

/** Any header as a scoped credential, e.g. `header('X-Api-Key', key, { scope: 'api.example.com' })`. */
export function header(name: string, value: CredentialSource, options?: ScopeOption): AuthProvider {
  const opts = checkOptions(options, 'header()');
  if (!isToken(name)) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `header(): '${String(name)}' is not a valid header name (RFC 9110 §5.1)`);
  }
  const get = source(value, `header('${name}')`);
  return { kind: 'header', header: name.toLowerCase(), scope: parseScope(opts.scope, `header('${name}')`), canRefresh: typeof value === 'function', value: get };
}

export function isAuthProvider(x: unknown): x is AuthProvider {
  const p = x as AuthProvider;
  return typeof p === 'object' && p !== null && typeof p.header === 'string' && typeof p.value === 'function';
}
