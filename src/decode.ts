/**
 * Content decoding, as Fetch does it: the response's `Content-Encoding` codings are undone in reverse
 * order with node:zlib's streaming decoders (gzip/x-gzip, deflate with or without its zlib wrapper,
 * br, zstd where this Node has it; identity is nothing to undo). An unknown coding leaves the body
 * as sent, as undici's fetch does. The decoded size is capped (`maxBodySize`): a compression bomb
 * ends with ERR_BODY_TOO_LARGE instead of filling memory; corrupt data is ERR_DECODE.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { HopwiseNetworkError } from './errors.js';

type ZstdZlib = typeof zlib & { createZstdDecompress?: () => Transform };
const createZstd = (zlib as ZstdZlib).createZstdDecompress;

/** The default `Accept-Encoding`: what this Node can decode. */
export const ACCEPT_ENCODING = typeof createZstd === 'function' ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br';

/** Marks a decoder's own error (corrupt data), to tell it from a transport failure of the source. */
export const DECODE_FAILED = Symbol('hopwise.decodeFailed');

/** The codings to undo, outermost first; undefined when there is nothing to do or one is unknown. */
export function codingsToUndo(header: string | string[] | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  const list = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (list.length === 0) return undefined;
  for (const c of list) if (!KNOWN.has(c) || (c === 'zstd' && typeof createZstd !== 'function')) return undefined;
  return list.reverse();
}

const KNOWN = new Set(['gzip', 'x-gzip', 'deflate', 'x-deflate', 'br', 'zstd']);

// Lenient at the end of the data as browsers and undici are: a stream cut after its last full block
// still yields what it holds; corrupt data is still an error.
const ZLIB_OPTS = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTS = { flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

/** `deflate` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send it raw: look at the first byte. */
class InflateAuto extends Transform {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#inner) {
      const inner = (this.#inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate(ZLIB_OPTS) : zlib.createInflateRaw(ZLIB_OPTS));
      inner.on('data', (d: Buffer) => this.push(d));
      inner.on('error', (err) => this.destroy(err));
    }
    this.#inner.write(chunk, () => cb());
  }
  override _flush(cb: TransformCallback): void {
    const inner = this.#inner;
    if (!inner) return cb();
    inner.once('end', () => cb());
    inner.end();
  }
  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.#inner?.destroy();
    cb(err);
  }
}

function decoder(coding: string): Transform {
  const d: Transform =
    coding === 'gzip' || coding === 'x-gzip'
      ? zlib.createGunzip(ZLIB_OPTS)
      : coding === 'deflate' || coding === 'x-deflate'
        ? new InflateAuto()
        : coding === 'br'
          ? zlib.createBrotliDecompress(BROTLI_OPTS)
          : createZstd!();
  // The decoder's own failure is the data's fault: mark it so the session says ERR_DECODE.
  d.once('error', (err: Error & { [DECODE_FAILED]?: string }) => {
    if (typeof err === 'object' && err !== null && !(DECODE_FAILED in err)) err[DECODE_FAILED] = coding;
  });
  return d;
}

/** Counts bytes on their way out and stops the body past the limit. */
class Limit extends Transform {
  #size = 0;
  constructor(readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.limit) {
      cb(new HopwiseNetworkError('ERR_BODY_TOO_LARGE', `The response body exceeded maxBodySize (${this.limit} bytes) once decoded; stopped reading. Raise maxBodySize, or stream res.body.`));
      return;
    }
    cb(null, chunk);
  }
}

/** Whether the body must be counted against maxBodySize as it is read (a declared length that fits needs no counting). */
function limitNeeded(codings: string[] | undefined, contentLength: number | undefined, maxBodySize: number): boolean {
  return Number.isFinite(maxBodySize) && (codings !== undefined || contentLength === undefined || contentLength > maxBodySize);
}

/** Whether the body reaches the caller as it arrived: nothing to decode, and a declared Content-Length within maxBodySize. */
export function passesAsIs(codings: string[] | undefined, contentLength: number | undefined, maxBodySize: number): boolean {
  return codings === undefined && !limitNeeded(codings, contentLength, maxBodySize);
}

/**
 * The body as the caller should read it: decoded and capped. Returns `raw` itself when there is
 * nothing to decode and a declared Content-Length already fits (the hot path pays nothing).
 */
export function decodedBody(raw: Readable, codings: string[] | undefined, contentLength: number | undefined, maxBodySize: number): Readable {
  const needsLimit = limitNeeded(codings, contentLength, maxBodySize);
  if (codings === undefined && !needsLimit) return raw;
  const stages: Transform[] = codings ? codings.map(decoder) : [];
  if (needsLimit) stages.push(new Limit(maxBodySize));
  const noop = (): void => {};
  return (pipeline as unknown as (...s: unknown[]) => Readable)(raw, ...stages, noop);
}
