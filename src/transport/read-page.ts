/**
 * Reading the start of an HTML page to look for a client-side redirect, without taking the page
 * from the caller: what was read is put back in front of whatever remains. The stream given is the
 * decoded body (a gzip front end must not hide a meta refresh), and the read is bounded in time: a
 * page dripped slowly is sniffed for what arrived by the deadline, and handed over as it is.
 */
import { Readable } from 'node:stream';
import type { ResponseBody } from '../response.js';

/** Up to `limit` bytes of `stream` (what arrived within `deadlineMs`), and the whole body (read part first) for the caller. */
export async function readPageStart(stream: Readable, limit: number, deadlineMs: number): Promise<{ bytes: Buffer; body: ResponseBody; timedOut: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let done = false;
  let timedOut = false;
  let pending: Promise<IteratorResult<Buffer>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  try {
    while (size <= limit) {
      pending = it.next();
      const r = await Promise.race([pending, deadline]);
      if (r === 'late') {
        timedOut = true;
        pending.catch(() => {}); // read again (and reported) by the caller's reader
        break;
      }
      pending = undefined;
      if (r.done) {
        done = true;
        break;
      }
      chunks.push(r.value);
      size += r.value.length;
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = Buffer.concat(chunks);
  if (done) return { bytes, body: { kind: 'buffer', bytes }, timedOut };
  const waiting = pending;
  async function* rest(): AsyncIterable<Buffer> {
    if (bytes.length) yield bytes;
    if (waiting) {
      const r = await waiting;
      if (r.done) return;
      yield r.value;
    }
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const out = Readable.from(rest(), { objectMode: false });
  // Cancelling the caller's copy ends the socket's stream too.
  out.once('close', () => {
    if (!stream.destroyed && !stream.readableEnded) stream.destroy();
  });
  return { bytes, body: { kind: 'stream', stream: out }, timedOut };
}
