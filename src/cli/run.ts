/**
 * Runs one chain for `trace` and `doctor`: builds a Session from the parsed flags, fetches, reads
 * the final body (so the last hop's timing is complete), writes the cookie jar if asked, and
 * returns the hops and the error, if any. Output is the caller's business.
 */
import { readFile } from 'node:fs/promises';
import { basic, bearer, CookieJar, HopwiseError, Session, type Hop, type SessionOptions } from '../index.js';
import { effectiveMethod, optionsFromArgs, resolveBody, type RequestArgs } from './args.js';

/** Characters of the final body kept in `response.bodyPreview` (the JSON output). */
const PREVIEW = 2048;

export interface ChainResult {
  hops: Hop[];
  /** The final response, when the chain ended on one. */
  response?: { status: number; statusText: string; url: string; headers: Record<string, string>; bodySize: number; bodyPreview: string };
  /** The error the chain stopped with (a HopwiseError: code, message, hops). */
  error?: { code: string; message: string };
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
  const options = await optionsFromArgs(r, { read, basic, bearer, CookieJar });
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
  const providerValue = r.bearer
    ? `Bearer ${r.bearer}`
    : r.user
      ? `Basic ${Buffer.from(`${r.user.name}:${r.user.password}`).toString('base64')}`
      : undefined;
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

/** `stdin` is what `-d @-` reads (the command's CliIO.stdin). */
export async function runChain(r: RequestArgs, stdin?: NodeJS.ReadableStream): Promise<ChainResult> {
  const { options, jar } = await sessionOptions(r);
  const body = await resolveBody(r.data, (p) => readFile(p), stdin);
  const method = effectiveMethod(r);
  const initHeaders: Record<string, string> = {};
  if (body && !r.headers.some(([n]) => n.toLowerCase() === 'content-type')) initHeaders['content-type'] = body.contentType;

  // A HAR keeps the bodies too (text-like types, capped, secrets redacted even with --show-secrets).
  const session = new Session(r.har ? { ...options, recordBodies: true } : options);
  let hops: Hop[] = [];
  let error: ChainResult['error'];
  let response: ChainResult['response'];
  try {
    const res = await session.fetch(r.url, { method, ...(body ? { body: body.body } : {}), headers: initHeaders });
    const text = method === 'HEAD' ? '' : await res.text();
    hops = res.hops;
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    response = { status: res.status, statusText: res.statusText, url: res.url, headers, bodySize: Buffer.byteLength(text), bodyPreview: text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text };
  } catch (e) {
    if (e instanceof HopwiseError) {
      hops = e.hops;
      error = { code: e.code, message: e.message };
    } else {
      throw e; // not a chain failure: a bug or an argument problem, reported by main
    }
  } finally {
    await session.close().catch(() => {});
  }

  let cookieJarWritten: string | undefined;
  if (r.cookieJar) {
    await jar.saveToFile(r.cookieJar, { format: 'netscape' });
    cookieJarWritten = r.cookieJar;
  }
  return { hops, error, response, rawRequestHeaders: rawHeadersFor(hops, r), ...(cookieJarWritten ? { cookieJarWritten } : {}) };
}
