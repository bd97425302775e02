/**
 * The store `CookieJar` uses by default: every question the jar asks on a request or a Set-Cookie
 * answered without looking at cookies it does not need, in little memory.
 *
 * - Cookies are grouped in buckets by domain (the host of a host-only cookie, the Domain attribute
 *   otherwise), each a linked list: a request looks up the few buckets of its host's domain chain,
 *   whatever the size of the jar.
 * - Buckets are grouped by site (registrable domain). Each site keeps its cookies in a list ordered
 *   by use, so "the 50 most recently used cookies of this site" walks 50 links instead of sorting
 *   the site; and an index of its Secure cookies by name (§5.7 step 15 without scanning the site).
 *   The jar-wide least recently used cookie is the oldest of the sites' least recently used ones.
 *
 * Memory (measured with bench/jar.mjs, 10,000 cookies; see bench/README.md): an entry keeps only
 * what it must, with the attribute flags in one integer and the domain read from its bucket; the
 * three times of every cookie sit in one Float64Array per store (a double in an object field is a
 * separate heap object); names and paths are shared through a per-store table (a jar has few
 * distinct ones, and every parsed line brings its own copy).
 *
 * Nothing is shared between stores or kept at module level: a dropped jar leaves nothing behind.
 */
import type { Cookie, SameSite } from './types.js';
import type { CookieStorage, StoredCookie } from './store.js';

const HOST_ONLY = 1;
const SECURE = 2;
const HTTP_ONLY = 4;
const HAS_EXPIRY = 8;
/** SameSite in bits 4-5: absent, then strict, lax, none (the order of `SAME_SITE`). */
const SAME_SITE_SHIFT = 4;
const SAME_SITE: readonly (SameSite | undefined)[] = [undefined, 'strict', 'lax', 'none'];

function flagsOf(c: Readonly<Cookie>): number {
  let f = c.hostOnly ? HOST_ONLY : 0;
  if (c.secure) f |= SECURE;
  if (c.httpOnly) f |= HTTP_ONLY;
  if (c.expires !== null) f |= HAS_EXPIRY;
  if (c.sameSite !== undefined) f |= SAME_SITE.indexOf(c.sameSite) << SAME_SITE_SHIFT;
  return f;
}

/** The times of every cookie of a store, three doubles to a slot: expires, creation, last access. */
class Times {
  num = new Float64Array(3 * 64);
  /** Slots handed out so far; freed ones are reused from `free`. */
  used = 0;
  free: number[] = [];

  take(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    if (this.used * 3 === this.num.length) {
      // By half again, not double: the unused tail is memory the jar holds for nothing.
      const num = new Float64Array(3 * Math.ceil(this.used * 1.5));
      num.set(this.num);
      this.num = num;
    }
    return this.used++;
  }
}

class Site {
  size = 0;
  /** The least and the most recently used cookie of the site, the ends of its `siteNext` list. */
  lru: Entry | null = null;
  mru: Entry | null = null;
  /** name → the site's Secure cookies of that name; made on the first Secure cookie. */
  secure: Map<string, Entry[]> | undefined = undefined;
  constructor(readonly name: string) {}
}

class Bucket {
  head: Entry | null = null;
  size = 0;
  constructor(
    readonly domain: string,
    readonly site: Site,
    readonly times: Times,
  ) {}
}

class Entry implements StoredCookie {
  constructor(
    public name: string,
    public value: string,
    public path: string,
    public flags: number,
    public seq: number,
    public bucket: Bucket,
    /** This cookie's place in the store's `Times`. */
    public slot: number,
  ) {}
  /** Use order, higher is more recent (the per-domain eviction scans one bucket for the lowest). */
  tick = 0;
  bucketNext: Entry | null = null;
  sitePrev: Entry | null = null;
  siteNext: Entry | null = null;

  get domain(): string {
    return this.bucket.domain;
  }
  get hostOnly(): boolean {
    return (this.flags & HOST_ONLY) !== 0;
  }
  get secure(): boolean {
    return (this.flags & SECURE) !== 0;
  }
  get httpOnly(): boolean {
    return (this.flags & HTTP_ONLY) !== 0;
  }
  get sameSite(): SameSite | undefined {
    return SAME_SITE[(this.flags >> SAME_SITE_SHIFT) & 3];
  }
  get expires(): number | null {
    return (this.flags & HAS_EXPIRY) !== 0 ? this.bucket.times.num[this.slot * 3]! : null;
  }
  get creation(): number {
    return this.bucket.times.num[this.slot * 3 + 1]!;
  }
  get lastAccess(): number {
    return this.bucket.times.num[this.slot * 3 + 2]!;
  }
}

/** The shared-strings table is cleared when it outgrows this and twice the store. */
const MIN_STRINGS = 4096;

export class FastStore implements CookieStorage {
  #buckets = new Map<string, Bucket>();
  #sites = new Map<string, Site>();
  #times = new Times();
  #strings = new Map<string, string>();
  #size = 0;
  #tick = 0;

  get size(): number {
    return this.#size;
  }

  find(domain: string, name: string, path: string, hostOnly: boolean): StoredCookie | undefined {
    const want = hostOnly ? HOST_ONLY : 0;
    for (let e = this.#buckets.get(domain)?.head ?? null; e !== null; e = e.bucketNext) {
      if (e.name === name && e.path === path && (e.flags & HOST_ONLY) === want) return e;
    }
    return undefined;
  }

  inDomains(domains: readonly string[]): StoredCookie[] {
    const out: StoredCookie[] = [];
    for (let i = 0; i < domains.length; i++) {
      for (let e = this.#buckets.get(domains[i]!)?.head ?? null; e !== null; e = e.bucketNext) out.push(e);
    }
    return out;
  }

  domainSize(domain: string): number {
    return this.#buckets.get(domain)?.size ?? 0;
  }

  siteOfDomain(domain: string): string | undefined {
    return this.#buckets.get(domain)?.site.name;
  }

  siteSize(site: string): number {
    return this.#sites.get(site)?.size ?? 0;
  }

  secureNamed(site: string, name: string): readonly StoredCookie[] {
    return this.#sites.get(site)?.secure?.get(name) ?? [];
  }

  recentInSite(site: string, except: readonly string[], limit: number): { cookies: StoredCookie[]; more: number } {
    const s = this.#sites.get(site);
    const cookies: StoredCookie[] = [];
    if (s === undefined) return { cookies, more: 0 };
    // The excluded domains' buckets of this site: skipped by identity on the walk, and counted out.
    let skipped = 0;
    const skip: Bucket[] = [];
    for (const d of except) {
      const b = this.#buckets.get(d);
      if (b !== undefined && b.site === s) {
        skip.push(b);
        skipped += b.size;
      }
    }
    for (let e = s.mru; e !== null && cookies.length < limit; e = e.sitePrev) if (!skip.includes(e.bucket)) cookies.push(e);
    return { cookies, more: s.size - skipped - cookies.length };
  }

  put(cookie: Readonly<Cookie>, seq: number, site: string): StoredCookie {
    let bucket = this.#buckets.get(cookie.domain);
    if (bucket === undefined) {
      let s = this.#sites.get(site);
      if (s === undefined) this.#sites.set(site, (s = new Site(site)));
      bucket = new Bucket(cookie.domain, s, this.#times);
      this.#buckets.set(cookie.domain, bucket);
    }
    const e = new Entry(this.#shared(cookie.name), cookie.value, this.#shared(cookie.path), flagsOf(cookie), seq, bucket, this.#times.take());
    this.#setTimes(e, cookie);
    e.bucketNext = bucket.head;
    bucket.head = e;
    bucket.size++;
    bucket.site.size++;
    this.#size++;
    this.#link(e);
    if ((e.flags & SECURE) !== 0) this.#indexSecure(e);
    return e;
  }

  replace(old: StoredCookie, cookie: Readonly<Cookie>): StoredCookie {
    // In place: same key, so same bucket and site; only the attributes change.
    const e = old as Entry;
    if ((e.flags & SECURE) !== 0) this.#unindexSecure(e);
    e.value = cookie.value;
    e.flags = flagsOf(cookie);
    this.#setTimes(e, cookie);
    if ((e.flags & SECURE) !== 0) this.#indexSecure(e);
    this.#unlink(e);
    this.#link(e);
    return e;
  }

  remove(c: StoredCookie): void {
    const e = c as Entry;
    const bucket = e.bucket;
    if (bucket.head === e) bucket.head = e.bucketNext;
    else {
      let p = bucket.head;
      while (p !== null && p.bucketNext !== e) p = p.bucketNext;
      if (p === null) return; // not stored (any more)
      p.bucketNext = e.bucketNext;
    }
    e.bucketNext = null;
    if ((e.flags & SECURE) !== 0) this.#unindexSecure(e);
    this.#unlink(e);
    this.#times.free.push(e.slot);
    this.#size--;
    bucket.size--;
    const s = bucket.site;
    s.size--;
    if (bucket.size === 0) this.#buckets.delete(bucket.domain);
    if (s.size === 0) this.#sites.delete(s.name);
  }

  touch(c: StoredCookie, now: number): void {
    const e = c as Entry;
    this.#times.num[e.slot * 3 + 2] = now;
    this.#unlink(e);
    this.#link(e);
  }

  leastRecentlyUsed(domain: string | undefined, except: StoredCookie): StoredCookie | undefined {
    let lru: Entry | undefined;
    if (domain !== undefined) {
      for (let e = this.#buckets.get(domain)?.head ?? null; e !== null; e = e.bucketNext) if (e !== except && (lru === undefined || e.tick < lru.tick)) lru = e;
      return lru;
    }
    // The oldest of each site's least recently used: one step per site, only when the jar is full.
    for (const s of this.#sites.values()) {
      let e = s.lru;
      if (e === except) e = e.siteNext;
      if (e !== null && (lru === undefined || e.tick < lru.tick)) lru = e;
    }
    return lru;
  }

  all(): readonly StoredCookie[] {
    const out: StoredCookie[] = [];
    for (const b of this.#buckets.values()) for (let e = b.head; e !== null; e = e.bucketNext) out.push(e);
    return out;
  }

  clear(): void {
    this.#buckets = new Map();
    this.#sites = new Map();
    this.#times = new Times();
    this.#strings = new Map();
    this.#size = 0;
  }

  #setTimes(e: Entry, c: Readonly<Cookie>): void {
    const num = this.#times.num;
    const at = e.slot * 3;
    num[at] = c.expires ?? 0;
    num[at + 1] = c.creation;
    num[at + 2] = c.lastAccess;
  }

  /** One copy of a name or path per store. Cleared when it outgrows the store, so it cannot grow without bound. */
  #shared(s: string): string {
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    if (this.#strings.size >= MIN_STRINGS && this.#strings.size >= 2 * this.#size) this.#strings.clear();
    this.#strings.set(s, s);
    return s;
  }

  /** Append `e` as its site's most recently used. */
  #link(e: Entry): void {
    e.tick = ++this.#tick;
    const s = e.bucket.site;
    e.sitePrev = s.mru;
    e.siteNext = null;
    if (s.mru !== null) s.mru.siteNext = e;
    else s.lru = e;
    s.mru = e;
  }

  #unlink(e: Entry): void {
    const s = e.bucket.site;
    if (e.sitePrev !== null) e.sitePrev.siteNext = e.siteNext;
    else s.lru = e.siteNext;
    if (e.siteNext !== null) e.siteNext.sitePrev = e.sitePrev;
    else s.mru = e.sitePrev;
    e.sitePrev = e.siteNext = null;
  }

  #indexSecure(e: Entry): void {
    const s = e.bucket.site;
    const byName = (s.secure ??= new Map());
    const same = byName.get(e.name);
    if (same === undefined) byName.set(e.name, [e]);
    else same.push(e);
  }

  #unindexSecure(e: Entry): void {
    const byName = e.bucket.site.secure;
    const same = byName?.get(e.name);
    if (byName === undefined || same === undefined) return;
    const i = same.indexOf(e);
    if (i >= 0) same.splice(i, 1);
    if (same.length === 0) byName.delete(e.name);
  }
}
