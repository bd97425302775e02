/**
 * `RedisCookieStore`: one cookie jar shared by every process that names the same namespace.
 *
 * The jar's rules decide (src/cookies/jar.ts over rules.ts, the same code as the in-memory jar);
 * Redis only stores. Each process keeps the namespace in a local cache (cache.ts), a `CookieJar`
 * over a store that writes down what the jar changes:
 *
 * - A request (`evaluate`) costs one round trip: a script that answers "unchanged" (a few bytes)
 *   when the namespace's version is the one the cache holds or, when it moved, the cookies that
 *   changed since the cache was last current (a change feed: the cache is patched, not rebuilt; the
 *   whole namespace comes only when Redis cannot tell, say after a failover). The cookies it sends
 *   are marked used in Redis on the next round trip.
 * - A Set-Cookie (`setCookie`) is decided against the cache, then written by one script that
 *   applies it only if the namespace is still at that version; if another process wrote first, the
 *   reply carries the new namespace, the line is decided again against it, and written again. The
 *   promise resolves once Redis has applied the write: a response is never handed on before its
 *   cookies are in Redis, so a request any worker starts after that sees them (read-your-writes).
 *   Lines waiting while a write is in flight go together in the next one.
 * - Expiry is the rules' (a cookie past its expiry is never sent), and Redis drops cookies dead for
 *   longer than a grace period by its own clock, so a namespace does not fill with dead cookies.
 * - When Redis fails or does not answer within `timeoutMs`, the call rejects with `ERR_STORE`, and
 *   the cache is no longer trusted: the next call reloads it. A write that failed may or may not have
 *   been applied; it is never reported as done.
 */
import { randomUUID } from 'node:crypto';
import { CookieJar, type CookieJarOptions } from '../cookies/jar.js';
import type { Cookie, CookieContext, CookieEvaluation, CookieStore, CookieVerdict, SetCookieResult } from '../cookies/types.js';
import { HopwiseError, HopwiseOptionError } from '../errors.js';
import { decode, JournalStore, type Loaded } from './cache.js';
import { Connection, type RedisClientLike } from './connection.js';
import { NAMESPACE } from './scripts.js';

export interface RedisCookieStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`); default `redis://127.0.0.1:6379`. Needs the `redis` package. */
  url?: string;
  /** A connected client of your own (node-redis or ioredis) instead of `url`; `close()` leaves it open. */
  client?: RedisClientLike;
  /** The session's name: processes that give the same namespace (and Redis) share one jar. */
  namespace: string;
  /** Most ms one Redis round trip may take before the call fails with ERR_STORE. Default 5,000. */
  timeoutMs?: number;
  /** The jar's limits, as for `CookieJar` (every process of a namespace should give the same). */
  maxCookiesPerDomain?: CookieJarOptions['maxCookiesPerDomain'];
  maxCookies?: CookieJarOptions['maxCookies'];
  /** The clock, ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
}

/** What a store has done so far: round trips to Redis, cache rebuilds, cache refreshes, and write conflicts retried. */
export interface RedisCookieStoreStats {
  roundTrips: number;
  /** The cache rebuilt from the whole namespace (its first look, or when Redis could not say what changed). */
  reloads: number;
  /** The cache brought up to date with only what other processes changed (the change feed). */
  refreshes: number;
  conflicts: number;
}

/** How long Redis keeps a cookie past its expiry (by Redis's clock) before dropping it: covers clock skew between workers. */
const EXPIRY_GRACE_MS = 5 * 60_000;
/** Write attempts before giving up when other processes keep writing first. */
const MAX_ATTEMPTS = 20;

const KNOWN = new Set(['url', 'client', 'namespace', 'timeoutMs', 'maxCookiesPerDomain', 'maxCookies', 'now']);

interface Waiting {
  line: string;
  url: string | URL;
  resolve: (r: SetCookieResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The state after the round trip and whether its writes applied (1/0); when the cache was not
 * current, the creation-order counter, the change counter, and what changed ('d': live cookies as
 * field, counter, record, last access; removed fields) or the whole namespace ('f': HGETALL jar,
 * records and last accesses; the live fields with their counters, in use order). See scripts.ts.
 */
type Reply = [string, number] | [string, number, string, string, 'd', string[], string[]] | [string, number, string, string, 'f', string[], string[]];

/** A reply, `performance.now()` when its round trip was sent (once applied, the cache is current as of then), and over which connection. */
interface Answer {
  reply: Reply;
  sentAt: number;
  generation: number;
}

/** A Set-Cookie refused because of what the jar holds: checked against Redis before it is reported. */
function dependsOnJar(r: SetCookieResult): boolean {
  return !r.stored && (r.reason === 'overwrite-secure' || r.reason === 'expired');
}

export class RedisCookieStore implements CookieStore {
  readonly namespace: string;
  readonly #conn: Connection;
  readonly #keys: string[];
  readonly #cache = new JournalStore();
  readonly #jar: CookieJar;
  readonly #now: () => number;
  /** Names the namespace if this process is the one that creates it (a namespace recreated is a new epoch). */
  readonly #epoch = randomUUID();
  /** The namespace state (`epoch:version:shape`) the cache holds; '?' when it holds none it can trust. */
  #state = '?';
  /** Set while a write decided in the cache waits for Redis: a request waits for it to settle. */
  #dirty: Promise<void> | undefined;
  #queue: Waiting[] = [];
  #writing = false;
  #stats: RedisCookieStoreStats = { roundTrips: 0, reloads: 0, refreshes: 0, conflicts: 0 };
  /** The namespace's change counter the cache is current to, and the epoch it counts in (-1, '': none; the next reply is the whole namespace). */
  #seen = -1;
  #seenEpoch = '';
  /** The connection (`Connection.generation`) the cache was last made current over: after a reconnect, the server may be another one (a failover). */
  #generation = -1;
  /** `performance.now()` when the last round trip that answered was sent: the cache is current as of then. */
  #checkedAt = -Infinity;

  constructor(options: RedisCookieStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore needs options: { namespace, url? | client? }');
    for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw new HopwiseOptionError('ERR_UNKNOWN_OPTION', `RedisCookieStore: unknown option ${k}`);
    const { namespace, url, client, timeoutMs = 5000 } = options;
    if (typeof namespace !== 'string' || namespace === '')
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore: namespace must be a non-empty string (the name of the shared session)');
    if (url !== undefined && typeof url !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore: url must be a redis:// URL string');
    if (url !== undefined && client !== undefined) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore: give url or client, not both');
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore: timeoutMs must be a positive number of ms');
    if (options.now !== undefined && typeof options.now !== 'function') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'RedisCookieStore: now must be a function returning ms since the epoch');
    this.namespace = namespace;
    this.#now = options.now ?? Date.now;
    this.#conn = new Connection({ url: url ?? (client === undefined ? 'redis://127.0.0.1:6379' : undefined), client, timeoutMs, what: 'RedisCookieStore' });
    // One hash tag for the namespace: its keys share a slot, so a script may touch them all (Redis Cluster).
    const base = `hopwise:cookies:{${namespace}}`;
    this.#keys = [`${base}:meta`, `${base}:jar`, `${base}:exp`, `${base}:chg`, `${base}:del`];
    const jarOptions: CookieJarOptions = { store: this.#cache, now: this.#now };
    if (options.maxCookiesPerDomain !== undefined) jarOptions.maxCookiesPerDomain = options.maxCookiesPerDomain;
    if (options.maxCookies !== undefined) jarOptions.maxCookies = options.maxCookies;
    this.#jar = new CookieJar(jarOptions);
  }

  /** Round trips, cache rebuilds and write conflicts so far (what the benchmark reports per hop). */
  get stats(): Readonly<RedisCookieStoreStats> {
    return { ...this.#stats };
  }

  // ---- requests ---------------------------------------------------------------------------

  /**
   * One hop's Cookie header and verdicts, from the namespace as it is now: one round trip, or none
   * when `context.freshSince` (the session's chain start) is older than the last check of the cache.
   */
  async evaluate(url: URL, context?: CookieContext): Promise<CookieEvaluation> {
    // A later hop of a chain: the cache was checked after the chain started, which is all
    // read-your-writes asks (what others store after a request started need not reach it).
    const since = context?.freshSince;
    if (since === undefined || this.#dirty || this.#state === '?' || this.#checkedAt < since) await this.#fresh('looking up the cookies for a request');
    this.#cache.mode = 'read';
    const r = this.#jar.evaluate(url, context);
    for (const v of r.verdicts) v.store = 'redis';
    return r;
  }

  async getCookieString(url: string | URL): Promise<string> {
    await this.#fresh('looking up the cookies for a request');
    this.#cache.mode = 'read';
    return this.#jar.getCookieString(url);
  }

  /** Every cookie of the namespace with its verdict for `url`, as `CookieJar.explain` (changes nothing). */
  async explain(url: string | URL, context?: CookieContext): Promise<CookieVerdict[]> {
    await this.#fresh('explaining the cookies for a request');
    const verdicts = this.#jar.explain(url, context);
    for (const v of verdicts) v.store = 'redis';
    return verdicts;
  }

  /** Every live cookie of the namespace, in creation order (copies). */
  async cookies(): Promise<Cookie[]> {
    await this.#fresh('listing the cookies');
    return this.#jar.cookies();
  }

  /** The cache made current: one round trip, a rebuild only if the namespace moved. */
  async #fresh(doing: string): Promise<void> {
    for (;;) {
      if (this.#dirty) await this.#dirty;
      const answer = await this.#roundTrip(doing);
      // A write decided in the cache after this round trip left: once it settles the cache is at
      // least as new as this reply (same connection, replies in order), unless it failed.
      if (this.#dirty) {
        await this.#dirty;
        if (this.#state !== '?') return;
        continue;
      }
      this.#apply(answer);
      return;
    }
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Store one Set-Cookie line: decided by the jar's rules against the namespace, resolved once Redis
   * holds the result (or rejected with ERR_STORE, when it may or may not).
   */
  setCookie(setCookieLine: string, url: string | URL): Promise<SetCookieResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ line: setCookieLine, url, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      let settle!: () => void;
      this.#dirty = new Promise((r) => (settle = r));
      try {
        const results = await this.#write(batch);
        for (let i = 0; i < batch.length; i++) {
          const r = results[i]!;
          if (r instanceof Error) batch[i]!.reject(r);
          else batch[i]!.resolve(r);
        }
      } catch (err) {
        // The cache holds decisions Redis may not have taken.
        this.#distrust();
        for (const w of batch) w.reject(err);
      } finally {
        this.#dirty = undefined;
        settle();
      }
    }
    this.#writing = false;
  }

  async #write(batch: readonly Waiting[]): Promise<(SetCookieResult | Error)[]> {
    for (let attempt = 1; ; attempt++) {
      const cache = this.#cache;
      cache.mode = 'write';
      const results: (SetCookieResult | Error)[] = [];
      try {
        for (const w of batch) {
          try {
            const r = this.#jar.setCookie(w.line, w.url);
            r.store = 'redis';
            results.push(r);
          } catch (err) {
            results.push(err as Error);
          }
        }
      } finally {
        cache.mode = 'read';
      }
      // Nothing to write and nothing the jar's content decided: no round trip.
      if (this.#state !== '?' && !cache.hasWrites() && !results.some((r) => !(r instanceof Error) && dependsOnJar(r))) return results;
      // A write that deletes nothing commutes with other processes' changes to cookie values: it
      // needs only the namespace's shape (scripts.ts) to be the one it was decided against.
      const answer = await this.#roundTrip('storing a cookie', cache.hasDeletes() ? 'v' : 's');
      const applied = Number(answer.reply[1]) === 1;
      // Applied (on top of changes this cache had not seen, when a snapshot came: it holds both).
      if (applied) {
        this.#apply(answer);
        return results;
      }
      // Another process changed the shape first (or the cache was not trusted): decide again against its result.
      if (this.#state !== '?') this.#stats.conflicts++;
      this.#apply(answer);
      if (attempt === MAX_ATTEMPTS) {
        throw new HopwiseError('ERR_STORE', `RedisCookieStore: the namespace kept changing under ${MAX_ATTEMPTS} attempts to store a cookie; nothing was stored by this call.`);
      }
    }
  }

  /** Remove every cookie of the namespace, for every process. */
  async clear(): Promise<void> {
    while (this.#writing || this.#dirty) await (this.#dirty ?? Promise.resolve());
    this.#cache.clear();
    this.#cache.ops.push(['C']);
    this.#distrust();
    this.#apply(await this.#roundTrip('clearing the cookies'));
  }

  /** Close the Redis client the store made (a `client` given is left open). Later calls fail with ERR_STORE. */
  async close(): Promise<void> {
    await this.#conn.close();
  }

  // ---- the round trip ---------------------------------------------------------------------

  /** The cache no longer matches Redis as far as the store can tell: the next round trip brings the whole namespace. */
  #distrust(): void {
    this.#state = '?';
    this.#seen = -1;
    this.#seenEpoch = '';
  }

  /** Send the cache's operations with the state it holds; the reply says whether that state was current. */
  async #roundTrip(doing: string, condition: 'v' | 's' = 'v'): Promise<Answer> {
    const cache = this.#cache;
    const ops = cache.take();
    // Another connection than the one the cache was made current over may reach another server.
    if (this.#conn.generation !== this.#generation) this.#distrust();
    // "epoch:version:shape" → "epoch:shape".
    const state = this.#state;
    const parts = state.split(':');
    const shape = parts.length === 3 ? `${parts[0]}:${parts[2]}` : state;
    const args: string[] = [state, String(this.#now()), this.#epoch, String(cache.seq), String(EXPIRY_GRACE_MS), shape, condition, String(this.#seen), this.#seenEpoch];
    for (const op of ops) for (const a of op) args.push(a);
    this.#stats.roundTrips++;
    const sentAt = performance.now();
    let reply: unknown;
    try {
      reply = await this.#conn.eval(NAMESPACE, this.#keys, args, `${doing} (namespace ${this.namespace})`);
    } catch (err) {
      // The cache may now differ from Redis (a write that may or may not have been applied).
      this.#distrust();
      throw err;
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || (reply.length !== 2 && reply.length < 7)) {
      this.#distrust();
      throw new HopwiseError('ERR_STORE', `RedisCookieStore: an unexpected reply from Redis while ${doing}.`);
    }
    // The connection the reply came over (a reconnect while the command was out fails it).
    return { reply: reply as Reply, sentAt, generation: this.#conn.generation };
  }

  /** The cache made what the reply says: its state, patched with what changed, or rebuilt from the whole namespace. */
  #apply({ reply, sentAt, generation }: Answer): void {
    this.#checkedAt = sentAt;
    this.#generation = generation;
    if (reply.length === 2) {
      this.#state = reply[0];
      return;
    }
    const [state, , seq, tick] = reply;
    if (reply[4] === 'f') this.#load(reply[5], reply[6], Number(seq));
    else this.#patch(reply[5], reply[6], Number(seq));
    this.#state = state;
    this.#seen = Number(tick);
    this.#seenEpoch = state.slice(0, state.indexOf(':'));
  }

  /** Bring the cache up to date with the cookies that changed (field, counter, record, last access) and the fields removed. */
  #patch(live: string[], gone: string[], seq: number): void {
    const changed: Loaded[] = [];
    const removed = [...gone];
    for (let i = 0; i + 3 < live.length; i += 4) {
      // A counter without a record (not written by these scripts) is a cookie Redis does not hold.
      if (live[i + 2] === '') removed.push(live[i]!);
      else changed.push(decode(live[i + 2]!, live[i + 3], Number(live[i + 1])));
    }
    this.#cache.patch(removed, changed, seq);
    this.#stats.refreshes++;
  }

  /** Rebuild the cache from the whole namespace: records and last accesses (the fields ending in '@'), and the use order. */
  #load(jar: string[], order: string[], seq: number): void {
    const values = new Map<string, string>();
    for (let i = 0; i + 1 < jar.length; i += 2) values.set(jar[i]!, jar[i + 1]!);
    const loaded: Loaded[] = [];
    for (let i = 0; i + 1 < order.length; i += 2) {
      const record = values.get(order[i]!);
      if (record !== undefined) loaded.push(decode(record, values.get(`${order[i]!}@`), Number(order[i + 1])));
    }
    this.#cache.load(loaded, seq);
    this.#stats.reloads++;
  }
}
