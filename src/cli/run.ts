/**
 * Runs one chain for `trace` and `doctor`: builds a Session from the parsed flags, fetches, reads
 * the final body (so the last hop's timing is complete), writes the cookie jar if asked, and
 * returns the hops and the error, if any. Output is the caller's business.
 */
import dns from 'node:dns';
import { readFile } from 'node:fs/promises';
// The modules themselves, not '../index.js': the request path must not load the doctor or the lab.
import { CookieJar } from '../cookies/jar.js';
import { basic, bearer } from '../credentials/auth.js';
import { digest } from '../credentials/digest.js';
import { HstsStore } from '../hop/hsts.js';
import { HopwiseError, HopwiseNetworkError } from '../errors.js';
import type { SessionOptions } from '../options.js';
import { Session } from '../session.js';
import type { Hop } from '../trace/types.js';
import { effectiveMethod, optionsFromArgs, resolveBody, resolveForm, type RequestArgs } from './args.js';

/** Characters of the final body kept in `response.bodyPreview` (the JSON output). */
const PREVIEW = 2048;

export interface ChainResult {
  hops: Hop[];
  /** The final response, when the chain ended on one. */
  response?: { status: number; statusText: string; url: string; headers: Record<string, string>; bodySize: number; bodyPreview: string };
  /** The error the chain stopped with (a HopwiseError: code, message, hops). */
  error?: { code: string; message: string };
  /** The error's cause (undici's or Node's error), for curl's exit code (6 or 7, 35 or 60...). */
  errorCause?: unknown;
  /** The final body, byte for byte (HEAD: empty). */
  body?: Buffer;
  /** The final response's Set-Cookie lines, one each (`response.headers` joins them). */
  setCookie?: string[];
  /** The request method of the first hop, and the URL asked for (with -G's query). */
  method: string;
  url: string;
  /** Milliseconds from the start of the chain to the end of the body (or the error). */
  elapsed: number;
  /**
   * Request headers per hop with the values the CLI itself was given (-H, -u, --oauth2-bearer)
   * put back where the trace shows them redacted; for --show-secrets. Cookie values stay redacted:
   * the session does not keep the raw values it sent.
   */
  rawRequestHeaders: Record<string, string>[];
  /** Where -c wrote the jar. */
  cookieJarWritten?: string;
}

/**
 * Options for the Session, as the flags say: derived from the flag table's option links
 * (`optionsFromArgs`), plus the jar that `-c` writes. Exported for tests.
 */
export async function sessionOptions(r: RequestArgs, read: (p: string) => Promise<Buffer> = readFile): Promise<{ options: SessionOptions; jar: CookieJar }> {
  const options = await optionsFromArgs(r, { read, basic, bearer, digest, HstsStore, CookieJar });
  const jar = options.cookies;
  if (!(jar instanceof CookieJar)) throw new Error('the -b option link always makes a cookie jar');
  return { options, jar };
}

function rawHeadersFor(hops: readonly Hop[], r: RequestArgs): Record<string, string>[] {
  const given = new Map<string, string>();
  for (const [name, value] of r.headers) {
    const k = name.toLowerCase();
    given.set(k, given.has(k) ? `${given.get(k)}, ${value}` : value);
  }
  const providerValue = r.bearer ? `Bearer ${r.bearer}` : r.user ? `Basic ${Buffer.from(`${r.user.name}:${r.user.password}`).toString('base64')}` : undefined;
  return hops.map((h) => {
    const out: Record<string, string> = { ...h.requestHeaders };
    const byProvider = new Set(h.decisions.filter((d) => d.subject === 'auth' && (d.action === 'sent' || d.action === 're-applied')).map((d) => (d.name ?? 'authorization').toLowerCase()));
    for (const name of Object.keys(out)) {
      if (!out[name]!.includes('‹redacted›') || name === 'cookie') continue;
      if (byProvider.has(name) && providerValue && name === 'authorization') out[name] = providerValue;
      else if (given.has(name)) out[name] = given.get(name)!;
    }
    return out;
  });
}

/**
 * -4 / -6: Node's sockets resolve names through `dns.lookup`, read at each connect; for the length of
 * the chain it answers with addresses of one family only. (undici's connector takes no `family`
 * from a Session; IP literals and --resolve / --connect-to addresses skip the lookup, as in curl.)
 */
async function withFamily<T>(family: 4 | 6 | undefined, run: () => Promise<T>): Promise<T> {
  if (!family) return run();
  const original = dns.lookup;
  const lookup = function (this: unknown, host: string, opts: unknown, cb?: unknown) {
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    const o = typeof opts === 'object' && opts !== null ? (opts as dns.LookupOptions) : {};
    return (original as (...a: unknown[]) => unknown).call(dns, host, { ...o, family }, callback);
  };
  (dns as { lookup: unknown }).lookup = lookup;
  try {
    return await run();
  } finally {
    (dns as { lookup: unknown }).lookup = original;
  }
}

/**
 * Reads the body to the end into `sink` (or to nowhere); returns the bytes read. A failure while
 * reading is the chain's (a HopwiseError: the total timeout's own, or ERR_NETWORK around undici's).
 */
async function pump(body: ReadableStream<Uint8Array> | null, sink: BodySink | undefined, hops: Hop[]): Promise<number> {
  if (!body) return 0;
  const reader = body.getReader();
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (e instanceof HopwiseError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'UND_ERR_BODY_TIMEOUT') throw new HopwiseNetworkError('ERR_TIMEOUT', `The server stalled while sending the body.`, { hops, cause: e });
      throw new HopwiseNetworkError('ERR_NETWORK', `The body was cut off after ${size} bytes${code ? ` (${code})` : ''}.`, { hops, cause: e });
    }
    if (chunk.done) return size;
    size += chunk.value.length;
    if (sink) await sink.write(chunk.value);
  }
}

/** The URL with -G's data as its query (appended with & when it has one), else the URL as given. */
function urlWithQuery(url: string, query: Buffer | undefined): string {
  if (!query || query.length === 0) return url;
  const u = new URL(url);
  const hash = u.hash;
  u.hash = '';
  const base = u.href;
  return `${base}${u.search ? '&' : '?'}${query.toString('latin1')}${hash}`;
}

/** The final response before its body: what `hopwise URL` decides on (--fail, -i, -D). */
export interface ResponseHead {
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  setCookie: string[];
}

/** Where `hopwise URL` streams the body. A failure to write is a SinkError (exit 23), not a network error. */
export interface BodySink {
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

export class SinkError extends Error {
  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`cannot write ${target}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

export interface RunOptions {
  /**
   * Stream the final body instead of keeping it: called with the response head; returns where the
   * body goes, or undefined to discard it. `ChainResult.body` is then absent, `response.bodySize`
   * counts what arrived.
   */
  sink?: (head: ResponseHead) => Promise<BodySink | undefined>;
}

/** `stdin` is what `-d @-` reads (the command's CliIO.stdin). */
export async function runChain(r: RequestArgs, stdin?: NodeJS.ReadableStream, run: RunOptions = {}): Promise<ChainResult> {
  const { options, jar } = await sessionOptions(r);
  const data = await resolveBody(r.data, (p) => readFile(p), stdin);
  const form = r.form.length ? await resolveForm(r.form, (p) => readFile(p), stdin) : undefined;
  const method = effectiveMethod(r);
  const url = r.get ? urlWithQuery(r.url, data?.body) : r.url;
  const body = r.get ? undefined : data;
  const initHeaders: Record<string, string> = {};
  const given = (name: string) => r.headers.some(([n]) => n.toLowerCase() === name);
  if (body && !given('content-type')) initHeaders['content-type'] = body.contentType;
  if (body?.accept && !given('accept')) initHeaders['accept'] = body.accept;

  // A HAR keeps the bodies too (text-like types, capped, secrets redacted even with --show-secrets).
  const session = new Session(r.har ? { ...options, recordBodies: true } : options);
  let hops: Hop[] = [];
  let error: ChainResult['error'];
  let errorCause: unknown;
  let response: ChainResult['response'];
  let bytes: Buffer | undefined;
  let setCookie: string[] | undefined;
  const started = performance.now();
  try {
    await withFamily(r.family, async () => {
      const res = await session.fetch(url, { method, ...(body ? { body: body.body } : form ? { body: form } : {}), headers: initHeaders });
      hops = res.hops;
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      setCookie = res.headers.getSetCookie();
      if (run.sink) {
        response = { status: res.status, statusText: res.statusText, url: res.url, headers, bodySize: 0, bodyPreview: '' };
        const sink = await run.sink({ status: res.status, statusText: res.statusText, url: res.url, headers, setCookie });
        if (method !== 'HEAD') response.bodySize = await pump(res.body, sink, res.hops);
        else await res.dump();
        await sink?.end();
        return;
      }
      bytes = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      response = { status: res.status, statusText: res.statusText, url: res.url, headers, bodySize: bytes.length, bodyPreview: text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text };
    });
  } catch (e) {
    if (e instanceof HopwiseError) {
      hops = e.hops;
      error = { code: e.code, message: e.message };
      errorCause = e.cause;
    } else {
      throw e; // not a chain failure: a bug or an argument problem, reported by main
    }
  } finally {
    await session.close().catch(() => {});
  }
  const elapsed = performance.now() - started;

  if (r.hsts !== undefined && options.hsts instanceof HstsStore) options.hsts.saveToFile(r.hsts);
  let cookieJarWritten: string | undefined;
  if (r.cookieJar) {
    await jar.saveToFile(r.cookieJar, { format: 'netscape' });
    cookieJarWritten = r.cookieJar;
  }
  return {
    hops,
    error,
    ...(errorCause !== undefined ? { errorCause } : {}),
    response,
    ...(bytes ? { body: bytes } : {}),
    ...(setCookie ? { setCookie } : {}),
    method,
    url,
    elapsed,
    rawRequestHeaders: rawHeadersFor(hops, r),
    ...(cookieJarWritten ? { cookieJarWritten } : {}),
  };
}
