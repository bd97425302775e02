/**
 * The two persistence formats, as pure functions over plain data: hopwise JSON (lossless) and
 * the Netscape cookies.txt format that curl reads and writes (`-b` / `-c`).
 */
import type { Cookie, SameSite, SetCookieRejectReason } from './types.js';
import { HopwiseOptionError } from '../errors.js';

/**
 * A cookie a file could not carry: refused when a jar was loaded (a line of cookies.txt that is
 * not a cookie, or a cookie the Set-Cookie rules would not have stored), or left out when a jar
 * was saved in a format that cannot hold it. Never the cookie's value.
 */
export interface CookieRefusal {
  /** Where: `line 12` (cookies.txt), `cookies[3]` (JSON), or `cookie 3` (saving, in creation order). */
  where: string;
  /** The cookie's name and domain, when the entry got as far as having them. */
  name?: string;
  domain?: string;
  /**
   * A Set-Cookie reason (`public-suffix`, `prefix-host`, `too-large`, `expired`…: what `setCookie`
   * would have said), `malformed` (a cookies.txt line that is not a cookie), or `unrepresentable`
   * (saving: the format cannot hold this cookie without turning it into another).
   */
  reason: SetCookieRejectReason | 'malformed' | 'unrepresentable';
  detail: string;
}

export type OnRefused = (refusal: CookieRefusal) => void;

/** A cookie read from a file, with where it was read (for a refusal); or an entry that is not one. */
export type LoadedCookie = { cookie: Cookie; where: string; refusal?: undefined } | { cookie?: undefined; where?: undefined; refusal: CookieRefusal };

export interface CookieJarJSON {
  format: 'hopwise-cookies';
  version: 1;
  /** In creation order, which is also the send order among cookies with equal paths. */
  cookies: Cookie[];
}

/** Characters that must never be in a stored name or value: they would break the Cookie header. */
const UNSAFE_NAME = /[\x00-\x08\x0a-\x1f\x7f;=]/;
const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f;]/;
const UNSAFE_DOMAIN = /[\x00-\x20\x7f;,/]/;

function bad(message: string): never {
  throw new HopwiseOptionError('ERR_INVALID_OPTION', `cookie jar data: ${message}`);
}

/** Check one cookie from outside (a file, fromJSON) so a loaded jar is as safe as one filled by Set-Cookie. */
export function validateCookie(raw: unknown, where: string, now: number): Cookie {
  if (typeof raw !== 'object' || raw === null) bad(`${where} is not an object`);
  const r = raw as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof r[k] !== 'string') bad(`${where}.${k} is not a string`);
    return r[k] as string;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    if (r[k] === undefined) return dflt;
    if (typeof r[k] !== 'boolean') bad(`${where}.${k} is not a boolean`);
    return r[k] as boolean;
  };
  const num = (k: string, dflt: number): number => {
    if (r[k] === undefined || r[k] === null) return dflt;
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) bad(`${where}.${k} is not a finite number`);
    return r[k] as number;
  };
  const name = str('name');
  const value = str('value');
  if (UNSAFE_NAME.test(name)) bad(`${where}.name contains a control character, ";" or "="`);
  if (UNSAFE_VALUE.test(value)) bad(`${where}.value contains a control character or ";"`);
  if (name === '' && value === '') bad(`${where} has neither a name nor a value`);
  const domain = str('domain').toLowerCase();
  if (domain === '' || UNSAFE_DOMAIN.test(domain)) bad(`${where}.domain is not a host name`);
  const path = str('path');
  if (!path.startsWith('/') || UNSAFE_VALUE.test(path)) bad(`${where}.path does not start with "/"`);
  let expires: number | null = null;
  if (r.expires !== null && r.expires !== undefined) expires = num('expires', 0);
  const creation = num('creation', now);
  const cookie: Cookie = {
    name,
    value,
    domain,
    path,
    hostOnly: bool('hostOnly', true),
    secure: bool('secure', false),
    httpOnly: bool('httpOnly', false),
    expires,
    creation,
    lastAccess: num('lastAccess', creation),
  };
  if (r.sameSite !== undefined) {
    const s = r.sameSite;
    if (s !== 'strict' && s !== 'lax' && s !== 'none') bad(`${where}.sameSite is not "strict", "lax" or "none"`);
    cookie.sameSite = s as SameSite;
  }
  return cookie;
}

export function cookiesToJSON(cookies: Cookie[]): CookieJarJSON {
  return { format: 'hopwise-cookies', version: 1, cookies: cookies.map((c) => ({ ...c })) };
}

/** Accepts the object `toJSON()` returns, its JSON text, or a bare array of cookies. */
export function cookiesFromJSON(data: unknown, now: number): LoadedCookie[] {
  let d = data;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch {
      bad('not valid JSON');
    }
  }
  let list: unknown;
  if (Array.isArray(d)) list = d;
  else if (typeof d === 'object' && d !== null && Array.isArray((d as { cookies?: unknown }).cookies)) {
    const version = (d as { version?: unknown }).version;
    if (version !== undefined && version !== 1) bad(`version ${String(version)} is not supported (expected 1)`);
    list = (d as { cookies: unknown[] }).cookies;
  } else bad('expected { cookies: [...] } or an array of cookies');
  return (list as unknown[]).map((c, i) => ({ cookie: validateCookie(c, `cookies[${i}]`, now), where: `cookies[${i}]` }));
}

// ---- Netscape / curl cookies.txt -------------------------------------------------------------
//
// One cookie per line, seven TAB-separated fields:
//   domain  include-subdomains(TRUE/FALSE)  path  secure(TRUE/FALSE)  expires(unix seconds, 0 = session)  name  value
// curl writes a domain cookie as ".example.com TRUE" and a host-only one as "example.com FALSE",
// and marks HttpOnly cookies by prefixing the domain with "#HttpOnly_" (so old readers skip them
// as comments). SameSite and the creation/last-access times are not in the format.

export const NETSCAPE_HEADER = '# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n# This file was generated by hopwise. Edit at your own risk.\n\n';

const HTTPONLY_PREFIX = '#HttpOnly_';

/**
 * Why cookies.txt cannot hold `c` as it is, or undefined. The format has no escaping: a TAB ends a
 * field and a line break ends the line, so one in a name or path (or a line break in a value)
 * would turn the cookie into another one, or into two lines, when the file is read back. A TAB in
 * a value is safe (the value is everything after the sixth TAB) unless the cookie is nameless
 * (written as six fields, its value where a name would be). A host-only cookie cannot have a
 * domain starting with "." (the dot is what marks a domain cookie).
 */
export function netscapeProblem(c: Readonly<Cookie>): string | undefined {
  if (/[\t\r\n]/.test(c.name)) return 'its name contains a TAB or a line break';
  if (/[\t\r\n]/.test(c.path)) return 'its path contains a TAB or a line break';
  if (/[\r\n]/.test(c.value)) return 'its value contains a line break';
  if (c.name === '' && c.value.includes('\t')) return 'it has no name and its value contains a TAB';
  if (c.hostOnly && c.domain.startsWith('.')) return 'it is host-only for a host starting with "."';
  return undefined;
}

export function cookiesToNetscape(cookies: Cookie[], onRefused?: OnRefused): string {
  let out = NETSCAPE_HEADER;
  for (let i = 0; i < cookies.length; i++) {
    const c = cookies[i]!;
    const problem = netscapeProblem(c);
    if (problem !== undefined) {
      onRefused?.({ where: `cookie ${i + 1}`, name: c.name, domain: c.domain, reason: 'unrepresentable', detail: `not saved in cookies.txt: ${problem}` });
      continue;
    }
    const domain = (c.httpOnly ? HTTPONLY_PREFIX : '') + (c.hostOnly ? c.domain : `.${c.domain}`);
    const expires = c.expires === null ? 0 : Math.max(1, Math.floor(c.expires / 1000));
    out += `${domain}\t${c.hostOnly ? 'FALSE' : 'TRUE'}\t${c.path}\t${c.secure ? 'TRUE' : 'FALSE'}\t${expires}\t${c.name}\t${c.value}\n`;
  }
  return out;
}

/**
 * Parse cookies.txt the way curl does: comments and blank lines skipped, malformed lines skipped
 * (curl ignores them silently too), `#HttpOnly_` honoured, expiry 0 = session cookie. A value
 * containing TABs keeps them (everything after the sixth TAB is the value).
 */
export function cookiesFromNetscape(text: string, now: number): LoadedCookie[] {
  const out: LoadedCookie[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let httpOnly = false;
    if (line.startsWith(HTTPONLY_PREFIX)) {
      httpOnly = true;
      line = line.slice(HTTPONLY_PREFIX.length);
    } else if (line.startsWith('#') || line.trim() === '') {
      continue;
    }
    const where = `line ${i + 1}`;
    const f = line.split('\t');
    if (f.length < 6) {
      out.push({ refusal: { where, reason: 'malformed', detail: `${f.length} TAB-separated fields; a cookie line has at least 6` } });
      continue;
    }
    const [rawDomain, flag, path, secure, rawExpires] = f as [string, string, string, string, string];
    const name = f.length >= 7 ? f[5]! : '';
    // curl writes a nameless cookie as six fields (name column holds the value).
    const value = f.length >= 7 ? f.slice(6).join('\t') : f[5]!;
    const domain = (rawDomain.startsWith('.') ? rawDomain.slice(1) : rawDomain).toLowerCase();
    const expiresSec = Number(rawExpires);
    if (!Number.isFinite(expiresSec)) {
      out.push({ refusal: { where, name, domain, reason: 'malformed', detail: 'the expiry field is not a number' } });
      continue;
    }
    const candidate = {
      name,
      value,
      domain,
      path,
      hostOnly: flag.toUpperCase() !== 'TRUE',
      secure: secure.toUpperCase() === 'TRUE',
      httpOnly,
      expires: expiresSec === 0 ? null : expiresSec * 1000,
      creation: now,
      lastAccess: now,
    };
    try {
      out.push({ cookie: validateCookie(candidate, where, now), where });
    } catch (err) {
      // Skip what curl would skip; a damaged line must not poison the rest of the file.
      out.push({ refusal: { where, name, domain, reason: 'malformed', detail: (err as Error).message.replace(/^cookie jar data: /, '') } });
    }
  }
  return out;
}

/** JSON if the text starts with "{" or "[" (after whitespace); otherwise cookies.txt. */
export function detectFormat(text: string): 'json' | 'netscape' {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[') ? 'json' : 'netscape';
}
