/**
 * Host patterns for `trust` and auth-provider scopes: `api.example.com`, `*.example.com`,
 * `https://x.example.com:8443`, `http://legacy.example.com`, `https://*.example.com:*`.
 *
 * Matching is by parsed host labels, never by string suffix: `*.example.com` does not match
 * `evilexample.com` (no label boundary) nor `example.com` itself (a wildcard needs one label), and
 * `example.com` does not match `example.com.evil.test`. A trailing dot is a different host. A pattern
 * without a scheme matches only `https:` (credentials are never trusted to cleartext unless the
 * pattern says `http://`); without a port it matches only the scheme's default port.
 */
import { HopwiseOptionError } from '../errors.js';

export interface HostPattern {
  /** The pattern as the caller wrote it, for the trace. */
  source: string;
  scheme: 'http:' | 'https:';
  /** Canonical host (lower-case, punycode), or the part after `*.` for a wildcard. */
  host: string;
  wildcard: boolean;
  /** '' = the scheme's default port; '*' = any port. */
  port: string;
}

// '@', '\', '#', '?' and spaces are refused in the host: the URL parser would read 'a.test@evil.test'
// as host evil.test, so a typo or a hostile config could trust the wrong host.
const PATTERN = /^(?:(https?):\/\/)?(\*\.)?([^/:*@\\#?\s]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}|\*))?\/?$/;

export function parseHostPattern(source: string, option = 'trust'): HostPattern {
  if (typeof source !== 'string' || source.length === 0) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `${option}: each pattern must be a non-empty string such as 'api.example.com' or '*.example.com'`);
  }
  const m = PATTERN.exec(source.trim());
  if (!m) {
    throw new HopwiseOptionError(
      'ERR_INVALID_OPTION',
      `${option}: cannot read host pattern '${source}'. Use 'host', '*.domain', or 'https://host:port' (a '*' is only allowed as the first label or as the port).`,
    );
  }
  const scheme = (m[1] ?? 'https') + ':';
  // Let the WHATWG parser canonicalise the host exactly as it does for request URLs.
  let host: string;
  try {
    host = new URL(`${scheme}//${m[3]}`).hostname;
  } catch {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `${option}: '${source}' does not contain a valid host name`);
  }
  let port = m[4] ?? '';
  if (port !== '' && port !== '*') {
    const n = Number(port);
    if (n < 1 || n > 65535) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${option}: port ${port} in '${source}' is out of range`);
    if ((scheme === 'https:' && n === 443) || (scheme === 'http:' && n === 80)) port = '';
    else port = String(n);
  }
  return { source, scheme: scheme as 'http:' | 'https:', host, wildcard: m[2] !== undefined, port };
}

export function matchesPattern(p: HostPattern, url: URL): boolean {
  if (url.protocol !== p.scheme) return false;
  if (p.port !== '*' && url.port !== p.port) return false;
  const host = url.hostname;
  if (!p.wildcard) return host === p.host;
  // At least one whole label before the suffix: 'a.example.com' yes, 'example.com' and 'aexample.com' no.
  return host.length > p.host.length + 1 && host.endsWith(p.host) && host.charCodeAt(host.length - p.host.length - 1) === 46; /* '.' */
}

export function findMatch(patterns: readonly HostPattern[], url: URL): HostPattern | undefined {
  for (const p of patterns) if (matchesPattern(p, url)) return p;
  return undefined;
}
