/**
 * The store `CookieJar` uses by default: every question the jar asks on a request or a Set-Cookie
 * answered without looking at cookies it does not need.
 *
 * - Cookies are grouped in buckets by domain (the host of a host-only cookie, the Domain attribute
 *   otherwise): a request looks up the few buckets of its host's domain chain, whatever the size of
 *   the jar. A bucket holds an array of its cookies (a domain has few; the per-domain limit bounds it).
 * - Buckets are grouped by site (registrable domain). Each site keeps its cookies in a list ordered
 *   by use, so "the 50 most recently used cookies of this site" walks 50 links instead of sorting the
 *   site, and an index of its Secure cookies by name (§5.7 step 15 without scanning the site).
 * - One more list orders every cookie by use, for the jar-wide least-recently-used eviction.
 *
 * Nothing is shared between stores or kept at module level: a dropped jar leaves nothing behind.
 */
import type { Cookie, SameSite } from './types.js';
import type { CookieStorage, StoredCookie } from './store.js';

class Site {
  size = 0;
  /** The most recently used cookie of the site; `sitePrev` leads to less recently used ones. */
  mru: Entry | null = null;
  /** name → the site's Secure cookies of that name; made on the first Secure cookie. */
  secure: Map<string, Entry[]> | undefined = undefined;
  constructor(readonly name: string) {}
}

class Bucket {
  readonly entries: Entry[] = [];
  constructor(
    readonly domain: string,
    readonly site: Site,
  ) {}
}

class Entry implements StoredCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  hostOnly: boolean;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite | undefined;
  expires: number | null;
  creation: number;
  lastAccess: number;
  seq: number;
  /** Use order, higher is more recent (for the per-domain eviction, which scans one bucket). */
  tick = 0;
  bucket: Bucket;
  sitePrev: Entry | null = null;
  siteNext: Entry | null = null;
  prev: Entry | null = null;
  next: Entry | null = null;
  constructor(c: Readonly<Cookie>, seq: number, bucket: Bucket) {
    this.name = c.name;
    this.value = c.value;
    // The bucket's string: one copy of a domain however many cookies it has.
    this.domain = bucket.domain;
    this.path = c.path;
    this.hostOnly = c.hostOnly;
    this.secure = c.secure;
    this.httpOnly = c.httpOnly;
    this.sameSite = c.sameSite;
    this.expires = c.expires;
    this.creation = c.creation;
    this.lastAccess = c.lastAccess;
    this.seq = seq;
    this.bucket = bucket;
  }
}

const NONE: readonly Entry[] = [];

export class FastStore implements CookieStorage {
  #buckets = new Map<string, Bucket>();
  #sites = new Map<string, Site>();
  #size = 0;
  #tick = 0;
  /** Least and most recently used cookie of the store (the ends of the list through `prev`/`next`). */
  #lru: Entry | null = null;
  #mru: Entry | null = null;

  get size(): number {
    return this.#size;
  }

  find(domain: string, name: string, path: string, hostOnly: boolean): StoredCookie | undefined {
    const bucket = this.#buckets.get(domain);
    if (bucket === undefined) return undefined;
    const entries = bucket.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.name === name && e.path === path && e.hostOnly === hostOnly) return e;
    }
    return undefined;
  }

  inDomain(domain: string): readonly StoredCookie[] {
    return this.#buckets.get(domain)?.entries ?? NONE;
  }

  siteOfDomain(domain: string): string | undefined {
    return this.#buckets.get(domain)?.site.name;
  }

  siteSize(site: string): number {
    return this.#sites.get(site)?.size ?? 0;
  }

  secureNamed(site: string, name: string): readonly StoredCookie[] {
    return this.#sites.get(site)?.secure?.get(name) ?? NONE;
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
        skipped += b.entries.length;
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
      bucket = new Bucket(cookie.domain, s);
      this.#buckets.set(cookie.domain, bucket);
    }
    const e = new Entry(cookie, seq, bucket);
    bucket.entries.push(e);
    bucket.site.size++;
    this.#size++;
    this.#link(e);
    if (e.secure) this.#indexSecure(e);
    return e;
  }

  replace(old: StoredCookie, cookie: Readonly<Cookie>): StoredCookie {
    // In place: same key, so same bucket and site; only the attributes change.
    const e = old as Entry;
    if (e.secure) this.#unindexSecure(e);
    e.value = cookie.value;
    e.secure = cookie.secure;
    e.httpOnly = cookie.httpOnly;
    e.sameSite = cookie.sameSite;
    e.expires = cookie.expires;
    e.creation = cookie.creation;
    e.lastAccess = cookie.lastAccess;
    if (e.secure) this.#indexSecure(e);
    this.#unlink(e);
    this.#link(e);
    return e;
  }

  remove(c: StoredCookie): void {
    const e = c as Entry;
    const bucket = e.bucket;
    const entries = bucket.entries;
    const i = entries.indexOf(e);
    if (i < 0) return;
    // Order within a bucket does not matter (the rules sort): the last entry fills the gap.
    const last = entries.pop()!;
    if (last !== e) entries[i] = last;
    if (e.secure) this.#unindexSecure(e);
    this.#unlink(e);
    this.#size--;
    const s = bucket.site;
    s.size--;
    if (entries.length === 0) this.#buckets.delete(bucket.domain);
    if (s.size === 0) this.#sites.delete(s.name);
  }

  touch(c: StoredCookie, now: number): void {
    const e = c as Entry;
    e.lastAccess = now;
    if (e !== this.#mru) {
      this.#unlink(e);
      this.#link(e);
    } else e.tick = ++this.#tick;
  }

  leastRecentlyUsed(domain: string | undefined, except: StoredCookie): StoredCookie | undefined {
    if (domain === undefined) {
      let e = this.#lru;
      while (e === except) e = e.next;
      return e ?? undefined;
    }
    let lru: Entry | undefined;
    for (const e of this.#buckets.get(domain)?.entries ?? NONE) if (e !== except && (lru === undefined || e.tick < lru.tick)) lru = e;
    return lru;
  }

  all(): readonly StoredCookie[] {
    const out: StoredCookie[] = [];
    for (const b of this.#buckets.values()) for (const e of b.entries) out.push(e);
    return out;
  }

  clear(): void {
    this.#buckets = new Map();
    this.#sites = new Map();
    this.#size = 0;
    this.#lru = this.#mru = null;
  }

  /** Append `e` as the most recently used, in the store's list and its site's. */
  #link(e: Entry): void {
    e.tick = ++this.#tick;
    e.prev = this.#mru;
    e.next = null;
    if (this.#mru !== null) this.#mru.next = e;
    else this.#lru = e;
    this.#mru = e;
    const s = e.bucket.site;
    e.sitePrev = s.mru;
    e.siteNext = null;
    if (s.mru !== null) s.mru.siteNext = e;
    s.mru = e;
  }

  #unlink(e: Entry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.#lru = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.#mru = e.prev;
    const s = e.bucket.site;
    if (e.sitePrev !== null) e.sitePrev.siteNext = e.siteNext;
    if (e.siteNext !== null) e.siteNext.sitePrev = e.sitePrev;
    else s.mru = e.sitePrev;
    e.prev = e.next = e.sitePrev = e.siteNext = null;
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
