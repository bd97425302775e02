/**
 * Hosts and domains for cookies: canonical hosts, domain-match (RFC 6265bis §5.1.3), public
 * suffixes (§5.7 step 9, via the Public Suffix List in `tldts`), IP literals and localhost.
 */
import { createRequire } from 'node:module';

/**
 * tldts (the Public Suffix List, ~200 KB of code) is loaded on first use, not at import: a session
 * that never stores a cookie or compares two sites never pays for it (`import('hopwise')` was 1.5×
 * `import('undici')` with it loaded eagerly).
 */
let psl: typeof import('tldts') | undefined;
function parseDomain(host: string, options: Parameters<typeof import('tldts').parse>[1]): ReturnType<typeof import('tldts').parse> {
  psl ??= createRequire(import.meta.url)('tldts') as typeof import('tldts');
  return psl.parse(host, options);
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * True for an IP literal as the WHATWG URL parser writes it: dotted IPv4 (the parser has already
 * folded `0x7f.1` and friends into this form) or a bracketed IPv6 address.
 */
export function isIpHost(host: string): boolean {
  if (host.charCodeAt(0) === 0x5b /* [ */) return true;
  // A host name ending in a letter is never IPv4 (the URL parser would have parsed it as one).
  const last = host.charCodeAt(host.length - 1);
  return last >= 0x30 && last <= 0x39 && host.length <= 15 && IPV4.test(host);
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
  return host.length > domain.length && host.endsWith(domain) && host.charCodeAt(host.length - domain.length - 1) === 0x2e /* . */ && !isIpHost(host);
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
 * The public suffix and registrable domain of a canonical host, with the jar's Public Suffix List
 * settings: private-section suffixes (github.io, s3.amazonaws.com) count as public suffixes, as in
 * browsers. Not cached here: a process-wide cache would keep the host names of dropped jars alive;
 * the stores remember the site of every cookie domain they hold instead.
 */
export function siteInfo(host: string): SiteInfo {
  if (isIpHost(host)) return { publicSuffix: null, site: host };
  // localhost is not on the Public Suffix List; tldts's default "*" rule would make `localhost`
  // itself a public suffix, so `a.localhost` could not share cookies with `b.localhost` via
  // Domain=localhost. The lab relies on that, and RFC 6761 reserves the name for loopback, so
  // `localhost` is treated as a registrable domain with no public suffix above it.
  if (isLocalhost(host)) return { publicSuffix: '', site: 'localhost' };
  // tldts drops a trailing dot; a trailing-dot host is a distinct host for cookies, so look up
  // the name without it and keep the dot off the site too (it is only a grouping key).
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  const r = parseDomain(bare, { allowPrivateDomains: true, extractHostname: false });
  return { publicSuffix: r.publicSuffix, site: r.domain ?? bare };
}

/** A host's site (registrable domain) with the jar's PSL settings: `siteInfo(host).site`. */
export function siteOf(host: string): string {
  return siteInfo(host).site;
}

/**
 * §5.7 step 9: is this Domain attribute value a public suffix? Compared without a trailing dot,
 * so `Domain=org.` counts as `org`.
 */
export function isPublicSuffix(domain: string): boolean {
  const bare = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (bare.length === 0) return false;
  const publicSuffix = siteInfo(bare).publicSuffix;
  return publicSuffix !== null && publicSuffix !== '' && publicSuffix === bare;
}

/**
 * The cookie domains that can match a request to `host` (§5.1.3 domain-match): the host, then each
 * parent domain (`a.b.example.com`, `b.example.com`, `example.com`, `com`). Just the host for an IP.
 */
export function domainChain(host: string): string[] {
  const chain = [host];
  if (isIpHost(host)) return chain;
  for (let dot = host.indexOf('.'); dot >= 0 && dot < host.length - 1; dot = host.indexOf('.', dot + 1)) chain.push(host.slice(dot + 1));
  return chain;
}
