/**
 * The Set-Cookie parser, RFC 6265bis §5.6. Pure: a line in, plain data out, no clock and no jar.
 * Storage rules that need the request URL, the clock or the jar live in `rules.ts`.
 */
import type { SameSite } from './types.js';
import { parseCookieDate } from './date.js';

/** §5.6 step 1: CTL characters other than HTAB make the whole line ignored. */
const FORBIDDEN_CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** §5.6 step 5: name + value at most 4096 octets. */
export const MAX_NAME_VALUE_OCTETS = 4096;
/** §5.6 (cookie-av processing): an attribute value over 1024 octets is ignored. */
export const MAX_ATTRIBUTE_OCTETS = 1024;

export interface ParsedSetCookie {
  ok: true;
  name: string;
  value: string;
  /** Absolute expiry from the last valid Expires attribute (ms), before the 400-day cap. */
  expires?: number;
  /** Seconds from the last valid Max-Age attribute (may be <= 0), before the 400-day cap. */
  maxAge?: number;
  /** Last non-empty Domain attribute, leading dot removed, lower-cased (§5.6.3). */
  domain?: string;
  /** Last Path attribute that starts with "/" (§5.6.4); otherwise absent (default-path applies). */
  path?: string;
  /** Whether any Path attribute was present (the `__Host-` rule asks for one, §5.7 step 18). */
  hasPath: boolean;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: SameSite;
  /** Attributes that were ignored, with why, so a stored result can still explain itself. Absent when none. */
  ignored?: string[];
}

export interface SetCookieParseError {
  ok: false;
  reason: 'syntax' | 'control-char' | 'too-large';
  detail: string;
}

/** §5.6 WSP = SP / HTAB: only these are trimmed, never other Unicode spaces. */
function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

const EXPIRES = 1,
  MAX_AGE_ATTR = 2,
  DOMAIN = 3,
  PATH = 4,
  SECURE = 5,
  HTTPONLY = 6,
  SAMESITE = 7;

/** Case-insensitive compare of line[start, start+lower.length) with a lower-case ASCII literal. */
function eqCI(line: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = line.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** line[i] with ASCII upper-case letters folded to lower case by one bit: exact when compared with a lower-case letter. */
function lc(line: string, i: number): number {
  return line.charCodeAt(i) | 0x20;
}

/**
 * Which known attribute line[start, end) names (ASCII case-insensitive), or 0. No string is built,
 * and the letters are compared one by one, unrolled (a loop over a literal's characters costs
 * several times this for every attribute of every line). `lc` is only compared with letters; the
 * "-" of Max-Age is compared exactly.
 */
function attributeAt(line: string, start: number, end: number): number {
  const s = start;
  switch (end - start) {
    case 4:
      return lc(line, s) === 0x70 && lc(line, s + 1) === 0x61 && lc(line, s + 2) === 0x74 && lc(line, s + 3) === 0x68 ? PATH : 0; // path
    case 6: {
      const a = lc(line, s);
      if (a === 0x64) {
        // domain
        return lc(line, s + 1) === 0x6f && lc(line, s + 2) === 0x6d && lc(line, s + 3) === 0x61 && lc(line, s + 4) === 0x69 && lc(line, s + 5) === 0x6e ? DOMAIN : 0;
      }
      if (a === 0x73) {
        // secure
        return lc(line, s + 1) === 0x65 && lc(line, s + 2) === 0x63 && lc(line, s + 3) === 0x75 && lc(line, s + 4) === 0x72 && lc(line, s + 5) === 0x65 ? SECURE : 0;
      }
      return 0;
    }
    case 7: {
      const a = lc(line, s);
      if (a === 0x65) {
        // expires
        return lc(line, s + 1) === 0x78 && lc(line, s + 2) === 0x70 && lc(line, s + 3) === 0x69 && lc(line, s + 4) === 0x72 && lc(line, s + 5) === 0x65 && lc(line, s + 6) === 0x73 ? EXPIRES : 0;
      }
      if (a === 0x6d) {
        // max-age
        return lc(line, s + 1) === 0x61 && lc(line, s + 2) === 0x78 && line.charCodeAt(s + 3) === 0x2d && lc(line, s + 4) === 0x61 && lc(line, s + 5) === 0x67 && lc(line, s + 6) === 0x65
          ? MAX_AGE_ATTR
          : 0;
      }
      return 0;
    }
    case 8: {
      const a = lc(line, s);
      if (a === 0x68) {
        // httponly
        return lc(line, s + 1) === 0x74 &&
          lc(line, s + 2) === 0x74 &&
          lc(line, s + 3) === 0x70 &&
          lc(line, s + 4) === 0x6f &&
          lc(line, s + 5) === 0x6e &&
          lc(line, s + 6) === 0x6c &&
          lc(line, s + 7) === 0x79
          ? HTTPONLY
          : 0;
      }
      if (a === 0x73) {
        // samesite
        return lc(line, s + 1) === 0x61 &&
          lc(line, s + 2) === 0x6d &&
          lc(line, s + 3) === 0x65 &&
          lc(line, s + 4) === 0x73 &&
          lc(line, s + 5) === 0x69 &&
          lc(line, s + 6) === 0x74 &&
          lc(line, s + 7) === 0x65
          ? SAMESITE
          : 0;
      }
      return 0;
    }
    default:
      return 0;
  }
}

/** UTF-8 octet length, with a shortcut for strings that cannot exceed the limit. */
function octets(s: string, limit: number): number {
  if (s.length * 3 <= limit) return s.length; // cannot be over the limit; exact count not needed
  return Buffer.byteLength(s, 'utf8');
}

function describeCtl(line: string): string {
  const m = FORBIDDEN_CTL.exec(line);
  const code = m ? m[0].charCodeAt(0) : 0;
  return `control character 0x${code.toString(16).padStart(2, '0')} at offset ${m ? m.index : 0}`;
}

function note(out: ParsedSetCookie, why: string): void {
  (out.ignored ??= []).push(why);
}

/** §5.6.2 Max-Age, read from line[start, end): "-"? DIGIT+ only; anything else ignores the attribute. */
function parseMaxAge(line: string, start: number, end: number): number | undefined {
  const neg = start < end && line.charCodeAt(start) === 0x2d; /* - */
  if (neg) start++;
  if (end <= start) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return neg ? -n : n;
}

/**
 * §5.6 step 1 as a loop: the same test as FORBIDDEN_CTL, without entering the regexp engine for
 * every line (which also has to flatten a line built by concatenation first).
 */
function hasForbiddenCtl(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f) return true;
  }
  return false;
}

export function parseSetCookie(line: string): ParsedSetCookie | SetCookieParseError {
  if (typeof line !== 'string') return { ok: false, reason: 'syntax', detail: 'the Set-Cookie value is not a string' };
  // §5.6 step 2 (first, because indexOf makes the engine flatten a line built by concatenation,
  // and every character read below is then a plain array access): the name-value-pair runs to
  // the first ";". Never split on commas (`z=y, a=b` is one cookie).
  const semi = line.indexOf(';');
  // §5.6 step 1.
  if (hasForbiddenCtl(line)) return { ok: false, reason: 'control-char', detail: describeCtl(line) };

  const pairEnd = semi < 0 ? line.length : semi;
  // §5.6 step 3: no "=" means a nameless cookie whose value is the whole pair (6265bis, unlike 6265).
  let eq = line.indexOf('=');
  if (eq >= pairEnd) eq = -1;
  // §5.6 step 4 (trim WSP), on indexes so only the final name and value strings are built.
  let name = '';
  if (eq >= 0) {
    let ns = 0;
    let ne = eq;
    while (ns < ne && isWsp(line.charCodeAt(ns))) ns++;
    while (ne > ns && isWsp(line.charCodeAt(ne - 1))) ne--;
    name = line.slice(ns, ne);
  }
  let vs = eq + 1;
  let ve = pairEnd;
  while (vs < ve && isWsp(line.charCodeAt(vs))) vs++;
  while (ve > vs && isWsp(line.charCodeAt(ve - 1))) ve--;
  const value = line.slice(vs, ve);
  // §5.6 step 4: both empty means nothing to store.
  if (name.length === 0 && value.length === 0) {
    return { ok: false, reason: 'syntax', detail: 'the Set-Cookie line has neither a name nor a value' };
  }
  // §5.6 step 5.
  const size = octets(name, MAX_NAME_VALUE_OCTETS) + octets(value, MAX_NAME_VALUE_OCTETS);
  if (size > MAX_NAME_VALUE_OCTETS) {
    return { ok: false, reason: 'too-large', detail: `name and value are ${size} octets; the limit is ${MAX_NAME_VALUE_OCTETS}` };
  }

  // Every field present from the start (undefined when unset): one object shape for every line.
  const out: ParsedSetCookie = {
    ok: true,
    name,
    value,
    expires: undefined,
    maxAge: undefined,
    domain: undefined,
    path: undefined,
    hasPath: false,
    secure: false,
    httpOnly: false,
    sameSite: undefined,
    ignored: undefined,
  };
  if (semi < 0) return out;

  // §5.6 steps 6-8: the cookie-av list, one ";" at a time; unknown attributes are ignored.
  // Indexes instead of slices: this runs for every Set-Cookie line, so it avoids temporary strings.
  let pos = semi;
  while (pos < line.length) {
    const avStart = pos + 1;
    const next = line.indexOf(';', avStart);
    const avEnd = next < 0 ? line.length : next;
    pos = avEnd;
    let eqAt = line.indexOf('=', avStart);
    if (eqAt < 0 || eqAt > avEnd) eqAt = avEnd;
    let ns = avStart;
    let ne = eqAt;
    while (ns < ne && isWsp(line.charCodeAt(ns))) ns++;
    while (ne > ns && isWsp(line.charCodeAt(ne - 1))) ne--;
    const attr = attributeAt(line, ns, ne);
    if (attr === 0) continue;
    let vs = eqAt < avEnd ? eqAt + 1 : avEnd;
    let ve = avEnd;
    while (vs < ve && isWsp(line.charCodeAt(vs))) vs++;
    while (ve > vs && isWsp(line.charCodeAt(ve - 1))) ve--;
    // The value as a string only where it is needed (Max-Age and SameSite are read in place).
    if ((ve - vs) * 3 > MAX_ATTRIBUTE_OCTETS && octets(line.slice(vs, ve), MAX_ATTRIBUTE_OCTETS) > MAX_ATTRIBUTE_OCTETS) {
      note(out, `${line.slice(ns, ne)} attribute ignored: value over ${MAX_ATTRIBUTE_OCTETS} octets`);
      continue;
    }
    switch (attr) {
      case EXPIRES: {
        // §5.6.1: a value that is not a cookie-date is ignored.
        const t = parseCookieDate(line.slice(vs, ve));
        if (t === null) note(out, 'Expires attribute ignored: not a cookie-date');
        else out.expires = t;
        break;
      }
      case MAX_AGE_ATTR: {
        // §5.6.2: optional "-" then digits only; "2.5", "1e3" and "" are ignored.
        const n = parseMaxAge(line, vs, ve);
        if (n === undefined) note(out, 'Max-Age attribute ignored: not an integer');
        else out.maxAge = n;
        break;
      }
      case DOMAIN: {
        // §5.6.3: an empty Domain is ignored (the cookie stays host-only unless an earlier Domain applies);
        // one leading "." is dropped; the value is lower-cased.
        if (vs === ve) break;
        out.domain = line.slice(line.charCodeAt(vs) === 0x2e ? vs + 1 : vs, ve).toLowerCase();
        break;
      }
      case PATH: {
        // §5.6.4: a Path that is empty or does not start with "/" means default-path.
        out.hasPath = true;
        if (vs === ve || line.charCodeAt(vs) !== 0x2f) {
          if (vs < ve) note(out, 'Path value does not start with "/": default-path used');
          out.path = undefined;
        } else {
          out.path = line.slice(vs, ve);
        }
        break;
      }
      case SECURE:
        out.secure = true; // §5.6.5
        break;
      case HTTPONLY:
        out.httpOnly = true; // §5.6.6
        break;
      case SAMESITE: {
        // §5.6.7: only the three known values count; anything else leaves the enforcement "default".
        // Literals, not the lower-cased value: a stored cookie then shares the one constant string.
        // The ASCII comparison in place settles the usual spellings; anything else takes the
        // general lower-casing (which is what decides, e.g., for non-ASCII text).
        const len = ve - vs;
        if (len === 3 && eqCI(line, vs, 'lax')) {
          out.sameSite = 'lax';
          break;
        }
        if (len === 6 && eqCI(line, vs, 'strict')) {
          out.sameSite = 'strict';
          break;
        }
        if (len === 4 && eqCI(line, vs, 'none')) {
          out.sameSite = 'none';
          break;
        }
        const v = line.slice(vs, ve).toLowerCase();
        if (v === 'lax') out.sameSite = 'lax';
        else if (v === 'strict') out.sameSite = 'strict';
        else if (v === 'none') out.sameSite = 'none';
        else {
          out.sameSite = undefined;
          note(out, 'SameSite attribute ignored: not Strict, Lax or None');
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}
