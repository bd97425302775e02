/**
 * Debian's Chromium, driven over the Chrome DevTools Protocol (CDP) through `--remote-debugging-pipe`
 * (fd 3 = commands to the browser, fd 4 = replies and events; each message is JSON ended by a NUL),
 * so the tests need no WebSocket and no npm package that downloads a browser.
 *
 * Stable API (other test files copy this helper; keep it backwards compatible):
 *
 *   import { chromiumSkip, launchChromium } from './helpers/chromium.ts';
 *   describe('...', { skip: chromiumSkip() }, () => { ... });   // false, or one clear line
 *   const browser = await launchChromium({ hostRules: ['MAP app.hopwise.test:443 127.0.0.1:4443'], args: [] });
 *   const page = await browser.newPage();       // a fresh tab in its own browser context (own cookies); its Network events are recorded
 *   await page.goto(url);                       // waits for load, then for the network to be quiet
 *   await page.evaluate<string>('document.title');
 *   page.consoleErrors();                       // console.error calls, uncaught exceptions, failed loads
 *   const har = page.har();                     // HAR 1.2 of everything the tab did so far (Chromium shape)
 *   page.clearHar();                            // forget recorded traffic (the tab, its cookies stay)
 *   await page.close();
 *   await browser.close();                      // kills the process, removes the profile directory
 *
 * Launch flags: --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
 * --disable-background-networking --disable-component-update --disable-sync and a fresh
 * --user-data-dir; `ignoreCertificateErrors` (default true) adds --ignore-certificate-errors for
 * the throwaway CAs of the lab and the test servers; `hostRules` become --host-resolver-rules.
 *
 * The HAR is built the way Chromium DevTools exports "with sensitive data": one entry per request of
 * a redirect chain (Network.requestWillBeSent with `redirectResponse` closes the previous one), the
 * real request and response headers (Cookie, Set-Cookie) from requestWillBeSentExtraInfo /
 * responseReceivedExtraInfo, parsed `cookies` arrays, `redirectURL`, the text of pages (`document`
 * responses, when Chromium still has it), `_resourceType`, `_initiator`,
 * and one page per top-level navigation (`pageref`). Chromium-only extras a test may read:
 * `_chromium.blockedRequestCookies` (the cookie names Chromium itself withheld, with its reasons) and
 * `_chromium.blockedResponseCookies` (Set-Cookie lines it rejected).
 *
 * Path: $HOPWISE_CHROMIUM, else /usr/bin/chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM_PATH = process.env.HOPWISE_CHROMIUM ?? '/usr/bin/chromium';

/** `false` when Chromium can run here, else the one line a skipped test prints. */
export function chromiumSkip(): string | false {
  return existsSync(CHROMIUM_PATH) ? false : `chromium is not installed (${CHROMIUM_PATH}); apt-get install -y chromium to run the browser tests`;
}

export interface LaunchOptions {
  /** Entries of --host-resolver-rules, e.g. `MAP app.hopwise.test:443 127.0.0.1:4443`. */
  hostRules?: string[];
  /** Add --ignore-certificate-errors (default true: the tests' CAs are throwaway). */
  ignoreCertificateErrors?: boolean;
  /** Extra command-line flags. */
  args?: string[];
  /** Per-command timeout (default 15 s). */
  timeoutMs?: number;
}

export interface ChromiumHarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    headers: Array<{ name: string; value: string }>;
    queryString: Array<{ name: string; value: string }>;
    cookies: Array<{ name: string; value: string }>;
    headersSize: number;
    bodySize: number;
    postData?: { mimeType: string; text: string };
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    headers: Array<{ name: string; value: string }>;
    cookies: Array<{ name: string; value: string; path?: string; domain?: string; expires?: string; httpOnly?: boolean; secure?: boolean; sameSite?: string }>;
    content: { size: number; mimeType: string; text?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  serverIPAddress?: string;
  _resourceType: string;
  _initiator: { type: string; url?: string };
  _chromium: { requestId: string; blockedRequestCookies: Array<{ name: string; reasons: string[] }>; blockedResponseCookies: Array<{ line: string; reasons: string[] }> };
}

export interface ChromiumHar {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    browser: { name: string; version: string };
    pages: Array<{ startedDateTime: string; id: string; title: string; pageTimings: { onContentLoad?: number; onLoad?: number } }>;
    entries: ChromiumHarEntry[];
  };
}

export interface ChromiumPage {
  goto(url: string, options?: { timeoutMs?: number; quietMs?: number }): Promise<void>;
  /** Wait until no request is in flight for `quietMs` (default 400). */
  waitForQuiet(options?: { timeoutMs?: number; quietMs?: number }): Promise<void>;
  evaluate<T = unknown>(expression: string): Promise<T>;
  consoleErrors(): string[];
  har(): ChromiumHar;
  clearHar(): void;
  close(): Promise<void>;
}

export interface ChromiumBrowser {
  readonly version: string;
  newPage(): Promise<ChromiumPage>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface CdpMessage {
  id?: number;
  method?: string;
  params?: Json;
  result?: Json;
  error?: { message: string };
  sessionId?: string;
}

class Pipe {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private listeners = new Set<(m: CdpMessage) => void>();
  private buffer = '';
  private closed: Error | undefined;

  constructor(
    private readonly out: Writable,
    input: Readable,
    private readonly timeoutMs: number,
  ) {
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\0')) >= 0) {
        const raw = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        this.dispatch(JSON.parse(raw) as CdpMessage);
      }
    });
    input.on('close', () => this.fail(new Error('chromium closed the DevTools pipe')));
    out.on('error', (err) => this.fail(err));
  }

  private dispatch(m: CdpMessage): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) p.reject(new Error(`CDP: ${m.error.message}`));
      else p.resolve(m.result ?? {});
      return;
    }
    for (const l of this.listeners) l(m);
  }

  fail(err: Error): void {
    this.closed ??= err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  on(listener: (m: CdpMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new Error(`CDP: ${method} timed out`))), this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }
}

export async function launchChromium(options: LaunchOptions = {}): Promise<ChromiumBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'hopwise-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--remote-debugging-pipe',
    `--user-data-dir=${profile}`,
    ...(options.ignoreCertificateErrors === false ? [] : ['--ignore-certificate-errors']),
    ...(options.hostRules?.length ? [`--host-resolver-rules=${options.hostRules.join(',')}`] : []),
    ...(options.args ?? []),
    'about:blank',
  ];
  const child: ChildProcess = spawn(CHROMIUM_PATH, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pipe = new Pipe(child.stdio[3] as Writable, child.stdio[4] as Readable, options.timeoutMs ?? 15_000);
  child.once('error', (err) => pipe.fail(err));
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(profile, { recursive: true, force: true });
  };
  let version: string;
  try {
    const v = await pipe.send('Browser.getVersion');
    version = String(v.product ?? 'Chromium');
  } catch (err) {
    await cleanup();
    throw new Error(`chromium did not start: ${(err as Error).message}\n${stderr}`);
  }
  const pages = new Set<ChromiumPage>();
  return {
    version,
    async newPage(): Promise<ChromiumPage> {
      // Each page in its own browser context: its own cookies, cache and storage (an incognito-like profile).
      const { browserContextId } = (await pipe.send('Target.createBrowserContext', { disposeOnDetach: true })) as { browserContextId: string };
      const { targetId } = (await pipe.send('Target.createTarget', { url: 'about:blank', browserContextId })) as { targetId: string };
      const { sessionId } = (await pipe.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const page = createPage(pipe, targetId, sessionId, version, browserContextId);
      await page.init();
      pages.add(page.api);
      return page.api;
    },
    async close(): Promise<void> {
      await pipe.send('Browser.close').catch(() => undefined);
      // Up to 2 s for a clean exit; the timer is cleared at once when it exits, or it alone would
      // keep the test process alive for those 2 s.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await cleanup();
    },
  };
}

interface Pending {
  requestId: string;
  entry: ChromiumHarEntry;
  start: number;
  wall: number;
  done: boolean;
}

const headerList = (h: unknown): Array<{ name: string; value: string }> => {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, value] of Object.entries((h ?? {}) as Record<string, string>)) {
    // CDP joins repeated headers (Set-Cookie included) with '\n'; a HAR lists each one.
    for (const v of String(value).split('\n')) out.push({ name, value: v });
  }
  return out;
};

const requestCookies = (headers: Array<{ name: string; value: string }>) =>
  headers
    .filter((h) => h.name.toLowerCase() === 'cookie')
    .flatMap((h) => h.value.split(/;\s*/))
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? { name: '', value: pair } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
    });

const responseCookies = (headers: Array<{ name: string; value: string }>): ChromiumHarEntry['response']['cookies'] =>
  headers
    .filter((h) => h.name.toLowerCase() === 'set-cookie')
    .map((h) => {
      const [pair = '', ...attrs] = h.value.split(';');
      const eq = pair.indexOf('=');
      const c: ChromiumHarEntry['response']['cookies'][number] = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
      for (const a of attrs) {
        const [k = '', ...rest] = a.split('=');
        const v = rest.join('=').trim();
        switch (k.trim().toLowerCase()) {
          case 'path':
            c.path = v;
            break;
          case 'domain':
            c.domain = v;
            break;
          case 'expires':
            c.expires = v;
            break;
          case 'httponly':
            c.httpOnly = true;
            break;
          case 'secure':
            c.secure = true;
            break;
          case 'samesite':
            c.sameSite = v;
            break;
        }
      }
      return c;
    });

function createPage(pipe: Pipe, targetId: string, sessionId: string, version: string, browserContextId: string) {
  const send = (method: string, params: Json = {}) => pipe.send(method, params, sessionId);
  const errors: string[] = [];
  let entries: ChromiumHarEntry[] = [];
  let pagesList: ChromiumHar['log']['pages'] = [];
  const live = new Map<string, Pending>(); // requestId → the current (last) request of its chain
  const chains = new Map<string, ChromiumHarEntry[]>(); // requestId → every entry of its redirect chain
  const reqExtra = new Map<string, Json[]>(); // requestWillBeSentExtraInfo by requestId, in order
  const resExtra = new Map<string, Json[]>(); // responseReceivedExtraInfo by requestId, in order
  let inflight = 0;
  let bodyFetches = 0;
  const bodies = new Map<string, string>(); // network requestId → text of its (last) 2xx page
  let lastActivity = Date.now();
  let loadWaiters: Array<() => void> = [];
  let currentPage: string | undefined;
  let mainFrame: string | undefined;

  const applyExtras = (requestId: string): void => {
    const list = chains.get(requestId) ?? [];
    const rq = reqExtra.get(requestId) ?? [];
    const rs = resExtra.get(requestId) ?? [];
    list.forEach((e, i) => {
      const q = rq[i];
      if (q) {
        const headers = headerList(q.headers);
        // The extra info has what went on the wire (Cookie included); keep pseudo-headers out.
        e.request.headers = headers.filter((h) => !h.name.startsWith(':'));
        e.request.cookies = requestCookies(e.request.headers);
        e.request.headersSize = -1;
        const assoc = (q.associatedCookies ?? []) as Array<{ blockedReasons: string[]; cookie: { name: string } }>;
        e._chromium.blockedRequestCookies = assoc.filter((a) => a.blockedReasons.length > 0).map((a) => ({ name: a.cookie.name, reasons: a.blockedReasons }));
      }
      const s = rs[i];
      // A response the page may not see (CORS) has no responseReceived; what came over the wire is here.
      if (s && e.response.status === 0 && typeof s.statusCode === 'number') e.response.status = s.statusCode;
      if (s) {
        e.response.headers = headerList(s.headers).filter((h) => !h.name.startsWith(':'));
        e.response.cookies = responseCookies(e.response.headers);
        const blocked = (s.blockedCookies ?? []) as Array<{ blockedReasons: string[]; cookieLine: string }>;
        e._chromium.blockedResponseCookies = blocked.map((b) => ({ line: b.cookieLine.split(';')[0] ?? '', reasons: b.blockedReasons }));
      }
    });
  };

  const fillResponse = (e: ChromiumHarEntry, r: Json, pending: Pending, end: number): void => {
    const headers = headerList(r.headers);
    e.response.status = Number(r.status);
    e.response.statusText = String(r.statusText ?? '');
    e.response.httpVersion = String(r.protocol ?? 'http/1.1');
    e.response.headers = headers;
    e.response.cookies = responseCookies(headers);
    e.response.content.mimeType = String(r.mimeType ?? '');
    const location = headers.find((h) => h.name.toLowerCase() === 'location')?.value;
    e.response.redirectURL = location ? new URL(location, e.request.url).href : '';
    if (r.remoteIPAddress) e.serverIPAddress = String(r.remoteIPAddress);
    e.time = Math.max(0, (end - pending.start) * 1000);
    e.timings.wait = e.time;
  };

  pipe.on((m) => {
    if (m.sessionId !== sessionId || !m.method) return;
    const p = (m.params ?? {}) as Json;
    lastActivity = Date.now();
    switch (m.method) {
      case 'Network.requestWillBeSent': {
        const requestId = String(p.requestId);
        const prev = live.get(requestId);
        if (prev && p.redirectResponse) {
          fillResponse(prev.entry, p.redirectResponse as Json, prev, Number(p.timestamp));
          if (!prev.done) inflight--;
          prev.done = true;
        }
        const rq = p.request as Json;
        const isNav = p.type === 'Document' && p.frameId === mainFrame && p.loaderId === p.requestId;
        if (isNav && !prev) {
          // A new page: what the old page still had in flight (its favicon...) is abandoned, and
          // Chromium does not always say so with loadingFailed.
          for (const x of live.values()) {
            if (!x.done && x.entry._resourceType !== 'document') {
              x.done = true;
              inflight--;
            }
          }
          currentPage = `page_${pagesList.length + 1}`;
          pagesList.push({ startedDateTime: new Date(Number(p.wallTime) * 1000).toISOString(), id: currentPage, title: String(rq.url), pageTimings: {} });
        }
        const url = String(rq.url) + String(rq.urlFragment ?? '');
        const headers = headerList(rq.headers);
        const u = new URL(url);
        const entry: ChromiumHarEntry = {
          ...(currentPage ? { pageref: currentPage } : {}),
          startedDateTime: new Date(Number(p.wallTime) * 1000).toISOString(),
          time: 0,
          request: {
            method: String(rq.method),
            url,
            httpVersion: 'http/1.1',
            headers,
            queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
            cookies: requestCookies(headers),
            headersSize: -1,
            bodySize: typeof rq.postData === 'string' ? Buffer.byteLength(rq.postData) : 0,
            ...(typeof rq.postData === 'string' ? { postData: { mimeType: headers.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? '', text: rq.postData } } : {}),
          },
          response: { status: 0, statusText: '', httpVersion: '', headers: [], cookies: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: -1 },
          cache: {},
          timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
          _resourceType: String(p.type ?? 'Other').toLowerCase(),
          _initiator: { type: String((p.initiator as Json | undefined)?.type ?? 'other'), ...((p.initiator as Json | undefined)?.url ? { url: String((p.initiator as Json).url) } : {}) },
          _chromium: { requestId, blockedRequestCookies: [], blockedResponseCookies: [] },
        };
        entries.push(entry);
        chains.set(requestId, [...(chains.get(requestId) ?? []), entry]);
        // The browser's own favicon fetch is recorded but never waited for: it outlives pages.
        const favicon = entry._resourceType === 'other' && u.pathname === '/favicon.ico';
        live.set(requestId, { requestId, entry, start: Number(p.timestamp), wall: Number(p.wallTime), done: favicon });
        if (!favicon) inflight++;
        applyExtras(requestId);
        break;
      }
      case 'Network.requestWillBeSentExtraInfo':
      case 'Network.responseReceivedExtraInfo': {
        const requestId = String(p.requestId);
        const map = m.method === 'Network.requestWillBeSentExtraInfo' ? reqExtra : resExtra;
        map.set(requestId, [...(map.get(requestId) ?? []), p]);
        applyExtras(requestId);
        break;
      }
      case 'Network.responseReceived': {
        const pending = live.get(String(p.requestId));
        if (pending) fillResponse(pending.entry, p.response as Json, pending, Number(p.timestamp));
        applyExtras(String(p.requestId));
        break;
      }
      case 'Network.loadingFinished':
      case 'Network.loadingFailed': {
        const pending = live.get(String(p.requestId));
        if (pending && !pending.done) {
          pending.done = true;
          inflight--;
          if (m.method === 'Network.loadingFailed') {
            const cors = (p.corsErrorStatus as Json | undefined)?.corsError;
            pending.entry.response._error = String(p.errorText ?? 'failed') + (cors ? ` (CORS: ${String(cors)})` : '');
            if (!p.canceled) errors.push(`failed to load ${pending.entry.request.url}: ${String(p.errorText)}`);
          } else {
            pending.entry.response.bodySize = pending.entry.response.content.size = Number(p.encodedDataLength ?? 0);
            // Pages' text, as DevTools exports it (read when the response paused, see Fetch.requestPaused).
            const text = bodies.get(pending.requestId);
            if (pending.entry._resourceType === 'document' && text !== undefined) pending.entry.response.content.text = text;
          }
        }
        break;
      }
      case 'Fetch.requestPaused': {
        // A page's response, held before the browser reads it: its text is taken here, where
        // Chromium cannot have dropped it yet (a meta refresh navigates away at once), then it goes on.
        const fetchId = String(p.requestId);
        const networkId = p.networkId === undefined ? undefined : String(p.networkId);
        const status = Number(p.responseStatusCode ?? 0);
        bodyFetches++;
        const read =
          status >= 200 && status < 300 && networkId !== undefined
            ? send('Fetch.getResponseBody', { requestId: fetchId }).then((b) => {
                const text = b.base64Encoded === true ? Buffer.from(String(b.body), 'base64').toString('utf8') : String(b.body);
                bodies.set(networkId, text);
                const pending = live.get(networkId);
                if (pending?.done) pending.entry.response.content.text = text;
              })
            : Promise.resolve();
        read
          .catch(() => undefined)
          .then(() => send('Fetch.continueRequest', { requestId: fetchId }))
          .catch(() => undefined)
          .finally(() => bodyFetches--);
        break;
      }
      case 'Page.frameNavigated': {
        const frame = p.frame as Json;
        if (!frame.parentId) mainFrame = String(frame.id);
        break;
      }
      case 'Page.loadEventFired': {
        const w = loadWaiters;
        loadWaiters = [];
        for (const r of w) r();
        break;
      }
      case 'Runtime.consoleAPICalled':
        if (p.type === 'error' || p.type === 'assert') errors.push(((p.args ?? []) as Json[]).map((a) => String(a.value ?? a.description ?? '')).join(' '));
        break;
      case 'Runtime.exceptionThrown': {
        const d = p.exceptionDetails as Json;
        errors.push(String((d.exception as Json | undefined)?.description ?? d.text));
        break;
      }
      case 'Log.entryAdded': {
        const e = p.entry as Json;
        // The browser's own favicon request is not the page's doing.
        if (e.level === 'error' && !String(e.url ?? '').endsWith('/favicon.ico')) errors.push(String(e.text));
        break;
      }
    }
  });

  const waitForQuiet = async ({ timeoutMs = 15_000, quietMs = 400 } = {}): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (inflight <= 0 && bodyFetches === 0 && Date.now() - lastActivity >= quietMs) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const open = [...live.values()].filter((x) => !x.done).map((x) => x.entry.request.url);
    throw new Error(`chromium: the network did not go quiet within ${timeoutMs} ms (${inflight} request(s) in flight: ${open.join(', ')}; ${bodyFetches} body read(s))`);
  };

  const api: ChromiumPage = {
    async goto(url, { timeoutMs = 15_000, quietMs = 400 } = {}): Promise<void> {
      const loaded = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`chromium: ${url} did not load within ${timeoutMs} ms`)), timeoutMs);
        loadWaiters.push(() => (clearTimeout(timer), resolve()));
      });
      const r = (await send('Page.navigate', { url })) as { errorText?: string };
      // A failed navigation (no load event follows) or one answered by a download ends here.
      if (!r.errorText) await loaded;
      else loaded.catch(() => undefined);
      await waitForQuiet({ timeoutMs, quietMs });
    },
    waitForQuiet,
    async evaluate<T>(expression: string): Promise<T> {
      const r = (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as { result: { value: T }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(`chromium evaluate: ${r.exceptionDetails.text}`);
      return r.result.value;
    },
    consoleErrors: () => [...errors],
    har(): ChromiumHar {
      return structuredClone({
        log: {
          version: '1.2' as const,
          creator: { name: 'WebInspector', version: '537.36' },
          browser: { name: 'Chromium', version: version.replace(/^[^/]*\//, '') },
          pages: pagesList,
          entries,
        },
      });
    },
    clearHar(): void {
      entries = [];
      pagesList = [];
      chains.clear();
      live.clear();
      reqExtra.clear();
      resExtra.clear();
      bodies.clear();
      inflight = 0;
      currentPage = undefined;
    },
    async close(): Promise<void> {
      await pipe.send('Target.closeTarget', { targetId }).catch(() => undefined);
      await pipe.send('Target.disposeBrowserContext', { browserContextId }).catch(() => undefined);
    },
  };

  return {
    api,
    async init(): Promise<void> {
      await Promise.all([send('Page.enable'), send('Runtime.enable'), send('Log.enable'), send('Network.enable')]);
      await send('Fetch.enable', { patterns: [{ resourceType: 'Document', requestStage: 'Response' }] });
      const tree = (await send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } };
      mainFrame = tree.frameTree.frame.id;
    },
  };
}
