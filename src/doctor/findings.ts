/**
 * The one closed list of finding codes the doctor can report, each with its default severity and
 * its meaning in plain words. `hopwise doctor --json` and `diagnose()` return these codes; tests and
 * tools match on them, never on the titles.
 *
 * Severities:
 * - `error`: the chain did not do what the caller wanted (it stopped, or the server refused);
 * - `warning`: something was lost or changed on the way (a credential, a cookie, the method) that
 *   very likely explains a symptom;
 * - `info`: hopwise protected the caller or noted something worth knowing; nothing to fix unless
 *   it was not intended. `hopwise doctor` exits 0 when only `info` findings remain.
 */
export type Severity = 'error' | 'warning' | 'info';

export const FINDINGS = {
  // --- credentials and secret headers ---
  'credential-stripped-cross-origin': {
    severity: 'warning',
    meaning:
      'An Authorization, Proxy-Authorization or Cookie header (or an auth provider) was not sent on a hop to another origin. ' +
      'A warning when the new origin is on the same site (likely your own infrastructure); info when it is another site (hopwise kept your credential from it).',
  },
  'secret-header-stripped': {
    severity: 'warning',
    meaning: 'A custom header that looks like a secret (X-Api-Key, *-Token, *-Secret, ...) or was listed in sensitiveHeaders was not forwarded to another origin.',
  },
  'unauthorized-after-redirect': {
    severity: 'error',
    meaning: 'A hop after a redirect was answered 401 Unauthorized, usually because a credential did not travel.',
  },
  'challenge-unanswered': {
    severity: 'error',
    meaning: 'The server answered 401 with a WWW-Authenticate challenge (Digest, Negotiate, ...) that no auth provider in scope answers.',
  },
  'credential-rejected': {
    severity: 'error',
    meaning: "An auth provider answered the server's challenge and the server answered 401 again: the credential was refused (hopwise does not ask twice).",
  },

  // --- scheme ---
  'downgrade-refused': {
    severity: 'error',
    meaning: 'The server redirected from https: to http:; hopwise refused to follow (allowDowngrade is false).',
  },
  'downgrade-followed': {
    severity: 'warning',
    meaning: 'An https: to http: redirect was followed because allowDowngrade is true; the hop was treated as cross-origin.',
  },

  // --- cookies not sent ---
  'cookie-withheld-path': {
    severity: 'warning',
    meaning: "A cookie in the jar was not sent because the request path is not under the cookie's Path.",
  },
  'cookie-withheld-domain': {
    severity: 'warning',
    meaning: "A cookie in the jar was not sent because the request host is outside the cookie's Domain.",
  },
  'cookie-withheld-host-only': {
    severity: 'warning',
    meaning: 'A cookie set without Domain= was not sent to a sibling or parent host (it goes only to the exact host that set it).',
  },
  'cookie-withheld-secure': {
    severity: 'warning',
    meaning: 'A Secure cookie was not sent over http:.',
  },
  'cookie-withheld-expired': {
    severity: 'warning',
    meaning: 'A cookie in the jar was not sent because it has expired.',
  },

  // --- Set-Cookie refused ---
  'set-cookie-rejected-secure-from-insecure': {
    severity: 'warning',
    meaning: 'A Set-Cookie with the Secure attribute arrived over http: and was rejected.',
  },
  'set-cookie-rejected-invalid-domain': {
    severity: 'warning',
    meaning: 'A Set-Cookie named a Domain that does not cover the host that set it, and was rejected.',
  },
  'set-cookie-rejected-public-suffix': {
    severity: 'warning',
    meaning: 'A Set-Cookie named a public suffix (com, co.uk, github.io...) as its Domain, and was rejected.',
  },
  'set-cookie-rejected-prefix': {
    severity: 'warning',
    meaning: 'A __Secure- or __Host- cookie did not meet its prefix requirements, and was rejected.',
  },
  'set-cookie-rejected-overwrite-secure': {
    severity: 'warning',
    meaning: 'An http: response tried to overwrite or shadow a Secure cookie, and was rejected.',
  },
  'set-cookie-rejected-syntax': {
    severity: 'warning',
    meaning: 'A Set-Cookie line had no usable name=value pair or contained a control character, and was rejected.',
  },
  'set-cookie-rejected-too-large': {
    severity: 'warning',
    meaning: 'A Set-Cookie exceeded the size limits (4096 octets for name and value, 1024 per attribute), and was rejected.',
  },

  // --- sessions ---
  'session-cookie-replaced': {
    severity: 'warning',
    meaning:
      'The server issued a cookie, hopwise sent it back on the next hop, and the server answered with a new cookie of the same name: ' +
      'it did not recognise its own session (session store not shared between backends, or a secret mismatch).',
  },
  'client-side-redirect': {
    severity: 'warning',
    meaning:
      'A 200 HTML page redirects with <meta http-equiv="refresh"> or a location script. HTTP clients do not follow it ' + '(hopwise does with followMetaRefresh); info when hopwise followed it.',
  },

  // --- method and body ---
  'post-became-get': {
    severity: 'warning',
    meaning:
      'A POST answered by 301 or 302 was followed with GET and its body dropped, as Fetch and browsers do. ' +
      'Info when it is Post/Redirect/Get (a 302 that set a cookie, a login, or a 302 after an HTML form to a page); a warning when the body was likely needed (a 301, an API call, or a 405/411/415/422 answer to the GET).',
  },
  'cross-origin-body-refused': {
    severity: 'error',
    meaning: 'A 307/308 asked to resend the request body to an untrusted origin; hopwise refused.',
  },
  'cross-origin-body-sent': {
    severity: 'info',
    meaning: 'A 307/308 resent the request body to another origin because crossOriginBody is "send".',
  },
  'body-not-replayable': {
    severity: 'error',
    meaning: 'A 307/308 needed the body again, but it was a stream larger than the replay buffer.',
  },

  // --- the chain itself ---
  'redirect-loop': {
    severity: 'error',
    meaning: 'The same method, URL and cookies came round twice in one chain.',
  },
  'too-many-redirects': {
    severity: 'error',
    meaning: 'The chain was longer than maxRedirects.',
  },
  'unsafe-redirect': {
    severity: 'error',
    meaning: 'A redirect pointed to a scheme other than http: or https: and was refused.',
  },
  'invalid-location': {
    severity: 'error',
    meaning: 'A redirect carried a Location header that is not a URL.',
  },
  'userinfo-in-location': {
    severity: 'warning',
    meaning: 'A Location carried user:password@; hopwise dropped it (it never becomes a credential).',
  },
  'redirect-not-followed': {
    severity: 'info',
    meaning: 'The chain ended on a 3xx that is never followed (300, 304, or a redirect without Location), or in manual mode.',
  },
  // --- proxies and private networks ---
  'proxy-auth-required': {
    severity: 'error',
    meaning: 'The proxy answered 407 Proxy Authentication Required: proxy credentials were missing or refused.',
  },
  'proxy-unreachable': {
    severity: 'error',
    meaning: 'The proxy could not be reached (refused, unknown host, timeout), or would not open a CONNECT tunnel to the origin.',
  },
  'proxy-credential-dropped': {
    severity: 'info',
    meaning: 'A redirect changed the route (another proxy, or direct), so the proxy credential of the earlier route was not sent.',
  },
  'private-address-refused': {
    severity: 'error',
    meaning: 'A hop would have connected to a private address (loopback, RFC 1918, link-local, cloud metadata, ...) and privateNetworks refused it; nothing was sent.',
  },
  'request-failed': {
    severity: 'error',
    meaning: 'The chain ended with an error that is not a redirect policy decision (connect, TLS, timeout, network...).',
  },

  // --- every way a session cookie disappears in a chain ---
  'session-cookie-deleted': {
    severity: 'warning',
    meaning: 'A response deleted a cookie this chain had stored or sent (Set-Cookie with Max-Age=0 or an Expires in the past): the server ended the session. Info when the URL is a logout.',
  },
  'session-cookie-evicted': {
    severity: 'warning',
    meaning: "The jar's limits (maxCookiesPerDomain, maxCookies) evicted a cookie this chain had stored or sent, to make room for another.",
  },
  'session-lost-to-login': {
    severity: 'warning',
    meaning: 'Right after a login (a response that stored a cookie and redirected), the chain was sent back to the login page: the session did not hold, even if the final status is 200.',
  },

  // --- a recorded chain replayed (`hopwise doctor --har`, `diagnoseHar`): browser rules and what the client did ---
  'cookie-withheld-samesite': {
    severity: 'warning',
    meaning:
      'A browser did not send a cookie because of its SameSite attribute: Strict on a request that came from another site, ' +
      'or Lax (also Lax by default) on a cross-site POST such as an identity provider posting back to the app.',
  },
  'cookie-not-sent': {
    severity: 'warning',
    meaning:
      'Replaying the recorded chain, the cookie rules say the client should have sent a cookie at this hop and it did not ' +
      '(blocked by a browser setting or an extension, cleared, or a client that does not keep cookies across redirects).',
  },
  'cookie-sent-against-rules': {
    severity: 'warning',
    meaning: 'The client sent a cookie the cookie rules withhold at this hop (another domain or path, over http:, expired): its jar does not follow RFC 6265bis.',
  },
  'secret-sent-cross-origin': {
    severity: 'error',
    meaning: 'The client sent a credential or secret-looking header (Authorization, Cookie, X-Api-Key, ...) from the first request on to another origin after a redirect: a leak.',
  },
  'credential-dropped-same-origin': {
    severity: 'warning',
    meaning: 'The client dropped a credential or secret header of the first request on a hop to the same origin, where a careful client keeps it.',
  },
  'set-cookie-rejected-samesite-none': {
    severity: 'warning',
    meaning: 'A Set-Cookie had SameSite=None without Secure: browsers ignore such a cookie (RFC 6265bis §5.7), so it never reached the next hop.',
  },
  'har-incomplete': {
    severity: 'info',
    meaning:
      'The recording lacks something the diagnosis needs (cookies and Set-Cookie removed by a sanitized export, missing response headers, ' +
      'no page bodies): findings that depend on it could not be made.',
  },
} as const satisfies Record<string, { severity: Severity; meaning: string }>;

export type FindingCode = keyof typeof FINDINGS;

export type FactValue = string | number | boolean | null | string[] | number[];

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** The index of the hop the finding is about (`hops[i].index`). */
  hop: number;
  /** One line for a person: what went wrong. */
  title: string;
  /** The facts behind it, as data (origins, paths, names, statuses...). */
  facts: Record<string, FactValue>;
  /**
   * What to do: `client` for the hopwise user (the library option), `server` for the server's owner.
   * `cli`, when the client fix is a CLI flag: the arguments to add to the `hopwise` command that made
   * the chain (for example `['--trust', 'cdn.example.com']`), complete (never a flag that needs
   * another one to run). A `$NAME` in an argument stands for a secret only you have (a shell
   * variable): `hopwise doctor` prints the whole command line with it, ready to paste.
   */
  fix: { client: string; server: string; cli?: string[] };
}
