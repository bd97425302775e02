/**
 * The request facts cookies need (host, path, secure), from a URL object or string.
 *
 * Strings that are already in canonical form (lower-case ASCII host name, a path without "%",
 * "\", dot segments or characters the URL parser would encode) are read directly: the WHATWG
 * parser would return exactly these parts, and parsing is a large share of the cost of one
 * getCookieString/setCookie. Anything else goes through `new URL()`, so behaviour is identical.
 */
import { HopwiseOptionError } from '../errors.js';
import { hostInfo, type HostInfo } from './domain.js';

export interface RequestFacts {
  /** Canonical host, as the WHATWG URL parser gives it (lower-case, punycode, IPv6 in brackets). */
  host: string;
  /** Cached facts about the host (its parent-domain chain, IP, loopback). */
  info: HostInfo;
  /** The URL path, percent-encoded as the URL parser leaves it. */
  path: string;
  /** https:, or a loopback host (see `isSecureUrl`). */
  secure: boolean;
  /** "http:" or "https:" (or another scheme for URL objects); for details. Ports do not matter to cookies. */
  scheme: string;
}

/** Characters a canonical path may hold as is: unreserved, sub-delims, ":", "@", "/" (RFC 3986). */
const PATH_OK = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/") PATH_OK[c.charCodeAt(0)] = 1;
/** Lower-case LDH host characters and dots. */
const HOST_OK = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-.') HOST_OK[c.charCodeAt(0)] = 1;

/** FNV-1a, 32 bits, over the host's characters as the scan reads them. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * Hosts by the hash of their name, so a URL's host is found without cutting it out of the URL and
 * hashing the piece again (a Map lookup with a fresh string key costs as much as the rest of
 * reading the URL). A hit is checked against the URL text; a miss or a collision takes the
 * ordinary path. Bounded like the host table: cleared when full.
 */
const BY_HASH = new Map<number, HostInfo>();
const BY_HASH_MAX = 8192;

/** s[start, end) === t, by characters: `startsWith(t, start)` is a slow generic call by comparison. */
function sameAt(s: string, start: number, end: number, t: string): boolean {
  if (t.length !== end - start) return false;
  for (let k = 0; k < t.length; k++) if (s.charCodeAt(start + k) !== t.charCodeAt(k)) return false;
  return true;
}

function hostAt(s: string, start: number, end: number, hash: number): HostInfo {
  const known = BY_HASH.get(hash);
  if (known !== undefined && sameAt(s, start, end, known.host)) return known;
  const info = hostInfo(s.slice(start, end));
  if (BY_HASH.size >= BY_HASH_MAX) BY_HASH.clear();
  BY_HASH.set(hash, info);
  return info;
}

/**
 * Read an already-canonical http(s) URL string by hand, or return undefined to use the real parser.
 * Canonical here means: lower-case LDH host that is not IPv4-like, punycode or with empty labels;
 * an optional port of up to 5 digits; a path of RFC 3986 pchars without dot segments; and a query
 * and fragment of printable ASCII. For such strings the WHATWG parser returns these exact parts.
 */
function simpleFacts(s: string): RequestFacts | undefined {
  let i: number;
  let scheme: string;
  // By characters, not startsWith (see `sameAt`).
  if (s.length < 8 || s.charCodeAt(0) !== 0x68 || s.charCodeAt(1) !== 0x74 || s.charCodeAt(2) !== 0x74 || s.charCodeAt(3) !== 0x70) return undefined; // "http"
  if (s.charCodeAt(4) === 0x3a /* : */) {
    i = 5;
    scheme = 'http:';
  } else if (s.charCodeAt(4) === 0x73 /* s */ && s.charCodeAt(5) === 0x3a) {
    i = 6;
    scheme = 'https:';
  } else return undefined;
  if (s.charCodeAt(i) !== 0x2f || s.charCodeAt(i + 1) !== 0x2f) return undefined; // "//"
  i += 2;
  const n = s.length;
  const hostStart = i;
  let hash = FNV_OFFSET;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST_OK[c] !== 1) break;
    hash = Math.imul(hash ^ c, FNV_PRIME);
    i++;
  }
  const hostEnd = i;
  if (hostEnd === hostStart) return undefined;
  if (i < n && s.charCodeAt(i) === 0x3a /* : */) {
    const portStart = ++i;
    while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === portStart || i - portStart > 5 || Number(s.slice(portStart, i)) > 65535) return undefined;
  }
  const pathStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || PATH_OK[c] !== 1) break;
    if (c === 0x2e /* . */ && s.charCodeAt(i - 1) === 0x2f /* / */) return undefined; // dot segment (or "/.x": rare, let the parser decide)
    i++;
  }
  const pathEnd = i;
  if (pathEnd > pathStart && s.charCodeAt(pathStart) !== 0x2f) return undefined;
  if (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 0x3f /* ? */ && c !== 0x23 /* # */) return undefined;
    for (i++; i < n; i++) {
      const q = s.charCodeAt(i);
      if (q < 0x21 || q > 0x7e) return undefined;
    }
  }
  // Leave to the real parser: IPv4-looking hosts, punycode labels (validated by the parser),
  // leading dots and empty labels (see HostInfo.plain).
  const info = hostAt(s, hostStart, hostEnd, hash);
  if (!info.plain) return undefined;
  return {
    host: info.host,
    info,
    path: pathEnd === pathStart ? '/' : s.slice(pathStart, pathEnd),
    secure: scheme === 'https:' || info.loopback,
    scheme,
  };
}

export function factsFromUrl(u: URL): RequestFacts {
  const info = hostInfo(u.hostname);
  const scheme = u.protocol;
  return { host: info.host, info, path: u.pathname, secure: scheme === 'https:' || scheme === 'wss:' || info.loopback, scheme };
}

/** Parse `url` (string or URL) into request facts; a bad argument throws `ERR_INVALID_URL`. */
export function requestFacts(url: string | URL, method: string): RequestFacts {
  if (typeof url === 'string') {
    const fast = simpleFacts(url);
    if (fast !== undefined) return fast;
  }
  return factsFromUrl(toUrl(url, method));
}

export function toUrl(url: string | URL, method: string): URL {
  if (url instanceof URL) return url;
  if (typeof url === 'string') {
    try {
      return new URL(url);
    } catch {
      // The URL itself is not echoed: it may carry credentials or tokens.
    }
  }
  throw new HopwiseOptionError('ERR_INVALID_URL', `CookieJar.${method}: the url argument is not a valid absolute URL`);
}
