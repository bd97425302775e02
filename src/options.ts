/**
 * Session options: declared, defaulted and validated in this one place. An unknown option is an error
 * that names it and suggests the closest known name; a wrong type says what was expected.
 */
import { isAuthProvider, type AuthProvider } from './credentials/auth.js';
import { parseHostPattern, type HostPattern } from './credentials/patterns.js';
import type { CookieStore } from './cookies/types.js';
import { HopwiseOptionError } from './errors.js';
import { closest } from './suggest.js';
import type { RedirectMode } from './redirect/plan.js';
import { parseConnectTo, type ConnectToRule } from './transport/connect-to.js';
import { AddressClassifier } from './transport/addresses.js';
import { parseNoProxy, parseProxyUrl, proxyFromEnv, type Env, type ProxySettings } from './transport/proxy.js';
import type { Decision, Hop } from './trace/types.js';
import { headerValueProblem, isToken } from './syntax.js';
import type { RetryPolicy } from './hop/retry.js';
import { loadNetrc, type Netrc } from './credentials/netrc.js';
import { HstsStore } from './hop/hsts.js';
import type { Dispatcher } from 'undici';

export interface TimeoutOptions {
  /** TCP + TLS connect, per connection. Default 10 000 ms. */
  connect?: number;
  /** From sending the request to the response headers, per hop. Default 30 000 ms. */
  headers?: number;
  /** Idle time between body chunks, per hop. Default 30 000 ms. */
  body?: number;
  /** The whole chain, including reading the final body. Default: none. */
  total?: number;
}

/** What a beforeRedirect hook sees. Change `next` to change the next request. */
export interface RedirectState {
  /** The hop that answered with the redirect (already in `hops`). */
  readonly hop: Hop;
  readonly hops: readonly Hop[];
  /** The proposed next request; the policy runs again on whatever the hook leaves here. */
  next: { url: string; method: string; headers: Record<string, string> };
  /** Decisions that planned this redirect. */
  readonly decisions: readonly Decision[];
}

/** `retry` as an object: every field optional. */
export interface RetryOptions {
  /** Retries per chain. Default 2. */
  limit?: number;
  /** Methods that may be sent again. Default GET, HEAD, OPTIONS, PUT, DELETE (the idempotent ones); list POST or PATCH to retry them too. */
  methods?: string[];
  /** Statuses that are retried. Default 408, 429, 500, 502, 503, 504. */
  statuses?: number[];
  /** Longest Retry-After honoured, ms; a longer one returns the answer as it is. Default 60 000. */
  maxRetryAfter?: number;
  /** The first backoff step without Retry-After, ms, doubled per retry with jitter. Default 500. */
  backoff?: number;
  /** No retry starts more than this many ms after the chain's first request (curl --retry-max-time). Default: none. */
  maxTime?: number;
}

export interface SessionOptions {
  headers?: Record<string, string>;
  auth?: AuthProvider | AuthProvider[];
  trust?: string[];
  sensitiveHeaders?: string[];
  maxRedirects?: number;
  redirect?: RedirectMode;
  allowDowngrade?: boolean;
  crossOriginBody?: 'error' | 'send';
  cookies?: CookieStore | false;
  connectTo?: string[];
  ca?: string | Buffer | Array<string | Buffer>;
  timeout?: TimeoutOptions;
  hooks?: { beforeRedirect?: (state: RedirectState) => void | Promise<void> };
  /** Largest stream body kept for a 307/308 replay. Default 1 MiB. */
  replayBufferSize?: number;
  /** Follow `<meta http-equiv="refresh">` and `Refresh:` in 200 HTML pages like a redirect. Default false. */
  followMetaRefresh?: boolean;
  /**
   * The transport: an undici `Dispatcher` of your own (an Agent, a composed dispatcher with
   * interceptors...), or a function that composes hopwise's own agent (which applies connectTo, ca and
   * the connect timeout), e.g. `(agent) => agent.compose(myInterceptor)`. Either way hopwise decides
   * every hop: the dispatcher is asked for one exchange at a time and never follows redirects or sees
   * the cookie jar. A dispatcher you hand in is yours to close; `session.close()` closes only hopwise's.
   */
  dispatcher?: Dispatcher | ((agent: Dispatcher) => Dispatcher);
  /**
   * The proxy: a URL (`'http://proxy.example:3128'`, userinfo allowed), `false` for none (the
   * environment ignored), or a function choosing per target URL (return a proxy URL, or undefined
   * for direct). Default: the environment (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`,
   * either case; see the README), read once when the session is created.
   */
  proxy?: string | false | ((url: URL) => string | undefined);
  /** Proxy credentials, `'user:pass'` or `{ username, password }`: sent only to the proxy. */
  proxyAuth?: string | { username: string; password: string };
  /** Hosts that never go through the proxy (no_proxy syntax); replaces the environment's no_proxy. */
  noProxy?: string | string[];
  /**
   * The private-network guard, judged on the address actually connected to: `'refuse-redirects'`
   * (default: a redirect may not move the chain from a public address to a private one),
   * `'refuse'` (no hop may connect to a private address), `'allow'`, or
   * `{ refuse: 'redirects' | 'all' | 'none', internal?: string[] }` where `internal` (CIDRs)
   * replaces the built-in list of private ranges.
   */
  privateNetworks?: 'refuse-redirects' | 'refuse' | 'allow' | { refuse: 'redirects' | 'all' | 'none'; internal?: string[] };
  /**
   * Decode `Content-Encoding` (gzip, deflate, br, and zstd where Node has it) in the reading methods
   * and `body`, and send `Accept-Encoding` for them unless you set one. `false` hands the raw bytes
   * and sends no Accept-Encoding of its own. Default true. Also per call in `fetch()` init.
   */
  decompress?: boolean;
  /** Largest response body, counted after decoding; past it reading fails with ERR_BODY_TOO_LARGE. Default 64 MiB; `Infinity` lifts it. */
  maxBodySize?: number;
  /**
   * Keep request and response bodies of text-like content types on the hops (`hop.requestBody`,
   * `hop.responseBody`, decoded, secret values redacted), for the HAR. `true` keeps up to 4 KiB per
   * body; a number is the cap in bytes. Default false (nothing is copied).
   */
  recordBodies?: boolean | number;
  /** Most connections hopwise's own agent opens to one origin. Default 128. */
  connections?: number;
  /**
   * Send a request again after 408, 429, 500, 502, 503, 504 or a connection reset before any answer:
   * a number of retries (default 2), `false` or `0` for none, or `{ limit, methods, statuses,
   * maxRetryAfter, backoff }`. Idempotent methods only unless `methods` lists more.
   */
  retry?: number | false | RetryOptions;
  /**
   * Credentials from a `.netrc` file: `true` reads `$NETRC`, else `~/.netrc`; a path reads that
   * file; `{ path?, default: true }` also uses the file's `default` entry. An entry is sent as Basic
   * only to its exact host, and only when no auth provider or caller Authorization is in scope. The
   * file is read when the session is created and refused if others can read it. Default: not read.
   */
  netrc?: boolean | string | { path?: string; default?: boolean };
  /**
   * HSTS (RFC 6797): `Strict-Transport-Security` from an https answer makes later http: requests to
   * that host (and subdomains with includeSubDomains) go over https before anything is sent. Default
   * true (in memory, per session); `false` turns it off; an `HstsStore` shares or persists it.
   */
  hsts?: boolean | HstsStore;
  /** Offer HTTP/2 by ALPN on https connections of hopwise's own agent (undici allowH2). Default false: HTTP/1.1. */
  http2?: boolean;
}

export interface PrivateNetworkPolicy {
  refuse: 'redirects' | 'all' | 'none';
  classifier: AddressClassifier;
}

export interface ResolvedOptions {
  headers: [string, string][];
  auth: AuthProvider[];
  trust: HostPattern[];
  sensitiveHeaders: Set<string>;
  maxRedirects: number;
  redirect: RedirectMode;
  allowDowngrade: boolean;
  crossOriginBody: 'error' | 'send';
  cookies: CookieStore | false | undefined;
  connectTo: ConnectToRule[];
  ca: (string | Buffer)[];
  timeout: Required<Omit<TimeoutOptions, 'total'>> & { total: number | undefined };
  beforeRedirect: ((state: RedirectState) => void | Promise<void>) | undefined;
  replayBufferSize: number;
  followMetaRefresh: boolean;
  dispatcher: Dispatcher | ((agent: Dispatcher) => Dispatcher) | undefined;
  proxy: ProxySettings;
  /** `user:pass` from proxyAuth. */
  proxyAuth: string | undefined;
  privateNetworks: PrivateNetworkPolicy;
  decompress: boolean;
  maxBodySize: number;
  /** Bytes of each body kept on the hops; 0 when bodies are not recorded. */
  recordBodies: number;
  connections: number;
  retry: RetryPolicy;
  netrc: Netrc | undefined;
  hsts: HstsStore | undefined;
  http2: boolean;
}

export const DEFAULTS = {
  maxRedirects: 20,
  redirect: 'follow' as RedirectMode,
  allowDowngrade: false,
  crossOriginBody: 'error' as const,
  timeout: { connect: 10_000, headers: 30_000, body: 30_000, total: undefined as number | undefined },
  replayBufferSize: 1024 * 1024,
  followMetaRefresh: false,
  privateNetworks: 'refuse-redirects' as const,
  decompress: true,
  maxBodySize: 64 * 1024 * 1024,
  recordBodies: 4096,
  connections: 128,
  retry: { limit: 2, methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'], statuses: [408, 429, 500, 502, 503, 504], maxRetryAfter: 60_000, backoff: 500 },
};

function resolveRetry(v: unknown): RetryPolicy {
  const d = DEFAULTS.retry;
  const policy = (o: RetryOptions = {}): RetryPolicy => ({
    limit: o.limit ?? d.limit,
    methods: new Set((o.methods ?? d.methods).map((m) => m.toUpperCase())),
    statuses: new Set(o.statuses ?? d.statuses),
    maxRetryAfter: o.maxRetryAfter ?? d.maxRetryAfter,
    backoff: o.backoff ?? d.backoff,
    maxTime: o.maxTime,
  });
  if (v === undefined || v === true) return policy();
  if (v === false) return policy({ limit: 0 });
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) bad('retry', 'a whole number of retries >= 0, false, or { limit, methods, statuses, maxRetryAfter, backoff }', v);
    return policy({ limit: v });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('retry', 'a whole number of retries, false, or { limit, methods, statuses, maxRetryAfter, backoff }', v);
  rejectUnknown(v, ['limit', 'methods', 'statuses', 'maxRetryAfter', 'backoff', 'maxTime'], 'retry');
  const o = v as RetryOptions;
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 0)) bad('retry.limit', 'a whole number >= 0', o.limit);
  if (o.methods !== undefined && !(Array.isArray(o.methods) && o.methods.every((m) => typeof m === 'string' && isToken(m))))
    bad('retry.methods', "an array of methods such as ['GET', 'POST']", o.methods);
  if (o.statuses !== undefined && !(Array.isArray(o.statuses) && o.statuses.every((s) => Number.isInteger(s) && s >= 400 && s <= 599)))
    bad('retry.statuses', 'an array of 4xx/5xx statuses', o.statuses);
  if (o.maxRetryAfter !== undefined && !(typeof o.maxRetryAfter === 'number' && o.maxRetryAfter >= 0)) bad('retry.maxRetryAfter', 'a number of milliseconds >= 0', o.maxRetryAfter);
  if (o.backoff !== undefined && !(typeof o.backoff === 'number' && o.backoff >= 0)) bad('retry.backoff', 'a number of milliseconds >= 0', o.backoff);
  if (o.maxTime !== undefined && !(typeof o.maxTime === 'number' && o.maxTime > 0)) bad('retry.maxTime', 'a number of milliseconds > 0', o.maxTime);
  return policy(o);
}

let builtInClassifier: AddressClassifier | undefined;

function resolvePrivateNetworks(v: unknown): PrivateNetworkPolicy {
  const expected = "'refuse-redirects', 'refuse', 'allow' or { refuse: 'redirects' | 'all' | 'none', internal?: ['10.0.0.0/8', ...] }";
  if (v === undefined || v === 'refuse-redirects') return { refuse: 'redirects', classifier: (builtInClassifier ??= new AddressClassifier()) };
  if (v === 'refuse') return { refuse: 'all', classifier: (builtInClassifier ??= new AddressClassifier()) };
  if (v === 'allow') return { refuse: 'none', classifier: (builtInClassifier ??= new AddressClassifier()) };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('privateNetworks', expected, v);
  rejectUnknown(v, ['refuse', 'internal'], 'privateNetworks');
  const o = v as { refuse?: unknown; internal?: unknown };
  if (o.refuse !== 'redirects' && o.refuse !== 'all' && o.refuse !== 'none') bad('privateNetworks.refuse', "'redirects', 'all' or 'none'", o.refuse);
  if (o.internal !== undefined && !Array.isArray(o.internal)) bad('privateNetworks.internal', "an array of CIDR strings such as ['10.0.0.0/8']", o.internal);
  return { refuse: o.refuse as PrivateNetworkPolicy['refuse'], classifier: o.internal === undefined ? (builtInClassifier ??= new AddressClassifier()) : new AddressClassifier(o.internal as string[]) };
}

function resolveProxyAuth(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'object' && v !== null && typeof (v as { username?: unknown }).username === 'string' && typeof (v as { password?: unknown }).password === 'string') {
    rejectUnknown(v, ['username', 'password'], 'proxyAuth');
    const u = v as { username: string; password: string };
    if (u.username.includes(':')) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'proxyAuth.username cannot contain a colon (Basic authentication, RFC 7617)');
    text = `${u.username}:${u.password}`;
  } else return bad('proxyAuth', "'user:pass' or { username, password }", v);
  if (!text.includes(':')) throw new HopwiseOptionError('ERR_INVALID_OPTION', "proxyAuth must be 'user:pass' (a colon between user name and password)");
  if (/[\r\n\0]/.test(text)) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'proxyAuth contains CR, LF or NUL');
  return text;
}

function resolveProxy(o: SessionOptions, env: Env): ProxySettings {
  const p = o.proxy as unknown;
  if (o.noProxy !== undefined && typeof o.noProxy !== 'string' && !(Array.isArray(o.noProxy) && o.noProxy.every((e) => typeof e === 'string')))
    bad('noProxy', "a no_proxy list: 'localhost,.internal.example,10.0.0.0/8' or an array of entries", o.noProxy);
  const noProxy = o.noProxy === undefined ? undefined : parseNoProxy(o.noProxy, 'noProxy');
  if (p === false) return { kind: 'none', disabled: true };
  if (typeof p === 'string') return { kind: 'option', proxy: parseProxyUrl(p, 'proxy'), noProxy: noProxy ?? [] };
  if (typeof p === 'function') return { kind: 'function', choose: p as (url: URL) => string | undefined, noProxy: noProxy ?? [] };
  if (p !== undefined) return bad('proxy', "a proxy URL such as 'http://proxy.example:3128', false, or a function (url) => proxy URL | undefined", p);
  const fromEnv = proxyFromEnv(env);
  if (fromEnv.kind === 'env' && noProxy !== undefined) return { ...fromEnv, noProxy, noProxyVariable: undefined };
  return fromEnv;
}

const KNOWN = [
  'headers',
  'auth',
  'trust',
  'sensitiveHeaders',
  'maxRedirects',
  'redirect',
  'allowDowngrade',
  'crossOriginBody',
  'cookies',
  'connectTo',
  'ca',
  'timeout',
  'hooks',
  'replayBufferSize',
  'followMetaRefresh',
  'dispatcher',
  'proxy',
  'proxyAuth',
  'noProxy',
  'privateNetworks',
  'decompress',
  'maxBodySize',
  'recordBodies',
  'connections',
  'retry',
  'netrc',
  'hsts',
  'http2',
] as const;
const KNOWN_TIMEOUT = ['connect', 'headers', 'body', 'total'] as const;
const KNOWN_HOOKS = ['beforeRedirect'] as const;
/** Standard RequestInit keys with no meaning here: accepted and ignored, as Node's fetch does. */
export const IGNORED_INIT = ['cache', 'credentials', 'mode', 'referrerPolicy', 'referrer', 'integrity', 'keepalive', 'duplex', 'priority', 'window'] as const;
export const KNOWN_INIT = ['method', 'headers', 'body', 'redirect', 'signal', 'dispatcher', 'decompress', ...IGNORED_INIT] as const;

/** Throws ERR_UNKNOWN_OPTION naming the first unknown key, with a suggestion when one is close. */
export function rejectUnknown(obj: object, known: readonly string[], where: string, skipUndefined = false): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    if (skipUndefined && (obj as Record<string, unknown>)[key] === undefined) continue;
    const best = closest(key, known, (k) => Math.max(2, Math.floor(k.length / 3)));
    const hint = best !== undefined ? ` Did you mean '${best}'?` : ` Known options: ${known.join(', ')}.`;
    throw new HopwiseOptionError('ERR_UNKNOWN_OPTION', `${where}: unknown option '${key}'.${hint}`);
  }
}

const bad = (name: string, expected: string, got: unknown): never => {
  throw new HopwiseOptionError('ERR_INVALID_OPTION', `${name} must be ${expected}; got ${got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got === 'string' ? `'${got}'` : typeof got}`);
};

function ms(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(name, 'a positive number of milliseconds', v);
  return v as number;
}

const pair = (name: string, p: unknown): [string, string] => (Array.isArray(p) && p.length === 2 ? [String(p[0]), String(p[1])] : bad(name, 'an array of [name, value] pairs', p));

/**
 * Headers in any of the shapes callers hand in: a Headers object from any package (this Node's,
 * undici's, node-fetch's...), anything iterable of [name, value] pairs or with `entries()` or
 * `forEach((value, name) => ...)`, an array of pairs, or a plain record. What cannot be read is an
 * error that says so: a header (an Authorization!) is never dropped silently.
 */
function headerEntries(name: string, headers: object): [string, string][] {
  if (headers instanceof Headers) return [...headers];
  if (Array.isArray(headers)) return headers.map((p) => pair(name, p));
  const h = headers as { [Symbol.iterator]?: unknown; entries?: unknown; forEach?: unknown };
  if (typeof h[Symbol.iterator] === 'function') return [...(headers as Iterable<unknown>)].map((p) => pair(name, p));
  if (typeof h.entries === 'function') {
    const it = (h.entries as () => unknown).call(headers);
    if (it !== null && typeof it === 'object' && typeof (it as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(it as Iterable<unknown>)].map((p) => pair(name, p));
  }
  if (typeof h.forEach === 'function') {
    const out: [string, string][] = [];
    (h.forEach as (cb: (v: unknown, k: unknown) => void) => void).call(headers, (v, k) => out.push([String(k), String(v)]));
    return out;
  }
  const proto = Object.getPrototypeOf(headers) as unknown;
  const keys = Object.keys(headers);
  if (proto !== Object.prototype && proto !== null && keys.length === 0) {
    const kind = (headers as { constructor?: { name?: string } }).constructor?.name || 'object';
    throw new HopwiseOptionError(
      'ERR_INVALID_OPTION',
      `${name}: cannot read headers from this ${kind} (no entries(), forEach(), iterator or own properties); pass a Headers object, an array of [name, value] pairs or a plain object.`,
    );
  }
  return keys.map((k) => {
    const v = (headers as Record<string, unknown>)[k];
    return [k, typeof v === 'string' || typeof v === 'number' ? String(v) : bad(`${name}.${k}`, 'a string', v)];
  });
}

export function validateHeaderRecord(name: string, headers: unknown): [string, string][] {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== 'object') return bad(name, 'an object of header names to values', headers);
  const entries = headerEntries(name, headers);
  for (const [k, v] of entries) {
    if (!isToken(k)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${name}: '${k}' is not a valid header name (RFC 9110 §5.1)`);
    // A CR or LF would let a value smuggle a second header (request splitting).
    const problem = headerValueProblem(v);
    if (problem) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${name}: the value of '${k}' contains ${problem}`);
  }
  return entries;
}

/** `env`: where proxy variables are read (process.env unless a test hands in its own). */
export function resolveOptions(input: SessionOptions = {}, env: Env = process.env): ResolvedOptions {
  if (typeof input !== 'object' || input === null) bad('Session options', 'an object', input);
  rejectUnknown(input, KNOWN, 'new Session()');
  const o = input;

  const auth = o.auth === undefined ? [] : Array.isArray(o.auth) ? o.auth : [o.auth];
  auth.forEach((p, i) => {
    if (!isAuthProvider(p)) bad(`auth[${i}]`, 'a provider from bearer(), basic(), header() or an object { kind, header, value(ctx) }', p);
    if (!isToken(p.header)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `auth[${i}]: '${p.header}' is not a valid header name (RFC 9110 §5.1)`);
  });
  // Header names compare lower-case everywhere in the policy; a custom provider may say 'X-Api-Key'.
  // Object.create keeps the provider's own prototype (and `this`) for value().
  const providers = auth.map((p) => (p.header === p.header.toLowerCase() ? p : (Object.create(p, { header: { value: p.header.toLowerCase(), enumerable: true } }) as AuthProvider)));

  if (o.trust !== undefined && !Array.isArray(o.trust)) bad('trust', "an array of host patterns such as ['api.example.com', '*.example.com']", o.trust);
  if (o.sensitiveHeaders !== undefined && (!Array.isArray(o.sensitiveHeaders) || o.sensitiveHeaders.some((h) => typeof h !== 'string')))
    bad('sensitiveHeaders', 'an array of header names', o.sensitiveHeaders);
  if (o.maxRedirects !== undefined && (!Number.isInteger(o.maxRedirects) || o.maxRedirects < 0)) bad('maxRedirects', 'a whole number >= 0', o.maxRedirects);
  if (o.redirect !== undefined && !['follow', 'manual', 'error'].includes(o.redirect)) bad('redirect', "'follow', 'manual' or 'error'", o.redirect);
  if (o.allowDowngrade !== undefined && typeof o.allowDowngrade !== 'boolean') bad('allowDowngrade', 'a boolean', o.allowDowngrade);
  if (o.followMetaRefresh !== undefined && typeof o.followMetaRefresh !== 'boolean') bad('followMetaRefresh', 'a boolean', o.followMetaRefresh);
  if (o.crossOriginBody !== undefined && o.crossOriginBody !== 'error' && o.crossOriginBody !== 'send') bad('crossOriginBody', "'error' or 'send'", o.crossOriginBody);
  if (
    o.cookies !== undefined &&
    o.cookies !== false &&
    (typeof o.cookies !== 'object' || o.cookies === null || typeof (o.cookies as CookieStore).evaluate !== 'function' || typeof (o.cookies as CookieStore).setCookie !== 'function')
  ) {
    bad('cookies', 'a CookieJar or false', o.cookies);
  }
  if (o.connectTo !== undefined && !Array.isArray(o.connectTo)) bad('connectTo', "an array of 'HOST1:PORT1:HOST2:PORT2' rules", o.connectTo);
  const ca = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
  ca.forEach((c, i) => typeof c === 'string' || Buffer.isBuffer(c) || bad(`ca[${i}]`, 'a PEM string or Buffer', c));
  const timeout = { ...DEFAULTS.timeout };
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== 'object' || o.timeout === null) bad('timeout', 'an object { connect, headers, body, total } in ms', o.timeout);
    rejectUnknown(o.timeout, KNOWN_TIMEOUT, 'timeout');
    for (const k of KNOWN_TIMEOUT) if (o.timeout[k] !== undefined) timeout[k] = ms(`timeout.${k}`, o.timeout[k]);
  }
  if (o.hooks !== undefined) {
    if (typeof o.hooks !== 'object' || o.hooks === null) bad('hooks', 'an object { beforeRedirect }', o.hooks);
    rejectUnknown(o.hooks, KNOWN_HOOKS, 'hooks');
    if (o.hooks.beforeRedirect !== undefined && typeof o.hooks.beforeRedirect !== 'function') bad('hooks.beforeRedirect', 'a function', o.hooks.beforeRedirect);
  }
  if (o.dispatcher !== undefined) {
    const d = o.dispatcher as unknown;
    const isDispatcher = typeof d === 'object' && d !== null && typeof (d as Dispatcher).request === 'function' && typeof (d as Dispatcher).dispatch === 'function';
    if (typeof d !== 'function' && !isDispatcher) bad('dispatcher', 'an undici Dispatcher (Agent, Pool, a composed dispatcher) or a function (agent) => dispatcher', d);
    if (isDispatcher && ((o.connectTo?.length ?? 0) > 0 || o.ca !== undefined)) {
      throw new HopwiseOptionError(
        'ERR_INVALID_OPTION',
        "connectTo and ca configure hopwise's own agent, which a dispatcher of your own replaces: set them on your dispatcher, or pass dispatcher as a function (agent) => agent.compose(...) to keep them.",
      );
    }
    if (isDispatcher && ((o.proxy !== undefined && o.proxy !== false) || o.proxyAuth !== undefined || o.noProxy !== undefined)) {
      throw new HopwiseOptionError(
        'ERR_INVALID_OPTION',
        "proxy, proxyAuth and noProxy configure hopwise's own agents, which a dispatcher of your own replaces: configure the proxy on your dispatcher (undici ProxyAgent), or pass dispatcher as a function (agent) => agent.compose(...) to keep them.",
      );
    }
  }
  if (o.decompress !== undefined && typeof o.decompress !== 'boolean') bad('decompress', 'a boolean', o.decompress);
  if (o.maxBodySize !== undefined && !(o.maxBodySize === Infinity || (Number.isInteger(o.maxBodySize) && o.maxBodySize > 0)))
    bad('maxBodySize', 'a whole number of bytes > 0, or Infinity', o.maxBodySize);
  if (o.recordBodies !== undefined && typeof o.recordBodies !== 'boolean' && !(Number.isInteger(o.recordBodies) && o.recordBodies >= 0))
    bad('recordBodies', 'a boolean or a whole number of bytes', o.recordBodies);
  if (o.http2 !== undefined && typeof o.http2 !== 'boolean') bad('http2', 'a boolean', o.http2);
  if (o.connections !== undefined && !(Number.isInteger(o.connections) && o.connections > 0)) bad('connections', 'a whole number > 0', o.connections);
  if (o.replayBufferSize !== undefined && (!Number.isInteger(o.replayBufferSize) || o.replayBufferSize < 0)) bad('replayBufferSize', 'a whole number of bytes >= 0', o.replayBufferSize);

  return {
    headers: validateHeaderRecord('headers', o.headers),
    auth: providers,
    trust: (o.trust ?? []).map((p) => parseHostPattern(p, 'trust')),
    sensitiveHeaders: new Set((o.sensitiveHeaders ?? []).map((h) => h.toLowerCase())),
    maxRedirects: o.maxRedirects ?? DEFAULTS.maxRedirects,
    redirect: o.redirect ?? DEFAULTS.redirect,
    allowDowngrade: o.allowDowngrade ?? DEFAULTS.allowDowngrade,
    crossOriginBody: o.crossOriginBody ?? DEFAULTS.crossOriginBody,
    cookies: o.cookies,
    connectTo: parseConnectTo(o.connectTo ?? []),
    ca,
    timeout: timeout as ResolvedOptions['timeout'],
    beforeRedirect: o.hooks?.beforeRedirect,
    replayBufferSize: o.replayBufferSize ?? DEFAULTS.replayBufferSize,
    followMetaRefresh: o.followMetaRefresh ?? DEFAULTS.followMetaRefresh,
    dispatcher: o.dispatcher,
    // A dispatcher of the caller's own connects by itself: the environment's proxy does not apply.
    proxy: o.dispatcher !== undefined && typeof o.dispatcher !== 'function' ? { kind: 'none' } : resolveProxy(o, env),
    proxyAuth: resolveProxyAuth(o.proxyAuth),
    privateNetworks: resolvePrivateNetworks(o.privateNetworks),
    decompress: o.decompress ?? DEFAULTS.decompress,
    maxBodySize: o.maxBodySize ?? DEFAULTS.maxBodySize,
    recordBodies: o.recordBodies === true ? DEFAULTS.recordBodies : typeof o.recordBodies === 'number' ? o.recordBodies : 0,
    connections: o.connections ?? DEFAULTS.connections,
    retry: resolveRetry(o.retry),
    netrc: resolveNetrc(o.netrc, env),
    http2: o.http2 ?? false,
    hsts: o.hsts === false ? undefined : o.hsts === undefined || o.hsts === true ? new HstsStore() : o.hsts instanceof HstsStore ? o.hsts : bad('hsts', 'a boolean or an HstsStore', o.hsts),
  };
}

function resolveNetrc(v: unknown, env: Env): Netrc | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true || (typeof v === 'string' && v !== '')) return loadNetrc(v, env);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    rejectUnknown(v, ['path', 'default'], 'netrc');
    const o = v as { path?: unknown; default?: unknown };
    if (o.path !== undefined && (typeof o.path !== 'string' || o.path === '')) bad('netrc.path', 'a file path', o.path);
    if (o.default !== undefined && typeof o.default !== 'boolean') bad('netrc.default', 'a boolean', o.default);
    return loadNetrc(o as { path?: string; default?: boolean }, env);
  }
  return bad('netrc', 'true, a file path, or { path?, default?: boolean }', v);
}
