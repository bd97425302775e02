/**
 * The cookie jar: RFC 6265bis storage (§5.7) and retrieval (§5.8.3) for a non-browser client,
 * indexed for speed, and able to say why every cookie was stored, refused, sent or withheld.
 *
 * Layout. Cookies live in buckets keyed by their domain (the host for a host-only cookie, the
 * Domain attribute otherwise). A request for `a.b.example.com` looks up the buckets for
 * `a.b.example.com`, `b.example.com`, `example.com` and `com`: a handful of Map lookups whatever
 * the size of the jar. Cookies are also grouped by registrable domain ("site"), which is the unit
 * for the withheld cookies a trace shows and for the "leave secure cookies alone" check. A stored
 * cookie is a slot in the jar's columns (see "the cookies, column-wise" in `CookieJar`), not an
 * object; the public `Cookie` is built when asked for.
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


/** The low bits of a cookie's order: the attributes packed into one number. */
const HOST_ONLY = 1;
const SECURE = 2;
const HTTP_ONLY = 4;
/** SameSite in bits 3-4: 0 = absent, then strict, lax, none (the order of `SAME_SITE`). */
const SAME_SITE_SHIFT = 3;
const SAME_SITE: readonly (SameSite | undefined)[] = [undefined, 'strict', 'lax', 'none'];
/** Set when the cookie has an expiry (the expiry column is meaningless otherwise). */
const HAS_EXPIRY = 32;
/** The attribute bits of an order; creation order counts in steps of `ORDER_STEP` above them. */
const ATTRIBUTES = 63;
const ORDER_STEP = 64;

function flagsOf(c: Cookie): number {
  let f = c.hostOnly ? HOST_ONLY : 0;
  if (c.secure) f |= SECURE;
  if (c.httpOnly) f |= HTTP_ONLY;
  if (c.expires !== null) f |= HAS_EXPIRY;
  const s = c.sameSite;
  if (s !== undefined) f |= (s === 'strict' ? 1 : s === 'lax' ? 2 : 3) << SAME_SITE_SHIFT;
  return f;
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
 * The cookies of one domain: a linked list of slots (through their `I_NEXT` integers) for
 * iteration and, once the bucket is big enough for a scan to cost more than a hash, an index by
 * name for replacement (§5.7 step 19 matches name, host-only flag and path; the few cookies sharing
 * a name are scanned). `site` is the domain's registrable domain; `sitePrev`/`siteNext` chain the
 * buckets of one site (the jar's site index). A class, not a literal: V8 may pretenure a literal's
 * objects (allocation-site pretenuring), and a full GC that resets such decisions throws away the
 * code that depended on them.
 */
class Bucket {
  declare readonly domain: string;
  declare readonly id: number;
  declare head: number;
  declare size: number;
  declare byName: Map<string, number[]> | undefined;
  declare sitePrev: Bucket | null;
  declare readonly site: string;
  declare siteNext: Bucket | null;
  constructor(domain: string, id: number, site: string, siteNext: Bucket | null) {
    this.domain = domain;
    this.id = id;
    this.head = -1;
    this.size = 0;
    this.byName = undefined;
    this.sitePrev = null;
    this.site = site;
    this.siteNext = siteNext;
  }
}

/** Buckets up to this size are searched by scanning the list; bigger ones get a `byName` index. */
const INDEX_BUCKET_AT = 16;

function indexAdd(byName: Map<string, number[]>, name: string, e: number): void {
  const same = byName.get(name);
  if (same === undefined) byName.set(name, [e]);
  else same.push(e);
}

/**
 * Evictions for the total limit take the least recently used cookie; finding it by scanning the
 * jar each time would make every insert into a full jar O(n). So one scan sorts out this many of
 * the least recently used as candidates (with their ticks at that moment), and evictions take them
 * in order while they last. See `#evictOne` for why that still finds the least recently used.
 */
const MIN_VICTIM_BATCH = 64;

/** Slots the columns start with; they grow fourfold below `GROW_FAST_BELOW` slots, then double. */
const FIRST_CAPACITY = 64;
const GROW_FAST_BELOW = 4096;

/**
 * The numbers of a slot in `CookieJar.#num`, at `slot * STRIDE + F_...`:
 * - order: creation order times `ORDER_STEP`, plus the attribute bits. Creation order breaks ties
 *   between equal path lengths in the header (§5.8.3 step 2) and is kept on replacement; comparing
 *   orders compares creation order, as the bits are below the step.
 * - expires: meaningful only with the `HAS_EXPIRY` bit.
 * - creation, last access: ms since the epoch, as the clock gave them (doubles: exact).
 * - tick: access order, for least-recently-used eviction; -1 once removed from the jar.
 * (The links between slots and the string ids are in `CookieJar.#ints`, see `I_NEXT`.)
 */
const STRIDE = 5;

/**
 * The integers of a slot in `CookieJar.#ints`, at `slot * ISTRIDE + I_...`: the next slot of the
 * same bucket (or of the free list, -1 for none); the name's and the path's ids in the jar's string
 * table; the bucket's id (whose `domain` is the cookie's domain).
 */
const ISTRIDE = 4;
const I_NEXT = 0;
const I_NAME = 1;
const I_PATH = 2;
const I_BUCKET = 3;
const F_ORDER = 0;
const F_EXPIRES = 1;
const F_CREATION = 2;
const F_LAST_ACCESS = 3;
const F_TICK = 4;

const NONE: string[] = [];

/**
 * An empty array whose elements are already of the "any value" kind: an array made by `[]` starts
 * out as small integers, and the first string pushed into each new jar's column would change its
 * kind and throw away the optimised code that stores cookies.
 */
function stringColumn(): string[] {
  const a = [''];
  a.pop();
  return a;
}

/**
 * `s` as a string of its own. V8 makes a slice of 13 characters or more a view into the string it
 * was cut from (for a parsed cookie, the whole Set-Cookie line), so storing the slice would keep the
 * line alive for as long as the cookie; a join writes the characters into a new flat string.
 */
function own(s: string): string {
  return s.length < 13 ? s : [s.slice(0, 1), s.slice(1)].join('');
}

/** A free bucket id's place in `CookieJar.#buckets`. */
const NO_BUCKET = new Bucket('', -1, '', null);

/** An empty array of buckets, of the object elements kind from the start (see `stringColumn`). */
function bucketColumn(): Bucket[] {
  const a = [NO_BUCKET];
  a.pop();
  return a;
}

/** The per-jar string table is compacted when it grows past this (and twice its size after the last compaction). */
const MIN_STRING_TABLE = 1024;


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
 * One stored result (with a SameSite cookie and a note) and one bucket kept for the life of the
 * process. A class instance's shape, and a cookie's shape once `sameSite` is added, are transitions
 * the engine keeps only while some object has them; results are usually dropped at once, so a full
 * GC in between would drop the shapes and with them the compiled `setCookie` (deoptimised as "weak
 * objects"), to be recompiled on the next line. Holding one of each keeps them.
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
  const bucket = new Bucket('', -1, '', null);
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
  #victims: number[] = [];
  #victimTicks: number[] = [];
  #victimHead = 0;
  /** site + "\n" + name → the slots of the Secure cookies of that name, for §5.7 step 15 without scanning a site. */
  readonly #secureByName = new Map<string, Set<number>>();
  #seq = 0;
  #tick = 0;

  // ---- the cookies, column-wise ------------------------------------------------------------
  //
  // A stored cookie is a slot: an index into these columns, not an object. A jar of 10,000 cookies
  // would otherwise be 10,000 objects that the garbage collector copies (twice, through the young
  // generation) and marks; here it is a few arrays, the numbers in typed arrays (exact doubles, no
  // per-cookie heap numbers), names and paths as ids into a per-jar string table, the domain
  // through the bucket; only the values are an array of strings. Freed slots are chained through
  // their `I_NEXT` integers from `#free` and reused. The public `Cookie` is built only when asked.

  #cap = 0;
  /** Slots handed out so far (freed ones included). */
  #used = 0;
  /** First free slot, -1 for none. */
  #free = -1;
  #values: string[] = stringColumn();
  /**
   * Names and paths by id (see `#sid`): a jar has few distinct ones, and ids live in `#ints`, off the
   * collected heap. Strings no slot uses any more stay until the table is compacted.
   */
  #strs: string[] = stringColumn();
  #strIds = new Map<string, number>();
  #strLimit = MIN_STRING_TABLE;
  /** Buckets by id (a slot's domain is its bucket's), `NO_BUCKET` at free ids. */
  #buckets: Bucket[] = bucketColumn();
  #freeBucketIds: number[] = [];
  /**
   * The numbers of every slot, `STRIDE` to a slot (one typed array, so growing the jar allocates one
   * buffer, and a cookie's numbers sit together): see `F_ORDER` and the rest.
   */
  #num = new Float64Array(0);
  /** The integers of every slot, `ISTRIDE` to a slot: see `I_NEXT` and the rest. */
  #ints = new Int32Array(0);

  #grow(): void {
    // Four times while the jar is small (fewer buffers for a jar that fills at once), then twice.
    const cap = this.#cap === 0 ? FIRST_CAPACITY : this.#cap < GROW_FAST_BELOW ? this.#cap * 4 : this.#cap * 2;
    const num = new Float64Array(cap * STRIDE);
    num.set(this.#num);
    this.#num = num;
    const ints = new Int32Array(cap * ISTRIDE);
    ints.set(this.#ints);
    this.#ints = ints;
    this.#cap = cap;
  }

  /** A new slot holding `c` (not yet in a bucket). `orderBase`: the creation order times `ORDER_STEP`. */
  #store(c: Cookie, orderBase: number, nameId: number, pathId: number): number {
    let i = this.#free;
    if (i >= 0) {
      this.#free = this.#ints[i * ISTRIDE + I_NEXT]!;
      this.#values[i] = own(c.value);
    } else {
      i = this.#used++;
      if (i === this.#cap) this.#grow();
      this.#values.push(own(c.value));
    }
    this.#ints[i * ISTRIDE + I_NAME] = nameId >= 0 ? nameId : this.#sid(c.name);
    this.#ints[i * ISTRIDE + I_PATH] = pathId >= 0 ? pathId : this.#sid(c.path);
    this.#num[i * STRIDE + F_ORDER] = orderBase + flagsOf(c);
    this.#num[i * STRIDE + F_EXPIRES] = c.expires === null ? 0 : c.expires;
    this.#num[i * STRIDE + F_CREATION] = c.creation;
    this.#num[i * STRIDE + F_LAST_ACCESS] = c.lastAccess;
    this.#num[i * STRIDE + F_TICK] = ++this.#tick;
    this.#ints[i * ISTRIDE + I_NEXT] = -1;
    return i;
  }

  /** The id of `s` in the string table, added (shared through `intern`) if new. */
  #sid(s: string): number {
    const known = this.#strIds.get(s);
    if (known !== undefined) return known;
    const id = this.#strs.length;
    const shared = intern(own(s));
    this.#strs.push(shared);
    this.#strIds.set(shared, id);
    return id;
  }

  /** The string table rebuilt from the names and paths of the slots in the jar (ids renumbered). */
  #compactStrings(): void {
    const old = this.#strs;
    const strs = stringColumn();
    const ids = new Map<string, number>();
    const ints = this.#ints;
    for (const e of this.#entries()) {
      for (let k = I_NAME; k <= I_PATH; k++) {
        const s = old[ints[e * ISTRIDE + k]!]!;
        let id = ids.get(s);
        if (id === undefined) {
          id = strs.length;
          strs.push(s);
          ids.set(s, id);
        }
        ints[e * ISTRIDE + k] = id;
      }
    }
    this.#strs = strs;
    this.#strIds = ids;
    this.#strLimit = Math.max(MIN_STRING_TABLE, strs.length * 2);
  }

  #nameOf(e: number): string {
    return this.#strs[this.#ints[e * ISTRIDE + I_NAME]!]!;
  }

  #pathOf(e: number): string {
    return this.#strs[this.#ints[e * ISTRIDE + I_PATH]!]!;
  }

  #domainOf(e: number): string {
    return this.#buckets[this.#ints[e * ISTRIDE + I_BUCKET]!]!.domain;
  }

  /** Slot `e` has expired by `now`. */
  #expired(e: number, now: number): boolean {
    return (this.#num[e * STRIDE + F_ORDER]! & HAS_EXPIRY) !== 0 && this.#num[e * STRIDE + F_EXPIRES]! <= now;
  }

  /** §5.8.3 step 2: longer paths first, then earlier creation. */
  #headerOrder(a: number, b: number): number {
    return this.#pathOf(b).length - this.#pathOf(a).length || this.#num[a * STRIDE + F_ORDER]! - this.#num[b * STRIDE + F_ORDER]!;
  }

  /** The public copy of a stored cookie (no bookkeeping; `sameSite` only when set). */
  #snapshot(e: number): Cookie {
    const f = this.#num[e * STRIDE + F_ORDER]! & ATTRIBUTES;
    const c: Cookie = {
      name: this.#nameOf(e),
      value: this.#values[e]!,
      domain: this.#domainOf(e),
      path: this.#pathOf(e),
      hostOnly: (f & HOST_ONLY) !== 0,
      secure: (f & SECURE) !== 0,
      httpOnly: (f & HTTP_ONLY) !== 0,
      expires: (f & HAS_EXPIRY) !== 0 ? this.#num[e * STRIDE + F_EXPIRES]! : null,
      creation: this.#num[e * STRIDE + F_CREATION]!,
      lastAccess: this.#num[e * STRIDE + F_LAST_ACCESS]!,
    };
    const s = SAME_SITE[(f >> SAME_SITE_SHIFT) & 3];
    if (s !== undefined) c.sameSite = s;
    return c;
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
      if (blocker >= 0) {
        const bd = this.#domainOf(blocker);
        return {
          stored: false,
          reason: 'overwrite-secure',
          detail: `a Secure cookie of this name exists for ${(this.#num[blocker * STRIDE + F_ORDER]! & HOST_ONLY) !== 0 ? bd : `Domain=${bd}`} Path=${this.#pathOf(blocker)}; ${req.scheme}//${req.host} is not secure`,
          name,
        };
      }
    }

    // §5.7 step 19: same name, domain, host-only flag and path replaces, keeping the creation time.
    let bucket = this.#byDomain.get(cookie.domain);
    // Ids of the name and path in the string table, looked up (or added) once for both the search
    // and the store. Added unconditionally, not only when storing: a branch first taken in each new
    // jar would throw away the optimised code. Strings added for lines that store nothing go at the
    // next compaction, which is checked first so that it never renumbers ids in use.
    if (this.#strs.length > this.#strLimit) this.#compactStrings();
    const nameId = this.#sid(cookie.name);
    const pathId = this.#sid(cookie.path);
    const old = bucket === undefined ? -1 : this.#findIn(bucket, cookie, nameId, pathId);
    if (old >= 0) cookie.creation = this.#num[old * STRIDE + F_CREATION]!;

    // §5.7 step 21: an expiry in the past stores nothing; if it replaced a cookie, that is a deletion.
    if (isExpired(cookie, now)) {
      const when = cookie.expires === 0 ? 'Max-Age<=0' : `expiry ${new Date(cookie.expires!).toISOString()} is in the past`;
      if (old >= 0) this.#remove(old);
      return old >= 0
        ? { stored: false, reason: 'deleted', detail: `${when}: the stored cookie for ${cookie.domain} Path=${cookie.path} was deleted`, name }
        : { stored: false, reason: 'expired', detail: `${when}; there was no stored cookie to delete`, name };
    }

    let evicted: string[] = NONE;
    const flags = flagsOf(cookie);
    if (old >= 0 && (this.#num[old * STRIDE + F_ORDER]! & SECURE) === (flags & SECURE)) {
      // Replacement in place: same bucket, key, site, creation time and order; the rest changes.
      // Counts as a use for eviction (the tick moves).
      const order = this.#num[old * STRIDE + F_ORDER]!;
      this.#values[old] = own(cookie.value);
      this.#num[old * STRIDE + F_ORDER] = order - (order & ATTRIBUTES) + flags;
      this.#num[old * STRIDE + F_EXPIRES] = cookie.expires === null ? 0 : cookie.expires;
      this.#num[old * STRIDE + F_LAST_ACCESS] = cookie.lastAccess;
      this.#num[old * STRIDE + F_TICK] = ++this.#tick;
    } else {
      let orderBase: number;
      if (old >= 0) {
        const order = this.#num[old * STRIDE + F_ORDER]!;
        orderBase = order - (order & ATTRIBUTES);
        this.#remove(old);
        bucket = undefined; // the removal may have dropped it
      } else {
        orderBase = ++this.#seq * ORDER_STEP;
      }
      const entry = this.#store(cookie, orderBase, nameId, pathId);
      const size = this.#insert(entry, cookie.domain, hostInfo, bucket);
      // The common case decided here, without looking the bucket up again.
      if (this.#count > this.#maxTotal || size > this.#maxPerDomain) evicted = this.#enforceLimits(entry, now);
    }
    // `cookie` was only copied into the jar, never stored itself, so it can be handed out as is.
    const result = new StoredResult(cookie, old >= 0 ? 'replaced' : 'stored', now, parsed.ignored, evicted);
    if (cookie.sameSite === 'none' && !cookie.secure) result.sameSiteNote = sameSiteNote(cookie, undefined, undefined, undefined)!;
    return result;
  }

  #findSecureBlocker(c: Cookie, site: string): number {
    const group = this.#secureByName.get(`${site}\n${c.name}`);
    if (!group) return -1;
    for (const o of group) {
      const od = this.#domainOf(o);
      if ((domainMatch(od, c.domain) || domainMatch(c.domain, od)) && pathMatch(c.path, this.#pathOf(o))) return o;
    }
    return -1;
  }

  /** The stored cookie with the same name, domain, host-only flag and path (§5.7 step 19), or -1. */
  #find(c: Cookie): number {
    const bucket = this.#byDomain.get(c.domain);
    return bucket === undefined ? -1 : this.#findIn(bucket, c, this.#strIds.get(c.name) ?? -1, this.#strIds.get(c.path) ?? -1);
  }

  /** `nameId`, `pathId`: the ids of `c.name` and `c.path` in the string table, -1 when not there. */
  #findIn(bucket: Bucket, c: Cookie, nameId: number, pathId: number): number {
    // Stored names and paths are all in the string table: one not there matches nothing, and the
    // scan compares ids, not strings.
    if (nameId < 0 || pathId < 0) return -1;
    const hostOnly = c.hostOnly ? HOST_ONLY : 0;
    const num = this.#num;
    const ints = this.#ints;
    if (bucket.byName === undefined) {
      for (let e = bucket.head; e !== -1; e = ints[e * ISTRIDE + I_NEXT]!) {
        if (ints[e * ISTRIDE + I_NAME] === nameId && ints[e * ISTRIDE + I_PATH] === pathId && (num[e * STRIDE + F_ORDER]! & HOST_ONLY) === hostOnly) return e;
      }
      return -1;
    }
    const same = bucket.byName.get(c.name);
    if (same === undefined) return -1;
    for (let i = 0; i < same.length; i++) {
      const e = same[i]!;
      if (ints[e * ISTRIDE + I_PATH] === pathId && (num[e * STRIDE + F_ORDER]! & HOST_ONLY) === hostOnly) return e;
    }
    return -1;
  }


  /** Returns the size of `e`'s bucket with `e` in it. */
  #insert(e: number, domain: string, info: HostInfo, known?: Bucket): number {
    let bucket = known ?? this.#byDomain.get(domain);
    if (bucket === undefined) {
      const site = info.site ?? siteOfInfo(info);
      const next = this.#sites.get(site) ?? null;
      const free = this.#freeBucketIds;
      const id = free.length > 0 ? free.pop()! : this.#buckets.length;
      bucket = new Bucket(domain, id, site, next);
      if (id === this.#buckets.length) this.#buckets.push(bucket);
      else this.#buckets[id] = bucket;
      if (next !== null) next.sitePrev = bucket;
      this.#sites.set(site, bucket);
      this.#byDomain.set(domain, bucket);
    }
    const num = this.#num;
    const ints = this.#ints;
    ints[e * ISTRIDE + I_BUCKET] = bucket.id;
    ints[e * ISTRIDE + I_NEXT] = bucket.head;
    bucket.head = e;
    bucket.size++;
    if (bucket.byName !== undefined) indexAdd(bucket.byName, this.#nameOf(e), e);
    else if (bucket.size > INDEX_BUCKET_AT) {
      const byName = new Map<string, number[]>();
      for (let x = bucket.head; x !== -1; x = ints[x * ISTRIDE + I_NEXT]!) indexAdd(byName, this.#nameOf(x), x);
      bucket.byName = byName;
    }
    this.#count++;
    if ((this.#num[e * STRIDE + F_ORDER]! & SECURE) !== 0) {
      const k = `${bucket.site}\n${this.#nameOf(e)}`;
      let secure = this.#secureByName.get(k);
      if (!secure) this.#secureByName.set(k, (secure = new Set()));
      secure.add(e);
    }
    if (this.#strs.length > this.#strLimit) this.#compactStrings();
    return bucket.size;
  }

  /** Take `e` out of the jar and free its slot; nothing happens if it is no longer there. */
  #remove(e: number): void {
    if (this.#num[e * STRIDE + F_TICK]! < 0) return;
    const ints = this.#ints;
    const bucket = this.#buckets[ints[e * ISTRIDE + I_BUCKET]!];
    if (bucket === undefined || bucket === NO_BUCKET) return;
    const domain = bucket.domain;
    if (bucket.head === e) bucket.head = ints[e * ISTRIDE + I_NEXT]!;
    else {
      let p = bucket.head;
      while (p !== -1 && ints[p * ISTRIDE + I_NEXT] !== e) p = ints[p * ISTRIDE + I_NEXT]!;
      if (p === -1) return;
      ints[p * ISTRIDE + I_NEXT] = ints[e * ISTRIDE + I_NEXT]!;
    }
    this.#num[e * STRIDE + F_TICK] = -1; // removed: pending eviction candidates skip it
    bucket.size--;
    this.#count--;
    const name = this.#nameOf(e);
    if (bucket.byName !== undefined) {
      const same = bucket.byName.get(name)!;
      if (same.length === 1) bucket.byName.delete(name);
      else same.splice(same.indexOf(e), 1);
    }
    if (bucket.size === 0) {
      this.#byDomain.delete(domain);
      this.#buckets[bucket.id] = NO_BUCKET;
      this.#freeBucketIds.push(bucket.id);
      const { sitePrev, siteNext } = bucket;
      if (siteNext !== null) siteNext.sitePrev = sitePrev;
      if (sitePrev !== null) sitePrev.siteNext = siteNext;
      else if (siteNext !== null) this.#sites.set(bucket.site, siteNext);
      else this.#sites.delete(bucket.site);
    }
    if ((this.#num[e * STRIDE + F_ORDER]! & SECURE) !== 0) {
      const k = `${bucket.site}\n${name}`;
      const secure = this.#secureByName.get(k);
      if (secure) {
        secure.delete(e);
        if (secure.size === 0) this.#secureByName.delete(k);
      }
    }
    // Free the slot (and its value).
    this.#values[e] = '';
    ints[e * ISTRIDE + I_NEXT] = this.#free;
    this.#free = e;
  }

  /** Per-domain then total limits: expired cookies go first, then the least recently used. */
  #enforceLimits(fresh: number, now: number): string[] {
    const domain = this.#domainOf(fresh);
    const bucket = this.#byDomain.get(domain);
    if (this.#count <= this.#maxTotal && (!bucket || bucket.size <= this.#maxPerDomain)) return NONE;
    const evicted: string[] = [];
    const num = this.#num;
    const ints = this.#ints;
    if (bucket && bucket.size > this.#maxPerDomain) {
      for (let e = bucket.head; e !== -1; ) {
        const n = ints[e * ISTRIDE + I_NEXT]!;
        if (e !== fresh && this.#expired(e, now)) this.#remove(e);
        e = n;
      }
      while (bucket.size > this.#maxPerDomain) {
        let victim = -1;
        for (let e = bucket.head; e !== -1; e = ints[e * ISTRIDE + I_NEXT]!) if (e !== fresh && (victim === -1 || num[e * STRIDE + F_TICK]! < num[victim * STRIDE + F_TICK]!)) victim = e;
        if (victim === -1) break;
        this.#remove(victim);
        evicted.push(`the least recently used cookie of ${domain} (limit ${this.#maxPerDomain} per domain)`);
      }
    }
    while (this.#count > this.#maxTotal) {
      const victim = this.#evictOne(fresh);
      if (victim === -1) break;
      const vd = this.#domainOf(victim);
      this.#remove(victim);
      evicted.push(`the least recently used cookie in the jar, for ${vd} (limit ${this.#maxTotal})`);
    }
    return evicted;
  }

  /**
   * The least recently used cookie other than `fresh`, or -1. Candidates were chosen by one scan,
   * sorted by tick, with the ticks they had then. A candidate whose tick has not moved since is
   * older than every cookie that is not a candidate (those had higher ticks at the scan, and ticks
   * only grow), and older than the candidates after it; candidates used (or removed, and so freed:
   * a reused slot gets a new, higher tick) since are skipped. When none is left, scan again.
   */
  #evictOne(fresh: number): number {
    const num = this.#num;
    for (let pass = 0; pass < 2; pass++) {
      while (this.#victimHead < this.#victims.length) {
        const i = this.#victimHead++;
        const e = this.#victims[i]!;
        if (num[e * STRIDE + F_TICK] === this.#victimTicks[i] && e !== fresh) return e;
      }
      const all: number[] = [];
      for (const e of this.#entries()) if (e !== fresh) all.push(e);
      all.sort((a, b) => num[a * STRIDE + F_TICK]! - num[b * STRIDE + F_TICK]!);
      const n = Math.min(all.length, Math.max(MIN_VICTIM_BATCH, this.#maxTotal >> 4));
      this.#victims = all.slice(0, n);
      this.#victimTicks = this.#victims.map((e) => num[e * STRIDE + F_TICK]!);
      this.#victimHead = 0;
    }
    return -1;
  }

  /** Every stored slot (expired ones not yet swept included), in no particular order. */
  *#entries(): Generator<number> {
    const num = this.#num;
    const ints = this.#ints;
    for (const bucket of this.#byDomain.values()) for (let e = bucket.head; e !== -1; e = ints[e * ISTRIDE + I_NEXT]!) yield e;
  }

  #touch(e: number, now: number): void {
    this.#num[e * STRIDE + F_LAST_ACCESS] = now;
    this.#num[e * STRIDE + F_TICK] = ++this.#tick;
  }

  // ---- retrieving --------------------------------------------------------------------------

  /**
   * The slots whose domain bucket is on the request host's suffix chain: the only ones that can
   * match (§5.8.3 step 1). Expired entries met on the way are swept. Sorted in header order.
   */
  #collect(info: HostInfo, path: string, secure: boolean, now: number): number[] {
    const out: number[] = [];
    const num = this.#num;
    const ints = this.#ints;
    // The host, then each parent domain: the only cookie domains that can match (§5.1.3).
    for (let h: HostInfo | undefined = info; h !== undefined; h = h.parent) {
      const bucket = this.#byDomain.get(h.host);
      if (bucket === undefined) continue;
      // The bucket settles the domain rules (§5.8.3 step 1.1) without comparing strings: in the
      // host's own bucket every cookie matches (host-only: identical host; domain: the host itself);
      // in a parent domain's bucket only domain cookies do (the host is a subdomain, not an IP).
      // So the flags that rule a cookie out: host-only outside the host's own bucket, Secure on an
      // insecure request.
      const reject = (h === info ? 0 : HOST_ONLY) | (secure ? 0 : SECURE);
      for (let e = bucket.head; e !== -1; ) {
        const n = ints[e * ISTRIDE + I_NEXT]!;
        const o = num[e * STRIDE + F_ORDER]!;
        if ((o & HAS_EXPIRY) !== 0 && this.#num[e * STRIDE + F_EXPIRES]! <= now) this.#remove(e);
        else if ((o & reject) === 0 && pathMatch(path, this.#pathOf(e))) out.push(e);
        e = n;
      }
    }
    // Insertion sort: the list is short (what one request sends), and an inlined comparison beats
    // Array.prototype.sort calling back into JS for every pair.
    for (let i = 1; i < out.length; i++) {
      const e = out[i]!;
      let k = i - 1;
      while (k >= 0 && this.#headerOrder(out[k]!, e) > 0) {
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
    let header = '';
    const values = this.#values;
    const num = this.#num;
    for (let i = 0; i < sent.length; i++) {
      const e = sent[i]!;
      num[e * STRIDE + F_LAST_ACCESS] = now;
      num[e * STRIDE + F_TICK] = ++this.#tick;
      if (i > 0) header += '; ';
      const name = this.#nameOf(e);
      header += name === '' ? values[e]! : name + '=' + values[e]!;
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
    const num = this.#num;
    const ints = this.#ints;
    // Every cookie whose domain is on the host's suffix chain: all that could match, sent or not.
    const candidates = new Set<number>();
    for (let h: HostInfo | undefined = req.info; h !== undefined; h = h.parent) {
      const bucket = this.#byDomain.get(h.host);
      if (bucket) for (let e = bucket.head; e !== -1; e = ints[e * ISTRIDE + I_NEXT]!) candidates.add(e);
    }
    // Plus the rest of the site (siblings such as a host-only cookie of api.example.com seen from
    // www.example.com), the most recently used first, bounded so a trace stays readable.
    let siblings: number[] = [];
    for (let bucket = this.#sites.get(siteInfo(req.host).site) ?? null; bucket !== null; bucket = bucket.siteNext) {
      for (let e = bucket.head; e !== -1; e = ints[e * ISTRIDE + I_NEXT]!) if (!candidates.has(e)) siblings.push(e);
    }
    let omitted = 0;
    if (siblings.length > MAX_SIBLING_VERDICTS) {
      const num = this.#num;
      siblings.sort((a, b) => num[b * STRIDE + F_TICK]! - num[a * STRIDE + F_TICK]!);
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
    candidates: Iterable<number>,
    u: URL,
    req: RequestFacts,
    now: number,
    context: CookieContext,
  ): { sent: { entry: number; verdict: CookieVerdict }[]; withheld: { entry: number; verdict: CookieVerdict }[] } {
    const sent: { entry: number; verdict: CookieVerdict }[] = [];
    const withheld: { entry: number; verdict: CookieVerdict }[] = [];
    let initiatorSite: string | undefined;
    if (context.initiator !== undefined) initiatorSite = siteOf(toUrl(context.initiator, 'evaluate'));
    const targetSite = initiatorSite === undefined ? undefined : siteOf(u);
    for (const e of candidates) {
      const cookie = this.#snapshot(e);
      const { reason, detail } = judge(cookie, req, now);
      const verdict: CookieVerdict = { cookie, sent: reason === 'match', reason, detail };
      const note = sameSiteNote(cookie, targetSite, initiatorSite, context.method?.toUpperCase());
      if (note !== undefined) verdict.sameSiteNote = note;
      (reason === 'match' ? sent : withheld).push({ entry: e, verdict });
    }
    const num = this.#num;
    sent.sort((a, b) => this.#headerOrder(a.entry, b.entry));
    withheld.sort((a, b) => num[a.entry * STRIDE + F_ORDER]! - num[b.entry * STRIDE + F_ORDER]!);
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
    const list: number[] = [];
    for (const e of this.#entries()) if (!this.#expired(e, now)) list.push(e);
    const num = this.#num;
    list.sort((a, b) => num[a * STRIDE + F_ORDER]! - num[b * STRIDE + F_ORDER]!);
    return list.map((e) => this.#snapshot(e));
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
    this.#cap = 0;
    this.#used = 0;
    this.#free = -1;
    this.#values = stringColumn();
    this.#strs = stringColumn();
    this.#strIds = new Map();
    this.#strLimit = MIN_STRING_TABLE;
    this.#buckets = bucketColumn();
    this.#freeBucketIds = [];
    this.#num = new Float64Array(0);
    this.#ints = new Int32Array(0);
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
      if (old >= 0) this.#remove(old);
      const entry = this.#store(c, ++this.#seq * ORDER_STEP, -1, -1);
      this.#insert(entry, c.domain, infoOf(c.domain));
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
