/**
 * Reading a HAR 1.2 file (http://www.softwareishard.com/blog/har-12-spec/) into plain exchanges,
 * whoever wrote it: Chromium DevTools ("Export HAR (with sensitive data)", or the sanitized export
 * that drops Cookie, Set-Cookie and Authorization), Firefox, hopwise's own `--har` (its decisions in
 * `_hopwise`), or a recorder. What a writer may leave out (headersSize -1, no `cookies`, no body, no
 * `redirectURL`) is tolerated; what the diagnosis then cannot see is said in `notes`, never silently
 * skipped. Anything that is not a HAR at all is a typed error (ERR_INVALID_HAR).
 */
import { HopwiseError } from '../errors.js';
import type { Decision, Hop } from '../trace/types.js';

/** Who wrote the HAR, which decides the rules its chains are replayed with. */
export interface HarSource {
  /** chromium (any Chrome DevTools export), firefox, hopwise (its own --har), or another client. */
  client: 'chromium' | 'firefox' | 'hopwise' | 'other';
  /** `log.creator.name` and version, as written. */
  creator: string;
  /** `log.browser.name` and version, when written. */
  browser?: string;
}

/** One request/response of the HAR, normalised. Header names are lower-case; values as recorded. */
export interface Exchange {
  /** Position in `log.entries`. */
  entry: number;
  /** ms since epoch (from startedDateTime); NaN when missing or unreadable. */
  started: number;
  /** ms the exchange took (`time`), 0 when unknown. */
  time: number;
  method: string;
  url: string;
  requestHeaders: Array<[string, string]>;
  /**
   * The Cookie header as sent: the header when recorded, else rebuilt from `request.cookies`;
   * undefined when the HAR says nothing about this request's cookies.
   */
  cookieHeader: string | undefined;
  /** The request body, when recorded. */
  postData: { mimeType: string; text: string | undefined } | undefined;
  status: number;
  statusText: string;
  /** Response headers, lower-case names; repeated ones (Set-Cookie) as arrays. */
  responseHeaders: Record<string, string | string[]>;
  /** Set-Cookie lines (from the headers, else rebuilt from `response.cookies`). */
  setCookies: string[];
  /** The absolute redirect target (`redirectURL`, else the Location header), resolved against `url`. */
  redirectUrl: string | undefined;
  mimeType: string;
  /** The response body as text, when the HAR has it (not base64). */
  body: string | undefined;
  /** Chromium's `_resourceType` (document, xhr, ...), or Firefox's cause when present. */
  resourceType: string | undefined;
  pageref: string | undefined;
  /** An error the client recorded instead of (or after) the response. */
  error: string | undefined;
  /** hopwise's own record of the hop (`_hopwise`), when the HAR is hopwise's. */
  hopwise: { index: number; decisions: Decision[]; location?: string; error?: { code: string; message: string }; timings?: Hop['timings'] } | undefined;
}

export interface ReadHar {
  source: HarSource;
  exchanges: Exchange[];
  /** hopwise's HAR: the error its chain ended with (`log._hopwise.error`). */
  chainError: { code: string; message: string } | undefined;
  /** What the HAR lacks, in words; `diagnoseHar` turns each into a `har-incomplete` finding. */
  notes: HarNote[];
}

export interface HarNote {
  /** What is missing, as a short code: `sanitized-cookies`, `no-response-headers`, `no-bodies`, ... */
  missing: string;
  message: string;
  /** Entry positions concerned (empty: the whole HAR). */
  entries: number[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function invalid(message: string): HopwiseError {
  return new HopwiseError('ERR_INVALID_HAR', `${message}. Export the HAR again (Chrome/Chromium DevTools: Network → "Export HAR (with sensitive data)"; Firefox: Network → "Save All As HAR").`);
}

function headerList(v: unknown): Array<[string, string]> {
  if (!Array.isArray(v)) return [];
  const out: Array<[string, string]> = [];
  for (const h of v) {
    if (!isObj(h)) continue;
    const name = str(h.name);
    const value = h.value === undefined || h.value === null ? '' : String(h.value);
    // HTTP/2 pseudo-headers (:authority, :path) are not headers a policy judges.
    if (name !== undefined && name !== '' && !name.startsWith(':')) out.push([name.toLowerCase(), value]);
  }
  return out;
}

function cookiePairs(v: unknown): Array<{ name: string; value: string; attrs: Obj }> {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((c) => ({ name: String(c.name ?? ''), value: String(c.value ?? ''), attrs: c }));
}

/** A Set-Cookie line from a HAR `response.cookies` record, for writers that drop the header. */
function setCookieLine(c: { name: string; value: string; attrs: Obj }): string {
  const a = c.attrs;
  let line = `${c.name}=${c.value}`;
  if (typeof a.path === 'string') line += `; Path=${a.path}`;
  if (typeof a.domain === 'string') line += `; Domain=${a.domain}`;
  if (typeof a.expires === 'string') line += `; Expires=${new Date(a.expires).toUTCString()}`;
  if (a.httpOnly === true) line += '; HttpOnly';
  if (a.secure === true) line += '; Secure';
  if (typeof a.sameSite === 'string') line += `; SameSite=${a.sameSite}`;
  return line;
}

function sourceOf(log: Obj, entries: Obj[]): HarSource {
  const creator = isObj(log.creator) ? `${str(log.creator.name) ?? '?'} ${str(log.creator.version) ?? ''}`.trim() : '?';
  const browser = isObj(log.browser) ? `${str(log.browser.name) ?? '?'} ${str(log.browser.version) ?? ''}`.trim() : undefined;
  const name = `${creator} ${browser ?? ''}`.toLowerCase();
  let client: HarSource['client'] = 'other';
  // hopwise's own trace carries its decisions (`_hopwise`); a recording (`hopwise record`) does not
  // and is replayed like any program's traffic.
  if (entries.some((e) => isObj(e._hopwise))) client = 'hopwise';
  else if (name.includes('firefox')) client = 'firefox';
  else if (name.includes('webinspector') || name.includes('chrom') || name.includes('edge') || entries.some((e) => '_resourceType' in e || '_initiator' in e)) client = 'chromium';
  return browser === undefined ? { client, creator } : { client, creator, browser };
}

/**
 * Reads `input` (a parsed HAR object, or its JSON text) into exchanges. Throws ERR_INVALID_HAR for
 * something that is not a HAR 1.x log with entries.
 */
export function readHar(input: unknown): ReadHar {
  let har = input;
  if (typeof har === 'string' || Buffer.isBuffer(har)) {
    try {
      har = JSON.parse(har.toString());
    } catch (err) {
      throw invalid(`The HAR is not JSON (${(err as Error).message.slice(0, 80)})`);
    }
  }
  if (!isObj(har) || !isObj(har.log)) throw invalid('This is not a HAR file: it has no "log" object');
  const log = har.log;
  if (!Array.isArray(log.entries)) throw invalid('The HAR has no "log.entries" list');
  const raw = log.entries.filter(isObj);
  const source = sourceOf(log, raw);
  const notes: HarNote[] = [];
  const exchanges: Exchange[] = [];
  raw.forEach((e, entry) => {
    const rq = isObj(e.request) ? e.request : undefined;
    const rs = isObj(e.response) ? e.response : {};
    const url = str(rq?.url);
    let parsed: URL | undefined;
    try {
      parsed = url === undefined ? undefined : new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!rq || !parsed || !/^https?:$/.test(parsed.protocol)) {
      // data:, blob:, chrome-extension: and broken entries are not HTTP exchanges.
      if (rq && url !== undefined && !/^(data|blob|chrome-extension|moz-extension|about):/i.test(url)) {
        notes.push({ missing: 'bad-entry', message: `entry ${entry} has no usable http(s) request URL; it was left out`, entries: [entry] });
      }
      return;
    }
    const requestHeaders = headerList(rq.headers);
    const cookieHeaders = requestHeaders.filter(([n]) => n === 'cookie').map(([, v]) => v);
    const reqCookies = cookiePairs(rq.cookies);
    const cookieHeader = cookieHeaders.length ? cookieHeaders.join('; ') : reqCookies.length ? reqCookies.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
    const responseHeaders: Record<string, string | string[]> = {};
    const setCookies: string[] = [];
    for (const [n, v] of headerList(rs.headers)) {
      if (n === 'set-cookie') {
        // Some writers (Firefox, older Chrome) join several Set-Cookie lines with '\n' in one header.
        for (const line of v.split('\n')) if (line.trim()) setCookies.push(line.trim());
        continue;
      }
      const prev = responseHeaders[n];
      responseHeaders[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    if (setCookies.length === 0) for (const c of cookiePairs(rs.cookies)) setCookies.push(setCookieLine(c));
    if (setCookies.length) responseHeaders['set-cookie'] = setCookies;
    const status = typeof rs.status === 'number' ? rs.status : Number(rs.status ?? 0) || 0;
    let redirectUrl: string | undefined;
    const loc = str(rs.redirectURL) || (typeof responseHeaders.location === 'string' ? responseHeaders.location : undefined);
    if (loc) {
      try {
        redirectUrl = new URL(loc, parsed).href;
      } catch {
        redirectUrl = undefined;
      }
    }
    const content = isObj(rs.content) ? rs.content : {};
    const text = content.encoding === 'base64' ? undefined : str(content.text);
    const post = isObj(rq.postData) ? { mimeType: str(rq.postData.mimeType) ?? '', text: str(rq.postData.text) } : undefined;
    const hw = isObj(e._hopwise) ? (e._hopwise as Exchange['hopwise']) : undefined;
    const err = str(rs._error) ?? (isObj(rs._error) ? str(rs._error.code) : undefined) ?? (isObj(hw?.error) ? hw?.error?.code : undefined);
    const started = Date.parse(str(e.startedDateTime) ?? '');
    exchanges.push({
      entry,
      started,
      time: typeof e.time === 'number' && e.time > 0 ? e.time : 0,
      method: (str(rq.method) ?? 'GET').toUpperCase(),
      url: parsed.href,
      requestHeaders,
      cookieHeader,
      postData: post,
      status,
      statusText: str(rs.statusText) ?? '',
      responseHeaders,
      setCookies,
      redirectUrl,
      mimeType: str(content.mimeType) ?? (typeof responseHeaders['content-type'] === 'string' ? responseHeaders['content-type'] : ''),
      body: text,
      resourceType: str(e._resourceType) ?? (isObj(e._cause) ? str(e._cause.type) : undefined),
      pageref: str(e.pageref),
      error: err,
      hopwise: hw,
    });
  });
  if (exchanges.length === 0 && raw.length > 0) throw invalid('The HAR has entries but none is an http(s) request');

  // What the writer left out, said once for the whole file.
  const answered = exchanges.filter((x) => x.status > 0);
  if (answered.length && answered.every((x) => Object.keys(x.responseHeaders).length === 0)) {
    notes.push({ missing: 'response-headers', message: 'no response has headers: redirects are followed by redirectURL only, and Set-Cookie is unknown', entries: [] });
  }
  const anyCookie = exchanges.some((x) => x.cookieHeader !== undefined || x.setCookies.length > 0);
  // A browser's session without a single cookie is most likely a sanitized export; a program's
  // traffic without cookies is ordinary.
  if (!anyCookie && (source.client === 'chromium' || source.client === 'firefox')) {
    notes.push({
      missing: 'cookies',
      message:
        'no request carries a Cookie header and no response a Set-Cookie anywhere in this HAR. If it was exported sanitized ' +
        '(Chrome DevTools\' default "Export HAR (sanitized)" drops Cookie, Set-Cookie and Authorization), no cookie or session ' +
        'finding is possible: export it "with sensitive data"',
      entries: [],
    });
  }
  if (source.client === 'hopwise') {
    // Values are redacted in hopwise's HAR, names and attributes kept: the decisions recorded are complete.
    const hl = isObj(log._hopwise) ? log._hopwise : {};
    return { source, exchanges, chainError: isObj(hl.error) ? { code: String(hl.error.code), message: String(hl.error.message ?? '') } : undefined, notes };
  }
  return { source, exchanges, chainError: undefined, notes };
}
