/**
 * The recorder's exchanges as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), in two forms:
 *
 *   raw       every header and cookie value as the program sent and received it, like a DevTools HAR
 *             saved "with sensitive data". Only for the diagnosis, in memory; never written or printed.
 *   redacted  what `--har OUT` writes: redacted as hopwise's own HAR (src/trace/har.ts) is, by the one
 *             set of rules (src/credentials/sensitive.ts): sensitive header values keep their scheme
 *             word (`Bearer ‹redacted›`), cookies keep their names, Set-Cookie its attributes,
 *             secret-looking query values become `redacted`, and every secret value seen anywhere in
 *             the recording is replaced in the bodies (an echo server would otherwise copy it there).
 *
 * Bodies: text-like content types only, decoded (gzip, deflate, br) when complete, capped.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { isSecretQueryName, isSensitiveName, redactQuery, redactSetCookie, redactValue } from '../credentials/sensitive.js';
import { addSecrets, bodyText, isTextLike } from '../record-body.js';
import { hopwiseVersion, requestCookies, type Har, type HarCookie, type HarEntry, type HarHeader } from '../trace/har.js';
import { BODY_CAP, type Exchange } from './recorder.js';

/**
 * A recorder entry: plain HAR 1.2. No per-entry `_hopwise` field: that marks a HAR whose hops carry
 * hopwise's own decisions, and a recording has none (the program decided, not hopwise).
 */
export type RecordedEntry = Omit<HarEntry, '_hopwise'>;
export type RecordedHar = Omit<Har, 'log'> & { log: Omit<Har['log'], 'entries' | 'creator'> & { entries: RecordedEntry[]; creator: { name: string; version: string; comment: string } } };

export interface RecordedHarOptions {
  /** false: the raw HAR for the diagnosis (never to be written or printed). Default true. */
  redact?: boolean;
  /** Extra fields for `log._hopwise` (the program's exit status, the findings). */
  extra?: Record<string, unknown>;
  /**
   * The program that made the requests: the HAR's `creator.name` (the log's author is the client
   * being diagnosed; a name starting with "hopwise" would claim hopwise's own rules made the chain).
   */
  program?: string;
}

const get = (h: readonly [string, string][], name: string): string | undefined => h.find(([n]) => n.toLowerCase() === name)?.[1];

function cookiesOf(header: string | undefined, redact: boolean): HarCookie[] {
  const pairs = requestCookies(header);
  return redact ? pairs.map((c) => ({ ...c, value: '‹redacted›' })) : pairs;
}

function setCookiesOf(lines: string[], redact: boolean): HarCookie[] {
  return lines.map((line) => {
    const [pair = '', ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const c: HarCookie = eq < 0 ? { name: '', value: pair.trim() } : { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
    if (redact) c.value = '‹redacted›';
    for (const a of attrs) {
      const i = a.indexOf('=');
      const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? '' : a.slice(i + 1).trim();
      if (key === 'path') c.path = val;
      else if (key === 'domain') c.domain = val;
      else if (key === 'secure') c.secure = true;
      else if (key === 'httponly') c.httpOnly = true;
    }
    return c;
  });
}

function headerValue(name: string, value: string, redact: boolean): string {
  if (!redact) return value;
  const lower = name.toLowerCase();
  if (lower === 'set-cookie') return redactSetCookie(value);
  if (lower === 'location' || lower === 'referer' || lower === 'content-location') return redactQuery(value);
  return isSensitiveName(lower, new Set()) ? redactValue(lower, value) : value;
}

function decoded(bytes: Buffer, encoding: string | undefined, complete: boolean): Buffer | undefined {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return bytes;
  if (!complete) return undefined;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(bytes);
    if (enc === 'deflate') return inflateSync(bytes);
    if (enc === 'br') return brotliDecompressSync(bytes);
  } catch {
    /* not what it said it was: no text */
  }
  return undefined;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export function exchangesToHar(exchanges: readonly Exchange[], opts: RecordedHarOptions = {}): RecordedHar {
  const redact = opts.redact !== false;
  // Every secret value of the recording, for the bodies (an echo or an error page may quote one).
  const secrets = new Set<string>();
  if (redact) {
    for (const ex of exchanges) {
      for (const [n, v] of ex.requestHeaders) if (isSensitiveName(n.toLowerCase(), new Set())) addSecrets(secrets, n.toLowerCase(), v);
      for (const [n, v] of ex.responseHeaders) if (n.toLowerCase() === 'set-cookie') addSecrets(secrets, 'set-cookie', v);
    }
  }
  const text = (bytes: Buffer): string => (redact ? bodyText(bytes, BODY_CAP, secrets).text : bytes.toString('utf8'));

  const entries = exchanges.map((ex): RecordedEntry => {
    const reqType = get(ex.requestHeaders, 'content-type') ?? '';
    const resType = get(ex.responseHeaders, 'content-type') ?? '';
    const location = get(ex.responseHeaders, 'location');
    let redirectURL = '';
    if (location !== undefined) {
      try {
        redirectURL = new URL(location, ex.url).href;
      } catch {
        redirectURL = location;
      }
    }
    const setCookies = ex.responseHeaders.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v);
    const t = ex.timings;
    const time = [t.connect, t.send, t.wait, t.receive].filter((n) => n > 0).reduce((a, b) => a + b, 0);
    const entry: RecordedEntry = {
      startedDateTime: ex.started.toISOString(),
      time: round(time),
      request: {
        method: ex.method,
        url: redact ? redactQuery(ex.url) : ex.url,
        httpVersion: ex.httpVersion,
        cookies: cookiesOf(get(ex.requestHeaders, 'cookie'), redact),
        headers: ex.requestHeaders.map(([name, value]): HarHeader => ({ name, value: headerValue(name, value, redact) })),
        queryString: [...new URL(ex.url).searchParams].map(([name, value]) => ({ name, value: redact && isSecretQueryName(name) ? 'redacted' : value })),
        headersSize: -1,
        bodySize: ex.requestBodySize,
      },
      response: {
        status: ex.status,
        statusText: ex.statusText,
        httpVersion: ex.status ? 'HTTP/1.1' : '',
        cookies: setCookiesOf(setCookies, redact),
        headers: ex.responseHeaders.map(([name, value]): HarHeader => ({ name, value: headerValue(name, value, redact) })),
        content: { size: ex.responseBodySize, mimeType: resType },
        redirectURL: redact ? redactQuery(redirectURL) : redirectURL,
        headersSize: -1,
        bodySize: ex.responseBodySize,
      },
      cache: {},
      timings: { blocked: -1, dns: -1, connect: round(t.connect), ssl: round(t.ssl), send: round(t.send), wait: round(t.wait), receive: round(t.receive) },
    };
    if (ex.requestBodySize > 0 && isTextLike(reqType)) entry.request.postData = { mimeType: reqType, text: text(ex.requestBody) };
    if (ex.responseBodySize > 0 && isTextLike(resType)) {
      const complete = ex.responseBody.length === ex.responseBodySize;
      const body = decoded(ex.responseBody, get(ex.responseHeaders, 'content-encoding'), complete);
      const c = entry.response.content;
      if (body) {
        c.text = text(body);
        c.size = complete ? body.length : ex.responseBodySize;
        if (!complete || body.length > BODY_CAP) c.comment = `text truncated to ${BODY_CAP} bytes`;
      } else c.comment = 'compressed body not kept (larger than the cap)';
    }
    if (ex.error) {
      entry.response._error = ex.error;
      entry.comment = `${ex.error.code}: ${ex.error.message}`;
    }
    return entry;
  });
  return {
    log: {
      version: '1.2',
      creator: { name: opts.program ?? 'program', version: '', comment: `recorded by hopwise record ${hopwiseVersion()}` },
      entries,
      ...(redact ? {} : { comment: 'Contains secrets (recorded unredacted, for the diagnosis only): do not share.' }),
      _hopwise: { secrets: redact ? 'redacted' : 'shown', ...(opts.extra ?? {}) },
    },
  };
}
