/**
 * The Set-Cookie parser, RFC 6265bis §5.6. Pure: a line in, plain data out, no clock and no jar.
 * Storage rules that need the request URL, the clock or the jar live in `storage.ts`.
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
  /** Attributes that were ignored, with why, so a stored result can still explain itself. */
  ignored: string[];
}

export interface SetCookieParseError {
  ok: false;
  reason: 'syntax' | 'control-char' | 'too-large';
  detail: string;
}

/** §5.6 WSP = SP / HTAB: only these are trimmed, never other Unicode spaces. */
function trimWsp(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
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

/** §5.6.2 Max-Age: "-"? DIGIT+ only; anything else ignores the attribute. */
const MAX_AGE = /^-?\d+$/;

export function parseSetCookie(line: string): ParsedSetCookie | SetCookieParseError {
  if (typeof line !== 'string') return { ok: false, reason: 'syntax', detail: 'the Set-Cookie value is not a string' };
  // §5.6 step 1.
  if (FORBIDDEN_CTL.test(line)) return { ok: false, reason: 'control-char', detail: describeCtl(line) };

  // §5.6 step 2: the name-value-pair runs to the first ";". Never split on commas (`z=y, a=b` is one cookie).
  const semi = line.indexOf(';');
  const pair = semi < 0 ? line : line.slice(0, semi);
  // §5.6 step 3: no "=" means a nameless cookie whose value is the whole pair (6265bis, unlike 6265).
  const eq = pair.indexOf('=');
  const name = trimWsp(eq < 0 ? '' : pair.slice(0, eq));
  const value = trimWsp(eq < 0 ? pair : pair.slice(eq + 1));
  // §5.6 step 4: both empty means nothing to store.
  if (name.length === 0 && value.length === 0) {
    return { ok: false, reason: 'syntax', detail: 'the Set-Cookie line has neither a name nor a value' };
  }
  // §5.6 step 5.
  const size = octets(name, MAX_NAME_VALUE_OCTETS) + octets(value, MAX_NAME_VALUE_OCTETS);
  if (size > MAX_NAME_VALUE_OCTETS) {
    return { ok: false, reason: 'too-large', detail: `name and value are ${size} octets; the limit is ${MAX_NAME_VALUE_OCTETS}` };
  }

  const out: ParsedSetCookie = { ok: true, name, value, secure: false, httpOnly: false, hasPath: false, ignored: [] };
  if (semi < 0) return out;

  // §5.6 steps 6-8: the cookie-av list, one ";" at a time; unknown attributes are ignored.
  let pos = semi;
  while (pos < line.length) {
    const next = line.indexOf(';', pos + 1);
    const av = line.slice(pos + 1, next < 0 ? line.length : next);
    pos = next < 0 ? line.length : next;
    const avEq = av.indexOf('=');
    const attrName = trimWsp(avEq < 0 ? av : av.slice(0, avEq));
    const attrValue = trimWsp(avEq < 0 ? '' : av.slice(avEq + 1));
    if (attrName.length === 0) continue;
    const lower = attrName.toLowerCase();
    if (octets(attrValue, MAX_ATTRIBUTE_OCTETS) > MAX_ATTRIBUTE_OCTETS) {
      out.ignored.push(`${attrName} attribute ignored: value over ${MAX_ATTRIBUTE_OCTETS} octets`);
      continue;
    }
    switch (lower) {
      case 'expires': {
        // §5.6.1: a value that is not a cookie-date is ignored.
        const t = parseCookieDate(attrValue);
        if (t === null) out.ignored.push('Expires attribute ignored: not a cookie-date');
        else out.expires = t;
        break;
      }
      case 'max-age': {
        // §5.6.2: optional "-" then digits only; "2.5", "1e3" and "" are ignored.
        if (!MAX_AGE.test(attrValue)) out.ignored.push('Max-Age attribute ignored: not an integer');
        else out.maxAge = Number(attrValue);
        break;
      }
      case 'domain': {
        // §5.6.3: an empty Domain is ignored (the cookie stays host-only unless an earlier Domain applies);
        // one leading "." is dropped; the value is lower-cased.
        if (attrValue.length === 0) break;
        const d = attrValue.charCodeAt(0) === 0x2e ? attrValue.slice(1) : attrValue;
        out.domain = d.toLowerCase();
        break;
      }
      case 'path': {
        // §5.6.4: a Path that is empty or does not start with "/" means default-path.
        out.hasPath = true;
        if (attrValue.length === 0 || attrValue.charCodeAt(0) !== 0x2f) {
          if (attrValue.length > 0) out.ignored.push('Path value does not start with "/": default-path used');
          delete out.path;
        } else {
          out.path = attrValue;
        }
        break;
      }
      case 'secure':
        out.secure = true; // §5.6.5
        break;
      case 'httponly':
        out.httpOnly = true; // §5.6.6
        break;
      case 'samesite': {
        // §5.6.7: only the three known values count; anything else leaves the enforcement "default".
        const v = attrValue.toLowerCase();
        if (v === 'strict' || v === 'lax' || v === 'none') out.sameSite = v;
        else {
          delete out.sameSite;
          out.ignored.push('SameSite attribute ignored: not Strict, Lax or None');
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}
