/**
 * Origins as DESIGN.md defines them: scheme + host + port, default ports folded, hosts canonicalised
 * by the WHATWG URL parser (so `EXAMPLE.com` = `example.com`, IDNs are punycode), and a trailing dot
 * kept distinct (`example.com.` is another origin, as it is for browsers).
 */

import { siteInfo } from '../cookies/domain.js';
import type { OriginPair } from '../trace/types.js';

/** `URL.origin` already folds default ports and canonicalises the host; it is the key we compare. */
export function originOf(url: URL): string {
  return url.origin;
}

export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

/**
 * Same host, http:80 → https:443. The one cross-origin hop that keeps credentials: the request only
 * gains confidentiality (an HSTS-style upgrade). Non-default ports do not qualify: http:8080 →
 * https:8443 could be two different services.
 */
export function isHttpsUpgrade(from: URL, to: URL): boolean {
  return from.protocol === 'http:' && to.protocol === 'https:' && from.hostname === to.hostname && from.port === '' && to.port === '';
}

export function isDowngrade(from: URL, to: URL): boolean {
  return from.protocol === 'https:' && to.protocol === 'http:';
}

/**
 * The facts of one hop transition that every reader needs: both origins and whether they share a
 * site. "Same site" is the cookie jar's own answer (its Public Suffix List settings, where private
 * suffixes such as github.io are suffixes), so the trace and the doctor can never disagree with
 * the jar about it.
 */
export function originPair(from: URL, to: URL): OriginPair {
  return { from: from.origin, to: to.origin, sameSite: siteInfo(from.hostname).site === siteInfo(to.hostname).site };
}
