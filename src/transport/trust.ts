/**
 * TLS trust for a `ca` option: Node's public roots plus the caller's certificates, as one secure
 * context. Shared by the session's transport and the recorder's upstream agent.
 */
import tls from 'node:tls';

/** Secure contexts by `ca` (see trustOf), least recently used first. */
const TRUST = new Map<string, tls.SecureContext>();

/**
 * TLS options that trust Node's public roots and the session's `ca`, as one secure context. Given as
 * `ca`, the list would replace Node's roots (so they are added back) and tls.connect would build a
 * context from it, parsing Node's ~140 root certificates again, for every connection (10 to 30 ms
 * of CPU each). The context is made once per distinct `ca` and shared by the sessions that pass the
 * same one (the last few kept): it holds trust only, no keys and no TLS sessions.
 */
export function trustOf(ca: readonly (string | Buffer)[]): { secureContext?: tls.SecureContext } {
  if (ca.length === 0) return {};
  const pems = ca.map(String);
  const key = pems.join('\n');
  let secureContext = TRUST.get(key);
  if (secureContext) {
    TRUST.delete(key);
  } else {
    secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...pems] });
    if (TRUST.size >= 8) TRUST.delete(TRUST.keys().next().value!);
  }
  TRUST.set(key, secureContext);
  return { secureContext };
}
