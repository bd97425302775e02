/**
 * The cookie rules of RFC 6265bis, each written once: the storage model (§5.7) from a parsed
 * Set-Cookie line and the request to a cookie or a refusal, the checks of §5.7 that need the stored
 * cookies (expressed over what a `CookieStorage` returns), and the retrieval rule (§5.8.3) with the
 * reason a cookie is withheld. Pure functions: no jar, no store, no clock of their own.
 *
 * Every reason code and detail string here is read by traces and by the doctor: keep them
 * byte-identical when changing the code around them.
 */
import type { BrowserSameSite, Cookie, CookieSendReason, SetCookieRejectReason } from './types.js';
import type { ParsedSetCookie } from './parse.js';
import type { RequestFacts } from './url.js';
import { domainMatch, isIpHost, isPublicSuffix, siteOf as siteOfHost } from './domain.js';
import { defaultPath, pathMatch } from './path.js';
import { MAX_ATTRIBUTE_OCTETS, MAX_NAME_VALUE_OCTETS } from './parse.js';

/** §5.5 / §5.6.1-2: no cookie lives longer than 400 days, whatever Max-Age or Expires say. */
export const MAX_COOKIE_AGE_MS = 400 * 24 * 60 * 60 * 1000;

/** A refusal of a Set-Cookie line, with the facts for a person (never the cookie's value). */
export interface Rejection {
  ok: false;
  reason: SetCookieRejectReason;
  detail: string;
}

/** What the rules need to know of a stored cookie: its public fields and its creation order. */
export interface RuleCookie extends Readonly<Cookie> {
  /** Creation order in the jar: breaks ties between equal path lengths (§5.8.3 step 2). */
  readonly seq: number;
}

export function isExpired(c: Readonly<Cookie>, now: number): boolean {
  return c.expires !== null && c.expires <= now;
}

// ---- storage, §5.7 --------------------------------------------------------------------------

/**
 * `s` starts with `prefix` (lower-case ASCII) case-insensitively, as `s.slice(..).toLowerCase() ===
 * prefix` would say (toLowerCase folds only ASCII letters to ASCII, plus KELVIN SIGN to "k"; U+0130
 * becomes "i" plus a combining dot, never equal to the prefix).
 */
function startsWithCI(s: string, prefix: string): boolean {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    else if (c === 0x212a) c = 0x6b; // KELVIN SIGN lower-cases to "k"
    if (c !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * §5.7 steps 6-12 and 17-18: the cookie a parsed line makes for this request at `now`, or why there
 * is none. The steps that need the stored cookies are `leaveSecureAlone` (step 15) and
 * `expiredOutcome` (steps 19-21, with the replaced cookie found by the caller).
 */
export function cookieFromLine(p: ParsedSetCookie, req: RequestFacts, now: number): Cookie | Rejection {
  // Step 6: Max-Age wins over Expires; both capped at 400 days (§5.6.1, §5.6.2).
  let expires: number | null = null;
  if (p.maxAge !== undefined) {
    const seconds = Math.min(p.maxAge, MAX_COOKIE_AGE_MS / 1000);
    expires = seconds <= 0 ? 0 : now + seconds * 1000; // 0 = "the earliest representable time"
  } else if (p.expires !== undefined) {
    expires = Math.min(p.expires, now + MAX_COOKIE_AGE_MS);
  }

  // Steps 7-10: the Domain attribute.
  let domain = p.domain ?? '';
  const host = req.host;
  if (domain !== '') {
    // Step 8: a Domain attribute with non-ASCII characters is ignored with the cookie.
    if (NON_ASCII.test(domain)) {
      return { ok: false, reason: 'invalid-domain', detail: `Domain=${domain} is not ASCII; the request host is ${host}` };
    }
    if (isIpHost(host)) {
      // An IP address has no parent domain: a Domain attribute naming the same address is allowed
      // but the cookie stays host-only; any other Domain is refused (§5.1.3: IPs match only themselves).
      if (domain !== host && `[${domain}]` !== host) {
        return { ok: false, reason: 'invalid-domain', detail: `Domain=${domain} does not match the IP address ${host}; cookies set by an IP are host-only` };
      }
      domain = '';
    } else if (isPublicSuffix(domain)) {
      // Step 9: a public suffix is refused, unless it is the host itself: then the cookie is host-only.
      if (domain === host) domain = '';
      else return { ok: false, reason: 'public-suffix', detail: `Domain=${domain} is a public suffix; the request host is ${host}` };
    }
  }
  let hostOnly: boolean;
  if (domain !== '') {
    // Step 10: the request host must domain-match the Domain attribute.
    if (!domainMatch(host, domain)) {
      return { ok: false, reason: 'invalid-domain', detail: `Domain=${domain} does not domain-match the request host ${host}` };
    }
    hostOnly = false;
  } else {
    hostOnly = true;
    domain = host;
  }

  // Step 11: Path, or the default-path of the request (§5.1.4).
  const path = p.path ?? defaultPath(req.path);

  // Step 12: a Secure cookie only from a secure request.
  if (p.secure && !req.secure) {
    return { ok: false, reason: 'secure-from-insecure', detail: `Secure cookie set by ${req.scheme}//${req.host}, which is not https: or localhost` };
  }

  // Steps 17-18: cookie prefixes, matched case-insensitively (6265bis). A nameless cookie whose
  // value looks like a prefixed name would be serialised as one, so it is refused too.
  const nameForPrefix = p.name === '' ? p.value : p.name;
  if (startsWithCI(nameForPrefix, '__secure-')) {
    if (p.name === '') return { ok: false, reason: 'prefix-secure', detail: 'a nameless cookie cannot have a value starting with __Secure-' };
    if (!p.secure) return { ok: false, reason: 'prefix-secure', detail: `${p.name} has the __Secure- prefix but no Secure attribute` };
  } else if (startsWithCI(nameForPrefix, '__host-')) {
    if (p.name === '') return { ok: false, reason: 'prefix-host', detail: 'a nameless cookie cannot have a value starting with __Host-' };
    const missing: string[] = [];
    if (!p.secure) missing.push('no Secure attribute');
    if (!hostOnly) missing.push(`Domain=${domain} given`);
    if (!p.hasPath) missing.push('no Path attribute');
    else if (path !== '/') missing.push(`Path=${path} is not /`);
    if (missing.length > 0) return { ok: false, reason: 'prefix-host', detail: `${p.name} has the __Host- prefix but ${missing.join(', ')}` };
  }

  const cookie: Cookie = { name: p.name, value: p.value, domain, path, hostOnly, secure: p.secure, httpOnly: p.httpOnly, expires, creation: now, lastAccess: now };
  if (p.sameSite !== undefined) cookie.sameSite = p.sameSite;
  return cookie;
}

/**
 * A cookie read from a file (JSON or cookies.txt), through the rules a Set-Cookie line goes through
 * (`cookieFromLine`), as if a secure request to its own domain had set it with that Domain (for a
 * domain cookie), Path, expiry and flags: so a file cannot give the jar what a server could not —
 * a domain cookie on a public suffix or an IP address, a `__Host-`/`__Secure-` cookie without its
 * conditions, an expiry past 400 days from now (capped, as Set-Cookie's are), a name and value over
 * 4096 octets, a Domain over 1024 octets, or a domain that is not a host as the URL parser writes
 * it. The creation and last-access times are the file's; an expired cookie is refused as `expired`.
 */
export function cookieFromFile(c: Readonly<Cookie>, now: number): Cookie | Rejection {
  const domain = c.domain;
  let canonical = '';
  try {
    canonical = new URL(`http://${domain}/`).hostname;
  } catch {
    // not a host: refused below
  }
  if (canonical !== domain || domain === '') return { ok: false, reason: 'invalid-domain', detail: `${domain} is not a host name as a URL gives it` };
  const size = Buffer.byteLength(c.name, 'utf8') + Buffer.byteLength(c.value, 'utf8');
  if (size > MAX_NAME_VALUE_OCTETS) return { ok: false, reason: 'too-large', detail: `name and value are ${size} octets; the limit is ${MAX_NAME_VALUE_OCTETS}` };
  if (!c.hostOnly) {
    if (Buffer.byteLength(domain, 'utf8') > MAX_ATTRIBUTE_OCTETS) return { ok: false, reason: 'too-large', detail: `Domain=${domain.slice(0, 40)}… is over ${MAX_ATTRIBUTE_OCTETS} octets` };
    if (isIpHost(domain)) return { ok: false, reason: 'invalid-domain', detail: `a cookie for the IP address ${domain} can only be host-only` };
    if (isPublicSuffix(domain)) return { ok: false, reason: 'public-suffix', detail: `Domain=${domain} is a public suffix` };
  }
  if (c.expires !== null && c.expires <= now) {
    return { ok: false, reason: 'expired', detail: `expiry ${iso(c.expires)} is in the past` };
  }
  const parsed: ParsedSetCookie = {
    ok: true,
    name: c.name,
    value: c.value,
    expires: c.expires ?? undefined,
    maxAge: undefined,
    domain: c.hostOnly ? undefined : domain,
    path: c.path,
    hasPath: true,
    secure: c.secure,
    httpOnly: c.httpOnly,
    sameSite: c.sameSite,
    ignored: undefined,
  };
  const out = cookieFromLine(parsed, { host: domain, path: c.path, secure: true, scheme: 'https:' }, now);
  if (isRejection(out)) return out;
  out.creation = c.creation;
  out.lastAccess = c.lastAccess;
  return out;
}

export function isRejection(r: Cookie | Rejection): r is Rejection {
  return (r as Rejection).ok === false;
}

/**
 * §5.7 step 15, "leave secure cookies alone": a cookie from an insecure request may not overwrite
 * or shadow a Secure cookie of the same name whose domain and path overlap. `secureSameName`: the
 * stored Secure cookies of that name on the cookie's site (the only ones that can overlap). When
 * several block, the oldest is named.
 */
export function leaveSecureAlone(c: Readonly<Cookie>, req: RequestFacts, secureSameName: readonly RuleCookie[]): Rejection | undefined {
  if (c.secure || req.secure) return undefined;
  let blocker: RuleCookie | undefined;
  for (const o of secureSameName) {
    if ((domainMatch(o.domain, c.domain) || domainMatch(c.domain, o.domain)) && pathMatch(c.path, o.path) && (blocker === undefined || o.seq < blocker.seq)) blocker = o;
  }
  if (blocker === undefined) return undefined;
  return {
    ok: false,
    reason: 'overwrite-secure',
    detail: `a Secure cookie of this name exists for ${blocker.hostOnly ? blocker.domain : `Domain=${blocker.domain}`} Path=${blocker.path}; ${req.scheme}//${req.host} is not secure`,
  };
}

/**
 * §5.7 steps 19-21 for a cookie that is already expired: it stores nothing; if it had the key of a
 * stored cookie (`replaces`), that cookie is deleted. Undefined when the cookie is to be stored.
 */
export function expiredOutcome(c: Readonly<Cookie>, replaces: boolean, now: number): { reason: 'deleted' | 'expired'; detail: string } | undefined {
  if (!isExpired(c, now)) return undefined;
  const when = c.expires === 0 ? 'Max-Age<=0' : `expiry ${new Date(c.expires!).toISOString()} is in the past`;
  return replaces
    ? { reason: 'deleted', detail: `${when}: the stored cookie for ${c.domain} Path=${c.path} was deleted` }
    : { reason: 'expired', detail: `${when}; there was no stored cookie to delete` };
}

/** The facts of a stored cookie in one line for the trace (never the value). */
export function describeStored(c: Readonly<Cookie>, now: number, ignored: readonly string[] | undefined): string {
  let d = c.hostOnly ? 'host-only for ' + c.domain : 'Domain=' + c.domain;
  d += ', Path=' + c.path;
  d += c.expires === null ? ', session cookie' : ', expires in ' + Math.round((c.expires - now) / 1000) + 's';
  if (c.secure) d += ', Secure';
  if (c.httpOnly) d += ', HttpOnly';
  if (c.sameSite !== undefined) d += ', SameSite=' + c.sameSite;
  if (ignored !== undefined) for (let i = 0; i < ignored.length; i++) d += '; ' + ignored[i];
  return d;
}

// ---- retrieval, §5.8.3 ----------------------------------------------------------------------

/**
 * §5.8.3 step 1, the one place it is written: whether cookie `c` goes with a request to `req` at
 * `now`, or the first reason it does not. Expiry first, then the domain (host-only: identical host;
 * otherwise §5.1.3 domain-match), the path (§5.1.4 path-match), and Secure (secure requests only).
 * `host-only` is the domain mismatch of a host-only cookie seen from a subdomain of its host, where
 * a Domain attribute would have made it go: the trace says so.
 */
export function sendReason(c: Readonly<Cookie>, req: RequestFacts, now: number): 'match' | CookieSendReason {
  if (c.expires !== null && c.expires <= now) return 'expired';
  if (c.hostOnly) {
    if (req.host !== c.domain) return domainMatch(req.host, c.domain) ? 'host-only' : 'domain-mismatch';
  } else if (!domainMatch(req.host, c.domain)) return 'domain-mismatch';
  if (!pathMatch(req.path, c.path)) return 'path-mismatch';
  if (c.secure && !req.secure) return 'secure-only';
  return 'match';
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The facts behind a `sendReason` answer, in one line for a person (never the value). */
export function sendDetail(c: Readonly<Cookie>, reason: 'match' | CookieSendReason, req: RequestFacts, now: number): string {
  switch (reason) {
    case 'expired':
      return `cookie expired at ${iso(c.expires!)} (now ${iso(now)})`;
    case 'host-only':
      return `host-only cookie for ${c.domain} (set without Domain=) does not go to ${req.host}`;
    case 'domain-mismatch':
      return c.hostOnly ? `host-only cookie for ${c.domain} does not go to request host ${req.host}` : `cookie Domain=${c.domain} does not cover request host ${req.host}`;
    case 'path-mismatch':
      return `cookie Path=${c.path} does not cover request path ${req.path}`;
    case 'secure-only':
      return `Secure cookie not sent to ${req.scheme}//${req.host}, which is not https: or localhost`;
    case 'samesite-strict':
      return `SameSite=Strict cookie not sent on a cross-site request to ${req.host} (browser rules)`;
    case 'samesite-lax':
      return `SameSite=Lax (or Lax-by-default) cookie not sent on a cross-site request to ${req.host} that is not a top-level GET navigation (browser rules)`;
    case 'match':
      return `${c.hostOnly ? `host-only cookie for ${c.domain}` : `cookie Domain=${c.domain}`} covers ${req.host}, Path=${c.path} covers ${req.path}${c.secure ? ', Secure over a secure request' : ''}`;
  }
}

/** §5.8.3 step 2: longer paths first, then earlier creation (creation order breaks ties in a ms). */
export function headerOrder(a: RuleCookie, b: RuleCookie): number {
  return b.path.length - a.path.length || a.seq - b.seq;
}

/** §5.8.3 step 4: "name=value", or just the value for a nameless cookie. */
export function serialize(c: Readonly<Cookie>): string {
  return c.name === '' ? c.value : c.name + '=' + c.value;
}

/** The request's "site" for SameSite purposes: scheme + registrable domain (schemeful same-site). */
export function schemefulSite(url: URL): string {
  return `${url.protocol}//${siteOfHost(url.hostname)}`;
}

/**
 * What a browser would do with SameSite (6265bis §5.8.3 step 1, §8.8). hopwise is not a browser:
 * it has no "site for cookies", so it sends regardless; the note tells a person where a browser
 * would differ. `initiatorSite` is the site of the request that led here, when known.
 */
export function sameSiteNote(c: Readonly<Cookie>, targetSite: string | undefined, initiatorSite: string | undefined, method: string | undefined): string | undefined {
  if (c.sameSite === 'none') {
    return c.secure ? undefined : 'SameSite=None without Secure: a browser would have rejected this cookie; hopwise keeps it';
  }
  const label = c.sameSite === 'strict' ? 'SameSite=Strict' : c.sameSite === 'lax' ? 'SameSite=Lax' : 'no SameSite (browsers default to Lax)';
  if (initiatorSite !== undefined && targetSite !== undefined) {
    if (initiatorSite === targetSite) return undefined; // same-site: browsers send it too
    if (c.sameSite === 'strict') {
      return `${label}: the request comes from ${initiatorSite}, another site, so a browser would not send it; hopwise does`;
    }
    const safe = method === undefined || method === 'GET' || method === 'HEAD';
    return safe
      ? `${label}: the request comes from ${initiatorSite}; a browser would send it only on a top-level navigation, not a subrequest; hopwise sends it`
      : `${label}: a cross-site ${method} from ${initiatorSite}; a browser would not send it; hopwise does`;
  }
  if (c.sameSite === 'strict') return `${label}: a browser sends it only on same-site requests; hopwise sends it regardless`;
  if (c.sameSite === 'lax') return `${label}: a browser withholds it from cross-site subrequests and cross-site POSTs; hopwise sends it regardless`;
  return undefined;
}

// ---- browser rules: SameSite enforcement, for a replay of a browser's traffic ----------------

/** One request of a browser's navigation, as `sameSiteContext` needs it. */
export interface NavigationFacts {
  url: URL;
  method: string;
  /**
   * The URL of the document that started the navigation (a link, a form, a meta refresh, a script);
   * null when the browser itself started it (the address bar, a bookmark, DevTools): no initiator.
   */
  initiator: URL | null;
  /** The URLs the navigation was redirected through before this one (this request excluded). */
  redirects: readonly URL[];
  topLevel: boolean;
  /**
   * Count the redirect chain (RFC 6265bis §5.2: a navigation redirected through another site is
   * cross-site). Chromium checks only the initiator against the target (it shipped the redirect-chain
   * rule behind a flag); Firefox and the RFC check the chain.
   */
  countRedirects: boolean;
}

/**
 * RFC 6265bis §5.2 "same-site and cross-site requests", for a top-level navigation: the "site for
 * cookies" is the target's own site, so the request is same-site when nothing cross-site led to it —
 * no initiator (the user typed it), or an initiator of the target's (schemeful) site, and (when the
 * browser counts redirects) every URL it was redirected through of that site too.
 */
export function isSameSiteNavigation(n: NavigationFacts): boolean {
  const site = schemefulSite(n.url);
  if (n.initiator !== null && schemefulSite(n.initiator) !== site) return false;
  if (n.countRedirects) for (const r of n.redirects) if (schemefulSite(r) !== site) return false;
  return true;
}

/**
 * RFC 6265bis §5.8.3 step 1, the SameSite bullets: whether a cookie that matched a request's URL is
 * still withheld by its SameSite attribute in a browser. Strict: only same-site requests. Lax (and
 * no attribute where the browser defaults to Lax): same-site requests, and cross-site top-level
 * navigations with a safe method (GET, HEAD); a Lax-by-default cookie younger than
 * `laxAllowingUnsafeMs` also goes on a cross-site top-level POST ("Lax-Allowing-Unsafe"
 * enforcement, Chromium's two-minute "Lax+POST" window). None: always.
 */
export function sameSiteReason(c: Readonly<Cookie>, ctx: BrowserSameSite, now: number): 'match' | 'samesite-strict' | 'samesite-lax' {
  if (ctx.sameSite) return 'match';
  const mode = c.sameSite ?? (ctx.laxByDefault ? 'default' : 'none');
  if (mode === 'none') return 'match';
  if (mode === 'strict') return 'samesite-strict';
  const method = ctx.method.toUpperCase();
  if (ctx.topLevel && (method === 'GET' || method === 'HEAD')) return 'match';
  if (mode === 'default' && ctx.topLevel && ctx.laxAllowingUnsafeMs > 0 && now - c.creation < ctx.laxAllowingUnsafeMs) return 'match';
  return 'samesite-lax';
}
