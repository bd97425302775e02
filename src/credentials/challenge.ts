/**
 * `WWW-Authenticate` challenges (RFC 9110 §11.6.1, §11.3): one header may carry several challenges,
 * and a server may send several headers. Each challenge is `scheme [ token68 | #auth-param ]`;
 * auth-param values are tokens or quoted strings with `\` escapes. Pure, no I/O.
 */

export interface Challenge {
  /** The auth scheme, lower-case ('digest', 'basic', 'bearer', 'negotiate', ...). */
  scheme: string;
  /** auth-params, names lower-case, values unquoted and unescaped. A token68 is in `token68`. */
  params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate YIIG...`), when the challenge has one instead of params. */
  token68?: string;
  /** The challenge as the server wrote it. */
  raw: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Parse one or more `WWW-Authenticate` field values into challenges, in order. Malformed parts are skipped. */
export function parseChallenges(field: string | readonly string[] | undefined): Challenge[] {
  if (field === undefined) return [];
  const out: Challenge[] = [];
  for (const value of typeof field === 'string' ? [field] : field) parseOne(value, out);
  return out;
}

function parseOne(s: string, out: Challenge[]): void {
  let i = 0;
  const n = s.length;
  const ws = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string | undefined => {
    // at '"'
    i++;
    let v = '';
    while (i < n) {
      const c = s[i]!;
      if (c === '\\' && i + 1 < n) {
        v += s[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        return v;
      } else {
        v += c;
        i++;
      }
    }
    return undefined; // unterminated
  };

  let current: { scheme: string; params: Record<string, string>; token68?: string; start: number } | undefined;
  const finish = (end: number): void => {
    if (!current) return;
    const c: Challenge = { scheme: current.scheme, params: current.params, raw: s.slice(current.start, end).trim().replace(/,\s*$/, '') };
    if (current.token68 !== undefined) c.token68 = current.token68;
    out.push(c);
    current = undefined;
  };

  while (i < n) {
    ws();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const name = token();
    if (name === '') {
      // Not a token: skip to the next comma (a malformed element).
      while (i < n && s[i] !== ',') i++;
      continue;
    }
    const afterName = i;
    ws();
    if (current && s[i] === '=') {
      // auth-param of the current challenge (name = value), unless it is `token68=` padding (handled below).
      i++;
      ws();
      let value: string | undefined;
      if (s[i] === '"') value = quoted();
      else value = token();
      if (value === undefined) return finish(n);
      const key = name.toLowerCase();
      // RFC 9110 §11.2: each parameter name occurs at most once per challenge; the first wins.
      if (!(key in current.params)) current.params[key] = value;
      ws();
      if (i < n && s[i] !== ',') {
        while (i < n && s[i] !== ',') i++;
      }
      continue;
    }
    // A new challenge: `scheme` followed by SP and token68 or params, or nothing.
    finish(start);
    current = { scheme: name.toLowerCase(), params: Object.create(null) as Record<string, string>, start };
    if (afterName < i && i < n && s[i] !== ',') {
      // Look ahead: token68 is the whole rest up to a comma and contains no '=' except trailing padding, and is not `name=`.
      const rest = /^[^,]*/.exec(s.slice(i))![0].trim();
      const isParam = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=/.test(rest) && !TOKEN68.test(rest);
      if (!isParam && TOKEN68.test(rest)) {
        current.token68 = rest;
        i += /^[^,]*/.exec(s.slice(i))![0].length;
      }
    }
  }
  finish(n);
}

/** The first challenge whose scheme a provider answers. */
export function findChallenge(challenges: readonly Challenge[], schemes: readonly string[]): Challenge | undefined {
  return challenges.find((c) => schemes.includes(c.scheme));
}
