/**
 * The cookie jar: RFC 6265bis storage (§5.7) and retrieval (§5.8.3) for a non-browser client,
 * indexed for speed, and able to say why every cookie was stored, refused, sent or withheld.
 *
 * Layout. Cookies live in buckets keyed by their domain (the host for a host-only cookie, the
 * Domain attribute otherwise). A request for `a.b.example.com` looks up the buckets for
 * `a.b.example.com`, `b.example.com`, `example.com` and `com`: a handful of Map lookups whatever
 * the size of the jar. Cookies are also grouped by registrable domain ("site"), which is the unit
 * for the per-domain limit and for the withheld cookies a trace shows. A Set in access order gives
 * the least recently used cookie for the total limit in O(1).
 */
import type { Cookie, CookieContext, CookieStore, CookieVerdict, SetCookieResult } from './types.js';
import { HopwiseOptionError } from '../errors.js';
import { parseSetCookie } from './parse.js';
import { buildCookie, type RequestFacts } from './storage.js';
import { domainMatch, isIpHost, isSecureUrl, siteInfo } from './domain.js';
import { pathMatch } from './path.js';
import { compareForHeader, isExpired, judge, matches, sameSiteNote, serialize, siteOf } from './match.js';
import {
  cookiesFromJSON,
  cookiesFromNetscape,
  cookiesToJSON,
  cookiesToNetscape,
  detectFormat,
  type CookieJarJSON,
} from './formats.js';
import { writeFileAtomic } from './file.js';
import { readFile } from 'node:fs/promises';

export interface CookieJarOptions {
  /** The clock, ms since the epoch. Used for expiry, creation and last-access times. Default `Date.now`. */
  now?: () => number;
  /**
   * Most cookies kept per registrable domain (`example.co.uk` and all its subdomains together).
   * Past it, the least recently used cookie of that domain is evicted. Default 180 (Chrome's value).
   */
  maxCookiesPerDomain?: number;
  /**
   * Most cookies in the whole jar; past it the least recently used cookie is evicted. Default 50,000:
   * far above a browser's 3,000, because a crawler or test harness may legitimately talk to
   * thousands of hosts, and a jar of 50,000 cookies is a few tens of MB at worst.
   */
  maxCookies?: number;
}

export type CookieFileFormat = 'json' | 'netscape';

export const DEFAULT_MAX_COOKIES_PER_DOMAIN = 180;
export const DEFAULT_MAX_COOKIES = 50_000;

interface Entry {
  cookie: Cookie;
  /** Creation order; breaks ties between equal creation times (§5.8.3 step 2). Kept on replacement. */
  seq: number;
  /** Access order, for least-recently-used eviction within a domain. */
  tick: number;
  /** Key inside the domain bucket: host-only flag, path, name (§5.7 step 19). */
  key: string;
  /** Registrable domain (or the host for IPs): the group for limits and explanations. */
  site: string;
}

function entryKey(c: Cookie): string {
  // Names, paths cannot contain "\n" (a control character refused by the parser and the loaders).
  return `${c.hostOnly ? 'h' : 'd'}\n${c.path}\n${c.name}`;
}

function toUrl(url: string | URL, method: string): URL {
  if (url instanceof URL) return url;
  if (typeof url === 'string') {
    try {
      return new URL(url);
    } catch {
      // The URL itself is not echoed: it may carry credentials or tokens.
    }
  }
  throw new HopwiseOptionError('ERR_INVALID_URL', `CookieJar.${method}: the url argument is not a valid absolute URL`);
}

function facts(u: URL): RequestFacts {
  return { host: u.hostname, path: u.pathname, secure: isSecureUrl(u), origin: `${u.protocol}//${u.host}` };
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `CookieJar option ${name} must be a positive integer`);
  }
  return v;
}

function describeStored(c: Cookie, ignored: string[]): string {
  const scope = c.hostOnly ? `host-only for ${c.domain}` : `Domain=${c.domain}`;
  const life = c.expires === null ? 'session cookie' : `expires ${new Date(c.expires).toISOString()}`;
  const flags = [c.secure ? 'Secure' : '', c.httpOnly ? 'HttpOnly' : '', c.sameSite ? `SameSite=${c.sameSite}` : '']
    .filter(Boolean)
    .join(' ');
  const extra = ignored.length > 0 ? `; ${ignored.join('; ')}` : '';
  return `${scope}, Path=${c.path}, ${life}${flags ? `, ${flags}` : ''}${extra}`;
}

export class CookieJar implements CookieStore {
  readonly #now: () => number;
  readonly #maxPerDomain: number;
  readonly #maxTotal: number;
  /** domain → (key → entry). */
  readonly #byDomain = new Map<string, Map<string, Entry>>();
  /** site → entries of that registrable domain. */
  readonly #bySite = new Map<string, Set<Entry>>();
  /** All entries, least recently used first. */
  readonly #lru = new Set<Entry>();
  #seq = 0;
  #tick = 0;

  constructor(options: CookieJarOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar options must be an object');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar option now must be a function returning ms since the epoch');
    }
    this.#now = options.now ?? Date.now;
    this.#maxPerDomain = positiveInt('maxCookiesPerDomain', options.maxCookiesPerDomain, DEFAULT_MAX_COOKIES_PER_DOMAIN);
    this.#maxTotal = positiveInt('maxCookies', options.maxCookies, DEFAULT_MAX_COOKIES);
  }

  /** Number of cookies stored (expired ones not yet swept included). */
  get size(): number {
    return this.#lru.size;
  }

  // ---- storing -----------------------------------------------------------------------------

  /**
   * Store one Set-Cookie line received from `url` (RFC 6265bis §5.6-5.7). Never throws on what the
   * server sent: a refused line comes back as `{ stored: false, reason, detail }`. Only a `url`
   * that is not a URL throws (`ERR_INVALID_URL`).
   */
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult {
    const u = toUrl(url, 'setCookie');
    if (u.hostname === '') return { stored: false, reason: 'invalid-domain', detail: `${u.protocol} URLs have no host to set cookies for` };
    const parsed = parseSetCookie(setCookieLine);
    if (!parsed.ok) return { stored: false, reason: parsed.reason, detail: parsed.detail };
    const name = parsed.name;
    const req = facts(u);
    const now = this.#now();
    const built = buildCookie(parsed, req, now);
    if (!built.ok) return { stored: false, reason: built.reason, detail: built.detail, name };
    const cookie = built.cookie;
    const site = siteInfo(cookie.domain).site;

    // §5.7 step 15, "leave secure cookies alone": an insecure request may not overwrite or shadow a
    // Secure cookie of the same name whose domain and path overlap.
    if (!cookie.secure && !req.secure) {
      const blocker = this.#findSecureBlocker(cookie, site);
      if (blocker) {
        return {
          stored: false,
          reason: 'overwrite-secure',
          detail: `a Secure cookie of this name exists for ${blocker.hostOnly ? blocker.domain : `Domain=${blocker.domain}`} Path=${blocker.path}; ${req.origin} is not secure`,
          name,
        };
      }
    }

    // §5.7 step 19: same name, domain, host-only flag and path replaces, keeping the creation time.
    const key = entryKey(cookie);
    const old = this.#byDomain.get(cookie.domain)?.get(key);
    let seq: number;
    if (old) {
      cookie.creation = old.cookie.creation;
      seq = old.seq;
      this.#remove(old);
    } else {
      seq = ++this.#seq;
    }

    // §5.7 step 21: an expiry in the past stores nothing; if it replaced a cookie, that is a deletion.
    if (isExpired(cookie, now)) {
      const when = cookie.expires === 0 ? 'Max-Age<=0' : `expiry ${new Date(cookie.expires!).toISOString()} is in the past`;
      return old
        ? { stored: false, reason: 'deleted', detail: `${when}: the stored cookie for ${cookie.domain} Path=${cookie.path} was deleted`, name }
        : { stored: false, reason: 'expired', detail: `${when}; there was no stored cookie to delete`, name };
    }

    const entry: Entry = { cookie, seq, tick: ++this.#tick, key, site };
    this.#insert(entry);
    const evicted = this.#enforceLimits(entry, now);
    let detail = describeStored(cookie, parsed.ignored);
    if (evicted.length > 0) detail += `; evicted ${evicted.join(', ')}`;
    const result: SetCookieResult = { stored: true, cookie: { ...cookie }, reason: old ? 'replaced' : 'stored', detail };
    const note = sameSiteNote(cookie, undefined, undefined, undefined);
    if (cookie.sameSite === 'none' && note !== undefined) result.sameSiteNote = note;
    return result;
  }

  #findSecureBlocker(c: Cookie, site: string): Cookie | undefined {
    const group = this.#bySite.get(site);
    if (!group) return undefined;
    for (const e of group) {
      const o = e.cookie;
      if (
        o.secure &&
        o.name === c.name &&
        (domainMatch(o.domain, c.domain) || domainMatch(c.domain, o.domain)) &&
        pathMatch(c.path, o.path)
      ) {
        return o;
      }
    }
    return undefined;
  }

  #insert(e: Entry): void {
    let bucket = this.#byDomain.get(e.cookie.domain);
    if (!bucket) this.#byDomain.set(e.cookie.domain, (bucket = new Map()));
    bucket.set(e.key, e);
    let group = this.#bySite.get(e.site);
    if (!group) this.#bySite.set(e.site, (group = new Set()));
    group.add(e);
    this.#lru.add(e);
  }

  #remove(e: Entry): void {
    const bucket = this.#byDomain.get(e.cookie.domain);
    if (bucket && bucket.get(e.key) === e) {
      bucket.delete(e.key);
      if (bucket.size === 0) this.#byDomain.delete(e.cookie.domain);
    }
    const group = this.#bySite.get(e.site);
    if (group) {
      group.delete(e);
      if (group.size === 0) this.#bySite.delete(e.site);
    }
    this.#lru.delete(e);
  }

  /** Per-domain then total limits: expired cookies go first, then the least recently used. */
  #enforceLimits(fresh: Entry, now: number): string[] {
    const evicted: string[] = [];
    const group = this.#bySite.get(fresh.site);
    if (group && group.size > this.#maxPerDomain) {
      for (const e of group) if (e !== fresh && isExpired(e.cookie, now)) this.#remove(e);
      while (group.size > this.#maxPerDomain) {
        let victim: Entry | undefined;
        for (const e of group) if (e !== fresh && (victim === undefined || e.tick < victim.tick)) victim = e;
        if (!victim) break;
        this.#remove(victim);
        evicted.push(`the least recently used cookie of ${fresh.site} (limit ${this.#maxPerDomain} per domain)`);
      }
    }
    while (this.#lru.size > this.#maxTotal) {
      const victim = this.#lru.values().next().value as Entry | undefined;
      if (!victim || victim === fresh) break;
      this.#remove(victim);
      evicted.push(`the least recently used cookie in the jar, for ${victim.cookie.domain} (limit ${this.#maxTotal})`);
    }
    return evicted;
  }

  #touch(e: Entry, now: number): void {
    e.cookie.lastAccess = now;
    e.tick = ++this.#tick;
    this.#lru.delete(e);
    this.#lru.add(e);
  }

  // ---- retrieving --------------------------------------------------------------------------

  /**
   * The entries whose domain bucket is on the request host's suffix chain: the only ones that can
   * match (§5.8.3 step 1). Expired entries met on the way are swept. Sorted in header order.
   */
  #collect(host: string, path: string, secure: boolean, now: number): Entry[] {
    const out: Entry[] = [];
    const ip = isIpHost(host);
    let d = host;
    for (;;) {
      const bucket = this.#byDomain.get(d);
      if (bucket !== undefined) {
        for (const e of bucket.values()) {
          if (isExpired(e.cookie, now)) {
            this.#remove(e);
            continue;
          }
          if (matches(e.cookie, host, path, secure, now)) out.push(e);
        }
      }
      if (ip) break;
      const dot = d.indexOf('.');
      if (dot < 0 || dot === d.length - 1) break;
      d = d.slice(dot + 1);
    }
    if (out.length > 1) out.sort(compareForHeader);
    return out;
  }

  /** The Cookie header value for a request to `url` (§5.8.3), '' when no cookie goes. Updates last-access. */
  getCookieString(url: string | URL): string {
    const u = toUrl(url, 'getCookieString');
    const now = this.#now();
    const sent = this.#collect(u.hostname, u.pathname, isSecureUrl(u), now);
    let header = '';
    for (let i = 0; i < sent.length; i++) {
      const e = sent[i]!;
      this.#touch(e, now);
      header += i === 0 ? serialize(e.cookie) : `; ${serialize(e.cookie)}`;
    }
    return header;
  }

  /**
   * One hop, for the session: the Cookie header plus a verdict for every cookie sent and for every
   * withheld cookie of the same registrable domain (the same host for IPs and localhost names), so a
   * trace can say why a cookie did not go without listing the whole jar. Sent cookies get their
   * last-access updated; expired ones are reported once and removed.
   * `context.initiator` (the URL that led to this request) only sharpens the SameSite notes.
   */
  evaluate(url: URL, context: CookieContext = {}): { header: string; verdicts: CookieVerdict[] } {
    const u = toUrl(url, 'evaluate');
    const now = this.#now();
    const req = facts(u);
    const candidates = new Set<Entry>();
    const group = this.#bySite.get(siteInfo(req.host).site);
    if (group) for (const e of group) candidates.add(e);
    // Cookies on the suffix chain but outside the site (only possible from a hand-made file) still count.
    const ip = isIpHost(req.host);
    for (let d = req.host; ; ) {
      const bucket = this.#byDomain.get(d);
      if (bucket) for (const e of bucket.values()) candidates.add(e);
      const dot = d.indexOf('.');
      if (ip || dot < 0 || dot === d.length - 1) break;
      d = d.slice(dot + 1);
    }
    const { sent, withheld } = this.#verdicts(candidates, u, req, now, context);
    for (const v of sent) {
      this.#touch(v.entry, now);
      v.verdict.cookie.lastAccess = now;
    }
    for (const v of withheld) if (v.verdict.reason === 'expired') this.#remove(v.entry);
    let header = '';
    for (let i = 0; i < sent.length; i++) header += (i === 0 ? '' : '; ') + serialize(sent[i]!.entry.cookie);
    return { header, verdicts: [...sent, ...withheld].map((v) => v.verdict) };
  }

  #verdicts(
    candidates: Iterable<Entry>,
    u: URL,
    req: RequestFacts,
    now: number,
    context: CookieContext,
  ): { sent: { entry: Entry; verdict: CookieVerdict }[]; withheld: { entry: Entry; verdict: CookieVerdict }[] } {
    const sent: { entry: Entry; verdict: CookieVerdict }[] = [];
    const withheld: { entry: Entry; verdict: CookieVerdict }[] = [];
    let initiatorSite: string | undefined;
    if (context.initiator !== undefined) initiatorSite = siteOf(toUrl(context.initiator, 'evaluate'));
    const targetSite = initiatorSite === undefined ? undefined : siteOf(u);
    for (const e of candidates) {
      const { reason, detail } = judge(e.cookie, req, now);
      const verdict: CookieVerdict = { cookie: { ...e.cookie }, sent: reason === 'match', reason, detail };
      const note = sameSiteNote(e.cookie, targetSite, initiatorSite, context.method?.toUpperCase());
      if (note !== undefined) verdict.sameSiteNote = note;
      (reason === 'match' ? sent : withheld).push({ entry: e, verdict });
    }
    sent.sort((a, b) => compareForHeader(a.entry, b.entry));
    withheld.sort((a, b) => a.entry.seq - b.entry.seq);
    return { sent, withheld };
  }

  /**
   * Every cookie in the jar with its verdict for `url`: the ones that would be sent first (in header
   * order), then the rest in creation order. A diagnostic: it changes nothing (no last-access update,
   * no sweeping of expired cookies).
   */
  explain(url: string | URL, context: CookieContext = {}): CookieVerdict[] {
    const u = toUrl(url, 'explain');
    const { sent, withheld } = this.#verdicts(this.#lru, u, facts(u), this.#now(), context);
    return [...sent, ...withheld].map((v) => v.verdict);
  }

  // ---- tooling and persistence -------------------------------------------------------------

  /** A snapshot of the cookies that have not expired, in creation order (copies; changing them changes nothing). */
  cookies(): Cookie[] {
    const now = this.#now();
    const list: Entry[] = [];
    for (const e of this.#lru) if (!isExpired(e.cookie, now)) list.push(e);
    list.sort((a, b) => a.seq - b.seq);
    return list.map((e) => ({ ...e.cookie }));
  }

  /** Remove every cookie. */
  clear(): void {
    this.#byDomain.clear();
    this.#bySite.clear();
    this.#lru.clear();
  }

  toJSON(): CookieJarJSON {
    return cookiesToJSON(this.cookies());
  }

  /** curl's cookies.txt format. SameSite and creation/last-access times are not part of it. */
  toNetscape(): string {
    return cookiesToNetscape(this.cookies());
  }

  /**
   * A jar from `toJSON()` output (the object or its JSON text). Invalid data throws
   * `ERR_INVALID_OPTION` naming the bad entry; expired cookies are dropped; limits apply.
   */
  static fromJSON(data: unknown, options: CookieJarOptions = {}): CookieJar {
    const jar = new CookieJar(options);
    jar.#load(cookiesFromJSON(data, jar.#now()));
    return jar;
  }

  /** A jar from cookies.txt text (curl `-c`, `#HttpOnly_` lines included). Malformed lines are skipped, as curl does. */
  static fromNetscape(text: string, options: CookieJarOptions = {}): CookieJar {
    if (typeof text !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar.fromNetscape expects a string');
    const jar = new CookieJar(options);
    jar.#load(cookiesFromNetscape(text, jar.#now()));
    return jar;
  }

  #load(cookies: Cookie[]): void {
    const now = this.#now();
    // Creation order decides header order among equal paths, so load oldest first (stable for ties).
    const ordered = cookies.map((c, i) => ({ c, i })).sort((a, b) => a.c.creation - b.c.creation || a.i - b.i);
    for (const { c } of ordered) {
      if (isExpired(c, now)) continue;
      const key = entryKey(c);
      const old = this.#byDomain.get(c.domain)?.get(key);
      if (old) this.#remove(old);
      const entry: Entry = { cookie: c, seq: ++this.#seq, tick: ++this.#tick, key, site: siteInfo(c.domain).site };
      this.#insert(entry);
      this.#enforceLimits(entry, now);
    }
  }

  /**
   * Write the jar to `path` atomically (a temp file in the same directory, then rename), mode 0600.
   * `format` defaults to `'json'`, which keeps everything; `'netscape'` is what curl reads with `-b`.
   */
  async saveToFile(path: string, options: { format?: CookieFileFormat } = {}): Promise<void> {
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'netscape') {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', `saveToFile format must be "json" or "netscape"`);
    }
    const text = format === 'json' ? `${JSON.stringify(this.toJSON(), null, 2)}\n` : this.toNetscape();
    await writeFileAtomic(path, text);
  }

  /** Load a file written by `saveToFile` or by `curl -c`; the format is detected from the content. */
  static async loadFromFile(path: string, options: CookieJarOptions = {}): Promise<CookieJar> {
    const text = await readFile(path, 'utf8');
    return detectFormat(text) === 'json' ? CookieJar.fromJSON(text, options) : CookieJar.fromNetscape(text, options);
  }
}
