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
 * - A Set-Cookie is decided against the cache at once and queued; the next round trip writes every
 *   line queued, by one script that applies them only if the namespace is still at the version (or
 *   shape) they were decided against; if another process wrote first, the reply carries the new
 *   namespace, the lines are decided again, in order, against it, and written again. A chain's lines
 *   (`batch()`) are written together before its response is delivered (`flush()`, which answers with
 *   the final decisions); `setCookie` resolves once its line is written. So a response is never
 *   handed on before its cookies are in Redis, and a request any worker starts after that sees them
 *   (read-your-writes). One round trip is in the air at a time: a line given meanwhile is decided
 *   once its reply is in, and goes with the next one.
 * - Expiry is the rules' (a cookie past its expiry is never sent), and Redis drops cookies dead for
 *   longer than a grace period by its own clock, so a namespace does not fill with dead cookies.
 * - When Redis fails or does not answer within `timeoutMs`, the call rejects with `ERR_STORE`, and
 *   the cache is no longer trusted: the next call reloads it. A write that failed may or may not have
 *   been applied; it is never reported as done.
 */
import { randomUUID } from 'node:crypto';
import { CookieJar, type CookieJarOptions } from '../cookies/jar.js';
import type { Cookie, CookieBatch, CookieContext, CookieEvaluation, CookieStore, CookieVerdict, SetCookieResult } from '../cookies/types.js';
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

/** A Set-Cookie line decided against the cache and queued, until a round trip has written it ('done') or failed ('failed'). */
interface Line {
  line: string;
  url: string | URL;
  /** The decision as it stands: the first, or the one made again after another process wrote first. */
  result: SetCookieResult | Error;
  /** The first decision (what the chain went on with), once the line was decided again. */
  first?: SetCookieResult | Error;
  state: 'pending' | 'done' | 'failed';
  error?: unknown;
}

/** A line's result as its caller gets it. */
function outcome(l: Line): SetCookieResult {
  if (l.result instanceof Error) throw l.result;
  return l.result;
}

/** Two decisions of one line with the same outcome (the details may differ in a time they name). */
function sameOutcome(a: SetCookieResult, b: SetCookieResult): boolean {
  if (a.stored !== b.stored || a.reason !== b.reason) return false;
  const aside = (r: SetCookieResult): string => JSON.stringify(r.stored ? (r.evicted ?? []) : (r.deleted ?? null));
  return aside(a) === aside(b);
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
  /** Lines decided in the cache, not yet sent to Redis (in the order they were decided). */
  #pending: Line[] = [];
  /** Set while a round trip is in the air: nothing is decided against the cache until its reply is in. */
  #inflight: Promise<void> | undefined;
  /** A round trip about to be sent: calls made meanwhile join it. */
  #scheduled: Promise<void> | undefined;
  /** The round trip about to be sent must ask whether the namespace moved, even with nothing to write. */
  #check = false;
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
    while (this.#inflight) await this.#inflight;
    if (since === undefined || this.#state === '?' || this.#checkedAt < since) await this.#fresh('looking up the cookies for a request');
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

  /** The cache made current: one round trip (with whatever is queued), a rebuild only if the namespace moved. */
  async #fresh(doing: string): Promise<void> {
    await this.#sync(doing, true);
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Store one Set-Cookie line: decided by the jar's rules against the namespace, resolved once Redis
   * holds the result (or rejected with ERR_STORE, when it may or may not). Lines given together
   * (in the same turn of the event loop) go in one round trip.
   */
  async setCookie(setCookieLine: string, url: string | URL): Promise<SetCookieResult> {
    const l = this.#inflight ? await this.#decideWhenIdle(setCookieLine, url) : this.#decide(setCookieLine, url);
    await this.#settle([l], 'storing a cookie');
    return outcome(l);
  }

  /**
   * The writes of one request chain (what the session uses, `CookieStore.batch`): each line is
   * decided at once against the cache, so the chain's next hops send what it stored (its own writes
   * are visible to itself), and queued; `flush()`, before the response is delivered, writes every
   * line queued in one round trip. When another process wrote first, the lines are decided again,
   * in order, against the namespace as Redis holds it, and `flush()` answers with those final
   * results (and the first decision, where the outcome changed): what the trace records is what
   * Redis holds. A line decided while a round trip is in the air waits for it (its reply may change
   * the cache): then `setCookie` answers with a promise.
   */
  batch(): CookieBatch {
    const lines: Line[] = [];
    /** Lines waiting for a round trip to be over before they are decided. */
    const deciding: Promise<unknown>[] = [];
    return {
      setCookie: (line, url) => {
        if (this.#inflight) {
          const decided = this.#decideWhenIdle(line, url).then((l) => {
            lines.push(l);
            return outcome(l);
          });
          deciding.push(decided.then(undefined, () => {}));
          return decided;
        }
        const l = this.#decide(line, url);
        lines.push(l);
        return l.result instanceof Error ? Promise.reject(l.result) : l.result;
      },
      flush: async () => {
        // A chain that ended (aborted, timed out) while a line of its waited to be decided flushes
        // without waiting for it: that line is written with the others, not left queued in this
        // process (its cache would send a cookie no other worker sees, until some later round trip).
        await Promise.all(deciding);
        await this.#settle(lines, 'storing the cookies of a request');
        return lines.map((l) => {
          const result = outcome(l);
          return l.first !== undefined && !(l.first instanceof Error) && !sameOutcome(l.first, result) ? { result, first: l.first } : { result };
        });
      },
    };
  }

  /** Decide a line against the cache now (no round trip may be in the air): its changes go in the journal, the line in the queue. */
  #decide(line: string, url: string | URL): Line {
    const result = this.#judge(line, url);
    const l: Line = { line, url, result, state: result instanceof Error ? 'done' : 'pending' };
    if (l.state === 'pending') this.#pending.push(l);
    return l;
  }

  async #decideWhenIdle(line: string, url: string | URL): Promise<Line> {
    while (this.#inflight) await this.#inflight;
    return this.#decide(line, url);
  }

  /** Until Redis has taken every line given (or failed): round trips as needed, shared with whatever else is queued. */
  async #settle(lines: readonly Line[], doing: string): Promise<void> {
    while (lines.some((l) => l.state === 'pending')) {
      try {
        await this.#sync(doing, false);
      } catch {
        // Whether these lines were in the round trip that failed is in their state.
      }
    }
    const failed = lines.find((l) => l.state === 'failed');
    if (failed) throw failed.error;
  }

  /**
   * One round trip (more only after a conflict) that sends everything queued: the lines decided so
   * far, the uses, and, for a `check`, asks whether the namespace moved. Calls made before it is sent
   * join it; one made while a round trip is in the air starts after it.
   */
  #sync(doing: string, check: boolean): Promise<void> {
    if (check) this.#check = true;
    return (this.#scheduled ??= this.#run(doing));
  }

  async #run(doing: string): Promise<void> {
    // Lines decided in this turn of the event loop go along.
    await null;
    while (this.#inflight) await this.#inflight;
    this.#scheduled = undefined;
    const lines = this.#pending;
    this.#pending = [];
    const check = this.#check;
    this.#check = false;
    await this.#exclusive(async () => {
      try {
        await this.#write(lines, check, doing);
        for (const l of lines) l.state = 'done';
      } catch (err) {
        // The cache holds decisions Redis may not have taken.
        this.#distrust();
        for (const l of lines) {
          l.state = 'failed';
          l.error = err;
        }
        throw err;
      }
    });
  }

  /** `fn` with no other round trip in the air (the caller checked there is none), and no line decided meanwhile. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    let settle!: () => void;
    // Never rejects: waiters only wait for the round trip to be over.
    this.#inflight = new Promise<void>((r) => (settle = r));
    try {
      return await fn();
    } finally {
      this.#inflight = undefined;
      settle();
    }
  }

  /** Write the lines decided (decided again against the namespace, in order, when another process wrote first). */
  async #write(lines: readonly Line[], check: boolean, doing: string): Promise<void> {
    const cache = this.#cache;
    for (let attempt = 1; ; attempt++) {
      // Nothing to write, nothing the jar's content decided, and no question: no round trip.
      const decided = lines.some((l) => !(l.result instanceof Error) && dependsOnJar(l.result));
      if (!check && this.#state !== '?' && !cache.hasWrites() && !decided) return;
      // A write that deletes nothing commutes with other processes' changes to cookie values: it
      // needs only the namespace's shape (scripts.ts) to be the one it was decided against.
      const answer = await this.#roundTrip(lines.length > 0 ? 'storing a cookie' : doing, cache.hasDeletes() ? 'v' : 's');
      const applied = Number(answer.reply[1]) === 1;
      // Applied (on top of changes this cache had not seen, when they came: it holds both), or only a question.
      if (applied || lines.length === 0) {
        this.#apply(answer);
        return;
      }
      // Another process changed the shape first (or the cache was not trusted): the reply brought
      // back every key this write touched as Redis holds it; decide the lines again against that.
      if (this.#state !== '?') this.#stats.conflicts++;
      this.#apply(answer);
      if (attempt === MAX_ATTEMPTS) {
        throw new HopwiseError('ERR_STORE', `RedisCookieStore: the namespace kept changing under ${MAX_ATTEMPTS} attempts to store a cookie; nothing was stored by this call.`);
      }
      check = false;
      for (const l of lines) {
        const before = l.result;
        l.result = this.#judge(l.line, l.url);
        l.first ??= before;
      }
    }
  }

  /** The jar's decision on a line against the cache, its changes written down in the journal (a URL that is not one: the error). */
  #judge(line: string, url: string | URL): SetCookieResult | Error {
    const cache = this.#cache;
    cache.mode = 'write';
    try {
      const result = this.#jar.setCookie(line, url);
      result.store = 'redis';
      return result;
    } catch (err) {
      return err as Error;
    } finally {
      cache.mode = 'read';
    }
  }

  /** Remove every cookie of the namespace, for every process. */
  async clear(): Promise<void> {
    // What is queued is written first (clearing the cache drops its journal).
    for (;;) {
      while (this.#inflight) await this.#inflight;
      if (this.#pending.length === 0 && this.#scheduled === undefined) break;
      await this.#sync('storing a cookie', false).catch(() => {});
    }
    this.#cache.clear();
    this.#cache.ops.push(['C']);
    this.#distrust();
    await this.#exclusive(async () => this.#apply(await this.#roundTrip('clearing the cookies')));
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
