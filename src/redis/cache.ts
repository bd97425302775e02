/**
 * The per-process cache of a shared cookie store: a `CookieStorage` over an in-memory `FastStore`
 * that writes down every change the jar makes to it, as operations for Redis. The jar's own rules
 * (src/cookies/jar.ts, rules.ts) decide against this cache exactly as they do against the in-memory
 * jar's store; the cookie store then sends the operations to Redis in one atomic script
 * (scripts.ts). When another process changed the namespace, the reply carries only the cookies
 * that changed (`patch`), or the whole namespace when Redis cannot tell (`load`).
 *
 * Operations, in the order the jar made them:
 * - `P` put or replace a cookie (its record, last-access time, expiry and Secure flag);
 * - `D` delete a cookie (a Set-Cookie that deletes, an eviction past a limit);
 * - `T` mark a cookie used (a request sent it: last access, and least-recently-used order);
 * - `C` remove every cookie of the namespace (`clear()`);
 * - `X` remove an expired cookie a request found (only if it is still expired in Redis: another
 *   process may have stored a fresh one under the same key).
 * `P` and `D` are the store's writes, applied only when Redis holds the version the decision was
 * made against; `T` and `X` hold whatever the version, and go with the next round trip.
 */
import type { Cookie, SameSite } from '../cookies/types.js';
import type { CookieStorage, StoredCookie } from '../cookies/store.js';
import { FastStore } from '../cookies/fast-store.js';

export type Op = readonly ['P', string, string, string, string] | readonly ['D', string] | readonly ['T', string, string] | readonly ['X', string] | readonly ['C'];

/** The Redis hash field of a cookie: its key (RFC 6265bis §5.7 step 19: name, domain, host-only, path). */
export function fieldOf(c: { domain: string; name: string; path: string; hostOnly: boolean }): string {
  return JSON.stringify([c.domain, c.name, c.path, c.hostOnly ? 1 : 0]);
}

/**
 * A cookie as Redis keeps it (short keys: a namespace may hold thousands), after one character
 * that says whether it is Secure ('1' or '0': what the script compares without decoding the JSON).
 * Last access is kept apart (`T`).
 */
interface Wire {
  n: string;
  v: string;
  d: string;
  p: string;
  h: 0 | 1;
  s: 0 | 1;
  o: 0 | 1;
  ss?: SameSite;
  e: number | null;
  c: number;
  q: number;
  st: string;
}

export function encode(c: StoredCookie, site: string): string {
  const w: Wire = { n: c.name, v: c.value, d: c.domain, p: c.path, h: c.hostOnly ? 1 : 0, s: c.secure ? 1 : 0, o: c.httpOnly ? 1 : 0, e: c.expires, c: c.creation, q: c.seq, st: site };
  if (c.sameSite !== undefined) w.ss = c.sameSite;
  return (c.secure ? '1' : '0') + JSON.stringify(w);
}

/** One cookie of a snapshot: the record, its creation order, its site, and its place in the use order (the namespace's change counter). */
export interface Loaded {
  cookie: Cookie;
  seq: number;
  site: string;
  tick: number;
}

/** A record from Redis with its last access ('' or absent: its creation) and its place in the use order. */
export function decode(record: string, lastUse: string | undefined, tick: number): Loaded {
  const w = JSON.parse(record.slice(1)) as Wire;
  const lastAccess = lastUse === undefined || lastUse === '' ? w.c : Number(lastUse);
  const cookie: Cookie = { name: w.n, value: w.v, domain: w.d, path: w.p, hostOnly: w.h === 1, secure: w.s === 1, httpOnly: w.o === 1, expires: w.e, creation: w.c, lastAccess };
  if (w.ss !== undefined) cookie.sameSite = w.ss;
  return { cookie, seq: w.q, site: w.st, tick };
}

/** The key of a cookie from its field (`fieldOf`). */
function keyOf(field: string): { domain: string; name: string; path: string; hostOnly: boolean } {
  const [domain, name, path, hostOnly] = JSON.parse(field) as [string, string, string, 0 | 1];
  return { domain, name, path, hostOnly: hostOnly === 1 };
}

export class JournalStore implements CookieStorage {
  #inner = new FastStore();
  /** The highest creation order given out (Redis keeps it, so orders stay unique across processes). */
  seq = 0;
  /** `read` while the jar answers a request (removals are `X`), `write` while it stores a line. */
  mode: 'read' | 'write' = 'read';
  /** The operations not sent yet, but the uses (`touches`). */
  ops: Op[] = [];
  /** The uses not sent yet: field → last access, in the order of each field's last use (only the last use of a cookie matters). */
  touches = new Map<string, string>();

  /** Every operation waiting, uses first (they were all made before the writes that now wait), and none left. */
  take(): Op[] {
    const out: Op[] = [];
    for (const [field, at] of this.touches) out.push(['T', field, at]);
    for (const op of this.ops) out.push(op);
    this.touches = new Map();
    this.ops = [];
    return out;
  }

  /** Replace the whole content with a snapshot from Redis, in use order (least recently used first). */
  load(cookies: Loaded[], seq: number): void {
    const inner = new FastStore();
    cookies.sort((a, b) => a.tick - b.tick || a.seq - b.seq);
    for (const l of cookies) inner.put(l.cookie, l.seq, l.site);
    this.#inner = inner;
    this.seq = seq;
  }

  /**
   * Bring the content up to Redis with what changed since it was last current: the cookies removed
   * (`gone`), then the cookies changed or used (`live`), in the namespace's use order, each put in
   * its place as the most recently used. Cookies not listed did not change, and keep their order,
   * so the result is what `load` of the whole namespace would give.
   */
  patch(gone: readonly string[], live: Loaded[], seq: number): void {
    const inner = this.#inner;
    for (const field of gone) {
      const k = keyOf(field);
      const old = inner.find(k.domain, k.name, k.path, k.hostOnly);
      if (old) inner.remove(old);
    }
    live.sort((a, b) => a.tick - b.tick || a.seq - b.seq);
    for (const l of live) {
      const c = l.cookie;
      const old = inner.find(c.domain, c.name, c.path, c.hostOnly);
      // The same cookie (same creation order) changed in place; a key removed and stored again is a new cookie.
      if (old !== undefined && old.seq === l.seq) inner.replace(old, c);
      else {
        if (old !== undefined) inner.remove(old);
        inner.put(c, l.seq, l.site);
      }
    }
    this.seq = seq;
  }

  /** Whether any operation waiting changes the namespace (`P`, `D`): a write. */
  hasWrites(): boolean {
    return this.ops.some((o) => o[0] === 'P' || o[0] === 'D');
  }

  /** Whether a write deletes a cookie (a deleting Set-Cookie, an eviction): it then needs the exact version. */
  hasDeletes(): boolean {
    return this.ops.some((o) => o[0] === 'D' || o[0] === 'C');
  }

  get size(): number {
    return this.#inner.size;
  }
  find(domain: string, name: string, path: string, hostOnly: boolean): StoredCookie | undefined {
    return this.#inner.find(domain, name, path, hostOnly);
  }
  inDomains(domains: readonly string[]): StoredCookie[] {
    return this.#inner.inDomains(domains);
  }
  domainSize(domain: string): number {
    return this.#inner.domainSize(domain);
  }
  siteOfDomain(domain: string): string | undefined {
    return this.#inner.siteOfDomain(domain);
  }
  siteSize(site: string): number {
    return this.#inner.siteSize(site);
  }
  secureNamed(site: string, name: string): readonly StoredCookie[] {
    return this.#inner.secureNamed(site, name);
  }
  recentInSite(site: string, except: readonly string[], limit: number): { cookies: StoredCookie[]; more: number } {
    return this.#inner.recentInSite(site, except, limit);
  }
  leastRecentlyUsed(domain: string | undefined, except: StoredCookie): StoredCookie | undefined {
    return this.#inner.leastRecentlyUsed(domain, except);
  }
  all(): readonly StoredCookie[] {
    return this.#inner.all();
  }

  put(cookie: Readonly<Cookie>, _seq: number, site: string): StoredCookie {
    // The jar numbers cookies per process; the namespace's own counter keeps the order fleet-wide.
    const stored = this.#inner.put(cookie, ++this.seq, site);
    this.#written(stored, site);
    return stored;
  }
  replace(old: StoredCookie, cookie: Readonly<Cookie>): StoredCookie {
    const stored = this.#inner.replace(old, cookie);
    this.#written(stored, this.#inner.siteOfDomain(stored.domain) ?? '');
    return stored;
  }
  remove(c: StoredCookie): void {
    const field = fieldOf(c);
    this.#inner.remove(c);
    this.ops.push(this.mode === 'read' ? ['X', field] : ['D', field]);
  }
  touch(c: StoredCookie, now: number): void {
    this.#inner.touch(c, now);
    const field = fieldOf(c);
    this.touches.delete(field);
    this.touches.set(field, String(now));
  }
  clear(): void {
    this.#inner = new FastStore();
    this.ops = [];
    this.touches = new Map();
  }

  #written(c: StoredCookie, site: string): void {
    this.ops.push(['P', fieldOf(c), encode(c, site), String(c.lastAccess), c.expires === null ? '' : String(c.expires)]);
  }
}
