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

/**
 * Read an already-canonical http(s) URL string by hand, or return undefined to use the real parser.
 * Canonical here means: lower-case LDH host that is not IPv4-like, punycode or with empty labels;
 * an optional port of up to 5 digits; a path of RFC 3986 pchars without dot segments; and a query
 * and fragment of printable ASCII. For such strings the WHATWG parser returns these exact parts.
 */
function simpleFacts(s: string): RequestFacts | undefined {
  let i: number;
  let scheme: string;
  if (s.startsWith('http://')) {
    i = 7;
    scheme = 'http:';
  } else if (s.startsWith('https://')) {
    i = 8;
    scheme = 'https:';
  } else return undefined;
  const n = s.length;
  const hostStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST_OK[c] !== 1) break;
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
  const info = hostInfo(s.slice(hostStart, hostEnd));
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
