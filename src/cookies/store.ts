/**
 * Where a jar keeps its cookies: the `CookieStorage` interface, and `ReferenceStore`, a plain
 * implementation written to be obviously right rather than fast (the fast one, `FastStore`, is in
 * `fast-store.ts`; the property test holds the two to the same answers).
 *
 * A store knows nothing of the RFC: the jar asks it for the cookies the rules need (by key, by
 * domain, by site) and tells it what to add, replace, remove and mark as used. Every call is one
 * whole question or change, so the interface can later become asynchronous (a store in Redis, say)
 * without changing what the jar asks; it is synchronous today, which keeps the in-memory jar fast.
 *
 * Arrays a store returns are the caller's to read until the next change to the store; the records
 * in them are the store's and are never changed by the caller.
 */
import type { Cookie } from './types.js';
import type { RuleCookie } from './rules.js';

/** A cookie as a store holds it: the public fields plus its creation order in the jar. */
export type StoredCookie = RuleCookie;

export interface CookieStorage {
  /** How many cookies are stored (expired ones not yet removed included). */
  readonly size: number;
  /** The cookie with this name, domain, host-only flag and path: the key of RFC 6265bis §5.7 step 19. */
  find(domain: string, name: string, path: string, hostOnly: boolean): StoredCookie | undefined;
  /**
   * The cookies whose domain is one of `domains` (host-only and Domain cookies), in no particular
   * order: for a request, its host's domain chain (§5.8.3 step 1), asked in one call.
   */
  inDomains(domains: readonly string[]): StoredCookie[];
  /** How many cookies have this domain (for the per-domain limit). */
  domainSize(domain: string): number;
  /** The site given to `put` for the cookies of `domain`, if any are stored; undefined otherwise. */
  siteOfDomain(domain: string): string | undefined;
  /** How many cookies are stored whose domain belongs to `site`. */
  siteSize(site: string): number;
  /** The Secure cookies named `name` whose domain belongs to `site` (for §5.7 step 15). */
  secureNamed(site: string, name: string): readonly StoredCookie[];
  /**
   * Up to `limit` cookies of `site` whose domain is none of `except`, the most recently used first,
   * and how many more such cookies there are.
   */
  recentInSite(site: string, except: readonly string[], limit: number): { cookies: StoredCookie[]; more: number };
  /** Add a cookie whose key is not stored yet, as the most recently used. `site`: its domain's site. */
  put(cookie: Readonly<Cookie>, seq: number, site: string): StoredCookie;
  /**
   * Put `cookie` (same key) in the place of `old`: it keeps `old`'s creation order and becomes the
   * most recently used. Returns the stored record (`old` must not be used after).
   */
  replace(old: StoredCookie, cookie: Readonly<Cookie>): StoredCookie;
  remove(c: StoredCookie): void;
  /** Mark as used at `now`: last-access time, and the most recently used. */
  touch(c: StoredCookie, now: number): void;
  /** The least recently used cookie other than `except`: of `domain`, or of the whole store. */
  leastRecentlyUsed(domain: string | undefined, except: StoredCookie): StoredCookie | undefined;
  /** Every stored cookie, in no particular order. */
  all(): readonly StoredCookie[];
  clear(): void;
}

interface Record extends Cookie {
  seq: number;
  /** Use order: higher is more recent. */
  tick: number;
  site: string;
}

/** The reference store: one array, every question answered by a scan. Short on purpose. */
export class ReferenceStore implements CookieStorage {
  #cookies: Record[] = [];
  #tick = 0;

  get size(): number {
    return this.#cookies.length;
  }

  find(domain: string, name: string, path: string, hostOnly: boolean): StoredCookie | undefined {
    return this.#cookies.find((c) => c.domain === domain && c.name === name && c.path === path && c.hostOnly === hostOnly);
  }

  inDomains(domains: readonly string[]): StoredCookie[] {
    return this.#cookies.filter((c) => domains.includes(c.domain));
  }

  domainSize(domain: string): number {
    return this.#cookies.filter((c) => c.domain === domain).length;
  }

  siteOfDomain(domain: string): string | undefined {
    return this.#cookies.find((c) => c.domain === domain)?.site;
  }

  siteSize(site: string): number {
    return this.#cookies.filter((c) => c.site === site).length;
  }

  secureNamed(site: string, name: string): readonly StoredCookie[] {
    return this.#cookies.filter((c) => c.site === site && c.name === name && c.secure);
  }

  recentInSite(site: string, except: readonly string[], limit: number): { cookies: StoredCookie[]; more: number } {
    const all = this.#cookies.filter((c) => c.site === site && !except.includes(c.domain)).sort((a, b) => b.tick - a.tick);
    return { cookies: all.slice(0, limit), more: Math.max(0, all.length - limit) };
  }

  put(cookie: Readonly<Cookie>, seq: number, site: string): StoredCookie {
    const r: Record = { ...cookie, seq, tick: ++this.#tick, site };
    this.#cookies.push(r);
    return r;
  }

  replace(old: StoredCookie, cookie: Readonly<Cookie>): StoredCookie {
    const i = this.#cookies.indexOf(old as Record);
    const r: Record = { ...cookie, seq: old.seq, tick: ++this.#tick, site: (old as Record).site };
    this.#cookies[i] = r;
    return r;
  }

  remove(c: StoredCookie): void {
    const i = this.#cookies.indexOf(c as Record);
    if (i >= 0) this.#cookies.splice(i, 1);
  }

  touch(c: StoredCookie, now: number): void {
    const r = c as Record;
    r.lastAccess = now;
    r.tick = ++this.#tick;
  }

  leastRecentlyUsed(domain: string | undefined, except: StoredCookie): StoredCookie | undefined {
    let lru: Record | undefined;
    for (const c of this.#cookies) if (c !== except && (domain === undefined || c.domain === domain) && (lru === undefined || c.tick < lru.tick)) lru = c;
    return lru;
  }

  all(): readonly StoredCookie[] {
    return this.#cookies.slice();
  }

  clear(): void {
    this.#cookies = [];
  }
}
