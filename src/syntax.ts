/**
 * The HTTP token grammar (RFC 9110 §5.6.2: `token = 1*tchar`), the one place it is written. Header
 * names (§5.1), methods (§9.1) and auth schemes (§11.1) are tokens.
 */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}
