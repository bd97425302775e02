/**
 * The response: a real Fetch `Response` (`res instanceof Response`), plus `hops`.
 *
 * Building a Fetch Response the ordinary way (a web ReadableStream over the socket, a Headers object
 * filled from the raw headers) costs more CPU than the whole exchange on undici.request; even Node's
 * `Response` constructor with no arguments (webidl conversions, internal state, a Headers object)
 * costs about 5 µs, a tenth of a hop. So this subclass never runs it: its `super()` goes to
 * `FastBase`, which only makes the object (prototype chain intact, so `res instanceof Response`), and
 * every member answers from the subclass's own state: the reading methods take the body as the
 * exchange held it (or read the decoded Node stream directly), `headers` is built on first access, and `body` makes its web stream only when
 * asked for. `clone()` tees that stream.
 * Every failure while reading is handed to the session's `mapError`, so it reaches the caller as a
 * HopwiseError with a code and the whole trace, never as a raw undici error.
 */
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import consumers from 'node:stream/consumers';
import { redirectsIn, type Hop } from './trace/types.js';
import type { BodySource } from './transport/exchange.js';

type RawHeaders = Record<string, string | string[] | undefined>;
type Bytes = Uint8Array<ArrayBuffer>;

/** The body as the session hands it over: a stream (decoded, tapped...), bytes already read, or the exchange's body as it arrives. */
export type ResponseBody = { kind: 'stream'; stream: Readable } | { kind: 'buffer'; bytes: Buffer } | { kind: 'source'; source: BodySource };
type Source = ResponseBody | { kind: 'web'; stream: ReadableStream<Bytes> };

/** What the session tells a response: how to report a failure while reading, and when the body ended. */
export interface BodyHooks {
  /** Turns any failure while reading the body into the error the caller sees. */
  mapError(err: unknown): unknown;
  /** Called once, when the body was read to its end. */
  onEnd?: () => void;
  /** A response that has no body at all (HEAD, 204, 205, 304): `body` is null, as in Fetch. */
  nullBody?: boolean;
}

const PASS: BodyHooks = { mapError: (e) => e };

function toHeaders(raw: RawHeaders): Headers {
  const h = new Headers();
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) h.append(name, item);
    else h.append(name, v);
  }
  return h;
}

/** Fetch's UTF-8 decode: a leading byte order mark is not part of the text. */
function utf8(b: Buffer): string {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.toString('utf8', 3) : b.toString('utf8');
}

function contentTypeOf(raw: RawHeaders): string {
  const t = raw['content-type'];
  return typeof t === 'string' ? t : Array.isArray(t) ? (t[0] ?? '') : '';
}

/** A web stream over a Node stream, pulled only when read; failures go through `hooks.mapError`. */
function webStream(stream: Readable, hooks: BodyHooks): ReadableStream<Bytes> {
  let it: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Bytes>(
    {
      async pull(c) {
        try {
          const r = await (it ??= stream[Symbol.asyncIterator]()).next();
          if (r.done) {
            c.close();
            hooks.onEnd?.();
          } else c.enqueue(r.value as Bytes);
        } catch (err) {
          c.error(hooks.mapError(err));
        }
      },
      cancel() {
        stream.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The constructor `super()` reaches: it makes the object for the subclass (`new.target.prototype`,
 * whose chain goes on to Response.prototype) and nothing else. Statics (Response.json...) still
 * resolve through it to Response.
 */
function FastBase(this: unknown): object {
  return Object.create(new.target.prototype as object) as object;
}
Object.setPrototypeOf(FastBase, Response);

export class HopwiseResponse extends Response {
  /** The trace: one entry per exchange, the first request included. */
  readonly hops: Hop[];
  readonly #status: number;
  readonly #statusText: string;
  readonly #url: string;
  readonly #raw: RawHeaders;
  #headers: Headers | undefined;
  #source: Source;
  #web: ReadableStream<Bytes> | undefined;
  #used = false;
  #hooks: BodyHooks;

  constructor(status: number, statusText: string | undefined, url: string, raw: RawHeaders, body: ResponseBody | Source, hops: Hop[], hooks: BodyHooks = PASS) {
    super();
    this.#status = status;
    this.#statusText = statusText ?? STATUS_CODES[status] ?? '';
    this.#url = url;
    this.hops = hops;
    this.#raw = raw;
    this.#source = body;
    this.#hooks = hooks;
  }

  override get status(): number {
    return this.#status;
  }
  override get statusText(): string {
    return this.#statusText;
  }
  /** The final URL, without fragment (as Fetch's response.url). */
  override get url(): string {
    return this.#url;
  }
  override get redirected(): boolean {
    return redirectsIn(this.hops) > 0;
  }
  override get type(): ResponseType {
    return 'basic';
  }
  override get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }
  override get headers(): Headers {
    return (this.#headers ??= toHeaders(this.#raw));
  }
  /** Read by a method, or its stream taken by a reader (Fetch: disturbed). */
  override get bodyUsed(): boolean {
    return this.#used || (this.#web?.locked ?? false);
  }

  /** A web ReadableStream of the (decoded) body; null once it was read by text()/json()/.... */
  override get body(): ReadableStream<Bytes> | null {
    if (this.#web) return this.#web;
    if (this.#used || this.#hooks.nullBody) return null;
    const s = this.#source;
    const hooks = this.#hooks;
    if (s.kind === 'web') return (this.#web = s.stream);
    if (s.kind === 'source') return (this.#web = webStream(s.source.stream(), hooks));
    if (s.kind === 'buffer') {
      const bytes = s.bytes;
      return (this.#web = new ReadableStream<Bytes>(
        {
          pull(c) {
            if (bytes.length) c.enqueue(new Uint8Array(bytes));
            c.close();
            hooks.onEnd?.();
          },
        },
        { highWaterMark: 0 },
      ));
    }
    return (this.#web = webStream(s.stream, hooks));
  }

  #take(): Source {
    if (this.bodyUsed) throw new TypeError('Body has already been consumed.');
    this.#used = true;
    return this.#web ? { kind: 'web', stream: this.#web } : this.#source;
  }

  async #read<T>(slow: (s: AsyncIterable<Uint8Array>) => Promise<T>, buffer: (b: Buffer) => T): Promise<T> {
    const s = this.#take();
    if (s.kind === 'buffer' || s.kind === 'source') {
      // The common case (source): the body arrives whole into memory, with no stream in between.
      let bytes: Buffer;
      if (s.kind === 'buffer') bytes = s.bytes;
      else {
        try {
          bytes = await s.source.whole();
        } catch (err) {
          throw this.#hooks.mapError(err);
        }
      }
      const v = buffer(bytes);
      this.#hooks.onEnd?.();
      return v;
    }
    let v: T;
    try {
      v = await slow(s.stream as AsyncIterable<Uint8Array>);
    } catch (err) {
      if (err instanceof SyntaxError) throw err; // json(): the body arrived, it is not JSON
      throw this.#hooks.mapError(err);
    }
    if (s.kind !== 'web') this.#hooks.onEnd?.();
    return v;
  }

  override text(): Promise<string> {
    return this.#read(
      (s) => consumers.text(s),
      (b) => utf8(b),
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Response.json() is declared Promise<any>; the drop-in type must match it
  override json(): Promise<any> {
    return this.#read(
      (s) => consumers.json(s),
      (b) => JSON.parse(utf8(b)) as unknown,
    );
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#read(
      (s) => consumers.arrayBuffer(s),
      (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
    );
  }
  override async bytes(): Promise<Bytes> {
    return new Uint8Array(await this.arrayBuffer());
  }
  override async blob(): Promise<Blob> {
    return new Blob([await this.arrayBuffer()], { type: contentTypeOf(this.#raw) });
  }
  override async formData(): Promise<FormData> {
    const bytes = await this.arrayBuffer();
    return new Response(bytes, { headers: { 'content-type': contentTypeOf(this.#raw) } }).formData();
  }

  /** A second response over the same body (the stream is teed, as Fetch does). */
  override clone(): HopwiseResponse {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const s = this.#source;
    if (s.kind === 'buffer' && !this.#web) return new HopwiseResponse(this.#status, this.#statusText, this.#url, this.#raw, s, this.hops, this.#hooks);
    const [a, b] = this.body!.tee();
    this.#web = a;
    return new HopwiseResponse(this.#status, this.#statusText, this.#url, this.#raw, { kind: 'web', stream: b }, this.hops, this.#hooks);
  }

  /** Discard the body and free the connection for reuse. */
  async dump(): Promise<void> {
    if (this.#used) return;
    this.#used = true;
    const s = this.#web ? { kind: 'web' as const, stream: this.#web } : this.#source;
    if (s.kind === 'web') await s.stream.cancel().catch(() => {});
    else if (s.kind === 'source') await s.source.dump();
    else if (s.kind === 'stream') s.stream.resume();
  }
}

// `class ... extends Response` gives the types and the prototype chain; the constructor run by super() is FastBase.
Object.setPrototypeOf(HopwiseResponse, FastBase);
