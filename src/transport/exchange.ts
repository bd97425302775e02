/**
 * One HTTP exchange on an undici Dispatcher, through `dispatch()` with hopwise's own handler
 * instead of `dispatcher.request()`.
 *
 * Why: `request()` wraps every exchange in an AsyncResource and hands the body over as a Node
 * Readable (undici's BodyReadable), built before anyone asks for it. For the calls a session mostly
 * makes (a small JSON answer read whole, a redirect's body dropped) that machinery cost a third of
 * the CPU of a whole exchange (bench/README.md, "Client CPU per call": a dispatch with a buffering
 * handler ran `/ok` at 0.64x `undici.request`). Here the body arrives into a `BodySource`, which
 * holds the chunks until someone asks: read whole (`whole()`), as a stream (`stream()`, made only
 * then), dropped (`dump()`, `destroy()`). Nothing else changes: undici still does the connection,
 * the parsing, the timeouts (headersTimeout, bodyTimeout) and the back-pressure (a body nobody reads
 * pauses the socket past `HIGH_WATER` bytes, as a Readable would).
 *
 * The handler follows what undici's own RequestHandler does with the signal (an abort before the
 * connection aborts it; an abort later ends the exchange or the body with the signal's reason) and
 * with 1xx answers (`onInfo`).
 */
import { Readable } from 'node:stream';
import { util, type Dispatcher } from 'undici';

export type RawHeaders = Record<string, string | string[] | undefined>;

/** What one exchange answered: the status line, the headers (lower-case names, repeats as arrays) and the body. */
export interface Exchange {
  statusCode: number;
  statusText: string;
  headers: RawHeaders;
  body: BodySource;
}

/** An abort signal as undici takes it (hopwise's HopSignal, or an AbortSignal). */
interface SignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface ExchangeOptions extends Dispatcher.DispatchOptions {
  signal?: SignalLike | undefined;
  /** Called for each 1xx answer before the final one. */
  onInfo?: (() => void) | undefined;
}

/** Bytes held for a body nobody reads yet, before the socket is paused (a Readable's default high-water mark). */
const HIGH_WATER = 64 * 1024;

type Settle = () => void;

const noop = (): void => {};

/**
 * The body of one exchange, as it arrives. Exactly one way of reading it is taken: `whole()`,
 * `stream()`, `dump()` or `destroy()`.
 */
export class BodySource {
  #chunks: Buffer[] = [];
  #size = 0;
  #complete = false;
  #error: unknown = undefined;
  #failed = false;
  #destroyed = false;
  /** Undici's resume, kept while the socket is paused because nobody reads. */
  #paused: (() => void) | undefined;
  #resume: () => void;
  #abort: (reason?: unknown) => void;
  #stream: Readable | undefined;
  /** A `whole()` waiting for the end. */
  #waiter: { resolve: (b: Buffer) => void; reject: (e: unknown) => void } | undefined;
  /** `dump()`: bytes still allowed before the connection is given up, and who waits for the end. */
  #dumping: { left: number; done: () => void } | undefined;
  #onSettled: Settle[] | undefined;
  #settled = false;
  /** The reader is done with it: read whole, its stream closed, dumped, destroyed or failed. */
  #consumed = false;
  #onConsumed: Settle[] | undefined;

  constructor(
    resume: () => void,
    abort: (reason?: unknown) => void,
    /** The Content-Length the answer declared (digits only), if any. */
    readonly declared: number | undefined,
  ) {
    this.#resume = resume;
    this.#abort = abort;
  }

  /** Every byte of the body is in. */
  get arrived(): boolean {
    return this.#complete;
  }

  /** The body ended, failed or was destroyed. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Call `fn` once the body ended, failed or was destroyed (at once if it already has). */
  onSettled(fn: Settle): void {
    if (this.#settled) fn();
    else (this.#onSettled ??= []).push(fn);
  }

  /** Call `fn` once the reader is done with the body (the handler stops listening to the signal then, the session clears timeout.total). */
  onConsumed(fn: Settle): void {
    if (this.#consumed) fn();
    else (this.#onConsumed ??= []).push(fn);
  }

  #done(): void {
    if (this.#consumed) return;
    this.#consumed = true;
    const fns = this.#onConsumed;
    this.#onConsumed = undefined;
    if (fns) for (const fn of fns) fn();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    const fns = this.#onSettled;
    this.#onSettled = undefined;
    if (fns) for (const fn of fns) fn();
  }

  // ---- from the handler ----------------------------------------------------------------------

  /** A chunk from undici; false pauses the socket until `resume` is called. */
  push(chunk: Buffer): boolean {
    if (this.#destroyed) return true;
    const s = this.#stream;
    if (s !== undefined) {
      if (s.push(chunk)) return true;
      // The reader is behind: the socket waits until it asks for more (`read`).
      this.#paused = this.#resume;
      return false;
    }
    const d = this.#dumping;
    if (d !== undefined) {
      d.left -= chunk.length;
      if (d.left < 0) this.#giveUp();
      return true;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#waiter === undefined && this.#size >= HIGH_WATER) {
      this.#paused = this.#resume;
      return false;
    }
    return true;
  }

  complete(): void {
    if (this.#destroyed) return;
    this.#complete = true;
    const s = this.#stream;
    if (s !== undefined) s.push(null);
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve(this.#take());
      this.#done();
    }
    this.#endDump();
    // A stream settles when its reader is done with it ('close'); the rest once the last byte is in.
    if (s === undefined) this.#settle();
  }

  /**
   * The exchange failed, or the signal aborted it. A body that arrived whole but was not read yet
   * fails too (Fetch's "abort fetch" errors a body that is still readable).
   */
  fail(err: unknown): void {
    if (this.#destroyed || this.#consumed || this.#failed) return;
    this.#failed = true;
    this.#error = err;
    this.#chunks = [];
    const s = this.#stream;
    if (s !== undefined) s.destroy(err as Error);
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.reject(err);
    }
    this.#endDump();
    if (s === undefined) {
      this.#settle();
      this.#done();
    }
  }

  // ---- for the reader ------------------------------------------------------------------------

  /** The whole body, once it has all arrived. */
  whole(): Promise<Buffer> {
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#destroyed) return Promise.reject(new Error('the body was discarded'));
    if (this.#complete) {
      const b = this.#take();
      this.#done();
      return Promise.resolve(b);
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#unpause();
    });
  }

  /** The body as a Node Readable, from where it is now (made once; the chunks held so far come first). */
  stream(): Readable {
    if (this.#stream !== undefined) return this.#stream;
    const s = new Readable({
      read: () => this.#unpause(),
      destroy: (err, cb) => {
        // A reader that stops early gives the connection up, as destroying undici's body does.
        if (!this.#complete && !this.#failed) {
          this.#destroyed = true;
          this.#abort(err ?? undefined);
        }
        cb(err);
      },
    });
    s.once('close', () => {
      this.#settle();
      this.#done();
    });
    // An abort or a transport failure destroys the stream with its error, maybe before anyone reads it:
    // the reader sees the error when it reads; unheard, it must not become an uncaught exception (as
    // undici's RequestHandler does for its body).
    s.on('error', noop);
    this.#stream = s;
    for (const c of this.#chunks) s.push(c);
    this.#chunks = [];
    if (this.#failed) s.destroy(this.#error as Error);
    else if (this.#complete) s.push(null);
    return s;
  }

  /**
   * Read and drop the rest, so the connection can be reused; past `limit` bytes the connection is
   * given up instead. Resolves when the body ended or was given up; never rejects.
   */
  dump(limit = 128 * 1024): Promise<void> {
    if (this.#stream !== undefined) {
      const s = this.#stream;
      return new Promise<void>((resolve) => {
        if (s.destroyed || s.readableEnded) return resolve();
        s.once('close', () => resolve());
        s.resume();
      });
    }
    this.#chunks = [];
    if (this.#complete || this.#failed || this.#destroyed) {
      this.#settle();
      this.#done();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#dumping = { left: limit - this.#size, done: resolve };
      // A body declared longer than the limit is given up at once, without waiting for bytes that
      // may come slowly or never (undici's body.dump() does the same).
      if (this.#dumping.left < 0 || (this.declared !== undefined && this.declared > limit)) this.#giveUp();
      else this.#unpause();
    });
  }

  /** Drop the body and its connection (unless it already arrived whole). */
  destroy(): void {
    if (this.#stream !== undefined) {
      this.#stream.destroy();
      return;
    }
    this.#chunks = [];
    if (!this.#complete && !this.#failed && !this.#destroyed) this.#abort();
    this.#destroyed = true;
    this.#endDump();
    this.#settle();
    this.#done();
  }

  #giveUp(): void {
    this.#destroyed = true;
    this.#abort();
    this.#endDump();
  }

  #endDump(): void {
    const d = this.#dumping;
    if (d === undefined) return;
    this.#dumping = undefined;
    d.done();
    this.#settle();
    this.#done();
  }

  #unpause(): void {
    const r = this.#paused;
    if (r === undefined) return;
    this.#paused = undefined;
    r();
  }

  #take(): Buffer {
    const c = this.#chunks;
    this.#chunks = [];
    return c.length === 1 ? c[0]! : Buffer.concat(c, this.#size);
  }
}

type Resolve = (x: Exchange) => void;
type Reject = (e: unknown) => void;

/** undici's legacy handler interface (onConnect → onHeaders → onData* → onComplete | onError). */
class Handler implements Dispatcher.DispatchHandler {
  #resolve: Resolve | undefined;
  #reject: Reject;
  #signal: SignalLike | undefined;
  #onInfo: (() => void) | undefined;
  #abort: ((reason?: unknown) => void) | undefined;
  #body: BodySource | undefined;
  #reason: unknown = undefined;
  #listener: (() => void) | undefined;

  constructor(resolve: Resolve, reject: Reject, signal: SignalLike | undefined, onInfo: (() => void) | undefined) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.#onInfo = onInfo;
    if (signal === undefined) return;
    if (signal.aborted) this.#reason = signal.reason ?? abortError();
    else {
      const listener = (): void => {
        this.#reason = signal.reason ?? abortError();
        const body = this.#body;
        if (body !== undefined) body.fail(this.#reason);
        if (body === undefined || !body.arrived) this.#abort?.(this.#reason);
        // Before onConnect (a connection still being set up, TLS included) undici has handed over
        // no abort yet: the caller hears of the abort now, and onConnect aborts the request when it comes.
        if (this.#abort === undefined) this.#settleEarly(this.#reason);
      };
      this.#listener = listener;
      signal.addEventListener('abort', listener);
    }
  }

  /** Reject the exchange if its headers have not come yet; false once they have. */
  #settleEarly(reason: unknown): boolean {
    if (this.#resolve === undefined) return false;
    this.#resolve = undefined;
    this.#unlisten();
    this.#reject(reason);
    return true;
  }

  #unlisten(): void {
    const l = this.#listener;
    if (l === undefined) return;
    this.#listener = undefined;
    this.#signal!.removeEventListener('abort', l);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#reason !== undefined) {
      abort(this.#reason as Error);
      return;
    }
    this.#abort = abort as (reason?: unknown) => void;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) {
      this.#onInfo?.();
      return true;
    }
    const headers = util.parseHeaders(rawHeaders) as RawHeaders;
    const len = headers['content-length'];
    const declared = typeof len === 'string' && /^\d+$/.test(len) ? Number(len) : undefined;
    const body = new BodySource(resume, (reason) => this.#abort?.(reason ?? abortError()), declared);
    this.#body = body;
    // The signal is listened to until the body settles, like undici's own request().
    if (this.#listener !== undefined) body.onConsumed(() => this.#unlisten());
    const resolve = this.#resolve!;
    this.#resolve = undefined;
    resolve({ statusCode, statusText, headers, body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#body!.push(chunk);
  }

  onComplete(): void {
    this.#body?.complete();
  }

  onError(err: Error): void {
    this.#unlisten();
    const reason = this.#reason ?? err;
    if (!this.#settleEarly(reason)) this.#body?.fail(reason);
  }
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}

/** One exchange: resolves once the final (non-1xx) answer's headers are in; the body follows in `body`. */
export function exchange(dispatcher: Dispatcher, opts: ExchangeOptions): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    const { signal, onInfo, ...rest } = opts;
    const handler = new Handler(resolve, reject, signal, onInfo);
    try {
      dispatcher.dispatch(rest, handler);
    } catch (err) {
      handler.onError(err as Error);
    }
  });
}
