/**
 * The one closed list of reason codes a Decision (or a cookie verdict) can carry, each with its
 * plain-words meaning. The CLI, HAR export and doctor print these words; tests match on the codes.
 * This module is a leaf: every policy module may import it, it imports nothing of ours.
 */
export const REASONS = {
  // --- request headers the caller set (subject 'header') ---
  'first-request': 'sent on the first request of the chain',
  'same-origin': 'the next hop has the same origin (scheme, host, port) as the previous one',
  'cross-origin': 'the next hop goes to a different origin, so a sensitive header is not forwarded',
  'stripped-earlier': 'stripped at an earlier hop, and a stripped header stays stripped for the rest of the chain',
  'https-upgrade': 'same host, http:80 to https:443 is an upgrade, so the header is kept',
  trusted: 'the next origin matches a `trust` pattern',
  'origin-bound': 'Host, Origin and Referer set by the caller name the first origin; they are not sent to another one',
  'hook-added': 'the beforeRedirect hook set this header for this hop',
  'hook-removed': 'the beforeRedirect hook removed this header for this hop',

  // --- auth providers (subject 'auth') ---
  'in-scope': "the hop's URL is in the provider's scope, so its credential is applied",
  'out-of-scope': "the hop's URL is outside the provider's scope, so its credential is not applied",
  'refreshed-after-401': 'a 401 asked the provider for a fresh credential and the hop was retried once',
  'overrides-header': 'an auth provider in scope replaced a header of the same name the caller set',
  'awaiting-challenge': 'the provider sends nothing until the server challenges it (WWW-Authenticate on a 401)',
  'other-scheme': "the server's challenge asked for another scheme, answered by another provider in scope",
  'answered-challenge': 'a 401 challenged with a scheme a provider in scope answers; the request was repeated with its answer (RFC 9110 §11.6.1)',
  'stale-nonce': 'the server said stale=true: the answer was right but the nonce expired, so it was answered once more with the new nonce (RFC 7616 §3.3)',
  'challenge-rejected': 'a 401 answered an answer: the credential is wrong, and hopwise does not ask twice (a wrong password never loops)',
  'unanswered-challenge': 'the server challenged with a scheme no provider in scope answers',
  netrc: "the .netrc entry for this hop's exact host (machine) is sent as Basic",
  'netrc-overridden': "the .netrc has an entry for this host, but an auth provider or the caller's Authorization is in scope and wins",

  // --- method and body ---
  'method-rewrite-301': 'a 301 answer to POST is followed with GET (Fetch, RFC 9110 §15.4.2)',
  'method-rewrite-302': 'a 302 answer to POST is followed with GET (Fetch, RFC 9110 §15.4.3)',
  'method-rewrite-303': 'a 303 is followed with GET, whatever the method, except HEAD (RFC 9110 §15.4.4)',
  'method-kept': 'the status keeps the method (307/308, or 301/302 for a non-POST)',
  'body-dropped-method-change': 'the method changed to GET, so the body and its headers are dropped',
  'body-replayed': 'a 307/308 keeps method and body, so the body is sent again',
  'cross-origin-body': 'the body is resent to another origin because crossOriginBody is "send"',
  'body-not-replayable': 'the body was a stream larger than the replay buffer and cannot be sent again',
  'cross-origin-body-refused': 'a 307/308 would resend the body to an origin that is not trusted',

  // --- the Location and the redirect itself ---
  'userinfo-dropped': 'user:password@ in a Location never becomes a credential; it was removed',
  'fragment-inherited': 'the Location had no #fragment, so the request URL fragment is kept (Fetch)',
  'invalid-location': 'the Location header is not a valid URL',
  redirect: 'a redirect status with a Location, followed',
  'not-redirect-status': 'this status is never followed (only 301, 302, 303, 307 and 308 are)',
  'no-location': 'a redirect status without a Location is returned as it is (Fetch)',
  'manual-mode': 'redirect: "manual" returns the 3xx response as it is',
  'error-mode': 'redirect: "error" refuses every redirect',
  'downgrade-refused': 'https: to http: would expose the request; refused unless allowDowngrade',
  'downgrade-allowed': 'https: to http: followed because allowDowngrade is true; treated as cross-origin',
  'unsafe-scheme': 'only http: and https: targets are followed',
  loop: 'the same method, URL and cookies were already requested in this chain',
  limit: 'more redirects than maxRedirects',
  'meta-refresh': 'a 200 HTML page redirects with <meta http-equiv="refresh"> or a Refresh header; followed because followMetaRefresh is true',
  'meta-refresh-not-followed': 'a 200 HTML page redirects with <meta http-equiv="refresh"> or a Refresh header; an HTTP client does not follow it unless followMetaRefresh is true',
  'script-redirect-not-followed': 'a 200 HTML page redirects with a location= script; only a browser runs it',
  'hook-changed': 'the beforeRedirect hook changed the next request; the policy ran again on it',

  // --- cookies sent or withheld (subject 'cookie') ---
  match: 'the cookie matches the URL: domain, path, Secure and expiry all allow it',
  'domain-mismatch': "the request host is not the cookie's domain nor a subdomain of it",
  'host-only': 'the cookie was set without Domain=, so it goes only to the exact host that set it',
  'path-mismatch': "the request path is not under the cookie's Path",
  'secure-only': 'a Secure cookie is sent only over https: (or to localhost)',
  expired: 'the cookie has expired',
  'samesite-strict': 'browser rules (a HAR replay): a SameSite=Strict cookie is not sent on a cross-site request',
  'samesite-lax': 'browser rules (a HAR replay): a SameSite=Lax (or Lax-by-default) cookie is not sent on a cross-site request other than a top-level GET navigation',
  'caller-header': 'the caller set a Cookie header of its own; it is sent along with the jar cookies',

  // --- Set-Cookie stored or rejected (subject 'set-cookie') ---
  stored: 'the cookie was stored in the jar',
  replaced: 'the cookie replaced one with the same name, domain and path',
  deleted: 'the cookie has an expiry in the past, so it deletes the stored cookie',
  evicted: 'the jar was full (its per-domain or total limit), so storing another cookie evicted this one, the least recently used (RFC 6265bis §5.7)',
  syntax: 'the Set-Cookie line has no usable name=value pair',
  'control-char': 'the Set-Cookie line contains a control character',
  'too-large': 'the name and value exceed 4096 octets, or an attribute exceeds 1024',
  'samesite-none-insecure': 'browser rules (a HAR replay): a SameSite=None cookie without Secure is ignored by browsers',
  'invalid-domain': 'the Domain attribute does not domain-match the host that set the cookie',
  'public-suffix': 'the Domain attribute is a public suffix (Public Suffix List)',
  'secure-from-insecure': 'a Secure cookie can only be set from https: (or localhost)',
  'prefix-secure': 'a __Secure- cookie must be Secure and set from https:',
  'prefix-host': 'a __Host- cookie must be Secure, from https:, with Path=/ and no Domain',
  'overwrite-secure': 'an insecure origin cannot overwrite or shadow a Secure cookie',
  'cookies-disabled': 'the session was created with cookies: false',

  // --- the route of a hop (subject 'route') and proxy credentials (subject 'proxy-auth') ---
  direct: 'no proxy is configured for this URL, so the hop connects directly',
  'proxy-env': 'the proxy comes from the environment (http_proxy, https_proxy, all_proxy)',
  'proxy-option': 'the proxy comes from the proxy option',
  'proxy-function': 'the proxy function chose this route for the URL',
  'no-proxy-match': 'the host matches a no_proxy entry (or the noProxy option), so the hop goes direct',
  'proxy-disabled': 'proxy: false, so every hop connects directly and the environment is ignored',
  'caller-dispatcher': "the caller's own dispatcher connects; hopwise's proxy settings do not apply",
  'proxy-credentials': 'Proxy-Authorization goes to the proxy this hop uses, and only to it',
  'route-changed': 'the route changed (another proxy, or direct), so the proxy credential of the earlier route is dropped',
  'direct-route': 'the hop goes direct, so a Proxy-Authorization header is not sent to the origin',

  // --- retries (subject 'retry') ---
  'retry-status': 'the answer is retryable (408, 429, 500, 502, 503, 504) and the method idempotent: the request was sent again after the wait',
  'retry-reset': 'the connection was closed before any answer: the request was sent again after the wait',
  'retry-after-too-long': "the server's Retry-After is longer than retry.maxRetryAfter, so the answer is returned as it is",
  'retry-past-total': 'the wait would end past timeout.total (or retry.maxTime), so the answer is returned as it is',
  'retries-exhausted': 'the retry limit of the chain is used up',
  'not-idempotent': 'the method is not idempotent (RFC 9110 §9.2.2) and not listed in retry.methods, so it is not sent twice',

  // --- HSTS (subject 'hsts') ---
  'hsts-upgrade': 'the host is a Known HSTS Host (Strict-Transport-Security from an earlier https answer), so the http: request goes over https before any byte is sent (RFC 6797 §8.3)',

  // --- the private-network guard (subject 'address') ---
  'private-address': 'the address connected to is private (loopback, RFC 1918, link-local, ...) and the privateNetworks policy refuses it for this hop',
} as const;

export type ReasonCode = keyof typeof REASONS;

export function describeReason(code: ReasonCode): string {
  return REASONS[code];
}
