/**
 * The environment `hopwise record` gives the program: every way a common client learns of a proxy
 * and of a CA, pointed at the recorder.
 *
 *   HTTP_PROXY, HTTPS_PROXY, http_proxy, https_proxy   the recorder (curl reads only the lower-case
 *                                                      http_proxy, as a CGI guard; others read both)
 *   NO_PROXY, no_proxy (any case)                      removed, so nothing bypasses the recorder
 *   SSL_CERT_FILE        OpenSSL's default CA file (curl built on OpenSSL, Python's ssl, Ruby, git)
 *   REQUESTS_CA_BUNDLE   Python requests
 *   CURL_CA_BUNDLE       curl, and requests when REQUESTS_CA_BUNDLE is unset
 *   NODE_EXTRA_CA_CERTS  Node.js (added to its bundled CAs)
 *   NODE_USE_ENV_PROXY   Node.js >= 24's fetch and http read the proxy variables only with it set
 */
export const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;
export const CA_VARS = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS'] as const;

export function programEnv(base: NodeJS.ProcessEnv, proxyUrl: string, caPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (k.toLowerCase() !== 'no_proxy' && v !== undefined) env[k] = v;
  for (const k of PROXY_VARS) env[k] = proxyUrl;
  for (const k of CA_VARS) env[k] = caPath;
  env.NODE_USE_ENV_PROXY = '1';
  return env;
}
