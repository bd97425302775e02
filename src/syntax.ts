/**
 * The HTTP token grammar (RFC 9110 §5.6.2: `token = 1*tchar`), the one place it is written. Header
 * names (§5.1), methods (§9.1) and auth schemes (§11.1) are tokens.
 */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}

/**
 * What makes a string unusable as a header value (RFC 9110 §5.5: visible ASCII, space, tab and
 * obs-text 0x80-0xFF), or undefined when it is fine. CR, LF and NUL are named as such: they would
 * split the header (request smuggling); other characters would be refused by the transport with an
 * error that does not name the header, so they are refused here first.
 */
export function headerValueProblem(v: string): string | undefined {
  if (/[\r\n\0]/.test(v)) return 'CR, LF or NUL';
  const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(v);
  return bad ? `a character a header cannot carry (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})` : undefined;
}
