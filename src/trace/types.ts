/**
 * The trace: one Hop per exchange, each carrying the decisions that shaped it. Decisions are the
 * single source of truth: the session acts on them and every renderer (text, JSON, HAR, doctor)
 * reads them. Nothing re-derives "why" after the fact.
 *
 * A Decision is a discriminated union by `subject`; each member fixes which actions and reasons it
 * can carry and which facts it records. The facts a reader needs (the origin pair and whether it is
 * the same site, a cookie's attributes, whether a value changed) are recorded once, when the
 * decision is made, by the builders in `decisions.ts`, which also own the wording of `detail`.
 */
import type { CookieSendReason, SetCookieRejectReason } from '../cookies/types.js';
import type { ReasonCode } from './reasons.js';

/** Two origins of one hop transition, and whether they share a site (the jar's Public Suffix List). */
export interface OriginPair {
  /** The previous hop's origin. */
  from: string;
  /** This hop's origin. */
  to: string;
  /** Same registrable domain, with the jar's PSL settings (private suffixes such as github.io count). */
  sameSite: boolean;
}

/** A request header the caller (or the session's defaults, or the beforeRedirect hook) set. */
export interface HeaderDecision {
  subject: 'header';
  name: string;
  action: 'sent' | 'stripped' | 'dropped';
  reason:
    | 'first-request'
    | 'same-origin'
    | 'cross-origin'
    | 'origin-bound'
    | 'stripped-earlier'
    | 'https-upgrade'
    | 'trusted'
    | 'hook-added'
    | 'hook-removed'
    | 'overrides-header'
    | 'body-dropped-method-change';
  detail: string;
  /** Present when the decision compares two origins (every hop after the first). */
  facts?: OriginPair & { trustedBy?: string };
}

/** A header produced by an auth provider. */
export interface AuthDecision {
  subject: 'auth';
  name: string;
  action: 'sent' | 're-applied' | 'withheld' | 'refreshed' | 'retried' | 'stopped';
  reason:
    | 'in-scope'
    | 'out-of-scope'
    | 'downgrade-allowed'
    | 'refreshed-after-401'
    | 'awaiting-challenge'
    | 'other-scheme'
    | 'answered-challenge'
    | 'stale-nonce'
    | 'challenge-rejected'
    | 'unanswered-challenge'
    | 'netrc'
    | 'netrc-overridden';
  detail: string;
  facts: {
    provider: string;
    /** The provider's scope, as written ('api.example.com, *.example.com') or the default scope. */
    scope: string;
    /** This hop's origin. */
    to: string;
    /** The previous hop's origin and whether it shares a site with `to`; absent on the first request. */
    from?: string;
    sameSite?: boolean;
    /** The challenge's scheme (lower-case) and realm, for decisions about a `WWW-Authenticate` challenge. */
    scheme?: string;
    realm?: string;
    /** Every scheme the 401 offered, in order (an unanswered challenge). */
    offered?: string[];
  };
}

/** A cookie's attributes, as stored in the jar (never its value). */
export interface CookieFacts {
  domain: string;
  path: string;
  hostOnly: boolean;
  secure: boolean;
}

/**
 * Where a cookie was kept, when not in the session's own in-memory jar: `redis`, a `RedisCookieStore`
 * shared by many processes (absent for the in-memory jar). A reader tells a shared session from a
 * local one by it: a cookie another worker stored is a `redis` cookie this process never received.
 */
export type CookieStoreFact = 'redis';

/** A cookie from the jar (or the caller's Cookie header), considered for this hop's request. */
export interface CookieDecision {
  subject: 'cookie';
  name: string;
  action: 'sent' | 'withheld';
  reason: 'match' | CookieSendReason | 'caller-header';
  detail: string;
  /**
   * The cookie's attributes; absent for the caller's own Cookie header. A cookie withheld for its
   * domain (`host-only`, `domain-mismatch`) also records the request host's registrable domain,
   * with the jar's Public Suffix List: the Domain= that would cover both hosts, so a reader can
   * name it without a PSL of its own (the jar lists only withheld cookies of the same site).
   */
  facts?: CookieFacts & { requestSite?: string; store?: CookieStoreFact };
}

/** A Set-Cookie line of this hop's response. */
export interface SetCookieDecision {
  subject: 'set-cookie';
  /** The cookie name, when the line had a usable one. */
  name?: string;
  action: 'stored' | 'rejected' | 'dropped';
  reason: 'stored' | 'replaced' | 'deleted' | 'evicted' | SetCookieRejectReason | 'cookies-disabled';
  detail: string;
  /**
   * For a stored cookie: its attributes, and (when it replaced a cookie this very request carried)
   * whether the value changed — the "session not recognised" signal, a boolean, never the values.
   * For a cookie a response `deleted` (Max-Age=0, a past Expires) or the jar `evicted` to make room
   * (action `dropped`, `name` the cookie that went): that cookie's attributes, and whether this
   * very request carried a cookie of that name. An eviction also names the cookie whose storing
   * caused it (`evictedBy`).
   */
  facts?: CookieFacts & { sentOnThisHop: boolean; valueChanged?: boolean; evictedBy?: string; store?: CookieStoreFact };
}

/** The request method of the next hop. */
export interface MethodDecision {
  subject: 'method';
  name?: undefined;
  action: 'rewritten' | 'kept';
  reason: 'method-rewrite-301' | 'method-rewrite-302' | 'method-rewrite-303' | 'method-kept' | 'meta-refresh' | 'hook-changed';
  detail: string;
  facts: { from: string; to: string; status?: number };
}

/** The request body of the next hop. */
export interface BodyDecision {
  subject: 'body';
  name?: undefined;
  action: 'sent' | 'dropped' | 'rejected';
  reason: 'body-dropped-method-change' | 'body-replayed' | 'cross-origin-body' | 'body-not-replayable' | 'cross-origin-body-refused';
  detail: string;
  facts?: { from: string; to: string };
}

/** The Location header of this hop's response, as resolved. */
export interface LocationDecision {
  subject: 'location';
  name?: undefined;
  action: 'dropped' | 'kept' | 'rejected';
  reason: 'userinfo-dropped' | 'fragment-inherited' | 'invalid-location';
  detail: string;
  facts?: { status: number };
}

/** Client-side "redirects" a 200 HTML page performs in a browser. */
export type ClientRedirectKind = 'meta-refresh' | 'refresh-header' | 'script';

/** Whether and how the chain continues after this hop. */
export interface RedirectDecision {
  subject: 'redirect';
  /** The client-side redirect kind, for meta refresh and script decisions. */
  name?: ClientRedirectKind;
  action: 'followed' | 'stopped' | 'rewritten';
  reason:
    | 'redirect'
    | 'not-redirect-status'
    | 'no-location'
    | 'manual-mode'
    | 'error-mode'
    | 'downgrade-refused'
    | 'downgrade-allowed'
    | 'unsafe-scheme'
    | 'loop'
    | 'limit'
    | 'meta-refresh'
    | 'meta-refresh-not-followed'
    | 'script-redirect-not-followed'
    | 'hook-changed';
  detail: string;
  facts: {
    status?: number;
    /** Origins for followed redirects and downgrades; the target URL for loops and unsafe schemes. */
    from?: string;
    to?: string;
    url?: string;
    maxRedirects?: number;
    /** Client-side redirects: what the page does, the target as written, the delay. */
    kind?: ClientRedirectKind;
    target?: string;
    delaySeconds?: number;
  };
}

/** How this hop reaches its origin: direct, or through a proxy (never the proxy's credentials). */
export interface RouteDecision {
  subject: 'route';
  name?: undefined;
  action: 'direct' | 'proxied';
  reason: 'direct' | 'proxy-env' | 'proxy-option' | 'proxy-function' | 'no-proxy-match' | 'proxy-disabled' | 'caller-dispatcher';
  detail: string;
  facts: {
    /** 'direct' or 'via http://proxy.example:3128' (the proxy's origin, no userinfo); "the caller's dispatcher" when that connects. */
    route: string;
    /** The proxy's origin when proxied. */
    proxy?: string;
    /** Absolute-form request through the proxy, or a CONNECT tunnel (https:, or a connectTo rule). */
    mode?: 'absolute-form' | 'tunnel';
    /** The environment variable that chose the proxy, or whose no_proxy entry sent the hop direct. */
    variable?: string;
    /** The no_proxy entry that matched. */
    noProxy?: string;
    /** The previous hop's route, when this hop's differs (a redirect changed the route). */
    previous?: string;
  };
}

/** Proxy credentials (Proxy-Authorization): judged by route, never by origin. */
export interface ProxyAuthDecision {
  subject: 'proxy-auth';
  name: 'proxy-authorization';
  action: 'sent' | 'dropped';
  reason: 'proxy-credentials' | 'route-changed' | 'direct-route';
  detail: string;
  facts: {
    /** Where the credential came from. */
    source: 'proxy-url' | 'proxyAuth' | 'caller-header';
    /** The proxy it was sent to (sent), or this hop's route (dropped). */
    route: string;
    /** The route it belonged to, when dropped because the route changed. */
    previous?: string;
  };
}

/** The private-network guard refused an address (SSRF through redirects). */
export interface AddressDecision {
  subject: 'address';
  name?: undefined;
  action: 'refused';
  reason: 'private-address';
  detail: string;
  facts: {
    /** The logical host of the hop, and the address it resolved to (or the literal). */
    host: string;
    address: string;
    /** 'redirects' (a redirect from a public address may not reach a private one) or 'all'. */
    refuse: 'redirects' | 'all';
    /** The previous hop's address class, for a refused redirect. */
    fromClass?: 'public' | 'private' | 'unknown';
    /** The range the address fell in is the caller's `internal` list rather than the built-in one. */
    customList: boolean;
  };
}

/** The same request sent again after a retryable answer or a connection reset (the `retry` option). */
export interface RetryDecision {
  subject: 'retry';
  name?: undefined;
  action: 'retried' | 'stopped';
  reason: 'retry-status' | 'retry-reset' | 'retry-after-too-long' | 'retry-past-total' | 'retries-exhausted' | 'not-idempotent' | 'body-not-replayable';
  detail: string;
  facts: {
    /** The status that asked for the retry, or the transport error of a reset. */
    status?: number;
    error?: string;
    /** This retry's number (1 = the first retry) and the limit. */
    attempt: number;
    limit: number;
    /** How long hopwise waited before the retry (or would have had to), ms. */
    waitMs?: number;
    /** Where the wait came from. */
    source?: 'retry-after' | 'backoff';
    /** The Retry-After value as the server sent it. */
    retryAfter?: string;
  };
}

/** HSTS (RFC 6797): an http: request sent over https because the host is a Known HSTS Host. */
export interface HstsDecision {
  subject: 'hsts';
  name?: undefined;
  action: 'rewritten';
  reason: 'hsts-upgrade';
  detail: string;
  facts: {
    /** The URL as requested (http:) and as sent (https:). */
    from: string;
    to: string;
    /** The host whose Strict-Transport-Security made the upgrade (this host, or a parent with includeSubDomains). */
    knownHost: string;
    includeSubDomains: boolean;
  };
}

export type Decision =
  | HstsDecision
  | RetryDecision
  | HeaderDecision
  | AuthDecision
  | CookieDecision
  | SetCookieDecision
  | MethodDecision
  | BodyDecision
  | LocationDecision
  | RedirectDecision
  | RouteDecision
  | ProxyAuthDecision
  | AddressDecision;

export type DecisionSubject = Decision['subject'];
export type DecisionAction = Decision['action'];

/** The decision for one subject: `DecisionOf<'cookie'>` is `CookieDecision`. */
export type DecisionOf<S extends DecisionSubject> = Extract<Decision, { subject: S }>;

// Every reason a decision can carry is a code of the one closed list in reasons.ts.
type _ReasonCheck = Decision['reason'] extends ReasonCode ? true : never;
export const _decisionReasonCheck: _ReasonCheck = true;

/**
 * How many redirects a chain followed: hops repeated in place (a retry, an answered challenge, a
 * refreshed credential) are hops but not redirects.
 */
export function redirectsIn(hops: readonly Hop[]): number {
  let n = 0;
  for (const h of hops) if (h.decisions.some((d) => d.subject === 'redirect' && d.action === 'followed')) n++;
  return n;
}

export interface HopTimings {
  /** ms since epoch when the request started. */
  start: number;
  /** ms from start to TCP connected, when this hop opened a new connection. */
  connect?: number;
  /** ms from start to TLS handshake done, when this hop opened a new TLS connection. */
  tls?: number;
  /** ms from start to response headers. */
  firstByte?: number;
  /** ms from start to the end of the response body (redirect bodies are discarded). */
  end?: number;
}

export interface Hop {
  index: number;
  url: string;
  method: string;
  /** Request headers as sent, secrets redacted (`Bearer ‹redacted›`). Lower-case names. */
  requestHeaders: Record<string, string>;
  /** 0 when no response arrived (see `error`). */
  status: number;
  statusText: string;
  /** Response headers, lower-case names; Set-Cookie values redacted, names kept. */
  responseHeaders: Record<string, string | string[]>;
  /** The resolved Location of a redirect response (userinfo removed). */
  location?: string;
  /** Bytes of the request body sent on this hop, when there was one. */
  requestBodySize?: number;
  /** The request body as text, capped, secret values redacted: only with `recordBodies`, for text-like content types. */
  requestBody?: string;
  /** The response body as text (decoded), capped, secret values redacted: only with `recordBodies`, text-like types, once read. */
  responseBody?: string;
  /** Decoded size of the response body, when `recordBodies` saw all of it. */
  responseBodySize?: number;
  newConnection: boolean;
  timings: HopTimings;
  decisions: Decision[];
  error?: { code: string; message: string };
  /** 'direct' or 'via <proxy origin>': how this hop reached its origin. */
  route?: string;
  /**
   * The address this hop's connection went to, when hopwise opened it or reused one it knows
   * (direct routes); for a proxied hop, only an IP-literal target (the proxy resolves names).
   */
  remoteAddress?: string;
  /**
   * The private-network guard's class of that address; 'unknown' when hopwise did not connect to the
   * origin itself (a proxy resolved the name, or the caller's dispatcher connected).
   */
  addressClass?: 'public' | 'private' | 'unknown';
  /**
   * The HTTP version this hop used, when hopwise's own agent carried it: 'h2' when ALPN chose HTTP/2
   * (the http2 option), else 'http/1.1'.
   */
  protocol?: 'http/1.1' | 'h2';
  /**
   * Which server answered, as the response said (absorb records it): the fingerprint headers it
   * carried and the load balancer affinity cookies it set (names only). The doctor compares them
   * between hops when a session is lost ("two backends answered this chain").
   */
  backend?: BackendFingerprint;
}

/**
 * The response facts that tell one backend from another: `Server` (RFC 9110 §10.2.4), `Via`
 * (§7.6.3) and the de-facto `X-Backend`, `X-Served-By`, `X-Server`, ... headers, lower-case names,
 * values as sent; and the names of the balancer affinity cookies the response set (AWSALB,
 * SERVERID, BIGipServer*, ARRAffinity, ...), never their values.
 */
export interface BackendFingerprint {
  headers: Record<string, string>;
  affinityCookies?: string[];
}
