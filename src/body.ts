/**
 * Request bodies: normalised once per fetch into something that can be sent, and sent again when a
 * 307/308 (or a 401 retry) asks. Bytes are always replayable; streams are recorded while they are
 * sent, up to `replayBufferSize`, and replayable only if they fit (never a silent empty body).
 */
import { Readable } from 'node:stream';
import { HopwiseOptionError } from './errors.js';

export interface PreparedBody {
  /** The value handed to undici for this send. */
  forSend(): Buffer | AsyncIterable<Buffer>;
  readonly replayable: boolean;
  /** Known size in bytes (undefined for a stream not yet fully read). */
  readonly size: number | undefined;
  /** Content-Type implied by the body type (URLSearchParams, FormData, Blob), when the caller set none. */
  readonly contentType: string | undefined;
  /** The first `max` bytes, when they are known (bytes, or a stream already sent and kept). */
  peek(max: number): Buffer | undefined;
}

class BytesBody implements PreparedBody {
  constructor(
    readonly bytes: Buffer,
    readonly contentType: string | undefined,
  ) {}
  forSend(): Buffer {
    return this.bytes;
  }
  get replayable(): boolean {
    return true;
  }
  get size(): number {
    return this.bytes.length;
  }
  peek(max: number): Buffer {
    return this.bytes.subarray(0, max);
  }
}

class StreamBody implements PreparedBody {
  readonly contentType = undefined;
  #source: AsyncIterable<Uint8Array | string>;
  #chunks: Buffer[] | null = [];
  #size = 0;
  #started = false;
  #done = false;
  constructor(
    source: AsyncIterable<Uint8Array | string>,
    readonly limit: number,
  ) {
    this.#source = source;
  }
  get replayable(): boolean {
    return !this.#started || (this.#done && this.#chunks !== null);
  }
  get size(): number | undefined {
    return this.#done ? this.#size : undefined;
  }
  peek(max: number): Buffer | undefined {
    return this.#done && this.#chunks !== null ? Buffer.concat(this.#chunks).subarray(0, max) : undefined;
  }
  forSend(): Buffer | AsyncIterable<Buffer> {
    if (this.#started) {
      // Callers check `replayable` first; this guards the invariant.
      if (!this.#done || this.#chunks === null) throw new Error('stream body is not replayable');
      return Buffer.concat(this.#chunks);
    }
    this.#started = true;
    return this.#record();
  }
  async *#record(): AsyncIterable<Buffer> {
    for await (const chunk of this.#source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.#size += buf.length;
      if (this.#chunks !== null) {
        if (this.#size > this.limit)
          this.#chunks = null; // outgrew the buffer: stop keeping it
        else this.#chunks.push(Buffer.from(buf)); // copy: the producer may reuse its buffer
      }
      yield buf;
    }
    this.#done = true;
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array | string> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Normalise any supported body. Returns undefined for no body. */
export async function prepareBody(body: unknown, replayLimit: number): Promise<PreparedBody | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return new BytesBody(Buffer.from(body, 'utf8'), 'text/plain;charset=UTF-8');
  if (Buffer.isBuffer(body)) return new BytesBody(body, undefined);
  if (body instanceof Uint8Array) return new BytesBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), undefined);
  if (body instanceof ArrayBuffer) return new BytesBody(Buffer.from(body), undefined);
  if (ArrayBuffer.isView(body)) return new BytesBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), undefined);
  if (body instanceof URLSearchParams) return new BytesBody(Buffer.from(body.toString(), 'utf8'), 'application/x-www-form-urlencoded;charset=UTF-8');
  if (typeof Blob !== 'undefined' && body instanceof Blob) return new BytesBody(Buffer.from(await body.arrayBuffer()), body.type || undefined);
  if (typeof FormData !== 'undefined' && body instanceof FormData) {
    // Let the platform serialise multipart/form-data (boundary included) exactly as fetch would.
    const encoded = new Response(body);
    return new BytesBody(Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type') ?? undefined);
  }
  if (body instanceof Readable || isAsyncIterable(body)) return new StreamBody(body as AsyncIterable<Uint8Array>, replayLimit);
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return new StreamBody(Readable.fromWeb(body as never) as AsyncIterable<Uint8Array>, replayLimit);
  throw new HopwiseOptionError(
    'ERR_INVALID_BODY',
    `Unsupported body type ${Object.prototype.toString.call(body)}. Use a string, Buffer/Uint8Array, ArrayBuffer, URLSearchParams, Blob, FormData, a web ReadableStream, a Node Readable, or an async iterable of bytes.`,
  );
}
