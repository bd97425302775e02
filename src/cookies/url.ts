/**
 * The request facts cookies need (host, path, secure), from a URL object or string. Strings go
 * through the WHATWG parser (`new URL`), so host and path are exactly what a browser compares.
 */
import { HopwiseOptionError } from '../errors.js';
import { isLoopbackHost } from './domain.js';

export interface RequestFacts {
  /** Canonical host, as the WHATWG URL parser gives it (lower-case, punycode, IPv6 in brackets). */
  host: string;
  /** The URL path, percent-encoded as the URL parser leaves it. */
  path: string;
  /** https: or wss:, or a loopback host (see `isSecureUrl`). */
  secure: boolean;
  /** "http:" or "https:" (or another scheme for URL objects); for details. Ports do not matter to cookies. */
  scheme: string;
}

export function factsFromUrl(u: URL): RequestFacts {
  const host = u.hostname;
  const scheme = u.protocol;
  return { host, path: u.pathname, secure: scheme === 'https:' || scheme === 'wss:' || isLoopbackHost(host), scheme };
}

/** Parse `url` (string or URL) into request facts; a bad argument throws `ERR_INVALID_URL`. */
export function requestFacts(url: string | URL, method: string): RequestFacts {
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
