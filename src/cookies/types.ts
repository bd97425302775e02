/**
 * The contract between the cookie jar and the session. The session calls it once per hop to get the
 * Cookie header (with verdicts for the trace) and once per Set-Cookie line. The in-memory jar answers
 * synchronously; a shared store (`hopwise/redis`) answers with a promise, and the session awaits only
 * an answer that is a promise, so the in-memory jar keeps its synchronous fast path.
 */
import type { ReasonCode } from '../trace/reasons.js';

export type SameSite = 'strict' | 'lax' | 'none';

export interface Cookie {
  name: string;
  value: string;
  /** Canonical host (host-only) or Domain attribute value without a leading dot, lower-case. */
  domain: string;
  path: string;
  hostOnly: boolean;
  secure: boolean;
  httpOnly: boolean;
  /** Absent when the Set-Cookie line had no (valid) SameSite attribute. */
  sameSite?: SameSite;
  /** ms since epoch; null for a session cookie. */
  expires: number | null;
  /** ms since epoch. */
  creation: number;
  lastAccess: number;
}

export type SetCookieRejectReason =
  | 'syntax'
  | 'control-char'
  | 'too-large'
  | 'invalid-domain'
  | 'public-suffix'
  | 'secure-from-insecure'
  | 'prefix-secure'
  | 'prefix-host'
  | 'overwrite-secure'
  | 'expired'
  /** Browser rules only (a HAR replay): SameSite=None without Secure; hopwise's own jar keeps it with a note. */
  | 'samesite-none-insecure';

export type SetCookieResult =
  | {
      stored: true;
      cookie: Cookie;
      reason: 'stored' | 'replaced';
      detail: string;
      /** Set when a browser would have treated this cookie differently (SameSite=None without Secure). */
      sameSiteNote?: string;
      /** The cookies the jar's limits evicted to make room for this one (RFC 6265bis §5.7), least recently used first. */
      evicted?: CookieKey[];
      /** Where the cookie was stored when not the in-memory jar: `redis`, a store shared by many processes. */
      store?: 'redis';
    }
  | {
      stored: false;
      reason: SetCookieRejectReason | 'deleted';
      detail: string;
      name?: string;
      /** For `deleted`: the stored cookie the line deleted. */
      deleted?: CookieKey;
      store?: 'redis';
    };

/** A cookie's identity and attributes, without its value (what a trace may record). */
export type CookieKey = Pick<Cookie, 'name' | 'domain' | 'path' | 'hostOnly' | 'secure'>;

/**
 * Why a cookie is not sent. `samesite-strict` and `samesite-lax` only come with browser rules
 * (`CookieContext.browser`, a replay of a browser's traffic): hopwise as a client never withholds for SameSite.
 */
export type CookieSendReason = 'domain-mismatch' | 'host-only' | 'path-mismatch' | 'secure-only' | 'expired' | 'samesite-strict' | 'samesite-lax';

export interface CookieVerdict {
  cookie: Cookie;
  sent: boolean;
  reason: 'match' | CookieSendReason;
  /** One line for a person: the facts (cookie domain/path vs request host/path). */
  detail: string;
  /** What a browser would do with SameSite for a cross-site request, when it matters. */
  sameSiteNote?: string;
  /** Where the cookie came from when not the in-memory jar: `redis`, a store shared by many processes. */
  store?: 'redis';
}

/**
 * Optional facts about the request a cookie evaluation is for. They never change what hopwise sends
 * (a non-browser client has no "site for cookies"); they only make `sameSiteNote` precise.
 */
export interface CookieContext {
  /** The URL of the request that led to this one (for a redirect chain: the chain's first URL). */
  initiator?: string | URL;
  /** The request method; a cross-site POST is where SameSite=Lax matters. */
  method?: string;
  /**
   * Browser rules, for a replay of a browser's traffic (`diagnoseHar`): with it, the jar withholds
   * what SameSite withholds in a browser (RFC 6265bis §5.8.3 step 1). Absent for hopwise's own
   * requests, which keep their documented behaviour (a non-browser client has no site for cookies).
   */
  browser?: BrowserSameSite;
  /**
   * For a shared store (`RedisCookieStore`): `performance.now()` when the request (the whole chain)
   * started. A store may answer from a cache it checked against the shared state at or after this
   * moment: what other processes changed after a request started need not be seen by it.
   */
  freshSince?: number;
}

/** A request's same-site context as a browser computes it (RFC 6265bis §5.2), from `sameSiteContext` in rules.ts. */
export interface BrowserSameSite {
  /** Same-site (§5.2): no initiator (the user typed the URL), or the initiator and every URL that counts share the target's site. */
  sameSite: boolean;
  /** A top-level navigation: SameSite=Lax cookies go on a cross-site one with a safe method (§5.8.3 step 1). */
  topLevel: boolean;
  /** The request method. */
  method: string;
  /** Cookies without SameSite are Lax ("Lax by default", §5.6.7 step 3; Chromium). false: they are None (Firefox's default). */
  laxByDefault: boolean;
  /**
   * "Lax-allowing-unsafe" (§5.6.7.1): a Lax-by-default cookie younger than this many ms still goes on a
   * cross-site top-level POST (Chromium: 2 minutes). 0: off.
   */
  laxAllowingUnsafeMs: number;
}

/** One hop's cookies from a store: the Cookie header and the verdicts the trace shows. */
export interface CookieEvaluation {
  header: string;
  verdicts: CookieVerdict[];
  /** How many withheld cookies of other hosts of the same site were left out of `verdicts`. */
  omitted?: number;
}

/**
 * What the session needs from a jar. `CookieJar` implements it synchronously; a shared store
 * (`RedisCookieStore`) returns promises; so may a user's own store. A store that answers with a
 * promise rejects with a `HopwiseError` (`ERR_STORE`) when it cannot answer, never with an empty jar.
 */
export interface CookieStore {
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult | PromiseLike<SetCookieResult>;
  getCookieString(url: string | URL): string | PromiseLike<string>;
  /**
   * The Cookie header for one hop plus the verdicts the trace shows: every cookie sent, and the
   * withheld cookies that were plausibly meant for this host (same registrable domain), so the trace
   * can say why a session cookie did not go without listing a 10,000-cookie jar.
   */
  evaluate(url: URL, context?: CookieContext): CookieEvaluation | PromiseLike<CookieEvaluation>;
  /** Optional (a shared store's): the writes of one request chain, decided at once and written together before delivery. */
  batch?(): CookieBatch;
}

/**
 * The writes of one request chain to a shared store (`RedisCookieStore`). `setCookie` decides a line
 * at once against the store's cache (the chain's next hops see it) and queues it; `flush()`, before
 * the response is delivered, writes every queued line in one round trip and answers with each line's
 * final result, in order: decided again when another process wrote first, with the decision the
 * chain went on with in `first` when the outcome changed. A line is never reported as stored when
 * Redis did not take it (`flush()` rejects with ERR_STORE).
 */
export interface CookieBatch {
  setCookie(setCookieLine: string, url: URL): SetCookieResult | PromiseLike<SetCookieResult>;
  flush(): PromiseLike<{ result: SetCookieResult; first?: SetCookieResult }[]>;
}

/** A store that answers synchronously: the in-memory jar (and the HAR replay's), asked by prepare and absorb directly. */
export interface SyncCookieStore extends CookieStore {
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult;
  getCookieString(url: string | URL): string;
  evaluate(url: URL, context?: CookieContext): CookieEvaluation;
}

// Keep ReasonCode assignable: every reason the jar emits is a trace reason code.
type _Check = SetCookieRejectReason | CookieSendReason | 'match' | 'stored' | 'replaced' | 'deleted' extends ReasonCode ? true : never;
export const _reasonCheck: _Check = true;
