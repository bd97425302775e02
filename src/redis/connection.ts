/**
 * One Redis connection for a store: the `redis` package (node-redis, an optional peer dependency,
 * imported only when a store makes its own client), or a client the caller already has (node-redis
 * or ioredis). Every command is bounded in time, and every failure is `ERR_STORE`: a store that
 * cannot answer says so, it never answers "no cookies".
 */
import { HopwiseError, HopwiseOptionError } from '../errors.js';
import type { Script } from './scripts.js';

/** A node-redis client (`createClient()` of the `redis` package) or an ioredis client. */
export type RedisClientLike = { sendCommand(args: string[]): Promise<unknown> } | { call(command: string, ...args: string[]): Promise<unknown> };

export interface ConnectionOptions {
  url?: string | undefined;
  client?: unknown;
  /** Most ms one command may take (connecting included) before it fails with ERR_STORE. */
  timeoutMs: number;
  /** 'RedisCookieStore' or 'sharedToken', for messages. */
  what: string;
}

/** The Redis server as a message may name it: host and port, never a password. */
function describe(url: string | undefined): string {
  if (url === undefined) return 'Redis';
  try {
    const u = new URL(url);
    return `Redis at ${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'Redis';
  }
}

type Sender = (args: string[]) => Promise<unknown>;
/** The events side of a client given (node-redis and ioredis are EventEmitters). */
type Emitter = { on?: (e: string, f: () => void) => unknown; off?: (e: string, f: () => void) => unknown; removeListener?: (e: string, f: () => void) => unknown };

export class Connection {
  readonly #what: string;
  readonly #timeoutMs: number;
  readonly #where: string;
  readonly #url: string | undefined;
  /** The client hopwise made (and closes), once connecting started. */
  #own: { quit?: () => Promise<unknown>; destroy?: () => void; close?: () => Promise<unknown>; isReady?: boolean } | undefined;
  #send: Promise<Sender> | undefined;
  #closed = false;
  /** The last connection error the client reported, for the message of a command that then fails. */
  #lastError: unknown;
  /**
   * Counts the client's connections ('ready' events): a reconnect may reach another server (a
   * failover), so what a cache learned over an earlier connection is checked again in full.
   */
  generation = 0;
  #given: Emitter | undefined;
  readonly #onReady = (): void => void this.generation++;

  constructor(o: ConnectionOptions) {
    this.#what = o.what;
    this.#timeoutMs = o.timeoutMs;
    this.#url = o.url;
    this.#where = describe(o.url);
    if (o.client !== undefined) {
      const c = o.client as { sendCommand?: unknown; call?: unknown; isOpen?: boolean; connect?: () => Promise<unknown> };
      if (typeof c !== 'object' || c === null || (typeof c.sendCommand !== 'function' && typeof c.call !== 'function')) {
        throw new HopwiseOptionError('ERR_INVALID_OPTION', `${o.what}: client must be a node-redis client (createClient() of the redis package) or an ioredis client`);
      }
      const send: Sender =
        typeof c.sendCommand === 'function'
          ? (args) => (c as { sendCommand(a: string[]): Promise<unknown> }).sendCommand(args)
          : (args) => (c as { call(cmd: string, ...a: string[]): Promise<unknown> }).call(args[0]!, ...args.slice(1));
      // A node-redis client must be connected; one the caller has not connected yet is connected here.
      // Both node-redis and ioredis say 'ready' on every (re)connect.
      this.#given = c as Emitter;
      if (typeof this.#given?.on === 'function') this.#given.on('ready', this.#onReady);
      const ready = c.isOpen === false && typeof c.connect === 'function' ? c.connect().then(() => send) : Promise.resolve(send);
      ready.catch(() => {});
      this.#send = ready;
    }
  }

  #connect(): Promise<Sender> {
    return (this.#send ??= (async () => {
      let mod: { createClient: (o: unknown) => unknown };
      try {
        mod = (await import('redis')) as unknown as typeof mod;
      } catch (err) {
        throw new HopwiseError('ERR_STORE', `${this.#what} needs the redis package (npm install redis), or a client of your own in the client option.`, { cause: err });
      }
      // close() while the redis package was loading: no client is made (it would stay connected for
      // good, keeping the process alive, with nobody left to close it).
      if (this.#closed) throw this.#closedError('connecting to Redis');
      const client = mod.createClient({
        url: this.#url,
        // A command while disconnected fails at once (ERR_STORE) instead of waiting for a reconnect.
        disableOfflineQueue: true,
        socket: { connectTimeout: this.#timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
      }) as {
        on(e: string, f: (err: unknown) => void): void;
        connect(): Promise<unknown>;
        sendCommand(a: string[]): Promise<unknown>;
        quit?: () => Promise<unknown>;
        destroy?: () => void;
        close?: () => Promise<unknown>;
      };
      // Connection errors are reported by the commands that fail; the client reconnects by itself.
      client.on('error', (err) => void (this.#lastError = err));
      client.on('ready', this.#onReady);
      this.#own = client;
      await client.connect();
      // close() while connecting found no connection to close yet: this one is closed here.
      if (this.#closed) {
        client.destroy?.();
        throw this.#closedError('connecting to Redis');
      }
      return (args: string[]) => client.sendCommand(args);
    })());
  }

  #closedError(doing: string): HopwiseError {
    return new HopwiseError('ERR_STORE', `${this.#what} was closed; ${doing} needs it open.`);
  }

  /** One command, within `timeoutMs`; a failure of any kind is ERR_STORE naming `doing`. */
  async command(args: string[], doing: string): Promise<unknown> {
    if (this.#closed) throw this.#closedError(doing);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HopwiseError('ERR_STORE', `${this.#where} did not answer within ${this.#timeoutMs} ms while ${doing}.`, { cause: this.#lastError })), this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#connect().then((send) => send(args)), timeout]);
    } catch (err) {
      if (err instanceof HopwiseError) throw err;
      throw new HopwiseError('ERR_STORE', `${this.#where} failed while ${doing}: ${messageOf(err)}.`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run a script by its SHA1, loading it on a server that does not have it yet (NOSCRIPT). */
  async eval(s: Script, keys: readonly string[], args: readonly string[], doing: string): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(['EVALSHA', s.sha, ...tail], doing);
    } catch (err) {
      if (!/NOSCRIPT/.test(messageOf((err as { cause?: unknown }).cause ?? err))) throw err;
      return await this.command(['EVAL', s.source, ...tail], doing);
    }
  }

  /** Close the client hopwise made; a client given in `client` is the caller's to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const given = this.#given;
    if (given) (given.off ?? given.removeListener)?.call(given, 'ready', this.#onReady);
    const own = this.#own;
    if (!own) return;
    // A client that is not connected (Redis down, reconnecting) is stopped at once; a connected one
    // finishes its commands first, for at most timeoutMs.
    if (own.isReady === false) return void own.destroy?.();
    let timer: NodeJS.Timeout | undefined;
    try {
      const graceful = typeof own.close === 'function' ? own.close() : typeof own.quit === 'function' ? own.quit() : Promise.resolve();
      await Promise.race([graceful, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('close timed out')), this.#timeoutMs)))]);
    } catch {
      own.destroy?.();
    } finally {
      clearTimeout(timer);
    }
  }
}

function messageOf(err: unknown): string {
  const m = (err as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m.replace(/\s+/g, ' ').slice(0, 200) : String(err);
}
