/**
 * Bodies kept on the hops for the HAR (`recordBodies`): text-like content types only, decoded,
 * capped, and with every secret value the chain sent or received replaced by `‹redacted›`, so a body
 * that echoes a header (an echo server, an error page quoting the request) never carries a secret.
 * Nothing here runs unless the session records bodies.
 */
import { Transform, type TransformCallback } from 'node:stream';

const TEXT_LIKE =
  /^\s*(?:text\/|application\/(?:[\w.+-]*\+)?(?:json|xml)\b|application\/(?:x-www-form-urlencoded|javascript|ecmascript|graphql|x-ndjson|yaml|x-yaml)\b|[\w.-]+\/[\w.-]*\+(?:json|xml)\b)/i;

export function isTextLike(contentType: string | string[] | undefined): boolean {
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  return typeof ct === 'string' && TEXT_LIKE.test(ct);
}

/** The secret values in a header value: the whole value, the credential after an auth scheme, each cookie value. */
export function addSecrets(secrets: Set<string>, name: string, value: string): void {
  const add = (v: string): void => {
    const t = v.trim();
    if (t.length >= 4) secrets.add(t);
  };
  add(value);
  if (name === 'cookie' || name === 'set-cookie') {
    const pairs = name === 'cookie' ? value.split(';') : [value.split(';')[0] ?? ''];
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq >= 0) add(p.slice(eq + 1));
    }
    return;
  }
  const sp = value.indexOf(' ');
  if (sp > 0) add(value.slice(sp + 1));
}

/** Up to `cap` bytes as text (no split character at the end), secrets redacted. */
export function bodyText(bytes: Buffer, cap: number, secrets: ReadonlySet<string>): { text: string; truncated: boolean } {
  const truncated = bytes.length > cap;
  let text = (truncated ? bytes.subarray(0, cap) : bytes).toString('utf8');
  if (truncated) text = text.replace(/\uFFFD+$/, '');
  // Longest first, so a whole value is replaced before a part of it.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (text.includes(s)) text = text.split(s).join('‹redacted›');
  return { text, truncated };
}

/** A pass-through that keeps a copy of the first `cap` bytes and hands it over once, when full or at the end. */
export class BodyTap extends Transform {
  #chunks: Buffer[] = [];
  #size = 0;
  #done = false;
  constructor(
    readonly cap: number,
    readonly onCaptured: (bytes: Buffer, total: number | undefined) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#done) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size > this.cap) {
        this.#done = true;
        this.onCaptured(Buffer.concat(this.#chunks), undefined);
        this.#chunks = [];
      }
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (!this.#done) {
      this.#done = true;
      this.onCaptured(Buffer.concat(this.#chunks), this.#size);
    }
    cb();
  }
}
