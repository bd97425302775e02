/**
 * Whether a stored cookie goes with a request, RFC 6265bis §5.8.3, and why not when it does not.
 * `matches` is the hot path (no strings built); `judge` gives the reason and the facts for a trace.
 */
import type { Cookie, CookieSendReason, CookieVerdict } from './types.js';
import type { RequestFacts } from './storage.js';
import { domainMatch, siteInfo } from './domain.js';
import { pathMatch } from './path.js';

export function isExpired(c: Cookie, now: number): boolean {
  return c.expires !== null && c.expires <= now;
}

/** §5.8.3 step 1: host (host-only: identical; else domain-match), path-match, Secure, not expired. */
export function matches(c: Cookie, host: string, path: string, secure: boolean, now: number): boolean {
  if (c.expires !== null && c.expires <= now) return false;
  if (c.hostOnly ? host !== c.domain : !domainMatch(host, c.domain)) return false;
  if (!pathMatch(path, c.path)) return false;
  return secure || !c.secure;
}

/** Order of §5.8.3 step 2: longer paths first, then earlier creation (`seq` breaks ties in a ms). */
export function compareForHeader(a: { path: string; seq: number }, b: { path: string; seq: number }): number {
  return b.path.length - a.path.length || a.seq - b.seq;
}

/** §5.8.3 step 4: "name=value", or just the value for a nameless cookie. */
export function serialize(c: Cookie): string {
  return c.name === '' ? c.value : `${c.name}=${c.value}`;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function domainFact(c: Cookie): string {
  return c.hostOnly ? `host-only cookie for ${c.domain}` : `cookie Domain=${c.domain}`;
}

/** The verdict for one cookie and one request, with the facts in one line (never the value). */
export function judge(c: Cookie, req: RequestFacts, now: number): { reason: 'match' | CookieSendReason; detail: string } {
  if (isExpired(c, now)) {
    return { reason: 'expired', detail: `cookie expired at ${iso(c.expires!)} (now ${iso(now)})` };
  }
  if (c.hostOnly) {
    if (req.host !== c.domain) {
      // The request host is under the cookie's host: it would have gone with Domain=; say so.
      if (domainMatch(req.host, c.domain)) {
        return { reason: 'host-only', detail: `host-only cookie for ${c.domain} (set without Domain=) does not go to ${req.host}` };
      }
      return { reason: 'domain-mismatch', detail: `host-only cookie for ${c.domain} does not go to request host ${req.host}` };
    }
  } else if (!domainMatch(req.host, c.domain)) {
    return { reason: 'domain-mismatch', detail: `cookie Domain=${c.domain} does not cover request host ${req.host}` };
  }
  if (!pathMatch(req.path, c.path)) {
    return { reason: 'path-mismatch', detail: `cookie Path=${c.path} does not cover request path ${req.path}` };
  }
  if (c.secure && !req.secure) {
    return { reason: 'secure-only', detail: `Secure cookie not sent to ${req.scheme}//${req.host}, which is not https: or localhost` };
  }
  return { reason: 'match', detail: `${domainFact(c)} covers ${req.host}, Path=${c.path} covers ${req.path}${c.secure ? ', Secure over a secure request' : ''}` };
}

/** The request's "site" for SameSite purposes: scheme + registrable domain (schemeful same-site). */
export function siteOf(url: URL): string {
  return `${url.protocol}//${siteInfo(url.hostname).site}`;
}

/**
 * What a browser would do with SameSite (6265bis §5.8.3 step 1, §8.8). hopwise is not a browser:
 * it has no "site for cookies", so it sends regardless; the note tells a person where a browser
 * would differ. `initiatorSite` is the site of the request that led here, when known.
 */
export function sameSiteNote(c: Cookie, targetSite: string | undefined, initiatorSite: string | undefined, method: string | undefined): string | undefined {
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

export type { CookieVerdict };
