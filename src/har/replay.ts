/**
 * The replay: each recorded chain goes through hopwise's own pure phases — the header policy
 * (credentials/policy), `prepare` with the cookie jar, `absorb`, `planNext` (redirect/plan) — with no
 * network. The answers are the recorded ones; the phases say what the rules would have sent at
 * every hop, and their typed decisions become the replayed hops' decisions, so the doctor reads
 * them exactly as it reads a live chain. Next to them, what the client actually sent (the recorded
 * request) is kept per hop, for the difference rules (doctor/replay-rules).
 *
 * Rules by client:
 * - a browser (Chromium, Firefox): the jar with browser rules (`CookieContext.browser`: SameSite for
 *   top-level navigations, RFC 6265bis §5.2 and §5.8.3), redirects as a browser follows them (up
 *   to 20, https→http followed, 307/308 bodies resent, meta refresh followed). Navigations carry no
 *   caller headers, so no header policy.
 * - another client (a recorded program, a HAR from a tool): its first request's secret-looking
 *   headers are the "caller headers" and go through hopwise's header policy at every hop (Fetch
 *   "HTTP-redirect fetch" step 13 and what hopwise adds to it), cookies through the jar as a
 *   careful non-browser client keeps them.
 * hopwise's own HAR is not replayed: its hops carry the decisions hopwise made (index.ts).
 */
import { CookieJar } from '../cookies/jar.js';
import { isSameSiteNavigation } from '../cookies/rules.js';
import type { BrowserSameSite, Cookie, SetCookieResult, SyncCookieStore } from '../cookies/types.js';
import { parseSetCookie } from '../cookies/parse.js';
import type { PreparedBody } from '../body.js';
import { planHeaders, type UserHeader } from '../credentials/policy.js';
import { isSensitiveName, redactQuery, redactValue, traceUrl } from '../credentials/sensitive.js';
import { absorb, type RawHeaders } from '../hop/absorb.js';
import { planNext } from '../hop/plan-next.js';
import { prepare } from '../hop/prepare.js';
import type { ClientRedirect } from '../redirect/client-redirect.js';
import * as decide from '../trace/decisions.js';
import type { Hop } from '../trace/types.js';
import type { DiagnosableError } from '../doctor/rules.js';
import type { HarChain, Link } from './chains.js';
import type { Exchange, HarSource } from './read.js';

/** The rules a replay applies, by client. */
export interface ReplayRules {
  /** Browser rules (SameSite, Lax by default...) or a plain HTTP client's. */
  browser: boolean;
  /** Cookies without SameSite are Lax (Chromium) or None (Firefox's default). */
  laxByDefault: boolean;
  /** Chromium's "Lax-allowing-unsafe" window for Lax-by-default cookies (2 minutes); 0 elsewhere. */
  laxAllowingUnsafeMs: number;
  /** Whether a redirect through another site makes a navigation cross-site (RFC 6265bis; not Chromium). */
  countRedirects: boolean;
  maxRedirects: number;
}

export function rulesFor(source: HarSource): ReplayRules {
  switch (source.client) {
    case 'chromium':
      return { browser: true, laxByDefault: true, laxAllowingUnsafeMs: 120_000, countRedirects: false, maxRedirects: 20 };
    case 'firefox':
      return { browser: true, laxByDefault: false, laxAllowingUnsafeMs: 0, countRedirects: true, maxRedirects: 20 };
    default:
      return { browser: false, laxByDefault: false, laxAllowingUnsafeMs: 0, countRedirects: false, maxRedirects: 30 };
  }
}

/** One replayed hop: what the rules said next to what the client did. */
export interface ReplayedHop {
  /** The hop's index in the chain (`Hop.index`) and its entry in the HAR. */
  index: number;
  entry: number;
  link: Link;
  /** Browser rules: the hop's same-site context as computed (RFC 6265bis §5.2). */
  site?: { sameSite: boolean; initiator: string | null; method: string; through: string[] };
  cookies: {
    /** Names the rules send (the jar's verdicts). */
    expected: string[];
    /** Names the client sent; undefined when the HAR does not say (a sanitized export). */
    actual: string[] | undefined;
    /** Names the client sent that the replay never saw set (set before the recording, or by a script). */
    unknown: string[];
    /** Cookies the rules send here that the client did not send (compared by name and value; values never leave the replay). */
    missing: string[];
    /** Cookies the rules withhold here that the client sent all the same (the same value). */
    sentAgainstRules: string[];
  };
  /** Browser rules: the SameSite attribute of each cookie SameSite withheld here ('default': none given). */
  sameSiteOf?: Record<string, 'strict' | 'lax' | 'none' | 'default'>;
  /** The first request's secret headers at this hop: sent by the rules or not, and by the client or not. */
  headers: Array<{
    name: string;
    /** The rules send it here. */
    expected: boolean;
    /** The client sent it here with the first request's value. */
    actual: boolean;
    /** The client sent a header of that name with another value (its own credential for this origin). */
    other: boolean;
    reason: string;
  }>;
}

export interface ReplayedChain {
  hops: Hop[];
  replay: ReplayedHop[];
  /** The error the chain ends with: the client's (a failed request) or the rules' (a loop, the limit). */
  error: DiagnosableError | undefined;
  /** Entries of the chain the replay did not reach (after a loop or the redirect limit). */
  notReplayed: number[];
}

interface ChainState {
  chain: HarChain;
  first: URL;
  prev: URL | undefined;
  userHeaders: UserHeader[];
  stripped: Set<string>;
  seen: Set<string>;
  redirects: number;
  /** The document that started the current navigation (null: the browser itself). */
  initiator: URL | null;
  /** URLs the current navigation was redirected through. */
  through: URL[];
  out: ReplayedChain;
  done: boolean;
}

const NO_HEADERS = new Set<string>();

function rawHeaders(x: Exchange): RawHeaders {
  return x.responseHeaders;
}

function cookiePairs(header: string): Array<[string, string]> {
  return header
    .split(';')
    .filter((p) => p.trim() !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? ['', p.trim()] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
    });
}

/** A value a HAR writer replaced (hopwise's redaction, an empty value): only the name can be compared. */
const REDACTED = /‹redacted›|^\*+$|^$/;

/** Whether the client sent cookie `name` with `value` (by name alone when the recorded value is redacted). */
function sentPair(pairs: ReadonlyArray<[string, string]>, name: string, value: string | undefined): boolean {
  return pairs.some(([n, v]) => n === name && (value === undefined || v === value || REDACTED.test(v)));
}

function reqHeader(x: Exchange, name: string): string | undefined {
  return x.requestHeaders.find(([n]) => n === name)?.[1];
}

/** The recorded request headers as a trace shows them: lower-case names, secrets redacted. */
function shownHeaders(x: Exchange): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of x.requestHeaders) {
    const shown = isSensitiveName(n, NO_HEADERS) ? redactValue(n, v) : n === 'referer' ? redactQuery(v) : v;
    out[n] = out[n] === undefined ? shown : `${out[n]}${n === 'cookie' ? '; ' : ', '}${shown}`;
  }
  if (x.cookieHeader !== undefined && out.cookie === undefined) out.cookie = redactValue('cookie', x.cookieHeader);
  return out;
}

/** How a browser names a failed request, as a hopwise error code the doctor reads. */
function errorCode(err: string): string {
  if (/TOO_MANY_REDIRECTS/i.test(err)) return 'ERR_TOO_MANY_REDIRECTS';
  if (/CERT|SSL|TLS/i.test(err)) return 'ERR_TLS';
  if (/TIMED_OUT|timeout/i.test(err)) return 'ERR_TIMEOUT';
  if (/ABORTED|cancel/i.test(err)) return 'ERR_ABORTED';
  if (/REFUSED|NAME_NOT_RESOLVED|ADDRESS_UNREACHABLE|CONNECT/i.test(err)) return 'ERR_CONNECT';
  return 'ERR_NETWORK';
}

/**
 * A Set-Cookie as a browser stores it: RFC 6265bis §5.7 ignores a SameSite=None cookie without
 * Secure (Chromium and Firefox do). hopwise's own jar keeps it with a note; a browser's replay must not.
 */
function browserSetCookie(jar: CookieJar, line: string, url: string | URL): SetCookieResult {
  const p = parseSetCookie(line);
  if (p.ok && p.sameSite === 'none' && !p.secure) {
    return { stored: false, reason: 'samesite-none-insecure', detail: `${p.name} has SameSite=None without Secure: browsers ignore the cookie`, name: p.name };
  }
  return jar.setCookie(line, url);
}

/** An exchange the replay does not judge still sets its cookies, by the client's storage rules. */
function feed(jar: CookieJar, rules: ReplayRules, x: Exchange): void {
  const url = new URL(x.url);
  for (const line of x.setCookies) {
    if (rules.browser) browserSetCookie(jar, line, url);
    else jar.setCookie(line, url);
  }
}

const fakeBody = (size: number): PreparedBody => ({ forSend: () => Buffer.alloc(0), replayable: true, size, contentType: undefined, peek: () => undefined });

/**
 * Replays every chain, all through one cookie jar fed in recorded order by every exchange of the
 * HAR (subresources included: their Set-Cookie counts for the next navigation, as in the browser).
 */
export function replayChains(exchanges: readonly Exchange[], chains: readonly HarChain[], source: HarSource, cookiesKnown = true): ReplayedChain[] {
  const rules = rulesFor(source);
  let clock = Date.now();
  const jar = new CookieJar({ now: () => clock });
  const states: ChainState[] = chains.map((chain) => ({
    chain,
    first: new URL(chain.exchanges[0]!.url),
    prev: undefined,
    userHeaders: [],
    stripped: new Set(),
    seen: new Set(),
    redirects: 0,
    initiator: null,
    through: [],
    out: { hops: [], replay: [], error: undefined, notReplayed: [] },
    done: false,
  }));
  const where = new Map<Exchange, { s: ChainState; i: number }>();
  for (const s of states) s.chain.exchanges.forEach((x, i) => where.set(x, { s, i }));
  const order = [...exchanges].sort((a, b) => (Number.isFinite(a.started) && Number.isFinite(b.started) ? a.started - b.started : 0) || a.entry - b.entry);

  for (const x of order) {
    if (Number.isFinite(x.started)) clock = x.started;
    const at = where.get(x);
    if (!at) {
      // Not part of a chain: its cookies still go into the jar, as in the client.
      feed(jar, rules, x);
      continue;
    }
    const { s, i } = at;
    if (s.done) {
      s.out.notReplayed.push(x.entry);
      feed(jar, rules, x);
      continue;
    }
    replayHop(s, i, x, jar, rules, cookiesKnown);
  }
  return states.map((s) => s.out);
}

function replayHop(s: ChainState, i: number, x: Exchange, jar: CookieJar, rules: ReplayRules, cookiesKnown: boolean): void {
  const url = new URL(x.url);
  const link = s.chain.links[i]!;
  const out = s.out;

  // The navigation's initiator, for SameSite: the page for a hop the page made, the recorded
  // Referer (or nothing: the user) for the first request, unchanged along status redirects.
  const fetch = s.chain.kind === 'fetch';
  if (i === 0) {
    const site = reqHeader(x, 'sec-fetch-site');
    // A fetch comes from its page (Origin, or the Referer); a navigation from a page only when the
    // browser says another page started it (Sec-Fetch-Site not `none`).
    const from = fetch ? (reqHeader(x, 'origin') ?? reqHeader(x, 'referer')) : site !== undefined && site !== 'none' ? reqHeader(x, 'referer') : undefined;
    let init: URL | null = null;
    if (from !== undefined && from !== 'null') {
      try {
        init = new URL(from);
      } catch {
        init = null;
      }
    }
    s.initiator = init;
    s.through = [];
  } else if (link.kind !== 'redirect') {
    s.initiator = new URL(s.chain.exchanges[i - 1]!.url);
    s.through = [];
  }

  // The first request's secret headers are the caller's headers a careful client carries along
  // (a program's, or a page's fetch(); a browser's navigation has none).
  if (i === 0 && (!rules.browser || fetch)) {
    s.userHeaders = x.requestHeaders.filter(([n]) => n !== 'cookie' && n !== 'cookie2' && isSensitiveName(n, NO_HEADERS)).map(([name, value]) => ({ name, value, sensitive: true }));
  }
  const policy = planHeaders({ prev: s.prev, next: url, first: s.first, userHeaders: s.userHeaders, stripped: s.stripped, trust: [], providers: [] });
  for (const n of policy.newlyStripped) s.stripped.add(n);

  let site: ReplayedHop['site'];
  let browserCtx: BrowserSameSite | undefined;
  if (rules.browser) {
    // A fetch is a subresource request: same-site with a page of the target's site (§5.2; no
    // Origin or Referer recorded: taken as same-site, nothing is claimed), never top-level for Lax.
    const sameSite = isSameSiteNavigation({ url, method: x.method, initiator: s.initiator, redirects: s.through, topLevel: !fetch, countRedirects: rules.countRedirects });
    browserCtx = { sameSite, topLevel: !fetch, method: x.method, laxByDefault: rules.laxByDefault, laxAllowingUnsafeMs: rules.laxAllowingUnsafeMs };
    site = { sameSite, initiator: s.initiator ? s.initiator.origin : null, method: x.method, through: s.through.map((u) => u.origin) };
  }
  const store: SyncCookieStore = {
    setCookie: (line, u) => (rules.browser ? browserSetCookie(jar, line, u) : jar.setCookie(line, u)),
    getCookieString: (u) => jar.getCookieString(u),
    evaluate: (u) => jar.evaluate(u, browserCtx ? { browser: browserCtx } : {}),
  };
  const req = prepare({ url, policy, hook: undefined, credentials: [], jar: store, sensitiveHeaders: NO_HEADERS });

  // What the client sent: its Cookie header; no header is "none" unless the HAR has no cookies at all (sanitized).
  const pairs = x.cookieHeader !== undefined ? cookiePairs(x.cookieHeader) : cookiesKnown ? [] : undefined;
  const actualCookies = pairs?.map(([n]) => n).filter((n, k, a) => a.indexOf(n) === k);
  // A loop: the same method, URL and cookies came round in one chain (DESIGN "Defaults").
  const key = `${x.method} ${url.href} ${x.cookieHeader ?? req.cookieHeader}`;
  if (i > 0 && s.seen.has(key)) {
    const last = out.hops[out.hops.length - 1];
    last?.decisions.push(decide.redirect.loop(x.method, url));
    out.error = { code: 'ERR_REDIRECT_LOOP', message: `Redirect loop: ${x.method} ${traceUrl(url)} with the same cookies was already requested in this chain.`, hops: out.hops };
    out.notReplayed.push(x.entry);
    s.done = true;
    feed(jar, rules, x);
    return;
  }
  s.seen.add(key);

  const hop: Hop = {
    index: i,
    url: traceUrl(url),
    method: x.method,
    requestHeaders: shownHeaders(x),
    status: x.status,
    statusText: x.statusText,
    responseHeaders: {},
    newConnection: false,
    timings: { start: Number.isFinite(x.started) ? x.started : 0, ...(x.time ? { end: x.time } : {}) },
    decisions: [...req.decisions],
  };
  if (x.postData?.text !== undefined) hop.requestBodySize = Buffer.byteLength(x.postData.text);
  out.hops.push(hop);

  const expected = req.decisions.flatMap((d) => (d.subject === 'cookie' && d.action === 'sent' ? [d.name] : []));
  let sameSiteOf: ReplayedHop['sameSiteOf'];
  const missing: string[] = [];
  const sentAgainstRules: string[] = [];
  let stored: Cookie[] | undefined;
  const storedCookie = (name: string, facts: { domain: string; path: string } | undefined): Cookie | undefined =>
    (stored ??= jar.cookies()).find((k) => k.name === name && k.domain === facts?.domain && k.path === facts?.path);
  for (const d of req.decisions) {
    if (d.subject !== 'cookie' || d.reason === 'caller-header') continue;
    if (d.action === 'sent') {
      // A fetch's credentials mode (omit, same-origin, include) is not in the HAR: a cookie it left
      // out may be the page's choice, so only navigations and programs are held to the rules here.
      if (pairs && !(rules.browser && fetch) && !sentPair(pairs, d.name, req.sentCookies?.get(d.name))) missing.push(d.name);
      continue;
    }
    const c = storedCookie(d.name, d.facts);
    if (d.reason === 'samesite-strict' || d.reason === 'samesite-lax') (sameSiteOf ??= {})[d.name] = c?.sameSite ?? 'default';
    else if (pairs && c && sentPair(pairs, d.name, c.value)) sentAgainstRules.push(d.name);
  }
  const judged = new Set(req.decisions.flatMap((d) => (d.subject === 'cookie' ? [d.name] : [])));
  out.replay.push({
    index: i,
    entry: x.entry,
    link,
    ...(site ? { site } : {}),
    ...(sameSiteOf ? { sameSiteOf } : {}),
    cookies: { expected, actual: actualCookies, unknown: (actualCookies ?? []).filter((n) => !judged.has(n)), missing, sentAgainstRules },
    headers: s.userHeaders.map((h) => {
      const d = policy.decisions.find((p) => p.subject === 'header' && p.name === h.name);
      // The same value as the first request's: a different value is another credential (the client's own for that origin).
      const values = x.requestHeaders.filter(([n]) => n === h.name).map(([, v]) => v);
      return {
        name: h.name,
        expected: policy.send.some((p) => p.name === h.name),
        actual: values.includes(h.value),
        other: values.length > 0 && !values.includes(h.value),
        reason: d?.reason ?? 'first-request',
      };
    }),
  });

  if (x.status === 0 || (x.error !== undefined && x.status === 0)) {
    const err = x.error ?? 'no response recorded';
    hop.error = { code: errorCode(err), message: `the client recorded no response: ${err}` };
    out.error = { code: hop.error.code, message: hop.error.message, hops: out.hops };
    s.done = true;
    return;
  }

  const absorbed = absorb(url, rawHeaders(x), store, req.sentCookies);
  hop.responseHeaders = absorbed.responseHeaders;
  hop.decisions.push(...absorbed.decisions);

  // What the answer asks for next, by the redirect rules of this client.
  const next = s.chain.links[i + 1];
  let page: ClientRedirect | null = null;
  if (rules.browser && next && (next.kind === 'meta-refresh' || next.kind === 'refresh-header')) {
    page = { kind: next.kind, target: s.chain.exchanges[i + 1]!.url, delaySeconds: next.delaySeconds ?? 0 };
  }
  const plan = planNext({
    chain: { url, method: x.method, body: x.postData ? fakeBody(hop.requestBodySize ?? 0) : undefined, mode: 'follow', redirects: s.redirects, refreshedOnce: true, first: s.first },
    status: x.status,
    headers: rawHeaders(x),
    hopIndex: i,
    options: { maxRedirects: rules.maxRedirects, allowDowngrade: true, crossOriginBody: 'send', trust: [], followMetaRefresh: rules.browser },
    refreshableAuth: false,
    auth: [],
    page,
  });
  if (plan.action !== 'read-page' && 'decisions' in plan && plan.decisions) hop.decisions.push(...plan.decisions);
  if (plan.action === 'follow') hop.location = traceUrl(plan.url);
  else if (plan.action === 'return' && plan.location) hop.location = traceUrl(plan.location);
  if (plan.action === 'error') {
    out.error = { code: plan.code, message: plan.message, hops: out.hops };
    s.done = true;
    return;
  }
  if (x.error !== undefined && /REDIRECT/i.test(x.error)) {
    // The client refused to go on after this answer (Chromium's ERR_TOO_MANY_REDIRECTS after its 20th redirect).
    hop.error = { code: errorCode(x.error), message: `the client stopped after this answer: ${x.error}` };
    out.error = { code: hop.error.code, message: hop.error.message, hops: out.hops };
    s.done = true;
    return;
  }
  if (next?.kind === 'redirect') {
    s.redirects++;
    s.through.push(url);
  }
  s.prev = url;
}
