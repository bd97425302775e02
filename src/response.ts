/**
 * The response: the WHATWG Response reading API over undici's body stream, plus `hops`. A lean class
 * of ours rather than Node's Response: building a Fetch Response (and its Headers) per request costs
 * more CPU than the whole exchange on undici.request, and hopwise is held to within 1.25× of it.
 * `headers` is built on first access only.
 */
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import consumers from 'node:stream/consumers';
import type { Hop } from './trace/types.js';

type RawHeaders = Record<string, string | string[] | undefined>;

/** undici's BodyReadable: a Node Readable with the Fetch body mixin methods. */
interface UndiciBody extends Readable {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  blob(): Promise<Blob>;
  bytes?(): Promise<Uint8Array>;
  readonly body?: ReadableStream<Uint8Array>;
  bodyUsed?: boolean;
}

export type ResponseBody = { kind: 'undici'; stream: UndiciBody } | { kind: 'buffer'; bytes: Buffer };

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

export class HopwiseResponse {
  readonly status: number;
  readonly statusText: string;
  /** The final URL, without fragment (as Fetch's response.url). */
  readonly url: string;
  readonly redirected: boolean;
  readonly type = 'basic' as const;
  /** The trace: one entry per exchange, the first request included. */
  readonly hops: Hop[];
  #raw: RawHeaders;
  #headers: Headers | undefined;
  #body: ResponseBody;
  #used = false;
  /** Called once the body has been read to the end (the trace's `timings.end`). */
  #onEnd: (() => void) | undefined;

  constructor(status: number, statusText: string | undefined, url: string, raw: RawHeaders, body: ResponseBody, hops: Hop[], onEnd?: () => void) {
    this.status = status;
    this.statusText = statusText ?? STATUS_CODES[status] ?? '';
    this.url = url;
    this.redirected = hops.length > 1;
    this.hops = hops;
    this.#raw = raw;
    this.#body = body;
    this.#onEnd = onEnd;
  }

  #ended<T>(value: T): T {
    const fn = this.#onEnd;
    this.#onEnd = undefined;
    if (fn) fn();
    return value;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get headers(): Headers {
    return (this.#headers ??= toHeaders(this.#raw));
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** A web ReadableStream of the body (null after it was read by a text()/json()/... call). */
  get body(): ReadableStream<Uint8Array> | null {
    const b = this.#body;
    if (b.kind === 'buffer') {
      const bytes = b.bytes;
      return new ReadableStream({
        start(c) {
          if (bytes.length) c.enqueue(new Uint8Array(bytes));
          c.close();
        },
      });
    }
    // Streaming readers are told nothing else, so only this path pays for an 'end' listener.
    if (this.#onEnd) b.stream.once('end', () => this.#ended(undefined));
    return b.stream.body ?? null;
  }

  #take(): ResponseBody {
    if (this.#used) throw new TypeError('Body has already been consumed (hopwise responses can be read once, as in Fetch)');
    this.#used = true;
    return this.#body;
  }

  async text(): Promise<string> {
    const b = this.#take();
    return this.#ended(b.kind === 'buffer' ? b.bytes.toString('utf8') : await b.stream.text());
  }
  async json(): Promise<unknown> {
    const b = this.#take();
    return this.#ended(b.kind === 'buffer' ? JSON.parse(b.bytes.toString('utf8')) : await b.stream.json());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    if (b.kind === 'buffer') return this.#ended(b.bytes.buffer.slice(b.bytes.byteOffset, b.bytes.byteOffset + b.bytes.byteLength) as ArrayBuffer);
    return this.#ended(await b.stream.arrayBuffer());
  }
  async bytes(): Promise<Uint8Array> {
    const b = this.#take();
    if (b.kind === 'buffer') return this.#ended(new Uint8Array(b.bytes));
    return this.#ended(new Uint8Array(await consumers.arrayBuffer(b.stream)));
  }
  async blob(): Promise<Blob> {
    const b = this.#take();
    const type = this.#raw['content-type'];
    if (b.kind === 'buffer') return this.#ended(new Blob([new Uint8Array(b.bytes)], { type: typeof type === 'string' ? type : '' }));
    return this.#ended(await b.stream.blob());
  }
  /** Discard the body and free the connection for reuse. */
  async dump(): Promise<void> {
    if (this.#used) return;
    this.#used = true;
    if (this.#body.kind === 'undici') {
      const s = this.#body.stream as UndiciBody & { dump?: () => Promise<void> };
      if (s.dump) await s.dump();
      else s.resume();
    }
  }
}
