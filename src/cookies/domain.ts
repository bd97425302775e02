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
  return (
    host.length > domain.length &&
    host.endsWith(domain) &&
    host.charCodeAt(host.length - domain.length - 1) === 0x2e /* . */ &&
    !isIpHost(host)
  );
}

/**
 * What the jar needs to know about a host name, computed once per name and cached:
 * - `host`: the name as one flat, engine-internalised string. URL getters and slices return a fresh
 *   (often "sliced") string on every call; comparing and hashing those is measurably slower, and a
 *   sliced string keeps the whole URL text it came from alive. Internalised strings compare by pointer.
 * - `parent`: the next domain up (`b.example.com` for `a.b.example.com`); following it from a host
 *   gives the only cookie domains that can match it (§5.1.3). None for an IP or a single label.
 *   A pointer rather than an array of names per host: a jar of 1,000 hosts would otherwise keep
 *   1,000 arrays that mostly repeat each other.
 * - `plain`: a lower-case LDH name the URL parser leaves as is (not IPv4-like, no punycode, no empty
 *   label), which lets `url.ts` read simple URL strings without the full parser.
 * - `publicSuffix` / `site`: see `SiteInfo`; filled on first use by `siteInfo` (tldts is the slow
 *   part). Kept on this object rather than a separate one: one object per host, not two.
 */
export interface HostInfo {
  host: string;
  ip: boolean;
  loopback: boolean;
  plain: boolean;
  parent: HostInfo | undefined;
  publicSuffix: string | null | undefined;
  site: string | undefined;
}

/**
 * A class, not an object literal: V8 may allocate a literal's objects straight into the old
 * generation (allocation-site pretenuring), and the code that does so is thrown away whenever a
 * full GC resets those decisions; objects made by a constructor are not subject to that.
 */
class Host implements HostInfo {
  // Both present from the start (filled by `siteInfo`): one shape for every host.
  publicSuffix: string | null | undefined = undefined;
  site: string | undefined = undefined;
  constructor(
    readonly host: string,
    readonly ip: boolean,
    readonly loopback: boolean,
    readonly plain: boolean,
    readonly parent: HostInfo | undefined,
  ) {}
}

const HOSTS = new Map<string, HostInfo>();
const HOSTS_MAX = 8192;

/** The engine's one copy of `s` (a property key comes back internalised); equal strings share it. */
export function internalise(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

export function hostInfo(name: string): HostInfo {
  const known = HOSTS.get(name);
  if (known !== undefined) return known;
  if (HOSTS.size >= HOSTS_MAX) HOSTS.clear();
  const host = internalise(name);
  const ip = isIpHost(host);
  let parent: HostInfo | undefined;
  const dot = host.indexOf('.');
  if (!ip && dot >= 0 && dot < host.length - 1) parent = hostInfo(host.slice(dot + 1));
  const lastDot = host.lastIndexOf('.', host.length - 2);
  const lastLabel = host.charCodeAt(lastDot + 1);
  const plain =
    !ip && !(lastLabel >= 0x30 && lastLabel <= 0x39) && host.charCodeAt(0) !== 0x2e && !host.includes('..') && !host.includes('xn--');
  const info = new Host(host, ip, isLoopbackHost(host), plain, parent);
  HOSTS.set(host, info);
  return info;
}

/** The one internalised string for a host name (see `HostInfo.host`). */
export function internHost(name: string): string {
  return hostInfo(name).host;
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
 * tldts is called for every Set-Cookie and every evaluate(); its answer is cached with the host's
 * other facts (a bounded Map, cleared when full: simpler than an LRU and nearly as good here).
 */
export function siteInfo(host: string): SiteInfo {
  const info = hostInfo(host);
  if (info.site === undefined) computeSiteInfo(info);
  return info as SiteInfo;
}

/**
 * The site of a host already looked up, for the hot paths. Callers test `info.site` themselves
 * first (`info.site ?? siteOfInfo(info)`): the cached answer is then read in their own compiled
 * code, and this function (whose compiled form inlines the tldts lookup: several ms for the
 * optimising compiler) is only ever run, and compiled, for hosts seen for the first time.
 */
export function siteOfInfo(info: HostInfo): string {
  if (info.site === undefined) computeSiteInfo(info);
  return info.site!;
}

function computeSiteInfo(info: HostInfo): void {
  const host = info.host;
  if (isIpHost(host)) {
    info.publicSuffix = null;
    info.site = host;
    return;
  }
  // localhost is not on the Public Suffix List; tldts's default "*" rule would make `localhost`
  // itself a public suffix, so `a.localhost` could not share cookies with `b.localhost` via
  // Domain=localhost. The lab relies on that, and RFC 6761 reserves the name for loopback, so
  // `localhost` is treated as a registrable domain with no public suffix above it.
  if (isLocalhost(host)) {
    info.publicSuffix = '';
    info.site = 'localhost';
    return;
  }
  // tldts drops a trailing dot; a trailing-dot host is a distinct host for cookies, so look up
  // the name without it and keep the dot off the site too (it is only a grouping key).
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  // Private registries (github.io, ...) count as public suffixes for cookies, as in browsers.
  const r = parseDomain(bare, { allowPrivateDomains: true, extractHostname: false });
  // Internalised: tldts returns fresh strings, and every host of a site would keep its own copy.
  info.publicSuffix = r.publicSuffix === null ? null : internalise(r.publicSuffix);
  info.site = internalise(r.domain ?? bare);
}

/**
 * §5.7 step 9: is this Domain attribute value a public suffix? Compared without a trailing dot,
 * so `Domain=org.` counts as `org`.
 */
export function isPublicSuffix(domain: string): boolean {
  const bare = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (bare.length === 0) return false;
  const info = hostInfo(bare);
  // The cached answer read here (see `siteOfInfo`).
  if (info.site === undefined) computeSiteInfo(info);
  const publicSuffix = info.publicSuffix;
  return publicSuffix !== null && publicSuffix !== '' && publicSuffix === bare;
}
