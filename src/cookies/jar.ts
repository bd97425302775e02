/**
 * The cookie jar: RFC 6265bis storage (§5.7) and retrieval (§5.8.3) for a non-browser client,
 * indexed for speed, and able to say why every cookie was stored, refused, sent or withheld.
 *
 * Layout. Cookies live in buckets keyed by their domain (the host for a host-only cookie, the
 * Domain attribute otherwise). A request for `a.b.example.com` looks up the buckets for
 * `a.b.example.com`, `b.example.com`, `example.com` and `com`: a handful of Map lookups whatever
 * the size of the jar. Cookies are also grouped by registrable domain ("site"), which is the unit
 * for the withheld cookies a trace shows and for the "leave secure cookies alone" check. A Set in
 * access order gives the least recently used cookie for the total limit in O(1).
 */
import type { Cookie, CookieContext, CookieStore, CookieVerdict, SameSite, SetCookieResult } from './types.js';
import { HopwiseOptionError } from '../errors.js';
import { parseSetCookie } from './parse.js';
import { buildCookie, isRejection } from './storage.js';
import { factsFromUrl, requestFacts, toUrl, type RequestFacts } from './url.js';
import { domainMatch, hostInfo as infoOf, internHost, siteInfo, siteOfInfo, type HostInfo } from './domain.js';
import { pathMatch } from './path.js';
import { isExpired, judge, sameSiteNote, serialize, siteOf } from './match.js';
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
   * Most cookies kept per cookie domain: one host for host-only cookies, one Domain= value for
   * domain cookies (so `a.example.com` and `b.example.com` each have their own allowance). Past it,
   * the least recently used cookie of that domain is evicted. Default 180 (Chrome's number; Chrome
   * counts per registrable domain, which would cap a client talking to 1,000 tenants of one SaaS
   * domain at 180 cookies in all; `maxCookies` bounds the total instead).
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
/** At most this many cookies of other hosts of the same site get a verdict in `evaluate`. */
export const MAX_SIBLING_VERDICTS = 50;

/** The low bits of `Entry.order`: the four small attributes packed into one number. */
const HOST_ONLY = 1;
const SECURE = 2;
const HTTP_ONLY = 4;
/** SameSite in bits 3-4: 0 = absent, then strict, lax, none (the order of `SAME_SITE`). */
const SAME_SITE_SHIFT = 3;
const SAME_SITE: readonly (SameSite | undefined)[] = [undefined, 'strict', 'lax', 'none'];
/** The attribute bits of `Entry.order`; creation order counts in steps of `ORDER_STEP` above them. */
const ATTRIBUTES = 31;
const ORDER_STEP = 32;

function flagsOf(c: Cookie): number {
  let f = c.hostOnly ? HOST_ONLY : 0;
  if (c.secure) f |= SECURE;
  if (c.httpOnly) f |= HTTP_ONLY;
  const s = c.sameSite;
  if (s !== undefined) f |= (s === 'strict' ? 1 : s === 'lax' ? 2 : 3) << SAME_SITE_SHIFT;
  return f;
}

/**
 * A stored cookie: one flat object with one shape, and as few fields as the jar can work with,
 * because a jar of 10,000 cookies is mostly these objects (and the garbage collector copies every
 * new one at least twice before it settles in the old generation, so its size is also the cost of
 * storing it). The booleans and SameSite share `order` with the creation order; `name` and `path`
 * are shared strings (see `intern`); the domain string is the host's internalised one; a bucket is
 * a linked list through `next` rather than an array per domain. Never handed out: callers get
 * `snapshot()` copies, and the matching/explaining code reads those.
 */
interface Entry {
  name: string;
  value: string;
  /** Canonical host (host-only) or Domain value; the bucket key. */
  domain: string;
  path: string;
  /**
   * Creation order times `ORDER_STEP`, plus the attribute bits (host-only, Secure, HttpOnly,
   * SameSite): one field for both, since a jar is mostly these objects. Creation order breaks ties
   * between equal path lengths in the header (§5.8.3 step 2) and is kept on replacement; comparing
   * `order` compares creation order, as the bits are below the step. `order & ATTRIBUTES` gives the
   * bits for any integer the field can hold (a 32-bit cut keeps the low bits). It stays a small
   * integer in the object for the first ~67 million cookies a jar creates.
   */
  order: number;
  /**
   * The three times are stored relative to the jar's time base (see `CookieJar.#rel`): ms since the
   * epoch are beyond the engine's small integers, so each would be a separate 16-byte heap number
   * per cookie, where an offset of less than ~24 days from the base is stored in the field itself.
   */
  expires: number | null;
  creation: number;
  lastAccess: number;
  /** Access order, for least-recently-used eviction; -1 once removed from the jar. */
  tick: number;
  /** The next entry of the same bucket. */
  next: Entry | null;
}

/**
 * Bounded table of shared strings for cookie names and paths: a jar of 10,000 cookies typically
 * has a few dozen distinct names and paths, and each parsed line brings its own copy of them.
 * Cleared when full (the strings stay correct, only sharing is lost).
 */
const SHARED = new Map<string, string>();
const SHARED_MAX = 4096;

function intern(s: string): string {
  const known = SHARED.get(s);
  if (known !== undefined) return known;
  if (SHARED.size >= SHARED_MAX) SHARED.clear();
  SHARED.set(s, s);
  return s;
}

/**
 * A class rather than an object literal: V8 may decide to allocate a literal's objects directly in
 * the old generation (allocation-site pretenuring), and code that allocates them then depends on
 * that decision; a full GC that finds little surviving resets every such decision in the process
 * and throws away all that code at once. Entries made by a constructor are not subject to it.
 */
class Entry {
  constructor(name: string, domain: string, path: string, creation: number, lastAccess: number, tick: number) {
    this.name = name;
    this.value = '';
    this.domain = domain;
    this.path = path;
    this.order = 0;
    this.expires = null;
    this.creation = creation;
    this.lastAccess = lastAccess;
    this.tick = tick;
    this.next = null;
  }
}

/** `orderBase`: the creation order times `ORDER_STEP` (see `Entry.order`). */
function makeEntry(c: Cookie, orderBase: number, tick: number, expires: number | null, creation: number, lastAccess: number): Entry {
  const e = new Entry(intern(c.name), c.domain, intern(c.path), creation, lastAccess, tick);
  // Set after construction on purpose: V8 treats a field that no object has had rewritten as a
  // constant and optimises code on that assumption, so the first replacement in place (which
  // rewrites these three) would throw away the optimised code of the whole jar, mid-run.
  e.value = c.value;
  e.order = orderBase + flagsOf(c);
  e.expires = expires;
  return e;
}

/** §5.8.3 step 2: longer paths first, then earlier creation. */
function headerOrder(a: Entry, b: Entry): number {
  return b.path.length - a.path.length || a.order - b.order;
}

/** A stored time read back (base 0 stores times as they are, -0 included). */
function absolute(t: number, base: number): number {
  return base === 0 ? t : t + base;
}

/** The public copy of a stored cookie (no bookkeeping; absolute times; `sameSite` only when set). */
function snapshot(e: Entry, base: number): Cookie {
  const f = e.order & ATTRIBUTES;
  const c: Cookie = {
    name: e.name,
    value: e.value,
    domain: e.domain,
    path: e.path,
    hostOnly: (f & HOST_ONLY) !== 0,
    secure: (f & SECURE) !== 0,
    httpOnly: (f & HTTP_ONLY) !== 0,
    expires: e.expires === null ? null : absolute(e.expires, base),
    creation: absolute(e.creation, base),
    lastAccess: absolute(e.lastAccess, base),
  };
  const s = SAME_SITE[f >> SAME_SITE_SHIFT];
  if (s !== undefined) c.sameSite = s;
  return c;
}

/**
 * The cookies of one domain: a linked list (through `Entry.next`) for iteration and, once the
 * bucket is big enough for a scan to cost more than a hash, an index by name for replacement
 * (§5.7 step 19 matches name, host-only flag and path; the few cookies sharing a name are scanned).
 * `site` is the domain's registrable domain; `sitePrev`/`siteNext` chain the buckets of one site
 * (the jar's site index), so adding a domain to a site is two pointer writes, with no branch on
 * whether the site is new (a path first taken in a new jar would throw away optimised code).
 */
class Bucket {
  declare head: Entry | null;
  declare size: number;
  declare byName: Map<string, Entry[]> | undefined;
  declare sitePrev: Bucket | null;
  declare readonly site: string;
  declare siteNext: Bucket | null;
  // A class, not a literal, for the reason given at `Entry`. Fields assigned in the constructor
  // rather than initialised in their declarations: one function for the engine to compile, not two
  // (buckets are made once per new domain, so their code is often first compiled mid-run).
  constructor(site: string, siteNext: Bucket | null) {
    this.head = null;
    this.size = 0;
    this.byName = undefined;
    this.sitePrev = null;
    this.site = site;
    this.siteNext = siteNext;
  }
}

/** Buckets up to this size are searched by scanning the list; bigger ones get a `byName` index. */
const INDEX_BUCKET_AT = 16;

function indexAdd(byName: Map<string, Entry[]>, e: Entry): void {
  const same = byName.get(e.name);
  if (same === undefined) byName.set(e.name, [e]);
  else same.push(e);
}

/**
 * Evictions for the total limit take the least recently used cookie; finding it by scanning the
 * jar each time would make every insert into a full jar O(n). So one scan sorts out this many of
 * the least recently used as candidates (with their ticks at that moment), and evictions take them
 * in order while they last. See `#evictOne` for why that still finds the least recently used.
 */
const MIN_VICTIM_BATCH = 64;

const NONE: string[] = [];

/**
 * The result of a stored Set-Cookie. `detail` is written on first read: a crawler storing thousands
 * of cookies never reads it, a session trace always does. `toJSON` includes it.
 */
class StoredResult {
  readonly stored = true as const;
  readonly cookie: Cookie;
  readonly reason: 'stored' | 'replaced';
  declare sameSiteNote?: string;
  #now: number;
  #ignored: string[] | undefined;
  #evicted: string[];
  #detail: string | undefined;
  constructor(cookie: Cookie, reason: 'stored' | 'replaced', now: number, ignored: string[] | undefined, evicted: string[]) {
    this.cookie = cookie;
    this.reason = reason;
    this.#now = now;
    this.#ignored = ignored;
    this.#evicted = evicted;
  }
  get detail(): string {
    if (this.#detail === undefined) {
      let d = describeStored(this.cookie, this.#now, this.#ignored);
      if (this.#evicted.length > 0) d += `; evicted ${this.#evicted.join(', ')}`;
      this.#detail = d;
    }
    return this.#detail;
  }
  toJSON(): { stored: true; cookie: Cookie; reason: 'stored' | 'replaced'; detail: string; sameSiteNote?: string } {
    const o: { stored: true; cookie: Cookie; reason: 'stored' | 'replaced'; detail: string; sameSiteNote?: string } = {
      stored: true,
      cookie: this.cookie,
      reason: this.reason,
      detail: this.detail,
    };
    if (this.sameSiteNote !== undefined) o.sameSiteNote = this.sameSiteNote;
    return o;
  }
}

/**
 * One stored result (with a SameSite cookie and a note), one bucket and one entry kept for the life
 * of the process. A class instance's shape, and a cookie's shape once `sameSite` is added, are
 * transitions the engine keeps only while some object has them; results are usually dropped at
 * once (and entries and buckets go with the last jar), so a full GC in between would drop the
 * shapes and with them the compiled `setCookie` (deoptimised as "weak objects"), to be recompiled
 * on the next line. Holding one of each keeps them.
 */
const SHAPE_KEEPER: unknown[] = [];
function keepShapes(): void {
  const parsed = parseSetCookie('a=b; SameSite=None');
  if (!parsed.ok) return;
  const cookie = buildCookie(parsed, requestFacts('http://keeper.invalid/', 'setCookie'), 0);
  if (isRejection(cookie)) return;
  const stored = new StoredResult(cookie, 'stored', 0, undefined, NONE);
  stored.sameSiteNote = '';
  SHAPE_KEEPER.push(stored, new StoredResult(cookie, 'replaced', 0, undefined, NONE));
  // Entries and buckets are class instances too (see `Entry`): all of them go when the last jar does.
  const bucket = new Bucket('', null);
  bucket.head = makeEntry(cookie, 0, 0, null, 0, 0);
  bucket.sitePrev = bucket;
  bucket.byName = new Map();
  SHAPE_KEEPER.push(bucket);
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `CookieJar option ${name} must be a positive integer`);
  }
  return v;
}

/** One line for the trace. Cheap on purpose (plain concatenation, no date formatting): it runs per Set-Cookie. */
function describeStored(c: Cookie, now: number, ignored: string[] | undefined): string {
  let d = c.hostOnly ? 'host-only for ' + c.domain : 'Domain=' + c.domain;
  d += ', Path=' + c.path;
  d += c.expires === null ? ', session cookie' : ', expires in ' + Math.round((c.expires - now) / 1000) + 's';
  if (c.secure) d += ', Secure';
  if (c.httpOnly) d += ', HttpOnly';
  if (c.sameSite !== undefined) d += ', SameSite=' + c.sameSite;
  if (ignored !== undefined) for (let i = 0; i < ignored.length; i++) d += '; ' + ignored[i];
  return d;
}

keepShapes();

export class CookieJar implements CookieStore {
  readonly #now: () => number;
  readonly #maxPerDomain: number;
  readonly #maxTotal: number;
  /** cookie domain → its cookies. */
  readonly #byDomain = new Map<string, Bucket>();
  /** site (registrable domain) → the first of its buckets (the rest follow `siteNext`). */
  readonly #sites = new Map<string, Bucket>();
  #count = 0;
  /**
   * Candidates for total-limit eviction, least recently used first, each with the tick it had
   * when chosen (`#victimTicks`); read from `#victimHead`. Empty until the jar first overflows.
   */
  #victims: Entry[] = [];
  #victimTicks: number[] = [];
  #victimHead = 0;
  /** site + "\n" + name → the Secure cookies of that name, for §5.7 step 15 without scanning a site. */
  readonly #secureByName = new Map<string, Set<Entry>>();
  #seq = 0;
  #tick = 0;
  /** Entry times are stored as offsets from this (see `Entry.expires`); fixed by the first time stored. */
  #base = 0;
  #baseSet = false;

  /**
   * `t` as stored: its offset from the base. The base is the creation time of the first entry (when
   * an integer), so a jar driven by `Date.now` stores small integers. An offset that would not give
   * back exactly `t` (a fractional clock far from the base) moves every entry to base 0 first:
   * stored times always read back exactly as the clock gave them.
   */
  #rel(t: number): number {
    const base = this.#base;
    if (base === 0) return t;
    const d = t - base;
    if (d + base !== t && t === t /* not NaN */) {
      this.#rebase();
      return t;
    }
    // An integer-valued result of double arithmetic stays a heap number unless made an integer,
    // and one heap number stored in the field makes it a boxed double for every entry.
    const i = d | 0;
    return i === d ? i : d;
  }

  #rebase(): void {
    const base = this.#base;
    if (base === 0) return;
    for (const e of this.#entries()) {
      e.creation += base;
      e.lastAccess += base;
      if (e.expires !== null) e.expires += base;
    }
    this.#base = 0;
  }

  #makeEntry(c: Cookie, orderBase: number): Entry {
    // The first entry fixes the base (replacements and accesses need an entry, so none came
    // before). Written without a branch on purpose: a path taken once per jar has no type feedback
    // when the code is optimised, and taking it in the next new jar would throw that code away.
    const safe = Number.isSafeInteger(c.creation);
    const base = this.#baseSet ? this.#base : safe ? c.creation : 0;
    this.#base = base;
    this.#baseSet = true;
    let expires = c.expires === null ? null : this.#rel(c.expires);
    let creation = this.#rel(c.creation);
    let lastAccess = this.#rel(c.lastAccess);
    if (this.#base !== base) {
      // Rebased half-way: the base is 0 now and times are stored as they are.
      expires = c.expires;
      creation = c.creation;
      lastAccess = c.lastAccess;
    }
    return makeEntry(c, orderBase, ++this.#tick, expires, creation, lastAccess);
  }

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
    return this.#count;
  }

  /**
   * The request facts for a URL, remembering the last one: a response's Set-Cookie lines all come
   * with the same URL, and parsing it again per line is a third of the cost of storing a cookie.
   * A URL object is re-read if its href changed (URL objects are mutable).
   */
  // Kept apart by type so the comparison below always compares like with like (a string with a
  // string), which keeps the optimised code of this hot path from being thrown away in a new jar.
  #lastString = '';
  #lastObject: URL | undefined;
  #lastHref = '';
  #lastFacts: RequestFacts | undefined;

  #factsFor(url: string | URL): RequestFacts {
    if (typeof url === 'string') {
      if (url === this.#lastString && this.#lastFacts !== undefined) return this.#lastFacts;
      const f = requestFacts(url, 'setCookie');
      this.#lastString = url;
      this.#lastObject = undefined;
      this.#lastFacts = f;
      return f;
    }
    if (url === this.#lastObject && this.#lastFacts !== undefined && url.href === this.#lastHref) return this.#lastFacts;
    const f = requestFacts(url, 'setCookie');
    this.#lastString = '';
    this.#lastObject = url;
    this.#lastHref = url.href;
    this.#lastFacts = f;
    return f;
  }

  // ---- storing -----------------------------------------------------------------------------

  /**
   * Store one Set-Cookie line received from `url` (RFC 6265bis §5.6-5.7). Never throws on what the
   * server sent: a refused line comes back as `{ stored: false, reason, detail }`. Only a `url`
   * that is not a URL throws (`ERR_INVALID_URL`).
   */
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult {
    const req = this.#factsFor(url);
    if (req.host === '') return { stored: false, reason: 'invalid-domain', detail: `${req.scheme}//${req.host} has no host to set cookies for` };
    const parsed = parseSetCookie(setCookieLine);
    if (!parsed.ok) return { stored: false, reason: parsed.reason, detail: parsed.detail };
    const name = parsed.name;
    const now = this.#now();
    const cookie = buildCookie(parsed, req, now);
    if (isRejection(cookie)) return { stored: false, reason: cookie.reason, detail: cookie.detail, name };
    // The cookie's domain is the request host or (a Domain cookie) one of its parents, usually
    // already the shared string: found on the host's chain without a host-table lookup.
    let hostInfo: HostInfo | undefined = req.info;
    while (hostInfo !== undefined && hostInfo.host !== cookie.domain) hostInfo = hostInfo.parent;
    if (hostInfo === undefined) hostInfo = infoOf(cookie.domain);
    cookie.domain = hostInfo.host;

    // §5.7 step 15, "leave secure cookies alone": an insecure request may not overwrite or shadow a
    // Secure cookie of the same name whose domain and path overlap.
    if (!cookie.secure && !req.secure && this.#secureByName.size > 0) {
      const blocker = this.#findSecureBlocker(cookie, siteInfo(cookie.domain).site);
      if (blocker) {
        return {
          stored: false,
          reason: 'overwrite-secure',
          detail: `a Secure cookie of this name exists for ${(blocker.order & HOST_ONLY) !== 0 ? blocker.domain : `Domain=${blocker.domain}`} Path=${blocker.path}; ${req.scheme}//${req.host} is not secure`,
          name,
        };
      }
    }

    // §5.7 step 19: same name, domain, host-only flag and path replaces, keeping the creation time.
    let bucket = this.#byDomain.get(cookie.domain);
    const old = bucket === undefined ? undefined : this.#findIn(bucket, cookie);
    if (old) cookie.creation = absolute(old.creation, this.#base);

    // §5.7 step 21: an expiry in the past stores nothing; if it replaced a cookie, that is a deletion.
    if (isExpired(cookie, now)) {
      const when = cookie.expires === 0 ? 'Max-Age<=0' : `expiry ${new Date(cookie.expires!).toISOString()} is in the past`;
      if (old) this.#remove(old);
      return old
        ? { stored: false, reason: 'deleted', detail: `${when}: the stored cookie for ${cookie.domain} Path=${cookie.path} was deleted`, name }
        : { stored: false, reason: 'expired', detail: `${when}; there was no stored cookie to delete`, name };
    }

    let evicted: string[] = NONE;
    const flags = flagsOf(cookie);
    if (old && (old.order & SECURE) === (flags & SECURE)) {
      // Replacement in place: same bucket, key, site, creation time and order; the rest changes.
      // Counts as a use for eviction (the tick moves).
      old.value = cookie.value;
      old.order = old.order - (old.order & ATTRIBUTES) + flags;
      const base = this.#base;
      const expires = cookie.expires === null ? null : this.#rel(cookie.expires);
      const lastAccess = this.#rel(cookie.lastAccess);
      // A rebase half-way (see #rel) leaves base 0: times are then stored as they are.
      old.expires = this.#base === base ? expires : cookie.expires;
      old.lastAccess = this.#base === base ? lastAccess : cookie.lastAccess;
      old.tick = ++this.#tick;
    } else {
      let orderBase: number;
      if (old) {
        orderBase = old.order - (old.order & ATTRIBUTES);
        this.#remove(old);
        bucket = undefined; // the removal may have dropped it
      } else {
        orderBase = ++this.#seq * ORDER_STEP;
      }
      const entry = this.#makeEntry(cookie, orderBase);
      const size = this.#insert(entry, hostInfo, bucket);
      // The common case decided here, without looking the bucket up again.
      if (this.#count > this.#maxTotal || size > this.#maxPerDomain) evicted = this.#enforceLimits(entry, now);
    }
    // `cookie` was only copied into the jar, never stored itself, so it can be handed out as is.
    const result = new StoredResult(cookie, old ? 'replaced' : 'stored', now, parsed.ignored, evicted);
    if (cookie.sameSite === 'none' && !cookie.secure) result.sameSiteNote = sameSiteNote(cookie, undefined, undefined, undefined)!;
    return result;
  }

  #findSecureBlocker(c: Cookie, site: string): Entry | undefined {
    const group = this.#secureByName.get(`${site}\n${c.name}`);
    if (!group) return undefined;
    for (const o of group) {
      if (
        (domainMatch(o.domain, c.domain) || domainMatch(c.domain, o.domain)) &&
        pathMatch(c.path, o.path)
      ) {
        return o;
      }
    }
    return undefined;
  }

  /** The stored cookie with the same name, domain, host-only flag and path (§5.7 step 19), if any. */
  #find(c: Cookie): Entry | undefined {
    const bucket = this.#byDomain.get(c.domain);
    return bucket === undefined ? undefined : this.#findIn(bucket, c);
  }

  #findIn(bucket: Bucket, c: Cookie): Entry | undefined {
    const hostOnly = c.hostOnly ? HOST_ONLY : 0;
    if (bucket.byName === undefined) {
      for (let e = bucket.head; e !== null; e = e.next) {
        if (e.name === c.name && e.path === c.path && (e.order & HOST_ONLY) === hostOnly) return e;
      }
      return undefined;
    }
    const same = bucket.byName.get(c.name);
    if (same === undefined) return undefined;
    for (let i = 0; i < same.length; i++) {
      const e = same[i]!;
      if (e.path === c.path && (e.order & HOST_ONLY) === hostOnly) return e;
    }
    return undefined;
  }

  /** Returns the size of `e`'s bucket with `e` in it. */
  #insert(e: Entry, info: HostInfo, known?: Bucket): number {
    let bucket = known ?? this.#byDomain.get(e.domain);
    if (bucket === undefined) {
      const site = info.site ?? siteOfInfo(info);
      const next = this.#sites.get(site) ?? null;
      bucket = new Bucket(site, next);
      if (next !== null) next.sitePrev = bucket;
      this.#sites.set(site, bucket);
      this.#byDomain.set(e.domain, bucket);
    }
    e.next = bucket.head;
    bucket.head = e;
    bucket.size++;
    if (bucket.byName !== undefined) indexAdd(bucket.byName, e);
    else if (bucket.size > INDEX_BUCKET_AT) {
      const byName = new Map<string, Entry[]>();
      for (let x: Entry | null = bucket.head; x !== null; x = x.next) indexAdd(byName, x);
      bucket.byName = byName;
    }
    this.#count++;
    if ((e.order & SECURE) !== 0) {
      const k = `${bucket.site}\n${e.name}`;
      let secure = this.#secureByName.get(k);
      if (!secure) this.#secureByName.set(k, (secure = new Set()));
      secure.add(e);
    }
    return bucket.size;
  }

  /** Take `e` out of the jar; nothing happens if it is no longer there. */
  #remove(e: Entry): void {
    if (e.tick < 0) return;
    const bucket = this.#byDomain.get(e.domain);
    if (bucket === undefined) return;
    if (bucket.head === e) bucket.head = e.next;
    else {
      let p = bucket.head;
      while (p !== null && p.next !== e) p = p.next;
      if (p === null) return;
      p.next = e.next;
    }
    e.next = null;
    e.tick = -1; // removed: pending eviction candidates skip it
    bucket.size--;
    this.#count--;
    if (bucket.byName !== undefined) {
      const same = bucket.byName.get(e.name)!;
      if (same.length === 1) bucket.byName.delete(e.name);
      else same.splice(same.indexOf(e), 1);
    }
    if (bucket.size === 0) {
      this.#byDomain.delete(e.domain);
      const { sitePrev, siteNext } = bucket;
      if (siteNext !== null) siteNext.sitePrev = sitePrev;
      if (sitePrev !== null) sitePrev.siteNext = siteNext;
      else if (siteNext !== null) this.#sites.set(bucket.site, siteNext);
      else this.#sites.delete(bucket.site);
    }
    if ((e.order & SECURE) !== 0) {
      const k = `${bucket.site}\n${e.name}`;
      const secure = this.#secureByName.get(k);
      if (secure) {
        secure.delete(e);
        if (secure.size === 0) this.#secureByName.delete(k);
      }
    }
  }

  /** Per-domain then total limits: expired cookies go first, then the least recently used. */
  #enforceLimits(fresh: Entry, now: number): string[] {
    const bucket = this.#byDomain.get(fresh.domain);
    if (this.#count <= this.#maxTotal && (!bucket || bucket.size <= this.#maxPerDomain)) return NONE;
    const evicted: string[] = [];
    if (bucket && bucket.size > this.#maxPerDomain) {
      for (let e = bucket.head; e !== null; ) {
        const next = e.next;
        if (e !== fresh && e.expires !== null && e.expires + this.#base <= now) this.#remove(e);
        e = next;
      }
      while (bucket.size > this.#maxPerDomain) {
        let victim: Entry | undefined;
        for (let e = bucket.head; e !== null; e = e.next) if (e !== fresh && (victim === undefined || e.tick < victim.tick)) victim = e;
        if (!victim) break;
        this.#remove(victim);
        evicted.push(`the least recently used cookie of ${fresh.domain} (limit ${this.#maxPerDomain} per domain)`);
      }
    }
    while (this.#count > this.#maxTotal) {
      const victim = this.#evictOne(fresh);
      if (victim === undefined) break;
      this.#remove(victim);
      evicted.push(`the least recently used cookie in the jar, for ${victim.domain} (limit ${this.#maxTotal})`);
    }
    return evicted;
  }

  /**
   * The least recently used cookie other than `fresh`. Candidates were chosen by one scan, sorted
   * by tick, with the ticks they had then. A candidate whose tick has not moved since is older than
   * every cookie that is not a candidate (those had higher ticks at the scan, and ticks only grow),
   * and older than the candidates after it; candidates used (or removed) since are skipped. When
   * none is left, scan again.
   */
  #evictOne(fresh: Entry): Entry | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.#victimHead < this.#victims.length) {
        const i = this.#victimHead++;
        const e = this.#victims[i]!;
        if (e.tick === this.#victimTicks[i] && e !== fresh) return e;
      }
      const all: Entry[] = [];
      for (const e of this.#entries()) if (e !== fresh) all.push(e);
      all.sort((a, b) => a.tick - b.tick);
      const n = Math.min(all.length, Math.max(MIN_VICTIM_BATCH, this.#maxTotal >> 4));
      this.#victims = all.slice(0, n);
      this.#victimTicks = this.#victims.map((e) => e.tick);
      this.#victimHead = 0;
    }
    return undefined;
  }

  /** Every stored entry (expired ones not yet swept included), in no particular order. */
  *#entries(): Generator<Entry> {
    for (const bucket of this.#byDomain.values()) for (let e = bucket.head; e !== null; e = e.next) yield e;
  }

  #touch(e: Entry, now: number): void {
    e.lastAccess = this.#rel(now);
    e.tick = ++this.#tick;
  }

  // ---- retrieving --------------------------------------------------------------------------

  /**
   * The entries whose domain bucket is on the request host's suffix chain: the only ones that can
   * match (§5.8.3 step 1). Expired entries met on the way are swept. Sorted in header order.
   */
  #collect(info: HostInfo, path: string, secure: boolean, now: number): Entry[] {
    const out: Entry[] = [];
    // The host, then each parent domain: the only cookie domains that can match (§5.1.3).
    const base = this.#base;
    for (let h: HostInfo | undefined = info; h !== undefined; h = h.parent) {
      const bucket = this.#byDomain.get(h.host);
      if (bucket === undefined) continue;
      // The bucket settles the domain rules (§5.8.3 step 1.1) without comparing strings: in the
      // host's own bucket every cookie matches (host-only: identical host; domain: the host itself);
      // in a parent domain's bucket only domain cookies do (the host is a subdomain, not an IP).
      // So the flags that rule a cookie out: host-only outside the host's own bucket, Secure on an
      // insecure request.
      const reject = (h === info ? 0 : HOST_ONLY) | (secure ? 0 : SECURE);
      for (let e = bucket.head; e !== null; ) {
        const next = e.next;
        if (e.expires !== null && e.expires + base <= now) this.#remove(e);
        else if ((e.order & reject) === 0 && pathMatch(path, e.path)) out.push(e);
        e = next;
      }
    }
    // Insertion sort: the list is short (what one request sends), and an inlined comparison beats
    // Array.prototype.sort calling back into JS for every pair.
    for (let i = 1; i < out.length; i++) {
      const e = out[i]!;
      let k = i - 1;
      while (k >= 0 && headerOrder(out[k]!, e) > 0) {
        out[k + 1] = out[k]!;
        k--;
      }
      out[k + 1] = e;
    }
    return out;
  }

  /** The Cookie header value for a request to `url` (§5.8.3), '' when no cookie goes. Updates last-access. */
  getCookieString(url: string | URL): string {
    const req = requestFacts(url, 'getCookieString');
    const now = this.#now();
    const sent = this.#collect(req.info, req.path, req.secure, now);
    const stamp = sent.length > 0 ? this.#rel(now) : 0;
    let header = '';
    for (let i = 0; i < sent.length; i++) {
      const e = sent[i]!;
      e.lastAccess = stamp;
      e.tick = ++this.#tick;
      if (i > 0) header += '; ';
      header += e.name === '' ? e.value : e.name + '=' + e.value;
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
  evaluate(url: URL, context: CookieContext = {}): { header: string; verdicts: CookieVerdict[]; omitted?: number } {
    const u = toUrl(url, 'evaluate');
    const now = this.#now();
    const req = factsFromUrl(u);
    // Every cookie whose domain is on the host's suffix chain: all that could match, sent or not.
    const candidates = new Set<Entry>();
    for (let h: HostInfo | undefined = req.info; h !== undefined; h = h.parent) {
      const bucket = this.#byDomain.get(h.host);
      if (bucket) for (let e = bucket.head; e !== null; e = e.next) candidates.add(e);
    }
    // Plus the rest of the site (siblings such as a host-only cookie of api.example.com seen from
    // www.example.com), the most recently used first, bounded so a trace stays readable.
    let siblings: Entry[] = [];
    for (let bucket = this.#sites.get(siteInfo(req.host).site) ?? null; bucket !== null; bucket = bucket.siteNext) {
      for (let e = bucket.head; e !== null; e = e.next) if (!candidates.has(e)) siblings.push(e);
    }
    let omitted = 0;
    if (siblings.length > MAX_SIBLING_VERDICTS) {
      siblings.sort((a, b) => b.tick - a.tick);
      omitted = siblings.length - MAX_SIBLING_VERDICTS;
      siblings = siblings.slice(0, MAX_SIBLING_VERDICTS);
    }
    for (const e of siblings) candidates.add(e);
    const { sent, withheld } = this.#verdicts(candidates, u, req, now, context);
    for (const v of sent) {
      this.#touch(v.entry, now);
      v.verdict.cookie.lastAccess = now;
    }
    for (const v of withheld) if (v.verdict.reason === 'expired') this.#remove(v.entry);
    let header = '';
    for (let i = 0; i < sent.length; i++) header += (i === 0 ? '' : '; ') + serialize(sent[i]!.verdict.cookie);
    const result: { header: string; verdicts: CookieVerdict[]; omitted?: number } = {
      header,
      verdicts: [...sent, ...withheld].map((v) => v.verdict),
    };
    if (omitted > 0) result.omitted = omitted;
    return result;
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
      const cookie = snapshot(e, this.#base);
      const { reason, detail } = judge(cookie, req, now);
      const verdict: CookieVerdict = { cookie, sent: reason === 'match', reason, detail };
      const note = sameSiteNote(cookie, targetSite, initiatorSite, context.method?.toUpperCase());
      if (note !== undefined) verdict.sameSiteNote = note;
      (reason === 'match' ? sent : withheld).push({ entry: e, verdict });
    }
    sent.sort((a, b) => headerOrder(a.entry, b.entry));
    withheld.sort((a, b) => a.entry.order - b.entry.order);
    return { sent, withheld };
  }

  /**
   * Every cookie in the jar with its verdict for `url`: the ones that would be sent first (in header
   * order), then the rest in creation order. A diagnostic: it changes nothing (no last-access update,
   * no sweeping of expired cookies).
   */
  explain(url: string | URL, context: CookieContext = {}): CookieVerdict[] {
    const u = toUrl(url, 'explain');
    const { sent, withheld } = this.#verdicts(this.#entries(), u, factsFromUrl(u), this.#now(), context);
    return [...sent, ...withheld].map((v) => v.verdict);
  }

  // ---- tooling and persistence -------------------------------------------------------------

  /** A snapshot of the cookies that have not expired, in creation order (copies; changing them changes nothing). */
  cookies(): Cookie[] {
    const now = this.#now();
    const list: Entry[] = [];
    const base = this.#base;
    for (const e of this.#entries()) if (e.expires === null || e.expires + base > now) list.push(e);
    list.sort((a, b) => a.order - b.order);
    return list.map((e) => snapshot(e, base));
  }

  /** Remove every cookie. */
  clear(): void {
    this.#secureByName.clear();
    this.#byDomain.clear();
    this.#sites.clear();
    this.#victims = [];
    this.#victimTicks = [];
    this.#victimHead = 0;
    this.#count = 0;
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
      c.domain = internHost(c.domain);
      const old = this.#find(c);
      if (old) this.#remove(old);
      const entry = this.#makeEntry(c, ++this.#seq * ORDER_STEP);
      this.#insert(entry, infoOf(c.domain));
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
