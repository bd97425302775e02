/**
 * Cookie paths, RFC 6265bis §5.1.4. Paths are compared as the WHATWG URL parser leaves them
 * (percent-encoded, never decoded): `/f%6Fo` is not `/foo`, as in browsers and WPT.
 */

/** §5.1.4 default-path: the directory of the request path, or "/". */
export function defaultPath(requestPath: string): string {
  if (requestPath.length === 0 || requestPath.charCodeAt(0) !== 0x2f /* / */) return '/';
  const last = requestPath.lastIndexOf('/');
  if (last === 0) return '/';
  return requestPath.slice(0, last);
}

/**
 * §5.1.4 path-match: the cookie path is the request path, or a prefix of it that ends in "/"
 * or is followed by "/" in the request path. `/app` covers `/app/x` but not `/application`.
 */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  // The prefix test by characters: it runs for every candidate cookie of every request, and a
  // `startsWith` call costs several times this loop for the short paths cookies have.
  const n = cookiePath.length;
  if (n > requestPath.length) return false;
  for (let i = 0; i < n; i++) if (requestPath.charCodeAt(i) !== cookiePath.charCodeAt(i)) return false;
  if (cookiePath.charCodeAt(cookiePath.length - 1) === 0x2f) return true;
  return requestPath.charCodeAt(cookiePath.length) === 0x2f;
}
