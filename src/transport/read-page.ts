/**
 * Reading the start of an HTML page to look for a client-side redirect, without taking the page
 * from the caller: what was read is put back in front of whatever remains.
 */
import { Readable } from 'node:stream';
import consumers from 'node:stream/consumers';
import type { ResponseBody } from '../response.js';

/** Up to `limit` bytes of `stream`, and the whole body (read part first) for the caller. */
export async function readPageStart(stream: AsyncIterable<Buffer>, limit: number): Promise<{ bytes: Buffer; body: ResponseBody }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]();
  let done = false;
  while (size <= limit) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    size += r.value.length;
  }
  const bytes = Buffer.concat(chunks);
  if (done) return { bytes, body: { kind: 'buffer', bytes } };
  async function* rest(): AsyncIterable<Buffer> {
    yield bytes;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { bytes, body: { kind: 'undici', stream: wrapReadable(Readable.from(rest())) } };
}

/** Give a plain Readable the body-mixin methods HopwiseResponse uses. */
function wrapReadable(r: Readable): never {
  return Object.assign(r, {
    text: () => consumers.text(r),
    json: () => consumers.json(r),
    arrayBuffer: () => consumers.arrayBuffer(r),
    blob: () => consumers.blob(r),
    dump: async () => void r.resume(),
  }) as never;
}
