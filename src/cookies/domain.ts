/**
 * Hosts and domains for cookies: canonical hosts, domain-match (RFC 6265bis §5.1.3), public
 * suffixes (§5.7 step 9, via the Public Suffix List in `tldts`), IP literals and localhost.
 */
import { parse as parseDomain } from 'tldts';

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * True for an IP literal as the WHATWG URL parser writes it: dotted IPv4 (the parser has already
 * folded `0x7f.1` and friends into this form) or a bracketed IPv6 address.
 */
export function isIpHost(host: string): boolean {
  return host.charCodeAt(0) === 0x5b /* [ */ || (host.length <= 15 && IPV4.test(host));
}

/** `localhost` and `*.localhost` (RFC 6761 §6.3: always loopback). */
export function isLocalhost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.';
}

/**
 * A "potentially trustworthy" loopback host (W3C Secure Contexts §3.2): browsers treat
 * http://localhost as a secure context, so Secure cookies may be set and sent there. hopwise does
 * the same so tests and the lab can exercise Secure cookies without TLS.
 */
export function isLoopbackHost(host: string): boolean {
  if (isLocalhost(host)) return true;
  if (host === '[::1]') return true;
  return host.startsWith('127.') && IPV4.test(host);
}

/** Whether a request to this URL counts as secure for cookies (§5.7 step 12, §5.8.3). */
export function isSecureUrl(url: URL): boolean {
  return url.protocol === 'https:' || url.protocol === 'wss:' || isLoopbackHost(url.hostname);
}

/**
 * §5.1.3 domain-match: the host is the domain, or ends with "." + domain and is not an IP.
 * Both sides are canonical (lower-case, punycode) already.
 */
export function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  return (
    host.length > domain.length &&
    host.endsWith(domain) &&
    host.charCodeAt(host.length - domain.length - 1) === 0x2e /* . */ &&
    !isIpHost(host)
  );
}

export interface SiteInfo {
  /** The public suffix of the host ("co.uk"), or null for IPs. '' for localhost names: none. */
  publicSuffix: string | null;
  /**
   * The registrable domain ("example.co.uk"): the unit cookies are grouped, limited and explained
   * by. For IPs and names with no registrable part, the host itself.
   */
  site: string;
}

/**
 * tldts is called on every Set-Cookie and on every evaluate(); results are cached in a small Map
 * (cleared when it grows past its bound, which is simpler and nearly as good as an LRU here).
 */
const SITE_CACHE = new Map<string, SiteInfo>();
const SITE_CACHE_MAX = 2048;

export function siteInfo(host: string): SiteInfo {
  let info = SITE_CACHE.get(host);
  if (info !== undefined) return info;
  info = computeSiteInfo(host);
  if (SITE_CACHE.size >= SITE_CACHE_MAX) SITE_CACHE.clear();
  SITE_CACHE.set(host, info);
  return info;
}

function computeSiteInfo(host: string): SiteInfo {
  if (isIpHost(host)) return { publicSuffix: null, site: host };
  // localhost is not on the Public Suffix List; tldts's default "*" rule would make `localhost`
  // itself a public suffix, so `a.localhost` could not share cookies with `b.localhost` via
  // Domain=localhost. The lab relies on that, and RFC 6761 reserves the name for loopback, so
  // `localhost` is treated as a registrable domain with no public suffix above it.
  if (isLocalhost(host)) return { publicSuffix: '', site: 'localhost' };
  // tldts drops a trailing dot; a trailing-dot host is a distinct host for cookies, so look up
  // the name without it and keep the dot off the site too (it is only a grouping key).
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  // Private registries (github.io, ...) count as public suffixes for cookies, as in browsers.
  const r = parseDomain(bare, { allowPrivateDomains: true, extractHostname: false });
  return { publicSuffix: r.publicSuffix, site: r.domain ?? bare };
}

/**
 * §5.7 step 9: is this Domain attribute value a public suffix? Compared without a trailing dot,
 * so `Domain=org.` counts as `org`.
 */
export function isPublicSuffix(domain: string): boolean {
  const bare = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (bare.length === 0) return false;
  const { publicSuffix } = siteInfo(bare);
  return publicSuffix !== null && publicSuffix !== '' && publicSuffix === bare;
}
