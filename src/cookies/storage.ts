/**
 * From a parsed Set-Cookie line to a cookie, RFC 6265bis §5.7 (the storage model), for the steps
 * that need only the line, the request and the clock. The steps that need the jar (leave secure
 * cookies alone, replacement, deletion, limits) are in `jar.ts`.
 */
import type { Cookie, SetCookieRejectReason } from './types.js';
import type { ParsedSetCookie } from './parse.js';
import type { RequestFacts } from './url.js';
import { domainMatch, isIpHost, isPublicSuffix, siteOfInfo, type HostInfo } from './domain.js';
import { defaultPath } from './path.js';

/** §5.5 / §5.6.1-2: no cookie lives longer than 400 days, whatever Max-Age or Expires say. */
export const MAX_COOKIE_AGE_MS = 400 * 24 * 60 * 60 * 1000;

export type { RequestFacts } from './url.js';

/** A refusal; anything else `buildCookie` returns is the cookie. */
export interface BuildRejection {
  ok: false;
  reason: SetCookieRejectReason;
  detail: string;
}

export type BuildResult = Cookie | BuildRejection;

export function isRejection(r: BuildResult): r is BuildRejection {
  return (r as BuildRejection).ok === false;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * `s` starts with `prefix` (lower-case ASCII) case-insensitively, as `s.slice(..).toLowerCase() ===
 * prefix` would say, by characters: no strings built for every cookie. Only ASCII letters fold to
 * ASCII here, as with toLowerCase (the one non-ASCII character that lower-cases to ASCII, U+0130,
 * becomes "i" plus a combining dot, never equal to the prefix), so the answers are the same.
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

/** §5.7 steps 6-18, minus the jar-dependent step 15 ("leave secure cookies alone"). */
export function buildCookie(p: ParsedSetCookie, req: RequestFacts, now: number): BuildResult {
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
    } else {
      // Step 9. A Domain value step 10 can accept is the host or one of its parents: on the host's
      // chain, where the public-suffix answer is cached (one walk by shared strings instead of a
      // host-table lookup per line). Anything else (and a trailing-dot value, which is compared
      // without its dot) asks `isPublicSuffix`; both give the same answer.
      let on: HostInfo | undefined = req.info;
      while (on !== undefined && on.host !== domain) on = on.parent;
      let publicSuffix: boolean;
      if (on !== undefined && domain.charCodeAt(domain.length - 1) !== 0x2e /* . */) {
        domain = on.host; // the shared string
        if (on.site === undefined) siteOfInfo(on);
        const ps = on.publicSuffix;
        publicSuffix = ps !== null && ps !== undefined && ps !== '' && ps === domain;
      } else {
        publicSuffix = isPublicSuffix(domain);
      }
      if (publicSuffix) {
        // A public suffix is refused, unless it is the host itself: then the cookie is host-only.
        if (domain === host) domain = '';
        else return { ok: false, reason: 'public-suffix', detail: `Domain=${domain} is a public suffix; the request host is ${host}` };
      }
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

  const cookie: Cookie = {
    name: p.name,
    value: p.value,
    domain,
    path,
    hostOnly,
    secure: p.secure,
    httpOnly: p.httpOnly,
    expires,
    creation: NaN,
    lastAccess: now,
  };
  if (p.sameSite !== undefined) cookie.sameSite = p.sameSite;
  // Set after the literal: the jar rewrites it when a cookie replaces another, and a field never
  // rewritten before is treated by V8 as a constant (the first replacement would then throw away
  // the optimised code that relied on it). NaN, not 0, as the placeholder: a double from the start,
  // since changing a field from small integer to double gives every cookie a new shape.
  cookie.creation = now;
  return cookie;
}
