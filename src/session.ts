/**
 * The Session: a short loop over prepare → send → absorb → plan (DESIGN.md). Every policy is a pure
 * function elsewhere (credentials/policy, redirect/plan, the cookie jar); this file only carries out
 * their decisions, records them on the hop, and talks to the transport.
 */
import { Readable } from 'node:stream';
import consumers from 'node:stream/consumers';
import { CookieJar } from './cookies/jar.js';
import type { CookieStore } from './cookies/types.js';
import { prepareBody, type PreparedBody } from './body.js';
import type { AuthProvider } from './credentials/auth.js';
import { planHeaders, type UserHeader } from './credentials/policy.js';
import { isSensitiveName, redactSetCookie, redactUrl, redactValue } from './credentials/sensitive.js';
import { HopwiseError, HopwiseNetworkError, HopwiseOptionError, HopwiseRedirectError, type ErrorCode } from './errors.js';
import { KNOWN_INIT, rejectUnknown, resolveOptions, validateHeaderRecord, type RedirectState, type ResolvedOptions, type SessionOptions } from './options.js';
import { findClientRedirect } from './redirect/client-redirect.js';
import { planRedirect, type Plan, type RedirectMode } from './redirect/plan.js';
import { HopwiseResponse, type ResponseBody } from './response.js';
import type { Decision, Hop } from './trace/types.js';
import { Transport } from './transport/agent.js';

export interface FetchInit {
  method?: string;
  headers?: Record<string, string> | Headers | [string, string][];
  body?: unknown;
  redirect?: RedirectMode;
  signal?: AbortSignal;
}

const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Small HTML pages are read to spot meta-refresh/script redirects (seed 001, third story). */
const HTML_SNIFF_LIMIT = 64 * 1024;
const USER_AGENT = 'hopwise/0.1';

type RawHeaders = Record<string, string | string[] | undefined>;

interface Chain {
  first: URL;
  url: URL;
  prev: URL | undefined;
  method: string;
  userHeaders: readonly UserHeader[];
  body: PreparedBody | undefined;
  mode: RedirectMode;
  stripped: Set<string>;
  /** Method + URL + cookies of every request so far; created at the first redirect. */
  seen: Set<string> | undefined;
  firstCookie: string;
  hops: Hop[];
  redirects: number;
  /** Decisions carried into the next hop (hook changes). */
  hookHeaders: { add: [string, string][]; remove: Set<string> } | undefined;
  refreshAuth: boolean;
  refreshedOnce: boolean;
  signal: AbortSignal | undefined;
  timedOut: () => boolean;
}

function hostPortKey(url: URL): string {
  const h = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return `${h}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function normaliseMethod(m: string | undefined): string {
  if (m === undefined) return 'GET';
  if (typeof m !== 'string' || !METHOD_TOKEN.test(m)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `method '${String(m)}' is not a valid HTTP method token`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `method ${upper} is not allowed (Fetch forbids it)`);
  return NORMALISED_METHODS.has(upper) ? upper : m;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;

/** Translate a transport failure into one typed error with a message a person can act on. */
function transportError(err: unknown, url: URL, chain: Chain, timeouts: ResolvedOptions['timeout']): HopwiseError {
  const e = err as { code?: string; message?: string; name?: string } | undefined;
  const code = e?.code ?? '';
  const where = redactUrl(url);
  let out: [ErrorCode, string];
  if (chain.timedOut()) out = ['ERR_TIMEOUT', `The whole chain took longer than timeout.total (${timeouts.total} ms); stopped while waiting for ${where}.`];
  else if (chain.signal?.aborted) out = ['ERR_ABORTED', `The request to ${where} was aborted by the caller's signal.`];
  else if (code === 'UND_ERR_CONNECT_TIMEOUT') out = ['ERR_TIMEOUT', `Connecting to ${url.host} took longer than timeout.connect (${timeouts.connect} ms).`];
  else if (code === 'UND_ERR_HEADERS_TIMEOUT') out = ['ERR_TIMEOUT', `${where} sent no response headers within timeout.headers (${timeouts.headers} ms).`];
  else if (code === 'UND_ERR_BODY_TIMEOUT') out = ['ERR_TIMEOUT', `${where} stalled while sending the body for longer than timeout.body (${timeouts.body} ms).`];
  else if (code === 'UND_ERR_HEADERS_OVERFLOW') out = ['ERR_HEADER_TOO_LARGE', `${where} sent response headers larger than the limit (16 KiB); refused.`];
  else if (TLS_CODES.test(code)) out = ['ERR_TLS', `TLS with ${url.host} failed (${code}): ${e?.message ?? ''}. If the server uses a private CA, pass it with the ca option; certificate checks are never disabled.`];
  else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') out = ['ERR_CONNECT', `Could not connect to ${url.host} (${code}). Check the host and port, or a connectTo rule.`];
  else out = ['ERR_NETWORK', `The exchange with ${where} failed${code ? ` (${code})` : ''}: ${e?.message ?? String(err)}`];
  return new HopwiseNetworkError(out[0], out[1], { hops: chain.hops, cause: err });
}

export class Session {
  readonly #o: ResolvedOptions;
  readonly #jar: CookieStore | undefined;
  #transport: Transport | undefined;
  #closed = false;

  readonly #sessionHeaders: readonly UserHeader[];

  constructor(options?: SessionOptions) {
    const o = (this.#o = resolveOptions(options));
    this.#jar = o.cookies === false ? undefined : (o.cookies ?? new CookieJar());
    const merged = new Map<string, string>();
    for (const [k, v] of o.headers) merged.set(k.toLowerCase(), v);
    if (!merged.has('user-agent')) merged.set('user-agent', USER_AGENT);
    this.#sessionHeaders = [...merged].map(([name, value]) => ({ name, value, sensitive: isSensitiveName(name, o.sensitiveHeaders) }));
  }

  /** The session's cookie jar (undefined with cookies: false). */
  get cookies(): CookieStore | undefined {
    return this.#jar;
  }

  #getTransport(): Transport {
    return (this.#transport ??= new Transport({ connectTo: this.#o.connectTo, ca: this.#o.ca, connectTimeout: this.#o.timeout.connect }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const t = this.#transport;
    this.#transport = undefined;
    if (t) await t.close();
  }

  async fetch(input: string | URL, init: FetchInit = {}): Promise<HopwiseResponse> {
    if (this.#closed) throw new HopwiseOptionError('ERR_SESSION_CLOSED', 'This session was closed; create a new Session.');
    if (typeof init !== 'object' || init === null) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'fetch(url, init): init must be an object');
    rejectUnknown(init, KNOWN_INIT, 'fetch() init');
    const o = this.#o;

    let url: URL;
    try {
      url = input instanceof URL ? new URL(input.href) : new URL(String(input));
    } catch {
      throw new HopwiseOptionError('ERR_INVALID_URL', `'${redactUrl(String(input))}' is not an absolute URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HopwiseOptionError('ERR_INVALID_URL', `Only http: and https: URLs can be fetched, not ${url.protocol}`);
    if (url.username || url.password) {
      throw new HopwiseOptionError('ERR_INVALID_URL', `The URL carries user:password@ credentials. hopwise never turns userinfo into a credential (it would follow redirects); use auth: basic(user, pass) instead.`);
    }
    const method = normaliseMethod(init.method);
    const mode = init.redirect ?? o.redirect;
    if (mode !== 'follow' && mode !== 'manual' && mode !== 'error') throw new HopwiseOptionError('ERR_INVALID_OPTION', `redirect must be 'follow', 'manual' or 'error'; got '${String(mode)}'`);

    const body = init.body === undefined || init.body === null ? undefined : await prepareBody(init.body, o.replayBufferSize);
    if (body && (method === 'GET' || method === 'HEAD')) throw new HopwiseOptionError('ERR_INVALID_BODY', `A ${method} request cannot have a body (Fetch); use POST or PUT.`);
    // Headers: session defaults, then the call's own (a call header replaces a session header). The
    // common case (no per-call headers, no body) reuses the session's list, classified once.
    let userHeaders = this.#sessionHeaders;
    if (init.headers !== undefined || body?.contentType) {
      const merged = new Map<string, string>();
      for (const h of userHeaders) merged.set(h.name, h.value);
      if (init.headers !== undefined) for (const [k, v] of validateHeaderRecord('fetch() headers', init.headers)) merged.set(k.toLowerCase(), v);
      if (body?.contentType && !merged.has('content-type')) merged.set('content-type', body.contentType);
      const list: UserHeader[] = [];
      for (const [name, value] of merged) list.push({ name, value, sensitive: isSensitiveName(name, o.sensitiveHeaders) });
      userHeaders = list;
    }

    if (init.signal?.aborted) throw new HopwiseNetworkError('ERR_ABORTED', 'The signal was already aborted before the request started.');
    // One signal for the chain: the caller's, and the total timeout that spans every hop and the final body.
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let signal = init.signal;
    if (o.timeout.total !== undefined) {
      const ac = new AbortController();
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort(new HopwiseNetworkError('ERR_TIMEOUT', `timeout.total (${o.timeout.total} ms) elapsed`));
      }, o.timeout.total);
      signal = init.signal ? AbortSignal.any([init.signal, ac.signal]) : ac.signal;
    }

    const chain: Chain = {
      first: url,
      url,
      prev: undefined,
      method,
      userHeaders,
      body,
      mode,
      stripped: new Set(),
      seen: undefined,
      firstCookie: '',
      hops: [],
      redirects: 0,
      hookHeaders: undefined,
      refreshAuth: false,
      refreshedOnce: false,
      signal,
      timedOut: () => timedOut,
    };
    try {
      const res = await this.#run(chain);
      if (timer) {
        const t = timer;
        timer = undefined;
        res.onBodyDone(() => clearTimeout(t));
      }
      return res.response;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async #run(chain: Chain): Promise<{ response: HopwiseResponse; onBodyDone: (fn: () => void) => void }> {
    const o = this.#o;
    const jar = this.#jar;
    const transport = this.#getTransport();
    for (;;) {
      const { url, prev } = chain;
      const decisions: Decision[] = [];
      const isRetry = chain.refreshAuth;

      // ---- prepare: caller headers through the policy, scoped auth, jar cookies ----
      const policy = planHeaders({ prev, next: url, first: chain.first, userHeaders: chain.userHeaders, stripped: chain.stripped, trust: o.trust, providers: o.auth });
      for (const name of policy.newlyStripped) chain.stripped.add(name);
      if (policy.decisions.length) decisions.push(...policy.decisions);

      const flat: string[] = [];
      const shown: Record<string, string> = {};
      let callerCookie: string | undefined;
      const hook = chain.hookHeaders;
      chain.hookHeaders = undefined;
      for (const h of policy.send) {
        if (hook?.remove.has(h.name)) continue;
        if (h.name === 'cookie') {
          callerCookie = h.value;
          continue;
        }
        flat.push(h.name, h.value);
        shown[h.name] = h.sensitive ? redactValue(h.name, h.value) : h.value;
      }
      if (hook) {
        for (const [name, value] of hook.add) {
          if (name === 'cookie') callerCookie = value;
          else {
            flat.push(name, value);
            shown[name] = isSensitiveName(name, o.sensitiveHeaders) ? redactValue(name, value) : value;
          }
          decisions.push({ subject: 'header', name, action: 'sent', reason: 'hook-added', detail: `${name} set by the beforeRedirect hook for this hop` });
        }
        for (const name of hook.remove) decisions.push({ subject: 'header', name, action: 'dropped', reason: 'hook-removed', detail: `${name} removed by the beforeRedirect hook for this hop` });
      }
      for (const p of policy.providers) await this.#applyProvider(p, url, chain, isRetry, flat, shown, decisions);
      chain.refreshAuth = false;

      let cookieHeader = '';
      let sentCookies: Map<string, string> | undefined;
      if (jar && (jar as { size?: number }).size !== 0) {
        const { header, verdicts } = jar.evaluate(url);
        cookieHeader = header;
        for (const v of verdicts) {
          if (v.sent) (sentCookies ??= new Map()).set(v.cookie.name, v.cookie.value);
          decisions.push({ subject: 'cookie', name: v.cookie.name, action: v.sent ? 'sent' : 'withheld', reason: v.reason, detail: v.detail, facts: { domain: v.cookie.domain, path: v.cookie.path, hostOnly: v.cookie.hostOnly, secure: v.cookie.secure } });
        }
      }
      if (callerCookie !== undefined) {
        decisions.push({ subject: 'cookie', name: 'cookie', action: 'sent', reason: 'caller-header', detail: 'the Cookie header set by the caller is sent along with the jar cookies' });
        cookieHeader = cookieHeader ? `${callerCookie}; ${cookieHeader}` : callerCookie;
      }
      if (cookieHeader) {
        flat.push('cookie', cookieHeader);
        shown.cookie = redactValue('cookie', cookieHeader);
      }

      const hop: Hop = {
        index: chain.hops.length,
        url: url.href,
        method: chain.method,
        requestHeaders: shown,
        status: 0,
        statusText: '',
        responseHeaders: {},
        newConnection: false,
        timings: { start: Date.now() },
        decisions,
      };
      chain.hops.push(hop);

      // Loop detection (DESIGN.md): the same method + URL + cookie state twice in one chain. The set
      // is built only once a chain actually redirects: a single exchange pays nothing for it.
      if (chain.hops.length === 1) chain.firstCookie = cookieHeader;
      else if (!isRetry) {
        const key = `${chain.method} ${url.href} ${cookieHeader}`;
        const seen = (chain.seen ??= new Set([`${chain.hops[0]!.method} ${chain.first.href} ${chain.firstCookie}`]));
        if (seen.has(key)) {
          chain.hops.pop();
          const last = chain.hops[chain.hops.length - 1]!;
          last.decisions.push({ subject: 'redirect', action: 'stopped', reason: 'loop', detail: `${chain.method} ${url.href} with the same cookies was already requested at an earlier hop`, facts: { url: url.href } });
          throw new HopwiseRedirectError('ERR_REDIRECT_LOOP', `Redirect loop: ${chain.method} ${redactUrl(url)} with the same cookies was already requested in this chain (hop ${last.index} points back to it). The server keeps redirecting without changing state; see err.hops.`, { hops: chain.hops });
        }
        seen.add(key);
      }

      // ---- send: one exchange, no redirect following inside undici ----
      const t0 = performance.now();
      const sendBody = chain.body?.forSend();
      let res: Awaited<ReturnType<typeof transport.agent.request>>;
      try {
        res = await transport.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: chain.method as never,
          headers: flat,
          body: sendBody as never,
          signal: chain.signal,
          headersTimeout: o.timeout.headers,
          bodyTimeout: o.timeout.body,
        });
      } catch (err) {
        const error = transportError(err, url, chain, o.timeout);
        hop.error = { code: error.code, message: error.message };
        hop.timings.end = performance.now() - t0;
        throw error;
      }
      hop.timings.firstByte = performance.now() - t0;
      if (chain.body && chain.body.size !== undefined) hop.requestBodySize = chain.body.size;
      const conn = transport.unclaimed > 0 ? transport.claimConnection(hostPortKey(url), t0) : undefined;
      if (conn) {
        hop.newConnection = true;
        if (conn.connected !== undefined) hop.timings.connect = conn.connected - t0;
        if (conn.secured !== undefined) hop.timings.tls = conn.secured - t0;
      }
      const status = res.statusCode;
      const raw = res.headers as RawHeaders;
      hop.status = status;
      hop.statusText = (res as { statusText?: string }).statusText ?? '';

      // ---- absorb: every Set-Cookie of every response, 3xx included, before planning ----
      const setCookie = raw['set-cookie'];
      if (setCookie !== undefined) {
        const lines = Array.isArray(setCookie) ? setCookie : [setCookie];
        for (const line of lines) {
          if (!jar) {
            decisions.push({ subject: 'set-cookie', action: 'rejected', reason: 'cookies-disabled', detail: 'cookies are disabled for this session (cookies: false)' });
            continue;
          }
          const r = jar.setCookie(line, url);
          const name = r.stored ? r.cookie.name : r.name;
          const d: Decision = { subject: 'set-cookie', action: r.stored ? 'stored' : r.reason === 'deleted' ? 'dropped' : 'rejected', reason: r.reason, detail: r.detail };
          if (name !== undefined) d.name = name;
          // Whether the server replaced a cookie this very request carried with a new value: the
          // doctor's "session not recognised" signal (a boolean, never the values themselves).
          if (r.stored && r.reason === 'replaced' && sentCookies?.has(r.cookie.name)) d.facts = { valueChanged: sentCookies.get(r.cookie.name) !== r.cookie.value };
          decisions.push(d);
        }
        hop.responseHeaders = { ...raw, 'set-cookie': lines.map(redactSetCookie) } as Hop['responseHeaders'];
      } else {
        hop.responseHeaders = raw as Hop['responseHeaders'];
      }
      const rawLocation = raw.location;
      if (typeof rawLocation === 'string' && rawLocation.includes('@')) {
        // user:password@ in a Location is a secret too: the trace keeps the header without it.
        hop.responseHeaders = { ...hop.responseHeaders, location: redactLocation(rawLocation, url) };
      }
      let responseBody: ResponseBody = { kind: 'undici', stream: res.body as never };

      // A 401 may ask a refreshable provider for a new credential, once per chain, then retry the hop.
      if (status === 401 && !chain.refreshedOnce && policy.providers.some((p) => p.canRefresh) && (!chain.body || chain.body.replayable)) {
        await res.body.dump().catch(() => {});
        hop.timings.end = performance.now() - t0;
        chain.refreshedOnce = true;
        chain.refreshAuth = true;
        continue;
      }

      // ---- plan: the next hop, or stop ----
      const locationRaw = raw.location;
      let plan: Plan = planRedirect({
        status,
        location: Array.isArray(locationRaw) ? locationRaw.join(', ') : locationRaw,
        current: url,
        method: chain.method,
        hasBody: chain.body !== undefined,
        bodyReplayable: chain.body?.replayable ?? true,
        mode: chain.mode,
        redirectCount: chain.redirects,
        maxRedirects: o.maxRedirects,
        allowDowngrade: o.allowDowngrade,
        crossOriginBody: o.crossOriginBody,
        trust: o.trust,
        hopIndex: hop.index,
      });

      if (plan.action === 'return' && status === 200 && chain.mode === 'follow' && isHtml(raw) && chain.method !== 'HEAD') {
        // Read a small HTML page to name a meta-refresh / script "redirect" (and follow it when asked).
        let sniffed: Awaited<ReturnType<typeof sniffHtml>>;
        try {
          sniffed = await sniffHtml(res.body as never, raw);
        } catch (err) {
          // A stall or abort while the page is read is a transport failure of this hop, like any other.
          const error = transportError(err, url, chain, o.timeout);
          hop.error = { code: error.code, message: error.message };
          hop.timings.end = performance.now() - t0;
          throw error;
        }
        responseBody = sniffed.body;
        if (sniffed.redirect) {
          const cr = sniffed.redirect;
          if (cr.kind !== 'script' && o.followMetaRefresh) {
            plan = planRedirect({ status: 302, location: cr.target, current: url, method: 'GET', hasBody: false, bodyReplayable: true, mode: 'follow', redirectCount: chain.redirects, maxRedirects: o.maxRedirects, allowDowngrade: o.allowDowngrade, crossOriginBody: o.crossOriginBody, trust: o.trust, hopIndex: hop.index });
            decisions.push({ subject: 'redirect', name: cr.kind, action: 'followed', reason: 'meta-refresh', detail: `the page redirects to ${cr.target} after ${cr.delaySeconds}s (${cr.kind}); followed now`, facts: { kind: cr.kind, target: cr.target, delaySeconds: cr.delaySeconds } });
            if (plan.action === 'follow' && chain.method !== 'GET') {
              // Following the page is a navigation: it is a GET, whatever the request was.
              decisions.push({ subject: 'method', action: 'rewritten', reason: 'meta-refresh', detail: `${chain.method} → GET to follow the page's refresh`, facts: { from: chain.method, to: 'GET' } });
              if (chain.body) decisions.push({ subject: 'body', action: 'dropped', reason: 'body-dropped-method-change', detail: 'the body and its Content-* headers are not sent with GET' });
              plan = { ...plan, method: 'GET', keepBody: false, dropBodyHeaders: true };
            }
          } else {
            decisions.push({
              subject: 'redirect',
              name: cr.kind,
              action: 'stopped',
              reason: cr.kind === 'script' ? 'script-redirect-not-followed' : 'meta-refresh-not-followed',
              detail: `the 200 page redirects to ${cr.target} in the browser (${cr.kind}); an HTTP client stops here`,
              facts: { kind: cr.kind, target: cr.target, delaySeconds: cr.delaySeconds },
            });
          }
        }
      }

      if (plan.decisions.length) decisions.push(...plan.decisions);
      if (plan.action === 'return') {
        if (plan.location) hop.location = plan.location.href;
        hop.timings.end = hop.timings.firstByte;
        const responseUrl = url.hash ? url.href.slice(0, -url.hash.length) : url.href; // Fetch: response URL has no fragment
        const started = t0;
        const response = new HopwiseResponse(status, hop.statusText || undefined, responseUrl, raw, responseBody, chain.hops, () => (hop.timings.end = performance.now() - started));
        const stream = responseBody.kind === 'undici' ? responseBody.stream : undefined;
        return {
          response,
          onBodyDone: (fn) => {
            if (!stream || stream.destroyed || stream.readableEnded) fn();
            else stream.once('close', fn);
          },
        };
      }
      if (plan.action === 'error') {
        if (plan.location) hop.location = plan.location.href;
        if (responseBody.kind === 'undici') responseBody.stream.resume();
        hop.timings.end = performance.now() - t0;
        throw new HopwiseRedirectError(plan.code, plan.message, { hops: chain.hops });
      }

      hop.location = plan.url.href;
      if (responseBody.kind === 'undici') await (responseBody.stream as unknown as { dump(): Promise<void> }).dump().catch(() => {});
      hop.timings.end = performance.now() - t0;
      chain.redirects++;
      await this.#advance(chain, plan, hop, decisions);
    }
  }

  async #applyProvider(p: AuthProvider, url: URL, chain: Chain, refresh: boolean, flat: string[], shown: Record<string, string>, decisions: Decision[]): Promise<void> {
    let value: unknown;
    try {
      const v = p.value({ url, method: chain.method, refresh: refresh && p.canRefresh });
      value = typeof v === 'string' ? v : await v;
    } catch (err) {
      // The provider's own message may quote the credential; keep it in `cause`, out of the message.
      throw new HopwiseOptionError('ERR_INVALID_OPTION', `The ${p.kind} auth provider threw while producing ${p.header} for ${url.origin}; see err.cause.`, { hops: chain.hops, cause: err });
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new HopwiseOptionError('ERR_INVALID_OPTION', `The ${p.kind} auth provider returned ${typeof value === 'string' ? 'a value with CR, LF or NUL' : `a ${typeof value}`} for ${p.header}; it must return a header-safe string.`, { hops: chain.hops });
    }
    flat.push(p.header, value as string);
    shown[p.header] = redactValue(p.header, value as string);
    if (refresh && p.canRefresh) decisions.push({ subject: 'auth', name: p.header, action: 'refreshed', reason: 'refreshed-after-401', detail: `the ${p.kind} provider was asked for a fresh credential after a 401 and the request retried once` });
  }

  /** Carry out a 'follow' plan: new URL/method/body, then the hook, with the policy re-run on its result. */
  async #advance(chain: Chain, plan: Extract<Plan, { action: 'follow' }>, hop: Hop, decisions: Decision[]): Promise<void> {
    const o = this.#o;
    if (plan.dropBodyHeaders) dropBodyHeaders(chain, decisions);
    if (!plan.keepBody) chain.body = undefined;
    const from = chain.url;
    chain.prev = from;
    chain.url = plan.url;
    chain.method = plan.method;

    const hook = o.beforeRedirect;
    if (!hook) return;
    const preview = planHeaders({ prev: from, next: plan.url, first: chain.first, userHeaders: chain.userHeaders, stripped: chain.stripped, trust: o.trust, providers: [] });
    const proposed: Record<string, string> = {};
    for (const h of preview.send) proposed[h.name] = h.value;
    const state: RedirectState = { hop, hops: chain.hops, next: { url: plan.url.href, method: plan.method, headers: { ...proposed } }, decisions: plan.decisions };
    await hook(state);
    const next = state.next;

    if (typeof next.url !== 'string' || next.url !== plan.url.href) {
      // The hook moved the target: run the redirect policy again on the new URL, as if the server had sent it.
      const again = planRedirect({
        status: hop.status,
        location: String(next.url),
        current: from,
        method: plan.method,
        hasBody: chain.body !== undefined,
        bodyReplayable: chain.body?.replayable ?? true,
        mode: 'follow',
        redirectCount: chain.redirects - 1,
        maxRedirects: o.maxRedirects,
        allowDowngrade: o.allowDowngrade,
        crossOriginBody: o.crossOriginBody,
        trust: o.trust,
        hopIndex: hop.index,
      });
      decisions.push({ subject: 'redirect', action: 'rewritten', reason: 'hook-changed', detail: `the beforeRedirect hook changed the next URL to ${redactUrl(String(next.url))}; the policy ran again on it` });
      decisions.push(...again.decisions);
      if (again.action !== 'follow') {
        throw new HopwiseRedirectError(again.action === 'error' ? again.code : 'ERR_INVALID_REDIRECT', again.action === 'error' ? `${again.message} (URL set by the beforeRedirect hook)` : 'The beforeRedirect hook set a URL that cannot be followed.', { hops: chain.hops });
      }
      chain.url = again.url;
      hop.location = again.url.href;
    }
    if (typeof next.method === 'string' && next.method !== plan.method) {
      chain.method = normaliseMethod(next.method);
      decisions.push({ subject: 'method', action: 'rewritten', reason: 'hook-changed', detail: `the beforeRedirect hook changed the method to ${chain.method}`, facts: { from: plan.method, to: chain.method } });
      if (chain.method === 'GET' || chain.method === 'HEAD') {
        if (chain.body) decisions.push({ subject: 'body', action: 'dropped', reason: 'body-dropped-method-change', detail: `the body is not sent with ${chain.method}` });
        chain.body = undefined;
        dropBodyHeaders(chain, decisions);
      }
    }
    const add: [string, string][] = [];
    const remove = new Set<string>();
    const after = validateHeaderRecord('beforeRedirect next.headers', next.headers ?? {});
    const afterMap = new Map(after.map(([k, v]) => [k.toLowerCase(), v]));
    for (const [k, v] of afterMap) if (proposed[k] !== v) add.push([k, v]);
    for (const k of Object.keys(proposed)) if (!afterMap.has(k)) remove.add(k);
    for (const [k] of add) remove.add(k); // a changed header replaces the policy's value
    if (add.length || remove.size) chain.hookHeaders = { add, remove };
  }
}

/** The method no longer carries a body: its Content-* headers go too, for the rest of the chain. */
function dropBodyHeaders(chain: Chain, decisions: Decision[]): void {
  chain.userHeaders = chain.userHeaders.filter((h) => {
    if (!BODY_HEADERS.has(h.name)) return true;
    decisions.push({ subject: 'header', name: h.name, action: 'dropped', reason: 'body-dropped-method-change', detail: `${h.name} describes a body that is no longer sent` });
    return false;
  });
}

function redactLocation(location: string, base: URL): string {
  let u: URL;
  try {
    u = new URL(location, base);
  } catch {
    return location;
  }
  if (u.username === '' && u.password === '') return location;
  return location.replace(/\/\/[^/?#]*@/, '//');
}

function isHtml(raw: RawHeaders): boolean {
  const ct = raw['content-type'];
  return typeof ct === 'string' && /^\s*(?:text\/html|application\/xhtml\+xml)/i.test(ct);
}

/**
 * Read up to 64 KiB of an HTML page to look for a client-side redirect. The caller still gets the
 * whole body: what was read is put back in front of whatever remains.
 */
async function sniffHtml(stream: AsyncIterable<Buffer> & { destroy(): void }, raw: RawHeaders): Promise<{ body: ResponseBody; redirect: ReturnType<typeof findClientRedirect> }> {
  const len = Number(raw['content-length']);
  if (Number.isFinite(len) && len > HTML_SNIFF_LIMIT) return { body: { kind: 'undici', stream: stream as never }, redirect: undefined };
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]();
  let done = false;
  while (size <= HTML_SNIFF_LIMIT) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    size += r.value.length;
  }
  const bytes = Buffer.concat(chunks);
  const refresh = raw.refresh;
  const redirect = findClientRedirect(bytes.toString('utf8'), typeof refresh === 'string' ? refresh : undefined);
  if (done) return { body: { kind: 'buffer', bytes }, redirect };
  async function* rest(): AsyncIterable<Buffer> {
    yield bytes;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const merged = Readable.from(rest());
  return { body: { kind: 'undici', stream: wrapReadable(merged) }, redirect };
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
