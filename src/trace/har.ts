/**
 * The trace as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): one entry per hop, the
 * hop's decisions in a `_hopwise` field (custom fields start with `_`, as the spec allows).
 *
 * Secrets: hops carry request headers already redacted (`Bearer ‹redacted›`) and Set-Cookie values
 * redacted, so the HAR is safe to share by default. `showSecrets` uses raw header values only when
 * the caller hands them in (`rawRequestHeaders`, per hop); without them the HAR stays redacted and
 * says so in `log.comment`.
 *
 * Bodies: a session with `recordBodies` keeps text-like request and response bodies on the hops
 * (decoded, capped, every secret value the chain sent or received already replaced by `‹redacted›`);
 * they become `request.postData.text` and `response.content.text`. Without it no body is in the HAR.
 */
import { createRequire } from 'node:module';
import type { Hop } from './types.js';

export interface HarHeader {
  name: string;
  value: string;
}
export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  httpOnly?: boolean;
  secure?: boolean;
}
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarCookie[];
    headers: HarHeader[];
    queryString: HarHeader[];
    postData?: { mimeType: string; text: string };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarCookie[];
    headers: HarHeader[];
    content: { size: number; mimeType: string; text?: string; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: { code: string; message: string };
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  connection?: string;
  comment?: string;
  _hopwise: {
    index: number;
    newConnection: boolean;
    location?: string;
    decisions: Hop['decisions'];
    timings: Hop['timings'];
    error?: { code: string; message: string };
  };
}
export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    entries: HarEntry[];
    comment?: string;
    _hopwise?: { error?: { code: string; message: string }; secrets: 'redacted' | 'shown'; [k: string]: unknown };
  };
}

export interface ToHarOptions {
  /** Put raw header values in the HAR. Only possible with `rawRequestHeaders`; otherwise a note is added. */
  showSecrets?: boolean;
  /** Raw (unredacted) request headers per hop index, when the caller kept them. */
  rawRequestHeaders?: ReadonlyArray<Record<string, string> | undefined>;
  /** The error the chain ended with, recorded in `log._hopwise.error`. */
  error?: { code: string; message: string };
  /** Extra data for `log._hopwise` (for example the doctor's findings). */
  extra?: Record<string, unknown>;
  creator?: { name: string; version: string };
}

let cachedVersion: string | undefined;
/** hopwise's own version, for a HAR's creator (read once from package.json). */
export function hopwiseVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    const require = createRequire(import.meta.url);
    cachedVersion = (require('../../package.json') as { version?: string }).version ?? '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

function headerList(h: Record<string, string | string[]> | undefined): HarHeader[] {
  const out: HarHeader[] = [];
  for (const [name, v] of Object.entries(h ?? {})) for (const value of Array.isArray(v) ? v : [v]) out.push({ name, value: String(value) });
  return out;
}

function first(h: Record<string, string | string[]> | undefined, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A Cookie header as HAR cookie pairs (a pair without `=` is a value with no name, as browsers read it). */
export function requestCookies(cookieHeader: string | undefined): HarCookie[] {
  if (!cookieHeader) return [];
  return cookieHeader
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? { name: '', value: pair } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
    });
}

function responseCookies(h: Record<string, string | string[]> | undefined): HarCookie[] {
  const v = h?.['set-cookie'];
  const lines = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return lines.map((line) => {
    const [pair = '', ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const c: HarCookie = eq < 0 ? { name: '', value: pair.trim() } : { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
    for (const a of attrs) {
      const [k = '', val = ''] = a.split('=').map((s) => s.trim());
      const key = k.toLowerCase();
      if (key === 'path') c.path = val;
      else if (key === 'domain') c.domain = val;
      else if (key === 'secure') c.secure = true;
      else if (key === 'httponly') c.httpOnly = true;
    }
    return c;
  });
}

function queryString(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

function harTimings(h: Hop): HarEntry['timings'] {
  const t = h.timings ?? ({ start: 0 } as Hop['timings']);
  // HAR: connect includes ssl; wait = first byte minus connection setup; receive = body.
  const connect = h.newConnection && t.connect !== undefined ? (t.tls ?? t.connect) : -1;
  const ssl = h.newConnection && t.tls !== undefined && t.connect !== undefined ? Math.max(0, t.tls - t.connect) : -1;
  const setup = connect > 0 ? connect : 0;
  const wait = t.firstByte !== undefined ? Math.max(0, t.firstByte - setup) : -1;
  const receive = t.end !== undefined && t.firstByte !== undefined ? Math.max(0, t.end - t.firstByte) : -1;
  return { blocked: -1, dns: -1, connect: round(connect), ssl: round(ssl), send: 0, wait: round(wait), receive: round(receive) };
}

export function toHar(hops: readonly Hop[], opts: ToHarOptions = {}): Har {
  const canShow = Boolean(opts.showSecrets && opts.rawRequestHeaders);
  const entries = hops.map((h, i): HarEntry => {
    const raw = canShow ? opts.rawRequestHeaders?.[i] : undefined;
    const reqHeaders = raw ?? h.requestHeaders ?? {};
    const requestType = first(h.requestHeaders, 'content-type') ?? '';
    const t = h.timings ?? ({ start: Date.now() } as Hop['timings']);
    const contentType = first(h.responseHeaders, 'content-type') ?? '';
    const contentLength = Number(first(h.responseHeaders, 'content-length'));
    const timings = harTimings(h);
    const time = [timings.connect, timings.send, timings.wait, timings.receive].filter((n) => n > 0).reduce((a, b) => a + b, 0);
    const entry: HarEntry = {
      startedDateTime: new Date(t.start).toISOString(),
      time: round(t.end ?? t.firstByte ?? time),
      request: {
        method: h.method,
        url: h.url,
        httpVersion: h.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1',
        cookies: requestCookies(reqHeaders['cookie']),
        headers: headerList(reqHeaders),
        queryString: queryString(h.url),
        headersSize: -1,
        bodySize: h.requestBodySize ?? 0,
      },
      response: {
        status: h.status,
        statusText: h.statusText ?? '',
        httpVersion: h.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1',
        cookies: responseCookies(h.responseHeaders),
        headers: headerList(h.responseHeaders),
        content: { size: Number.isInteger(contentLength) && contentLength >= 0 ? contentLength : 0, mimeType: contentType },
        redirectURL: h.location ?? '',
        headersSize: -1,
        bodySize: -1,
      },
      cache: {},
      timings,
      _hopwise: {
        index: h.index,
        newConnection: h.newConnection,
        decisions: h.decisions ?? [],
        timings: h.timings,
      },
    };
    if (h.requestBody !== undefined) entry.request.postData = { mimeType: requestType, text: h.requestBody };
    if (h.responseBody !== undefined) {
      const c = entry.response.content;
      c.text = h.responseBody;
      // content.size is the decoded size (HAR 1.2), known when the whole body was seen.
      if (h.responseBodySize !== undefined) c.size = h.responseBodySize;
      else c.comment = 'text truncated (recordBodies cap)';
    }
    if (h.location) entry._hopwise.location = h.location;
    if (h.error) {
      entry._hopwise.error = h.error;
      entry.response._error = h.error;
      entry.comment = `${h.error.code}: ${h.error.message}`;
    }
    return entry;
  });
  const har: Har = {
    log: {
      version: '1.2',
      creator: opts.creator ?? { name: 'hopwise', version: hopwiseVersion() },
      entries,
      _hopwise: { secrets: canShow ? 'shown' : 'redacted', ...(opts.error ? { error: opts.error } : {}), ...(opts.extra ?? {}) },
    },
  };
  if (opts.showSecrets && !canShow) {
    har.log.comment = 'showSecrets was asked, but the session kept no raw header values for this trace: values stay redacted.';
  } else if (canShow) {
    har.log.comment = 'Contains secrets (request headers unredacted): do not share.';
  }
  return har;
}
