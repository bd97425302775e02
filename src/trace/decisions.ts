/**
 * The builders of every Decision hopwise records. Each one owns the wording of its `detail` and
 * records the facts a reader needs, once, when the decision is made; the phases call them and never
 * write a decision literal, so the trace text, the HAR, the CLI and the doctor cannot drift apart.
 */
import { redactQuery, traceUrl } from '../credentials/sensitive.js';
import type { CookieKey, CookieSendReason, CookieVerdict, SetCookieResult } from '../cookies/types.js';
import type {
  AuthDecision,
  BodyDecision,
  ClientRedirectKind,
  CookieDecision,
  HeaderDecision,
  LocationDecision,
  MethodDecision,
  OriginPair,
  AddressDecision,
  ProxyAuthDecision,
  RedirectDecision,
  HstsDecision,
  RetryDecision,
  RouteDecision,
  SetCookieDecision,
} from './types.js';

// ---- request headers the caller set ---------------------------------------------------------

export const header = {
  first: (name: string, to: string): HeaderDecision => ({ subject: 'header', name, action: 'sent', reason: 'first-request', detail: `${name} sent to ${to}` }),
  crossOrigin: (name: string, pair: OriginPair): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'stripped',
    reason: 'cross-origin',
    detail: `${name} not forwarded from ${pair.from} to ${pair.to}: different origin and not trusted`,
    facts: pair,
  }),
  originBound: (name: string, pair: OriginPair): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'stripped',
    reason: 'origin-bound',
    detail: `${name} set by the caller names ${pair.from}; not sent to ${pair.to}, nor later in the chain`,
    facts: pair,
  }),
  strippedEarlier: (name: string): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'stripped',
    reason: 'stripped-earlier',
    detail: `${name} was stripped at an earlier hop and stays stripped for the rest of the chain`,
  }),
  kept: (name: string, reason: 'same-origin' | 'https-upgrade' | 'trusted', pair: OriginPair, trustedBy?: string): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'sent',
    reason,
    detail:
      reason === 'trusted'
        ? `${name} forwarded to ${pair.to}: matches trust pattern '${trustedBy ?? ''}'`
        : reason === 'https-upgrade'
          ? `${name} kept: ${pair.from} to ${pair.to} is an https upgrade of the same host`
          : `${name} kept: ${pair.to} is the same origin`,
    facts: trustedBy === undefined ? pair : { ...pair, trustedBy },
  }),
  overridden: (name: string): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'dropped',
    reason: 'overrides-header',
    detail: `an auth provider in scope sets ${name} for this hop instead of the caller's header`,
  }),
  hookAdded: (name: string): HeaderDecision => ({ subject: 'header', name, action: 'sent', reason: 'hook-added', detail: `${name} set by the beforeRedirect hook for this hop` }),
  hookRemoved: (name: string): HeaderDecision => ({ subject: 'header', name, action: 'dropped', reason: 'hook-removed', detail: `${name} removed by the beforeRedirect hook for this hop` }),
  bodyHeaderDropped: (name: string): HeaderDecision => ({
    subject: 'header',
    name,
    action: 'dropped',
    reason: 'body-dropped-method-change',
    detail: `${name} describes a body that is no longer sent`,
  }),
};

// ---- auth providers -------------------------------------------------------------------------

export interface ProviderFacts {
  name: string;
  kind: string;
  scope: string;
  to: string;
  pair: OriginPair | undefined;
}

function authFacts(p: ProviderFacts): AuthDecision['facts'] {
  return p.pair ? { provider: p.kind, scope: p.scope, to: p.to, from: p.pair.from, sameSite: p.pair.sameSite } : { provider: p.kind, scope: p.scope, to: p.to };
}

export const auth = {
  applied: (p: ProviderFacts): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: p.pair ? 're-applied' : 'sent',
    reason: 'in-scope',
    detail: `${p.kind} credential applied: ${p.to} is in scope ${p.scope}`,
    facts: authFacts(p),
  }),
  outOfScope: (p: ProviderFacts): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'withheld',
    reason: 'out-of-scope',
    detail: `${p.kind} credential not applied: ${p.to} is outside scope ${p.scope}`,
    facts: authFacts(p),
  }),
  downgrade: (p: ProviderFacts & { pair: OriginPair }): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'withheld',
    reason: 'downgrade-allowed',
    detail: `${p.kind} credential not applied: ${p.pair.from} → ${p.pair.to} is a downgrade to cleartext`,
    facts: authFacts(p),
  }),
  refreshed: (p: ProviderFacts): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'refreshed',
    reason: 'refreshed-after-401',
    detail: `the ${p.kind} provider was asked for a fresh credential after a 401 and the request retried once`,
    facts: authFacts(p),
  }),
  awaitingChallenge: (p: ProviderFacts): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'withheld',
    reason: 'awaiting-challenge',
    detail: `${p.kind} credential not sent: the provider answers only a challenge, and ${p.to} has not sent one`,
    facts: authFacts(p),
  }),
  otherScheme: (p: ProviderFacts, scheme: string): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'withheld',
    reason: 'other-scheme',
    detail: `${p.kind} credential not sent: ${p.to} asked for ${schemeName(scheme)}, which another provider in scope answers`,
    facts: { ...authFacts(p), scheme },
  }),
  answered: (p: ProviderFacts, c: ChallengeFacts, stale: boolean): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'retried',
    reason: stale ? 'stale-nonce' : 'answered-challenge',
    detail: stale
      ? `the server said the ${schemeName(c.scheme)} nonce is stale${realmText(c)}; the ${p.kind} provider answers once more with the new nonce`
      : `the server asked for ${schemeName(c.scheme)}${realmText(c)}; the ${p.kind} provider answers it on the repeated request`,
    facts: challengeFacts(p, c),
  }),
  rejected: (p: ProviderFacts, c: ChallengeFacts): AuthDecision => ({
    subject: 'auth',
    name: p.name,
    action: 'stopped',
    reason: 'challenge-rejected',
    detail: `the server rejected the ${p.kind} credential${realmText(c)} with another 401; hopwise does not ask again (check the user name and password)`,
    facts: challengeFacts(p, c),
  }),
  unanswered: (to: string, offered: readonly ChallengeFacts[], inScope: readonly string[]): AuthDecision => ({
    subject: 'auth',
    name: 'www-authenticate',
    action: 'stopped',
    reason: 'unanswered-challenge',
    detail: `the server asked for ${offered.map((c) => schemeName(c.scheme)).join(' or ')}${offered[0] ? realmText(offered[0]) : ''}; no provider in scope answers it${inScope.length ? ` (in scope: ${inScope.join(', ')})` : ''}`,
    facts: { provider: inScope.join(', ') || 'none', scope: '', to, offered: offered.map((c) => c.scheme), ...(offered[0]?.realm !== undefined ? { realm: offered[0].realm } : {}) },
  }),
};

export const netrc = {
  sent: (machine: string, fallback: boolean, to: string, path: string): AuthDecision => ({
    subject: 'auth',
    name: 'authorization',
    action: 'sent',
    reason: 'netrc',
    detail: fallback ? `Basic from the default entry of ${path} (opted in): no machine entry for ${machine}` : `Basic from ${path}: the entry for machine ${machine}`,
    facts: { provider: 'netrc', scope: fallback ? 'default' : `machine ${machine}`, to },
  }),
  overridden: (machine: string, by: string, to: string): AuthDecision => ({
    subject: 'auth',
    name: 'authorization',
    action: 'withheld',
    reason: 'netrc-overridden',
    detail: `the .netrc entry for ${machine} is not sent: ${by} is in scope and wins`,
    facts: { provider: 'netrc', scope: `machine ${machine}`, to },
  }),
};

export interface ChallengeFacts {
  scheme: string;
  realm: string | undefined;
}

/** 'digest' → 'Digest': the scheme as people write it. */
function schemeName(scheme: string): string {
  const known: Record<string, string> = { digest: 'Digest', basic: 'Basic', bearer: 'Bearer', negotiate: 'Negotiate', ntlm: 'NTLM', hoba: 'HOBA', mutual: 'Mutual' };
  return known[scheme] ?? scheme;
}

function realmText(c: ChallengeFacts): string {
  return c.realm !== undefined ? ` (realm "${c.realm}")` : '';
}

function challengeFacts(p: ProviderFacts, c: ChallengeFacts): AuthDecision['facts'] {
  return { ...authFacts(p), scheme: c.scheme, ...(c.realm !== undefined ? { realm: c.realm } : {}) };
}

// ---- cookies --------------------------------------------------------------------------------

export const cookie = {
  /**
   * One jar cookie's verdict for this hop. `requestSite`: the request host's registrable domain
   * (the jar's PSL), recorded only when the cookie was withheld for its domain, where it names the
   * Domain= that would have covered this host.
   */
  verdict: (v: CookieVerdict, requestSite?: string): CookieDecision => {
    const facts: NonNullable<CookieDecision['facts']> = { domain: v.cookie.domain, path: v.cookie.path, hostOnly: v.cookie.hostOnly, secure: v.cookie.secure };
    if (requestSite !== undefined && (v.reason === 'host-only' || v.reason === 'domain-mismatch')) facts.requestSite = requestSite;
    if (v.store !== undefined) facts.store = v.store;
    return { subject: 'cookie', name: v.cookie.name, action: v.sent ? 'sent' : 'withheld', reason: v.reason satisfies 'match' | CookieSendReason, detail: v.detail, facts };
  },
  callerHeader: (): CookieDecision => ({
    subject: 'cookie',
    name: 'cookie',
    action: 'sent',
    reason: 'caller-header',
    detail: 'the Cookie header set by the caller is sent along with the jar cookies',
  }),
};

function cookieFacts(c: CookieKey): { domain: string; path: string; hostOnly: boolean; secure: boolean } {
  return { domain: c.domain, path: c.path, hostOnly: c.hostOnly, secure: c.secure };
}

export const setCookie = {
  /**
   * One Set-Cookie line's fate. `sentValue`: the value of a cookie of that name this very request
   * carried, if any (compared here, recorded as a boolean: the values never reach the trace).
   */
  result: (r: SetCookieResult, sentValue: string | undefined): SetCookieDecision => {
    if (r.stored) {
      const c = r.cookie;
      const facts: NonNullable<SetCookieDecision['facts']> = { domain: c.domain, path: c.path, hostOnly: c.hostOnly, secure: c.secure, sentOnThisHop: sentValue !== undefined };
      if (r.reason === 'replaced' && sentValue !== undefined) facts.valueChanged = sentValue !== c.value;
      if (r.store !== undefined) facts.store = r.store;
      return { subject: 'set-cookie', name: c.name, action: 'stored', reason: r.reason, detail: r.detail, facts };
    }
    const d: SetCookieDecision = { subject: 'set-cookie', action: r.reason === 'deleted' ? 'dropped' : 'rejected', reason: r.reason, detail: r.detail };
    if (r.name !== undefined) d.name = r.name;
    // the cookie a deletion removed, and whether this request carried it: "the server ended the session it was sent"
    if (r.deleted !== undefined) d.facts = { ...cookieFacts(r.deleted), sentOnThisHop: sentValue !== undefined };
    return d;
  },
  /**
   * A cookie the jar's limits evicted when `by` was stored (RFC 6265bis §5.7, excess cookies).
   * `sentOnThisHop`: this very request carried a cookie of that name.
   */
  evicted: (gone: CookieKey, by: string, sentOnThisHop: boolean): SetCookieDecision => ({
    subject: 'set-cookie',
    name: gone.name,
    action: 'dropped',
    reason: 'evicted',
    detail: `${gone.name} (${gone.hostOnly ? 'host-only for ' + gone.domain : 'Domain=' + gone.domain}, Path=${gone.path}) was evicted from the jar to make room for ${by}`,
    facts: { ...cookieFacts(gone), sentOnThisHop, evictedBy: by },
  }),
  disabled: (): SetCookieDecision => ({ subject: 'set-cookie', action: 'rejected', reason: 'cookies-disabled', detail: 'cookies are disabled for this session (cookies: false)' }),
};

// ---- method and body ------------------------------------------------------------------------

export const method = {
  rewritten: (status: 301 | 302 | 303, from: string): MethodDecision => ({
    subject: 'method',
    action: 'rewritten',
    reason: status === 301 ? 'method-rewrite-301' : status === 302 ? 'method-rewrite-302' : 'method-rewrite-303',
    detail: `${from} → GET because of ${status}`,
    facts: { from, to: 'GET', status },
  }),
  kept: (m: string, status: number): MethodDecision => ({ subject: 'method', action: 'kept', reason: 'method-kept', detail: `${m} kept for ${status}`, facts: { from: m, to: m, status } }),
  metaRefresh: (from: string): MethodDecision => ({ subject: 'method', action: 'rewritten', reason: 'meta-refresh', detail: `${from} → GET to follow the page's refresh`, facts: { from, to: 'GET' } }),
  hook: (from: string, to: string): MethodDecision => ({
    subject: 'method',
    action: 'rewritten',
    reason: 'hook-changed',
    detail: `the beforeRedirect hook changed the method to ${to}`,
    facts: { from, to },
  }),
};

export const body = {
  dropped: (toMethod: string): BodyDecision => ({
    subject: 'body',
    action: 'dropped',
    reason: 'body-dropped-method-change',
    detail: `the body and its Content-* headers are not sent with ${toMethod}`,
  }),
  replayed: (status: number): BodyDecision => ({ subject: 'body', action: 'sent', reason: 'body-replayed', detail: `${status} keeps method and body; body sent again` }),
  crossOriginSent: (from: string, to: string): BodyDecision => ({
    subject: 'body',
    action: 'sent',
    reason: 'cross-origin-body',
    detail: `body resent to ${to} because crossOriginBody is "send"`,
    facts: { from, to },
  }),
  notReplayable: (status: number): BodyDecision => ({
    subject: 'body',
    action: 'rejected',
    reason: 'body-not-replayable',
    detail: `status ${status} keeps the body, but the stream was larger than the replay buffer`,
  }),
  crossOriginRefused: (status: number, from: string, to: string): BodyDecision => ({
    subject: 'body',
    action: 'rejected',
    reason: 'cross-origin-body-refused',
    detail: `${status} would resend the body from ${from} to ${to}`,
    facts: { from, to },
  }),
};

// ---- the Location and the redirect itself ---------------------------------------------------

export const location = {
  userinfoDropped: (): LocationDecision => ({ subject: 'location', action: 'dropped', reason: 'userinfo-dropped', detail: 'the Location carried user:password@; removed, never used as a credential' }),
  fragmentInherited: (hash: string): LocationDecision => ({ subject: 'location', action: 'kept', reason: 'fragment-inherited', detail: `fragment ${hash} carried over to the next URL` }),
  invalid: (status: number): LocationDecision => ({ subject: 'location', action: 'rejected', reason: 'invalid-location', detail: `Location is not a valid URL`, facts: { status } }),
  conflicting: (status: number, count: number): LocationDecision => ({
    subject: 'location',
    action: 'rejected',
    reason: 'invalid-location',
    detail: `the response carried ${count} different Location headers; which one the server meant is unknowable`,
    facts: { status },
  }),
};

const stop = (reason: RedirectDecision['reason'], detail: string, facts: RedirectDecision['facts']): RedirectDecision => ({ subject: 'redirect', action: 'stopped', reason, detail, facts });

export interface ClientRedirectFacts {
  kind: ClientRedirectKind;
  target: string;
  delaySeconds: number;
}

export const redirect = {
  followed: (status: number, from: string, target: URL, to: string): RedirectDecision => ({
    subject: 'redirect',
    action: 'followed',
    reason: 'redirect',
    detail: `${status} → ${traceUrl(target)}`,
    facts: { status, from, to },
  }),
  notRedirectStatus: (status: number) => stop('not-redirect-status', `status ${status} is returned as it is; only 301, 302, 303, 307 and 308 are followed`, { status }),
  errorMode: (status: number) => stop('error-mode', `status ${status} refused because redirect is "error"`, { status }),
  noLocation: (status: number) => stop('no-location', `status ${status} has no Location header, so there is nothing to follow`, { status }),
  manualMode: (status: number) => stop('manual-mode', `status ${status} returned as it is because redirect is "manual"`, { status }),
  unsafeScheme: (status: number, target: URL) => stop('unsafe-scheme', `refused to follow to a ${target.protocol} URL; only http: and https: are followed`, { status, url: traceUrl(target) }),
  limit: (count: number, maxRedirects: number) => stop('limit', `redirect ${count} exceeds maxRedirects ${maxRedirects}`, { maxRedirects }),
  downgradeRefused: (status: number, from: string, to: string) => stop('downgrade-refused', `refused https: → http: (${from} → ${to})`, { status, from, to }),
  downgradeAllowed: (status: number, from: string, to: string): RedirectDecision => ({
    subject: 'redirect',
    action: 'followed',
    reason: 'downgrade-allowed',
    detail: `https: → http: followed because allowDowngrade is true; sensitive headers and Secure cookies stay behind`,
    facts: { status, from, to },
  }),
  loop: (methodName: string, url: URL) => stop('loop', `${methodName} ${traceUrl(url)} with the same cookies was already requested at an earlier hop`, { url: traceUrl(url) }),
  clientFollowed: (cr: ClientRedirectFacts): RedirectDecision => ({
    subject: 'redirect',
    name: cr.kind,
    action: 'followed',
    reason: 'meta-refresh',
    detail: `the page redirects to ${redactQuery(cr.target)} after ${cr.delaySeconds}s (${cr.kind}); followed now`,
    facts: { kind: cr.kind, target: redactQuery(cr.target), delaySeconds: cr.delaySeconds },
  }),
  clientNotFollowed: (cr: ClientRedirectFacts): RedirectDecision => ({
    subject: 'redirect',
    name: cr.kind,
    action: 'stopped',
    reason: cr.kind === 'script' ? 'script-redirect-not-followed' : 'meta-refresh-not-followed',
    detail: `the 200 page redirects to ${redactQuery(cr.target)} in the browser (${cr.kind}); an HTTP client stops here`,
    facts: { kind: cr.kind, target: redactQuery(cr.target), delaySeconds: cr.delaySeconds },
  }),
  hookChanged: (url: string): RedirectDecision => ({
    subject: 'redirect',
    action: 'rewritten',
    reason: 'hook-changed',
    detail: `the beforeRedirect hook changed the next URL to ${url}; the policy ran again on it`,
    facts: {},
  }),
};

// ---- the route of a hop, proxy credentials, the private-network guard -------------------------

/** A route decision's facts, plus whether the hop is proxied and why. */
export type RouteFacts = RouteDecision['facts'] & { kind: 'direct' | 'proxy'; reason: RouteDecision['reason'] };

export const route = {
  decided: (r: RouteFacts): RouteDecision => {
    const facts: RouteDecision['facts'] = { route: r.route };
    if (r.proxy !== undefined) facts.proxy = r.proxy;
    if (r.mode !== undefined) facts.mode = r.mode;
    if (r.variable !== undefined) facts.variable = r.variable;
    if (r.noProxy !== undefined) facts.noProxy = r.noProxy;
    if (r.previous !== undefined) facts.previous = r.previous;
    const how = r.mode === 'tunnel' ? ' (CONNECT tunnel)' : r.mode === 'absolute-form' ? ' (absolute-form request)' : '';
    const detail =
      r.reason === 'proxy-env'
        ? `${r.route}${how}: proxy from ${r.variable ?? 'the environment'}`
        : r.reason === 'proxy-option'
          ? `${r.route}${how}: the proxy option`
          : r.reason === 'proxy-function'
            ? `${r.route}${how}: chosen by the proxy function`
            : r.reason === 'no-proxy-match'
              ? `direct: the host matches no_proxy entry '${r.noProxy ?? ''}'${r.variable ? ` (${r.variable})` : ''}`
              : r.reason === 'proxy-disabled'
                ? 'direct: proxy is false'
                : r.reason === 'caller-dispatcher'
                  ? "the caller's dispatcher connects; hopwise's proxy settings do not apply"
                  : 'direct: no proxy configured for this URL';
    return {
      subject: 'route',
      action: r.kind === 'proxy' ? 'proxied' : 'direct',
      reason: r.reason,
      detail: r.previous !== undefined ? `${detail} (the previous hop went ${r.previous})` : detail,
      facts,
    };
  },
};

export const proxyAuth = {
  sent: (source: ProxyAuthDecision['facts']['source'], routeName: string): ProxyAuthDecision => ({
    subject: 'proxy-auth',
    name: 'proxy-authorization',
    action: 'sent',
    reason: 'proxy-credentials',
    detail: `Proxy-Authorization (from ${source === 'proxy-url' ? "the proxy URL's userinfo" : source === 'proxyAuth' ? 'the proxyAuth option' : "the caller's header"}) sent to the proxy only, ${routeName}; never to the origin`,
    facts: { source, route: routeName },
  }),
  routeChanged: (source: ProxyAuthDecision['facts']['source'], routeName: string, previous: string): ProxyAuthDecision => ({
    subject: 'proxy-auth',
    name: 'proxy-authorization',
    action: 'dropped',
    reason: 'route-changed',
    detail: `Proxy-Authorization dropped: it belongs to the route ${previous}, and this hop goes ${routeName}`,
    facts: { source, route: routeName, previous },
  }),
  direct: (source: ProxyAuthDecision['facts']['source']): ProxyAuthDecision => ({
    subject: 'proxy-auth',
    name: 'proxy-authorization',
    action: 'dropped',
    reason: 'direct-route',
    detail: 'Proxy-Authorization not sent: this hop goes direct, and a proxy credential never reaches an origin',
    facts: { source, route: 'direct' },
  }),
};

export const address = {
  refused: (f: AddressDecision['facts']): AddressDecision => ({
    subject: 'address',
    action: 'refused',
    reason: 'private-address',
    detail:
      f.refuse === 'all'
        ? `${f.host} is at ${f.address}, a private address; privateNetworks refuses every private address, so nothing was sent`
        : `${f.host} is at ${f.address}, a private address, and the redirect came from a ${f.fromClass === 'unknown' ? 'hop whose address hopwise could not see (treated as public)' : `${f.fromClass ?? 'public'} address`}; nothing was sent`,
    facts: f,
  }),
};

// ---- retries --------------------------------------------------------------------------------

type RetryFacts = RetryDecision['facts'];
const retryWhat = (f: RetryFacts): string => (f.status !== undefined ? `the answer ${f.status}` : `the connection reset (${f.error ?? 'reset'})`);
const secs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`);

export const retry = {
  retried: (f: RetryFacts): RetryDecision => ({
    subject: 'retry',
    action: 'retried',
    reason: f.status !== undefined ? 'retry-status' : 'retry-reset',
    detail: `retry ${f.attempt} of ${f.limit} after ${retryWhat(f)}: waited ${secs(f.waitMs ?? 0)} (${f.source === 'retry-after' ? 'Retry-After' : 'backoff with jitter'})`,
    facts: f,
  }),
  notIdempotent: (method: string, f: RetryFacts): RetryDecision => ({
    subject: 'retry',
    action: 'stopped',
    reason: 'not-idempotent',
    detail: `${retryWhat(f)} is retryable, but ${method} is not idempotent and not in retry.methods: not sent twice`,
    facts: f,
  }),
  exhausted: (f: RetryFacts): RetryDecision => ({
    subject: 'retry',
    action: 'stopped',
    reason: 'retries-exhausted',
    detail: `${retryWhat(f)} after ${f.limit} ${f.limit === 1 ? 'retry' : 'retries'}: the limit is used up`,
    facts: f,
  }),
  notReplayable: (f: RetryFacts): RetryDecision => ({
    subject: 'retry',
    action: 'stopped',
    reason: 'body-not-replayable',
    detail: `${retryWhat(f)} is retryable, but the request body was a stream larger than replayBufferSize and cannot be sent again`,
    facts: f,
  }),
  afterTooLong: (f: RetryFacts, max: number): RetryDecision => ({
    subject: 'retry',
    action: 'stopped',
    reason: 'retry-after-too-long',
    detail: `Retry-After ${f.retryAfter ?? ''} asks for ${secs(f.waitMs ?? 0)}, more than retry.maxRetryAfter (${secs(max)}): returned as it is`,
    facts: f,
  }),
  pastTotal: (f: RetryFacts, remaining: number): RetryDecision => ({
    subject: 'retry',
    action: 'stopped',
    reason: 'retry-past-total',
    detail: `waiting ${secs(f.waitMs ?? 0)} would pass timeout.total or retry.maxTime (${secs(Math.max(0, Math.round(remaining)))} left): returned as it is`,
    facts: f,
  }),
};

// ---- HSTS -----------------------------------------------------------------------------------

export const hsts = {
  upgraded: (from: string, to: string, knownHost: string, includeSubDomains: boolean, host: string): HstsDecision => ({
    subject: 'hsts',
    action: 'rewritten',
    reason: 'hsts-upgrade',
    detail:
      knownHost === host
        ? `${host} sent Strict-Transport-Security earlier: ${from} goes over https as ${to}`
        : `${knownHost} sent Strict-Transport-Security with includeSubDomains: ${from} goes over https as ${to}`,
    facts: { from, to, knownHost, includeSubDomains },
  }),
};
