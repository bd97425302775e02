/**
 * Which request headers are credentials. This is the one place the rule lives (README documents it).
 *
 * Always sensitive: the Fetch spec's CORS-non-wildcard request headers plus what browsers strip on a
 * cross-origin redirect (Authorization, Proxy-Authorization, Cookie; Fetch "HTTP-redirect fetch"
 * step 13 strips Authorization), and the obsolete Cookie2 and WWW-Authenticate that peers list.
 * Secret-looking names: every credential header a client forgets to list leaks on a redirect
 * (Cookie in follow-redirects, CVE-2022-0155; Proxy-Authorization in requests, CVE-2023-32681;
 * custom headers in curl, CVE-2018-1000007), and API keys travel in custom headers, so any name ending in
 * -key, -token, -secret, -signature, -session, -password, -credential(s), -jwt, or containing -auth,
 * and a few bare names (api-key, apikey, token, secret), are treated like Authorization.
 */
const ALWAYS = new Set(['authorization', 'proxy-authorization', 'cookie', 'cookie2', 'www-authenticate', 'x-api-key', 'apikey', 'api-key', 'token', 'secret', 'password']);

/**
 * The one list of secret-looking names, for header names and query parameter names alike: a last
 * word (after `-` or `_`) that is a key, token, secret, signature, password, credential, JWT or
 * session (id), or any word starting with `auth`. It catches the API-key headers real services use
 * (`X-Api-Key`, `X-MBX-APIKEY`, `X-CMC_PRO_API_KEY`, `api_key`, `X-Apikey`, `X-CSRFToken`,
 * `X-Session-Id`, `Authentication`) without catching `X-Request-Id` or `X-Monkey`.
 */
export const SECRET_LOOKING = /(?:^|[-_])(?:[a-z0-9]*token|[a-z0-9]*secret|(?:api[-_]?)?key|apikey|signature|password|passwd|credentials?|jwt|session(?:[-_]?id)?)$|(?:^|-)auth/i;

export function isSensitiveName(lowerName: string, extra: ReadonlySet<string>): boolean {
  return ALWAYS.has(lowerName) || extra.has(lowerName) || SECRET_LOOKING.test(lowerName);
}

/** Query parameters that carry secrets: the secret-looking names, plus OAuth's `code` and the short `sig`. */
export function isSecretQueryName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'code' || lower === 'sig' || SECRET_LOOKING.test(lower);
}

const SCHEME_WORD = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+\S/;

/**
 * Redaction for the trace: keep the auth scheme word so `Bearer ‹redacted›` still tells which scheme
 * went out; keep cookie names (they are how people debug sessions) but never values.
 */
export function redactValue(lowerName: string, value: string): string {
  if (lowerName === 'cookie' || lowerName === 'cookie2') {
    return value
      .split(';')
      .map((part) => {
        const eq = part.indexOf('=');
        return eq < 0 ? '‹redacted›' : `${part.slice(0, eq).trim()}=‹redacted›`;
      })
      .join('; ');
  }
  const m = SCHEME_WORD.exec(value);
  return m ? `${m[1]} ‹redacted›` : '‹redacted›';
}

/** Set-Cookie lines in a trace: name and attributes kept, the value hidden. */
export function redactSetCookie(line: string): string {
  const semi = line.indexOf(';');
  const pair = semi < 0 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  const head = eq < 0 ? '‹redacted›' : `${pair.slice(0, eq).trim()}=‹redacted›`;
  return semi < 0 ? head : head + line.slice(semi);
}

/**
 * A URL or URL-like string (absolute or relative, as a Location or a page's refresh target writes it)
 * with the values of secret-looking query parameters replaced by `redacted`. The rest is kept as
 * written (no re-encoding), so a trace still shows the URL the server sent.
 */
export function redactQuery(s: string): string {
  const q = s.indexOf('?');
  if (q < 0) return s;
  const hash = s.indexOf('#', q);
  const end = hash < 0 ? s.length : hash;
  let changed = false;
  const parts = s
    .slice(q + 1, end)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      let name = part.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        /* judge the name as written */
      }
      if (!isSecretQueryName(name)) return part;
      changed = true;
      return `${part.slice(0, eq)}=redacted`;
    });
  return changed ? `${s.slice(0, q + 1)}${parts.join('&')}${s.slice(end)}` : s;
}

/** A URL as the trace records it (`hop.url`, `hop.location`, decision details): secret query values redacted. */
export function traceUrl(url: URL): string {
  return url.search ? redactQuery(url.href) : url.href;
}

/** URLs in error messages: userinfo never, secret-looking query values never. */
export function redactUrl(url: URL | string): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '‹unparsable URL›';
  }
  u.username = '';
  u.password = '';
  return traceUrl(u);
}
