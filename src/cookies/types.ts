/**
 * The contract between the cookie jar and the session. The jar is synchronous; the session calls
 * it once per hop to get the Cookie header (with verdicts for the trace) and once per Set-Cookie line.
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
  'syntax' | 'control-char' | 'too-large' | 'invalid-domain' | 'public-suffix' | 'secure-from-insecure' | 'prefix-secure' | 'prefix-host' | 'overwrite-secure' | 'expired';

export type SetCookieResult =
  | {
      stored: true;
      cookie: Cookie;
      reason: 'stored' | 'replaced';
      detail: string;
      /** Set when a browser would have treated this cookie differently (SameSite=None without Secure). */
      sameSiteNote?: string;
    }
  | { stored: false; reason: SetCookieRejectReason | 'deleted'; detail: string; name?: string };

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

/** What the session needs from a jar. `CookieJar` implements it; so may a user's own store. */
export interface CookieStore {
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult;
  getCookieString(url: string | URL): string;
  /**
   * The Cookie header for one hop plus the verdicts the trace shows: every cookie sent, and the
   * withheld cookies that were plausibly meant for this host (same registrable domain), so the trace
   * can say why a session cookie did not go without listing a 10,000-cookie jar.
   */
  evaluate(
    url: URL,
    context?: CookieContext,
  ): {
    header: string;
    verdicts: CookieVerdict[];
    /** How many withheld cookies of other hosts of the same site were left out of `verdicts`. */
    omitted?: number;
  };
}

// Keep ReasonCode assignable: every reason the jar emits is a trace reason code.
type _Check = SetCookieRejectReason | CookieSendReason | 'match' | 'stored' | 'replaced' | 'deleted' extends ReasonCode ? true : never;
export const _reasonCheck: _Check = true;
