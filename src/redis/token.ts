/**
 * `sharedToken`: a token source for `bearer(fn)` whose refresh is single-flight across every process
 * that names the same key.
 *
 * - A token is fetched by one process at a time: it takes a short lock in Redis (SET NX PX with a
 *   random fencing value), fetches, and stores the token only if it still holds the lock (a script,
 *   scripts.ts): a holder whose lock expired mid-fetch cannot overwrite the token of the one that
 *   took over. The others wait for the token to appear instead of fetching their own, for at most
 *   `waitMs`; if the lock holder dies (its lock expires with no token stored) they fail with
 *   ERR_STORE rather than wait for ever.
 * - Tokens carry a generation number. A request's 401 asks for a refresh: if the shared token is
 *   already newer than any token this process handed out before (another process, or another
 *   request of this one, refreshed in the meantime), that token is used and nothing is fetched.
 * - Within one process, concurrent callers share one look-up (one round trip, one wait).
 * - A token is used until `ttlMs` after it was fetched, then fetched again (Redis drops it then too).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthContext } from '../credentials/auth.js';
import { HopwiseError, HopwiseOptionError } from '../errors.js';
import { Connection, type RedisClientLike } from './connection.js';
import { TOKEN_STORE, TOKEN_UNLOCK } from './scripts.js';

export interface SharedTokenOptions {
  /** `redis://...`; default `redis://127.0.0.1:6379`. Needs the `redis` package. */
  url?: string;
  /** A connected client of your own (node-redis or ioredis) instead of `url`; `close()` leaves it open. */
  client?: RedisClientLike;
  /** The token's name in Redis: processes that give the same key share the token. */
  key: string;
  /** How long a fetched token is used, in ms (set it a little under the token's real lifetime). */
  ttlMs: number;
  /** Fetch a new token (an OAuth client-credentials call, a login...). Only the lock holder calls it. */
  fetch: (ctx: { refresh: boolean }) => string | Promise<string>;
  /** How long the refresh lock lasts: the most a `fetch` may take. Default 10,000 ms. */
  lockMs?: number;
  /** How long a process waits for another's refresh before ERR_STORE. Default `lockMs` + 1,000 ms. */
  waitMs?: number;
  /** Most ms one Redis command may take. Default 5,000. */
  timeoutMs?: number;
}

/** A token function for `bearer()`, with `close()` to release its Redis client. */
export interface SharedToken {
  (ctx: AuthContext): Promise<string>;
  close(): Promise<void>;
}

interface Token {
  generation: number;
  expires: number;
  value: string;
}

const KNOWN = new Set(['url', 'client', 'key', 'ttlMs', 'fetch', 'lockMs', 'waitMs', 'timeoutMs']);
const POLL_MS = 10;

function positive(name: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new HopwiseOptionError('ERR_INVALID_OPTION', `sharedToken: ${name} must be a positive number of ms`);
  return v;
}

function parse(raw: unknown): Token | undefined {
  if (typeof raw !== 'string') return undefined;
  const a = raw.indexOf(':');
  const b = raw.indexOf(':', a + 1);
  if (a < 0 || b < 0) return undefined;
  return { generation: Number(raw.slice(0, a)), expires: Number(raw.slice(a + 1, b)), value: raw.slice(b + 1) };
}

export function sharedToken(options: SharedTokenOptions): SharedToken {
  if (typeof options !== 'object' || options === null) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'sharedToken needs options: { key, ttlMs, fetch, url? | client? }');
  for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw new HopwiseOptionError('ERR_UNKNOWN_OPTION', `sharedToken: unknown option ${k}`);
  const { key, url, client, fetch } = options;
  if (typeof key !== 'string' || key === '') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'sharedToken: key must be a non-empty string');
  if (typeof fetch !== 'function') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'sharedToken: fetch must be a function returning the new token');
  if (url !== undefined && client !== undefined) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'sharedToken: give url or client, not both');
  const ttlMs = positive('ttlMs', options.ttlMs);
  const lockMs = positive('lockMs', options.lockMs, 10_000);
  const waitMs = positive('waitMs', options.waitMs, lockMs + 1000);
  const timeoutMs = positive('timeoutMs', options.timeoutMs, 5000);
  const conn = new Connection({ url: url ?? (client === undefined ? 'redis://127.0.0.1:6379' : undefined), client, timeoutMs, what: 'sharedToken' });
  const base = `hopwise:token:{${key}}`;
  const keys = { token: base, lock: `${base}:lock`, generation: `${base}:gen` };

  /** The token this process knows, and the newest generation it handed to a request (not a refresh). */
  let known: Token | undefined;
  let handedOut = 0;
  let inflight: Promise<Token> | undefined;

  const read = async (): Promise<Token | undefined> => parse(await conn.command(['GET', keys.token], `reading the shared token ${key}`));

  /** A token newer than generation `after` (any token when undefined): Redis's, or one this process fetches under the lock, or one another process fetches. */
  async function obtain(after: number | undefined, refresh: boolean): Promise<Token> {
    const newer = (t: Token | undefined): t is Token => t !== undefined && (after === undefined || t.generation > after) && t.expires > Date.now();
    const t0 = await read();
    if (newer(t0)) return t0;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const fence = randomUUID();
      const locked = await conn.command(['SET', keys.lock, fence, 'NX', 'PX', String(lockMs)], `locking the refresh of the shared token ${key}`);
      if (locked === 'OK') {
        // The previous holder may have stored a token between the read above and the lock.
        const t1 = await read().catch(async (err: unknown) => {
          await conn.eval(TOKEN_UNLOCK, [keys.lock], [fence], `unlocking the shared token ${key}`).catch(() => {});
          throw err;
        });
        if (newer(t1)) {
          await conn.eval(TOKEN_UNLOCK, [keys.lock], [fence], `unlocking the shared token ${key}`).catch(() => {});
          return t1;
        }
        let value: string;
        try {
          value = await fetch({ refresh });
        } catch (err) {
          await conn.eval(TOKEN_UNLOCK, [keys.lock], [fence], `unlocking the shared token ${key}`).catch(() => {});
          throw err;
        }
        if (typeof value !== 'string' || value === '') {
          await conn.eval(TOKEN_UNLOCK, [keys.lock], [fence], `unlocking the shared token ${key}`).catch(() => {});
          throw new HopwiseOptionError('ERR_INVALID_OPTION', `sharedToken ${key}: fetch must return a non-empty string`);
        }
        const expires = Date.now() + ttlMs;
        const generation = Number(await conn.eval(TOKEN_STORE, [keys.token, keys.lock, keys.generation], [fence, value, String(ttlMs), String(expires)], `storing the shared token ${key}`));
        if (generation === 0) {
          throw new HopwiseError('ERR_STORE', `sharedToken ${key}: fetching the token took longer than lockMs (${lockMs} ms); the lock passed to another process and this token was not stored.`);
        }
        return { generation, expires, value };
      }
      // Another process is fetching: wait for its token rather than fetch one too.
      for (;;) {
        await sleep(POLL_MS);
        const t = await read();
        if (newer(t)) return t;
        const holder = await conn.command(['EXISTS', keys.lock], `waiting for the shared token ${key}`);
        if (holder === 0 || holder === '0') {
          const again = await read();
          if (newer(again)) return again;
          throw new HopwiseError('ERR_STORE', `sharedToken ${key}: the process refreshing the token stopped (its lock ended) without storing a token; its fetch failed or the process died.`);
        }
        if (Date.now() > deadline) throw new HopwiseError('ERR_STORE', `sharedToken ${key}: waited ${waitMs} ms (waitMs) for another process to refresh the token.`);
      }
    }
  }

  /** One look-up at a time per process: concurrent callers share it, then check it answers them. */
  async function token(after: number | undefined, refresh: boolean): Promise<Token> {
    for (;;) {
      const shared = inflight;
      if (shared) {
        const t = await shared.catch(() => undefined);
        if (t && (after === undefined || t.generation > after)) return t;
        if (!t) return await shared; // the same failure, for every caller that waited on it
        continue;
      }
      const p = obtain(after, refresh).finally(() => {
        if (inflight === p) inflight = undefined;
      });
      inflight = p;
      const t = await p;
      known = t;
      return t;
    }
  }

  const source = (async (ctx: AuthContext): Promise<string> => {
    if (ctx?.refresh) {
      // The request's token was at most the newest handed out: any newer one answers the 401.
      const t = await token(handedOut, true);
      return t.value;
    }
    let t = known;
    if (t === undefined || t.expires <= Date.now()) t = await token(undefined, false);
    if (t.generation > handedOut) handedOut = t.generation;
    return t.value;
  }) as SharedToken;
  source.close = () => conn.close();
  return source;
}
