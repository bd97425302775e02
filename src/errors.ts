import type { Hop } from './trace/types.js';

/**
 * Every failure hopwise reports has a stable `code`. Codes are part of the public contract: match on
 * `err.code`, never on the message. Messages are written for a person and never contain a secret
 * (no header values, no userinfo, secret-looking query parameters redacted).
 */
export const ERROR_CODES = {
  ERR_INVALID_OPTION: 'an option has the wrong type or value',
  ERR_UNKNOWN_OPTION: 'an option name is not known (likely a typo)',
  ERR_INVALID_URL: 'the request URL cannot be used',
  ERR_INVALID_BODY: 'the request body type is not supported',
  ERR_TOO_MANY_REDIRECTS: 'more redirects than maxRedirects',
  ERR_REDIRECT_LOOP: 'the same request came round twice in one chain',
  ERR_UNSAFE_REDIRECT: 'a redirect to a scheme other than http: or https:',
  ERR_INSECURE_REDIRECT: 'a redirect from https: to http: without allowDowngrade',
  ERR_INVALID_REDIRECT: 'a Location header that is not a URL',
  ERR_REDIRECT: 'a redirect while redirect: "error"',
  ERR_CROSS_ORIGIN_BODY: 'a 307/308 would resend the body to an untrusted origin',
  ERR_BODY_NOT_REPLAYABLE: 'a 307/308 needs the body again but it was a stream larger than the replay buffer',
  ERR_TIMEOUT: 'a connect, headers, body or total timeout fired',
  ERR_ABORTED: 'the caller aborted the request',
  ERR_CONNECT: 'the connection could not be made',
  ERR_TLS: 'the TLS handshake or certificate check failed',
  ERR_NETWORK: 'the connection failed during the exchange',
  ERR_HEADER_TOO_LARGE: 'a response header exceeded the size limit',
  ERR_SESSION_CLOSED: 'the session was closed',
  ERR_PROXY: 'the proxy could not be reached, or could not reach the origin',
  ERR_PROXY_AUTH: 'the proxy answered 407: proxy credentials missing or refused',
  ERR_PRIVATE_ADDRESS: 'the privateNetworks policy refused a private address for this hop',
  ERR_BODY_TOO_LARGE: 'the response body, once decoded, exceeded maxBodySize',
  ERR_HOOK: 'a beforeRedirect hook threw (its error is err.cause)',
  ERR_DECODE: 'the response body could not be decoded (corrupt gzip/deflate/br/zstd data)',
  ERR_NETRC_PERMISSIONS: 'the .netrc file can be read or written by other users, so it is not used',
  ERR_INVALID_HAR: 'the HAR given to `hopwise doctor --har` / `diagnoseHar` is not a readable HAR 1.2 log',
  ERR_STORE: 'a shared store (Redis: cookies or a token) failed or did not answer in time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The brand every hopwise error carries, registered globally (`Symbol.for`) so that two copies of
 * hopwise in one process (two versions in node_modules, an ESM and a bundled copy) recognise each
 * other's errors: `err instanceof HopwiseError` holds for an error thrown by either copy.
 */
const BRAND = Symbol.for('hopwise.error');

type Branded = { [BRAND]?: readonly string[] };

/**
 * A TypeError, as Fetch's failures are (`err instanceof TypeError` is how SDKs tell a network failure
 * from a bug of theirs); an abort is named `AbortError` as a DOMException would be.
 */
export class HopwiseError extends TypeError {
  readonly code: ErrorCode;
  /** The trace up to and including the hop that failed. */
  hops: Hop[];
  constructor(code: ErrorCode, message: string, options: { hops?: Hop[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code === 'ERR_ABORTED' ? 'AbortError' : new.target.name;
    this.code = code;
    this.hops = options.hops ?? [];
    // The class names from this one up to HopwiseError: what `instanceof` answers across copies.
    const kinds: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && c !== TypeError && c !== Error; c = Object.getPrototypeOf(c)) kinds.push((c as { name: string }).name);
    Object.defineProperty(this, BRAND, { value: Object.freeze(kinds), enumerable: false });
  }

  /** `instanceof` by brand: true for errors of this class (or a subclass) from any copy of hopwise. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    if (typeof x !== 'object' || x === null) return false;
    const kinds = (x as Branded)[BRAND];
    return Array.isArray(kinds) ? kinds.includes(this.name) : Function.prototype[Symbol.hasInstance].call(this, x);
  }
}

/** Bad options or bad input given by the caller: fix the call. */
export class HopwiseOptionError extends HopwiseError {}
/** The redirect chain itself was refused by policy. */
export class HopwiseRedirectError extends HopwiseError {}
/** Transport failures: connect, TLS, timeouts, aborts. */
export class HopwiseNetworkError extends HopwiseError {}
