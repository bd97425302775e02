/**
 * The cookie jar: RFC 6265bis storage (§5.7) and retrieval (§5.8.3) for a non-browser client, able
 * to say why every cookie was stored, refused, sent or withheld.
 *
 * A Set-Cookie line goes parse (`parse.ts`, §5.6) → rules (`rules.ts`, §5.7) → store; a request
 * goes store (the cookies of the host's domain chain, and of its site for the trace) → rules
 * (§5.8.3). The jar only sequences the two: the rules are in `rules.ts`, the data in a
 * `CookieStorage` (`FastStore` unless the `store` option gives another).
 */
import type { BrowserSameSite, Cookie, CookieContext, CookieKey, CookieSendReason, CookieStore, CookieVerdict, SetCookieResult } from './types.js';
import { Verdict } from './verdict.js';
import { HopwiseOptionError } from '../errors.js';
import { parseSetCookie } from './parse.js';
import { factsFromUrl, toUrl, type RequestFacts } from './url.js';
import { domainChain, siteOf } from './domain.js';
import {
  cookieFromFile,
  cookieFromLine,
  describeStored,
  expiredOutcome,
  headerOrder,
  isExpired,
  isRejection,
  leaveSecureAlone,
  sameSiteNote,
  sameSiteReason,
  schemefulSite,
  sendReason,
  serialize,
} from './rules.js';
import type { CookieStorage, StoredCookie } from './store.js';
import { FastStore } from './fast-store.js';
import { cookiesFromJSON, cookiesFromNetscape, cookiesToJSON, cookiesToNetscape, detectFormat, type CookieJarJSON, type LoadedCookie, type OnRefused } from './formats.js';
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
  /**
   * Where the cookies are kept (a new, empty `CookieStorage` for this jar alone). Default: a new
   * `FastStore`. `ReferenceStore` gives the same answers, slowly, by plain scans.
   */
  store?: CookieStorage;
}

export type CookieFileFormat = 'json' | 'netscape';

/** The options of a jar loaded from a file: the jar's own, plus where to report what was refused. */
export interface CookieLoadOptions extends CookieJarOptions {
  /**
   * Called once for each entry that was not loaded, in file order: a line that is not a cookie, a
   * cookie the Set-Cookie rules refuse, an expired one. Without it they are skipped silently.
   */
  onRefused?: OnRefused;
}

export const DEFAULT_MAX_COOKIES_PER_DOMAIN = 180;
export const DEFAULT_MAX_COOKIES = 50_000;

/** At most this many cookies of other hosts of the same site get a verdict in `evaluate`. */
export const MAX_SIBLING_VERDICTS = 50;

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `CookieJar option ${name} must be a positive integer`);
  }
  return v;
}

/** The public copy of a stored cookie (`sameSite` only when set): changing it changes nothing. */
function snapshot(c: StoredCookie): Cookie {
  const out: Cookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    hostOnly: c.hostOnly,
    secure: c.secure,
    httpOnly: c.httpOnly,
    expires: c.expires,
    creation: c.creation,
    lastAccess: c.lastAccess,
  };
  if (c.sameSite !== undefined) out.sameSite = c.sameSite;
  return out;
}

/** What a trace may record of a cookie that left the jar (never its value). */
function keyOf(c: Readonly<Cookie>): CookieKey {
  return { name: c.name, domain: c.domain, path: c.path, hostOnly: c.hostOnly, secure: c.secure };
}

const bySeq = (a: StoredCookie, b: StoredCookie): number => a.seq - b.seq;

/** Browser rules only (`context.browser`, a HAR replay): the sent cookies SameSite withholds move to `withheld`. */
function withholdBySameSite(sent: StoredCookie[], withheld: StoredCookie[], reasons: CookieSendReason[], ctx: BrowserSameSite, now: number): void {
  for (let i = 0; i < sent.length;) {
    const reason = sameSiteReason(sent[i]!, ctx, now);
    if (reason === 'match') i++;
    else {
      withheld.push(sent[i]!);
      reasons.push(reason);
      sent.splice(i, 1);
    }
  }
}

/**
 * `list` sorted in place by §5.8.3 step 2 (`headerOrder`). The lists are short (one request's
 * cookies): an insertion sort with the comparison written out, not `Array.prototype.sort` calling a
 * comparator. Long lists (`explain`) take `Array.prototype.sort`.
 */
function sortByHeaderOrder(list: StoredCookie[]): void {
  if (list.length > 64) {
    list.sort(headerOrder);
    return;
  }
  for (let i = 1; i < list.length; i++) {
    const c = list[i]!;
    const len = c.path.length;
    const seq = c.seq;
    let k = i - 1;
    for (; k >= 0; k--) {
      const o = list[k]!;
      const d = len - o.path.length;
      if (d < 0 || (d === 0 && o.seq < seq)) break;
      list[k + 1] = o;
    }
    list[k + 1] = c;
  }
}

/**
 * `list` (and `reasons` alongside) sorted by creation order (`seq`, distinct for every cookie). The
 * withheld cookies of `evaluate` are ~60, mostly siblings in use order: a merge sort with the
 * comparison written out (insertion sort for runs of 8) measured ~8 µs less per `evaluate` than an
 * insertion sort calling a comparator.
 */
function sortBySeq(list: StoredCookie[], reasons: CookieSendReason[]): void {
  const n = list.length;
  const RUN = 8;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const c = list[i]!;
      const r = reasons[i]!;
      const seq = c.seq;
      let k = i - 1;
      for (; k >= lo && list[k]!.seq > seq; k--) {
        list[k + 1] = list[k]!;
        reasons[k + 1] = reasons[k]!;
      }
      list[k + 1] = c;
      reasons[k + 1] = r;
    }
  }
  if (n <= RUN) return;
  let src = list;
  let srcR = reasons;
  let dst: StoredCookie[] = list.slice();
  let dstR: CookieSendReason[] = reasons.slice();
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let a = lo;
      let b = mid;
      for (let k = lo; k < hi; k++) {
        if (a < mid && (b >= hi || src[a]!.seq < src[b]!.seq)) {
          dst[k] = src[a]!;
          dstR[k] = srcR[a++]!;
        } else {
          dst[k] = src[b]!;
          dstR[k] = srcR[b++]!;
        }
      }
    }
    [src, dst] = [dst, src];
    [srcR, dstR] = [dstR, srcR];
  }
  if (src !== list) {
    for (let i = 0; i < n; i++) {
      list[i] = src[i]!;
      reasons[i] = srcR[i]!;
    }
  }
}

export class CookieJar implements CookieStore {
  readonly #now: () => number;
  readonly #maxPerDomain: number;
  readonly #maxTotal: number;
  readonly #store: CookieStorage;
  /** Creation order of the cookies stored so far (§5.8.3 step 2 breaks ties with it). */
  #seq = 0;

  constructor(options: CookieJarOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar options must be an object');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar option now must be a function returning ms since the epoch');
    }
    const store = options.store;
    if (store !== undefined && (typeof store !== 'object' || store === null || typeof store.find !== 'function' || typeof store.put !== 'function')) {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar option store must be a CookieStorage');
    }
    this.#now = options.now ?? Date.now;
    this.#maxPerDomain = positiveInt('maxCookiesPerDomain', options.maxCookiesPerDomain, DEFAULT_MAX_COOKIES_PER_DOMAIN);
    this.#maxTotal = positiveInt('maxCookies', options.maxCookies, DEFAULT_MAX_COOKIES);
    this.#store = store ?? new FastStore();
  }

  /** The URL last given to a call, as its href, and its request facts (read-only, so shareable). */
  #lastHref = '';
  #lastFacts: RequestFacts | undefined;

  /**
   * The request facts of `u`. A session gives the jar one URL object per hop and calls it for the
   * Cookie header and then for each Set-Cookie line of the response: the facts of the last URL are
   * kept, so the URL's getters (each slices a new string out of its href) run once per hop.
   */
  #facts(u: URL): RequestFacts {
    const href = u.href;
    if (href === this.#lastHref && this.#lastFacts !== undefined) return this.#lastFacts;
    const req = factsFromUrl(u);
    this.#lastHref = href;
    this.#lastFacts = req;
    return req;
  }

  /** Number of cookies stored (expired ones not yet swept included). */
  get size(): number {
    return this.#store.size;
  }

  /** The site of a cookie domain: the store's answer when it holds the domain, else the PSL's. */
  #siteOf(domain: string): string {
    return this.#store.siteOfDomain(domain) ?? siteOf(domain);
  }

  // ---- storing -----------------------------------------------------------------------------

  /**
   * Store one Set-Cookie line received from `url` (RFC 6265bis §5.6-5.7). Never throws on what the
   * server sent: a refused line comes back as `{ stored: false, reason, detail }`. Only a `url`
   * that is not a URL throws (`ERR_INVALID_URL`).
   */
  setCookie(setCookieLine: string, url: string | URL): SetCookieResult {
    const req = this.#facts(toUrl(url, 'setCookie'));
    if (req.host === '') return { stored: false, reason: 'invalid-domain', detail: `${req.scheme}//${req.host} has no host to set cookies for` };
    const parsed = parseSetCookie(setCookieLine);
    if (!parsed.ok) return { stored: false, reason: parsed.reason, detail: parsed.detail };
    const name = parsed.name;
    const now = this.#now();
    const cookie = cookieFromLine(parsed, req, now);
    if (isRejection(cookie)) return { stored: false, reason: cookie.reason, detail: cookie.detail, name };
    const store = this.#store;
    const site = this.#siteOf(cookie.domain);
    // §5.7 step 15.
    const blocked = leaveSecureAlone(cookie, req, store.secureNamed(site, name));
    if (blocked !== undefined) return { stored: false, reason: blocked.reason, detail: blocked.detail, name };
    // §5.7 step 19: the same key replaces, keeping the old cookie's creation time (and order).
    const old = store.find(cookie.domain, name, cookie.path, cookie.hostOnly);
    if (old !== undefined) cookie.creation = old.creation;
    // §5.7 steps 20-21: an expiry in the past stores nothing, and deletes what it would replace.
    const gone = expiredOutcome(cookie, old !== undefined, now);
    if (gone !== undefined) {
      if (old !== undefined) store.remove(old);
      const res: SetCookieResult = { stored: false, reason: gone.reason, detail: gone.detail, name };
      if (old !== undefined) res.deleted = keyOf(old);
      return res;
    }
    let detail = describeStored(cookie, now, parsed.ignored);
    let evicted: { why: string[]; cookies: CookieKey[] } | undefined;
    if (old !== undefined) store.replace(old, cookie);
    else {
      evicted = this.#enforceLimits(store.put(cookie, ++this.#seq, site), now);
      if (evicted !== undefined) detail += `; evicted ${evicted.why.join(', ')}`;
    }
    // `cookie` was copied into the store, never kept by it, so it is handed out as is.
    const result: SetCookieResult = { stored: true, cookie, reason: old !== undefined ? 'replaced' : 'stored', detail };
    if (evicted !== undefined) result.evicted = evicted.cookies;
    if (cookie.sameSite === 'none' && !cookie.secure) result.sameSiteNote = sameSiteNote(cookie, undefined, undefined, undefined)!;
    return result;
  }

  /**
   * The limits (§5.7, the closing paragraphs on excess cookies): past the per-domain limit, that
   * domain's expired cookies go first, then its least recently used; past the total limit, the
   * least recently used cookie of the jar. `fresh`, the cookie just stored, is never evicted.
   * Returns what was evicted, for the stored result's detail.
   */
  #enforceLimits(fresh: StoredCookie, now: number): { why: string[]; cookies: CookieKey[] } | undefined {
    const store = this.#store;
    let evicted: { why: string[]; cookies: CookieKey[] } | undefined;
    const domain = fresh.domain;
    if (store.domainSize(domain) > this.#maxPerDomain) {
      for (const c of store.inDomains([domain])) if (c !== fresh && isExpired(c, now)) store.remove(c);
      while (store.domainSize(domain) > this.#maxPerDomain) {
        const victim = store.leastRecentlyUsed(domain, fresh);
        if (victim === undefined) break;
        store.remove(victim);
        evicted ??= { why: [], cookies: [] };
        evicted.why.push(`the least recently used cookie of ${domain} (limit ${this.#maxPerDomain} per domain)`);
        evicted.cookies.push(keyOf(victim));
      }
    }
    while (store.size > this.#maxTotal) {
      const victim = store.leastRecentlyUsed(undefined, fresh);
      if (victim === undefined) break;
      store.remove(victim);
      evicted ??= { why: [], cookies: [] };
      evicted.why.push(`the least recently used cookie in the jar, for ${victim.domain} (limit ${this.#maxTotal})`);
      evicted.cookies.push(keyOf(victim));
    }
    return evicted;
  }

  // ---- retrieving --------------------------------------------------------------------------

  /** The Cookie header value for a request to `url` (§5.8.3), '' when no cookie goes. Updates last-access. */
  getCookieString(url: string | URL): string {
    const req = this.#facts(toUrl(url, 'getCookieString'));
    const now = this.#now();
    const store = this.#store;
    // §5.8.3 step 1: only cookies whose domain is on the host's chain can match (§5.1.3).
    const sent: StoredCookie[] = [];
    let expired: StoredCookie[] | undefined;
    for (const c of store.inDomains(domainChain(req.host))) {
      const reason = sendReason(c, req, now);
      if (reason === 'match') sent.push(c);
      else if (reason === 'expired') (expired ??= []).push(c);
    }
    if (expired !== undefined) for (const c of expired) store.remove(c);
    sent.sort(headerOrder);
    let header = '';
    for (let i = 0; i < sent.length; i++) {
      const c = sent[i]!;
      header += (i === 0 ? '' : '; ') + serialize(c);
      store.touch(c, now);
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
    const req = this.#facts(u);
    const store = this.#store;
    const host = req.host;
    const chain = domainChain(host);
    // Every cookie whose domain is on the host's chain: all that could match, sent or not.
    const candidates = store.inDomains(chain);
    const chainCount = candidates.length;
    // Plus the rest of the site (siblings such as a host-only cookie of api.example.com seen from
    // www.example.com), the most recently used first, bounded so a trace stays readable. The
    // host's site is one of its chain's domains (or its name without a trailing dot): when the
    // store holds no cookie of any of them, there are no siblings and the PSL is not asked.
    let omitted = 0;
    let site = store.siteOfDomain(host);
    if (site === undefined && (host.endsWith('.') || chain.some((d) => store.siteSize(d) > 0))) site = siteOf(host);
    if (site !== undefined) {
      const siblings = store.recentInSite(site, chain, MAX_SIBLING_VERDICTS);
      for (const c of siblings.cookies) candidates.push(c);
      omitted = siblings.more;
    }
    // Siblings are cookies of domains off the host's chain: whatever their path or flags, they go
    // only if expired is not the first reason, and then for their domain (§5.8.3 step 1 as
    // `sendReason` writes it: expiry first, then the domain, which no domain off the chain matches).
    const { sent, withheld, reasons } = this.#judge(candidates, chainCount, req, now);
    if (context.browser !== undefined) withholdBySameSite(sent, withheld, reasons, context.browser, now);
    sortBySeq(withheld, reasons);
    // Sent cookies are used now (last access, and least-recently-used order).
    let header = '';
    for (let i = 0; i < sent.length; i++) {
      const c = sent[i]!;
      header += (i === 0 ? '' : '; ') + serialize(c);
      store.touch(c, now);
    }
    // Built now: the session reads every verdict for its trace (prepare), so building them on first
    // read instead saved nothing on a session's requests. `Verdict` builds its cookie copy and detail
    // line when read, from what it captured here.
    const verdicts = this.#verdicts(sent, withheld, reasons, u, req, now, context, true);
    // An expired cookie is reported once, then removed.
    for (let i = 0; i < withheld.length; i++) if (reasons[i] === 'expired') store.remove(withheld[i]!);
    const result: { header: string; verdicts: CookieVerdict[]; omitted?: number } = { header, verdicts };
    if (omitted > 0) result.omitted = omitted;
    return result;
  }

  /**
   * `candidates` split by §5.8.3: the sent ones in header order (step 2), the withheld ones with
   * their reasons (`sortBySeq` puts them in creation order). The first `chainCount` candidates are of the host's domain
   * chain and judged by `sendReason`; the rest are of domains off the chain, which never
   * domain-match the host, so their reason is `expired` or `domain-mismatch` without asking.
   */
  #judge(candidates: readonly StoredCookie[], chainCount: number, req: RequestFacts, now: number): { sent: StoredCookie[]; withheld: StoredCookie[]; reasons: CookieSendReason[] } {
    const sent: StoredCookie[] = [];
    const withheld: StoredCookie[] = [];
    const reasons: CookieSendReason[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (i < chainCount) {
        const reason = sendReason(c, req, now);
        if (reason === 'match') sent.push(c);
        else {
          withheld.push(c);
          reasons.push(reason);
        }
      } else {
        const expires = c.expires;
        withheld.push(c);
        reasons.push(expires !== null && expires <= now ? 'expired' : 'domain-mismatch');
      }
    }
    sortByHeaderOrder(sent);
    return { sent, withheld, reasons };
  }

  /**
   * A verdict for each cookie judged by `#judge`, sent first; each with the facts for a person,
   * built when read (`Verdict`). `touched`: the sent cookies were just used at `now`.
   */
  #verdicts(
    sent: readonly StoredCookie[],
    withheld: readonly StoredCookie[],
    reasons: readonly CookieSendReason[],
    u: URL,
    req: RequestFacts,
    now: number,
    context: CookieContext,
    touched: boolean,
  ): CookieVerdict[] {
    let initiatorSite: string | undefined;
    let targetSite: string | undefined;
    if (context.initiator !== undefined) {
      initiatorSite = schemefulSite(toUrl(context.initiator, 'evaluate'));
      targetSite = schemefulSite(u);
    }
    const method = context.method?.toUpperCase();
    const verdicts: CookieVerdict[] = [];
    for (let i = 0; i < sent.length; i++) {
      const c = sent[i]!;
      const v = new Verdict(c, true, 'match', req, now, touched ? now : c.lastAccess);
      const note = sameSiteNote(c, targetSite, initiatorSite, method);
      if (note !== undefined) v.sameSiteNote = note;
      verdicts.push(v);
    }
    for (let i = 0; i < withheld.length; i++) {
      const c = withheld[i]!;
      const v = new Verdict(c, false, reasons[i]!, req, now, c.lastAccess);
      const note = sameSiteNote(c, targetSite, initiatorSite, method);
      if (note !== undefined) v.sameSiteNote = note;
      verdicts.push(v);
    }
    return verdicts;
  }

  /**
   * Every cookie in the jar with its verdict for `url`: the ones that would be sent first (in header
   * order), then the rest in creation order. A diagnostic: it changes nothing (no last-access update,
   * no sweeping of expired cookies).
   */
  explain(url: string | URL, context: CookieContext = {}): CookieVerdict[] {
    const u = toUrl(url, 'explain');
    const req = this.#facts(u);
    const now = this.#now();
    const all = this.#store.all();
    const { sent, withheld, reasons } = this.#judge(all, all.length, req, now);
    sortBySeq(withheld, reasons);
    return this.#verdicts(sent, withheld, reasons, u, req, now, context, false);
  }

  // ---- tooling and persistence -------------------------------------------------------------

  /** A snapshot of the cookies that have not expired, in creation order (copies; changing them changes nothing). */
  cookies(): Cookie[] {
    const now = this.#now();
    return this.#store
      .all()
      .filter((c) => !isExpired(c, now))
      .sort(bySeq)
      .map(snapshot);
  }

  /** Remove every cookie. */
  clear(): void {
    this.#store.clear();
  }

  toJSON(): CookieJarJSON {
    return cookiesToJSON(this.cookies());
  }

  /**
   * curl's cookies.txt format. SameSite and creation/last-access times are not part of it. A cookie
   * the format cannot hold as it is (a TAB or line break in its name or path, a line break in its
   * value: see `netscapeProblem`) is left out, and given to `onRefused` as `unrepresentable`.
   */
  toNetscape(options: { onRefused?: OnRefused } = {}): string {
    return cookiesToNetscape(this.cookies(), options.onRefused);
  }

  /**
   * A jar from `toJSON()` output (the object or its JSON text). Data that is not a cookie list
   * throws `ERR_INVALID_OPTION` naming the bad entry. Each cookie then goes through the rules of a
   * Set-Cookie line (`cookieFromFile`); one they refuse, or one that has expired, is not loaded and
   * is given to `options.onRefused` with its reason. Limits apply.
   */
  static fromJSON(data: unknown, options: CookieLoadOptions = {}): CookieJar {
    const { onRefused, ...jarOptions } = options;
    const jar = new CookieJar(jarOptions);
    jar.#load(cookiesFromJSON(data, jar.#now()), onRefused);
    return jar;
  }

  /**
   * A jar from cookies.txt text (curl `-c`, `#HttpOnly_` lines included). A line that is not a
   * cookie is skipped, as curl does, and given to `options.onRefused` as `malformed`; the cookies
   * go through the Set-Cookie rules as in `fromJSON`.
   */
  static fromNetscape(text: string, options: CookieLoadOptions = {}): CookieJar {
    if (typeof text !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'CookieJar.fromNetscape expects a string');
    const { onRefused, ...jarOptions } = options;
    const jar = new CookieJar(jarOptions);
    jar.#load(cookiesFromNetscape(text, jar.#now()), onRefused);
    return jar;
  }

  #load(loaded: LoadedCookie[], onRefused: OnRefused | undefined): void {
    const now = this.#now();
    const store = this.#store;
    const cookies: { c: Cookie; i: number }[] = [];
    for (let i = 0; i < loaded.length; i++) {
      const entry = loaded[i]!;
      if (entry.refusal !== undefined) {
        onRefused?.(entry.refusal);
        continue;
      }
      const { cookie, where } = entry;
      const c = cookieFromFile(cookie, now);
      if (isRejection(c)) onRefused?.({ where, name: cookie.name, domain: cookie.domain, reason: c.reason, detail: c.detail });
      else cookies.push({ c, i });
    }
    // Creation order decides header order among equal paths, so load oldest first (stable for ties).
    cookies.sort((a, b) => a.c.creation - b.c.creation || a.i - b.i);
    for (const { c } of cookies) {
      const old = store.find(c.domain, c.name, c.path, c.hostOnly);
      if (old !== undefined) store.remove(old);
      this.#enforceLimits(store.put(c, ++this.#seq, this.#siteOf(c.domain)), now);
    }
  }

  /**
   * Write the jar to `path` atomically (a temp file in the same directory, then rename), mode 0600.
   * `format` defaults to `'json'`, which keeps everything; `'netscape'` is what curl reads with `-b`.
   */
  async saveToFile(path: string, options: { format?: CookieFileFormat; onRefused?: OnRefused } = {}): Promise<void> {
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'netscape') {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', `saveToFile format must be "json" or "netscape"`);
    }
    const text = format === 'json' ? `${JSON.stringify(this.toJSON(), null, 2)}\n` : this.toNetscape({ onRefused: options.onRefused });
    await writeFileAtomic(path, text);
  }

  /**
   * Load a file written by `saveToFile` or by `curl -c`; the format is detected from the content.
   * What is refused is given to `options.onRefused`, as for `fromJSON` and `fromNetscape`.
   */
  static async loadFromFile(path: string, options: CookieLoadOptions = {}): Promise<CookieJar> {
    const text = await readFile(path, 'utf8');
    return detectFormat(text) === 'json' ? CookieJar.fromJSON(text, options) : CookieJar.fromNetscape(text, options);
  }
}
