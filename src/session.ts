/**
 * The Session: a short loop over prepare → send → absorb → planNext. Every policy is a pure function
 * elsewhere (src/hop/, credentials/policy, redirect/plan, the cookie jar); this file only carries out
 * their decisions, records them on the hop, and talks to the transport (an undici Dispatcher).
 */
import diagnostics from 'node:diagnostics_channel';
import { pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import type { Dispatcher } from 'undici';
import { prepareBody } from './body.js';
import { CookieJar } from './cookies/jar.js';
import type { CookieEvaluation, CookieStore, SetCookieResult } from './cookies/types.js';
import type { AuthProvider, Challenge } from './credentials/auth.js';
import { netrcEntry, type Netrc } from './credentials/netrc.js';
import { planHeaders, type HeaderPolicyResult, type UserHeader } from './credentials/policy.js';
import { isSensitiveName, redactUrl, traceUrl } from './credentials/sensitive.js';
import { codingsToUndo, ACCEPT_ENCODING, decodedBody, passesAsIs } from './decode.js';
import { HopwiseError, HopwiseNetworkError, HopwiseOptionError, HopwiseRedirectError } from './errors.js';
import { readFetchInput, type FetchInit, type FetchInput } from './fetch-input.js';
import { HopSignal } from './hop-signal.js';
import { absorb, type RawHeaders } from './hop/absorb.js';
import { settleDecisions, unconfirmedDecisions, type ChainWrites } from './hop/settle-cookies.js';
import { newChain, type Chain } from './hop/chain.js';
import { HTML_SNIFF_LIMIT, planNext, readPage, replanHookTarget, seenBefore } from './hop/plan-next.js';
import { prepare, type Credential } from './hop/prepare.js';
import { planRetry } from './hop/retry.js';
import { hstsUpgrade } from './hop/hsts.js';
import { resolveOptions, validateHeaderRecord, type RedirectState, type ResolvedOptions, type SessionOptions } from './options.js';
import type { Plan } from './redirect/plan.js';
import { addSecrets, BodyTap, bodyText, isTextLike } from './record-body.js';
import { HopwiseResponse, type ResponseBody } from './response.js';
import { headerValueProblem, isToken } from './syntax.js';
import * as decide from './trace/decisions.js';
import { renderHop } from './trace/render-text.js';
import type { Decision, Hop } from './trace/types.js';
import { PrivateAddressRefusal, Transport } from './transport/agent.js';
import { bodyError, transportError, type ChainEnd } from './transport/errors.js';
import { route as connectToRoute } from './transport/connect-to.js';
import type { Env } from './transport/proxy.js';
import { planRoute, type RoutePlan, type RouteState } from './route/plan.js';
import { readPageStart } from './transport/read-page.js';
import { exchange, type BodySource, type Exchange } from './transport/exchange.js';

export type { FetchInit, FetchInput } from './fetch-input.js';

/** A finished hop, published on the `hopwise:hop` diagnostics channel. */
export interface HopMessage {
  hop: Hop;
  /** Every hop of the chain so far, this one last. */
  hops: readonly Hop[];
}

/** `diagnostics_channel.subscribe('hopwise:hop', fn)` sees every hop of every session, as it ends. */
const hopChannel = diagnostics.channel('hopwise:hop');
/** `NODE_DEBUG=hopwise` prints each hop's trace to stderr (Node's util.debuglog convention). */
const debug = debuglog('hopwise');

const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const USER_AGENT = 'hopwise/0.1';

/** How the chain's I/O ends: the caller's signal and the total timeout (what errors.ts reads), and more. */
interface Io extends ChainEnd {
  /** This call's own dispatcher (init.dispatcher), used instead of the session's. */
  dispatcher: Dispatcher | undefined;
  decompress: boolean;
  /** performance.now() when timeout.total ends, if there is one (a retry never waits past it). */
  deadline?: number | undefined;
}

function hostPortKey(url: URL): string {
  const h = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return `${h}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/**
 * Fetch "normalize a method" (§2.2.1): the six methods it names upper-cased, others as given, except
 * that PATCH is upper-cased too: `method: 'patch'` sent as is is refused by most servers (whatwg/fetch#50).
 */
function normaliseMethod(m: string | undefined): string {
  if (m === undefined) return 'GET';
  if (!isToken(m)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `method '${String(m)}' is not a valid HTTP method token`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `method ${upper} is not allowed (Fetch forbids it)`);
  return NORMALISED_METHODS.has(upper) ? upper : m;
}

/** How long close() waits for exchanges in flight before ending them. */
const CLOSE_GRACE_MS = 1000;
const EMPTY = Buffer.alloc(0);
/** A redirect body is discarded; up to this much of it is read (to reuse the connection), within this time. */
const REDIRECT_BODY_LIMIT = 128 * 1024;
const REDIRECT_BODY_MS = 1000;

/** Drop a body nobody will read (closing its connection); its teardown error is of no interest. */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** A store's answer that must be awaited (a shared store's); the in-memory jar answers at once. */
function isThenable<T>(x: T | PromiseLike<T>): x is PromiseLike<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/** The next hop of the chain as it starts: what is sent to `url`, and no answer yet. */
function newHop(chain: Chain, url: URL, start: number, requestHeaders: Record<string, string>, decisions: Decision[]): Hop {
  return {
    index: chain.hops.length,
    url: traceUrl(url),
    method: chain.method,
    requestHeaders,
    status: 0,
    statusText: '',
    responseHeaders: {},
    newConnection: false,
    timings: { start },
    decisions,
  };
}

/** The hop is complete: tell whoever listens (diagnostics channel, NODE_DEBUG). */
function published(hop: Hop, hops: readonly Hop[]): void {
  if (hopChannel.hasSubscribers) hopChannel.publish({ hop, hops } satisfies HopMessage);
  if (debug.enabled) debug('%s', renderHop(hop));
}

export class Session {
  readonly #o: ResolvedOptions;
  readonly #jar: CookieStore | undefined;
  /** The jar when it is the in-memory `CookieJar` (asked synchronously by prepare and absorb). */
  readonly #memoryJar: CookieJar | undefined;
  /** Any other store (a shared one may answer with promises): the session asks it and awaits it. */
  readonly #sharedJar: CookieStore | undefined;
  #transport: Transport | undefined;
  #dispatcher: Dispatcher | undefined;
  #closed = false;
  /**
   * Chains not yet over: started and not failed, or answered with a body not yet read to its end (or
   * cancelled). close() waits for them; undici's own close() cannot be cut short afterwards (an
   * Agent forgets its pools when closing, so a later destroy() no longer reaches a stuck request).
   */
  #inFlight = 0;
  #idle: (() => void) | undefined;

  readonly #sessionHeaders: readonly UserHeader[];
  /** The session's Accept-Encoding is hopwise's default (not the caller's). */
  #defaultAcceptEncoding = false;

  /** `env` (internal, for tests): the environment proxy variables are read from, once; default process.env. */
  constructor(options?: SessionOptions, env?: Env) {
    const o = (this.#o = resolveOptions(options, env));
    this.#jar = o.cookies === false ? undefined : (o.cookies ?? new CookieJar());
    this.#memoryJar = this.#jar instanceof CookieJar ? this.#jar : undefined;
    this.#sharedJar = this.#memoryJar === undefined ? this.#jar : undefined;
    const merged = new Map<string, string>();
    for (const [k, v] of o.headers) merged.set(k.toLowerCase(), v);
    if (!merged.has('user-agent')) merged.set('user-agent', USER_AGENT);
    if (o.decompress && !merged.has('accept-encoding')) {
      merged.set('accept-encoding', ACCEPT_ENCODING);
      this.#defaultAcceptEncoding = true;
    }
    // Detached use (`const f = session.fetch`) is how SDKs take a fetch.
    this.fetch = this.fetch.bind(this);
    this.#sessionHeaders = [...merged].map(([name, value]) => ({ name, value, sensitive: isSensitiveName(name, o.sensitiveHeaders) }));
  }

  /** The session's cookie jar (undefined with cookies: false). */
  get cookies(): CookieStore | undefined {
    return this.#jar;
  }

  /**
   * The dispatcher every hop goes through: the caller's own, or hopwise's agent (connectTo, ca,
   * connection timings), optionally composed by the caller's function. Made on first use.
   */
  #getDispatcher(): Dispatcher {
    if (this.#dispatcher) return this.#dispatcher;
    const d = this.#o.dispatcher;
    if (d !== undefined && typeof d !== 'function') return (this.#dispatcher = d);
    const pn = this.#o.privateNetworks;
    const t = (this.#transport = new Transport({
      connectTo: this.#o.connectTo,
      ca: this.#o.ca,
      connectTimeout: this.#o.timeout.connect,
      connections: this.#o.connections,
      guard: { refuseAll: pn.refuse === 'all', classifier: pn.classifier },
      http2: this.#o.http2,
    }));
    return (this.#dispatcher = d ? d(t.agent) : t.agent);
  }

  /** The dispatcher of one hop's route: hopwise's agent, or a ProxyAgent for the proxy (and its credential). */
  #dispatcherFor(plan: RoutePlan): Dispatcher {
    const direct = this.#getDispatcher();
    if (plan.route.kind !== 'proxy' || !this.#transport) return direct;
    const f = this.#o.dispatcher;
    return this.#transport.proxyAgent(plan.route.proxy.url, plan.token, plan.mode === 'tunnel', typeof f === 'function' ? f : undefined);
  }

  /**
   * Close hopwise's own agent: new requests are refused, exchanges in flight (and bodies nobody
   * reads) get up to 1 s to finish, then are ended. A dispatcher the caller handed in is the
   * caller's to close.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const t = this.#transport;
    this.#transport = undefined;
    this.#dispatcher = undefined;
    if (!t) return;
    const started = performance.now();
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      clearTimeout(timer);
      this.#idle = undefined;
    }
    // Whatever is still in flight after the grace is ended (ERR_SESSION_CLOSED), proxied or not.
    if (this.#inFlight > 0) await t.destroy();
    else await t.close(Math.max(100, CLOSE_GRACE_MS - (performance.now() - started)));
  }

  /** End everything at once: every exchange in flight fails with ERR_SESSION_CLOSED, unread bodies included. */
  async destroy(): Promise<void> {
    this.#closed = true;
    const t = this.#transport;
    this.#transport = undefined;
    this.#dispatcher = undefined;
    if (t) await t.destroy();
  }

  /**
   * A drop-in `fetch`: takes a string, a URL or a Request (init overrides what the Request says),
   * returns a real `Response` with `hops`. Bound to the session, so `const f = session.fetch` works.
   */
  async fetch(input: FetchInput, init?: FetchInit): Promise<HopwiseResponse> {
    if (this.#closed) throw new HopwiseOptionError('ERR_SESSION_CLOSED', 'This session was closed; create a new Session.');
    const o = this.#o;
    const call = readFetchInput(input, init);
    const url = call.url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HopwiseOptionError('ERR_INVALID_URL', `Only http: and https: URLs can be fetched, not ${url.protocol}`);
    if (url.username || url.password) {
      throw new HopwiseOptionError(
        'ERR_INVALID_URL',
        `The URL carries user:password@ credentials. hopwise never turns userinfo into a credential (it would follow redirects); use auth: basic(user, pass) instead.`,
      );
    }
    const method = normaliseMethod(call.method);
    const mode = call.redirect ?? o.redirect;
    if (mode !== 'follow' && mode !== 'manual' && mode !== 'error') throw new HopwiseOptionError('ERR_INVALID_OPTION', `redirect must be 'follow', 'manual' or 'error'; got '${String(mode)}'`);

    const body = call.body === undefined || call.body === null ? undefined : await prepareBody(call.body, o.replayBufferSize);
    if (body && (method === 'GET' || method === 'HEAD')) throw new HopwiseOptionError('ERR_INVALID_BODY', `A ${method} request cannot have a body (Fetch); use POST or PUT.`);
    // Headers: session defaults, then the call's own (a call header replaces a session header). The
    // common case (no per-call headers, no body) reuses the session's list, classified once.
    let userHeaders = this.#sessionHeaders;
    const decompress = call.decompress ?? o.decompress;
    if (call.headers !== undefined || body?.contentType || decompress !== o.decompress) {
      const merged = new Map<string, string>();
      for (const h of userHeaders) merged.set(h.name, h.value);
      if (!decompress && this.#defaultAcceptEncoding) merged.delete('accept-encoding');
      if (call.headers !== undefined) for (const [k, v] of call.headers) merged.set(k.toLowerCase(), v);
      if (decompress && !merged.has('accept-encoding')) merged.set('accept-encoding', ACCEPT_ENCODING);
      if (body?.contentType && !merged.has('content-type')) merged.set('content-type', body.contentType);
      const list: UserHeader[] = [];
      for (const [name, value] of merged) list.push({ name, value, sensitive: isSensitiveName(name, o.sensitiveHeaders) });
      userHeaders = list;
    }

    if (call.signal?.aborted) throw new HopwiseNetworkError('ERR_ABORTED', 'The signal was already aborted before the request started.', { cause: call.signal.reason });
    // One signal for the chain: the caller's, and the total timeout that spans every hop and the final body.
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let signal = call.signal;
    if (o.timeout.total !== undefined) {
      const ac = new AbortController();
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort(new HopwiseNetworkError('ERR_TIMEOUT', `timeout.total (${o.timeout.total} ms) elapsed`));
      }, o.timeout.total);
      signal = call.signal ? AbortSignal.any([call.signal, ac.signal]) : ac.signal;
    }

    // A caller-set Proxy-Authorization never goes to an origin: it leaves the header list here and
    // is handed to the proxy of the first hop's route (planRoute), or dropped.
    let callerProxyAuth: string | undefined;
    if (userHeaders.some((h) => h.name === 'proxy-authorization')) {
      callerProxyAuth = userHeaders.find((h) => h.name === 'proxy-authorization')?.value;
      userHeaders = userHeaders.filter((h) => h.name !== 'proxy-authorization');
    }

    this.#inFlight++;
    let over = false;
    const chainOver = (): void => {
      if (over) return;
      over = true;
      if (--this.#inFlight === 0) this.#idle?.();
    };
    try {
      const io: Io = {
        signal,
        timedOut: () => timedOut,
        closed: () => this.#closed,
        dispatcher: call.dispatcher,
        decompress,
        deadline: o.timeout.total !== undefined ? performance.now() + o.timeout.total : undefined,
      };
      const res = await this.#run(newChain(url, method, userHeaders, body, mode), io, callerProxyAuth);
      const t = timer;
      timer = undefined;
      // timeout.total spans reading the final body: it stops when the reader is done with it, not when
      // it arrived (a body read after the deadline fails, as with request()); close() waits only for arrival.
      if (t) res.onBodyRead(() => clearTimeout(t));
      res.onBodyDone(chainOver);
      return res.response;
    } catch (err) {
      chainOver();
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * A shared cookie store's answer, within the chain's signal: a store that fails, or does not
   * answer before timeout.total, is ERR_STORE with the trace so far, never an empty jar.
   */
  async #fromStore<T>(answer: PromiseLike<T>, chain: Chain, io: Io, url: URL, doing: string, hop?: Hop): Promise<T> {
    const signal = io.signal;
    try {
      if (!signal) return await answer;
      return await new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason as Error);
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        answer.then(
          (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
          (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e as Error)),
        );
      });
    } catch (err) {
      let e: HopwiseError;
      if (err instanceof HopwiseError && err.code === 'ERR_STORE') e = err;
      else if (io.timedOut()) e = new HopwiseError('ERR_STORE', `The cookie store did not answer within timeout.total (${this.#o.timeout.total} ms) while ${doing} ${redactUrl(url)}.`);
      else if (signal?.aborted) e = new HopwiseNetworkError('ERR_ABORTED', `The request was aborted while ${doing} ${redactUrl(url)} in the cookie store.`, { cause: signal.reason });
      else e = new HopwiseError('ERR_STORE', `The cookie store failed while ${doing} ${redactUrl(url)}; see err.cause.`, { cause: err });
      e.hops = chain.hops;
      if (hop) hop.error ??= { code: e.code, message: e.message };
      throw e;
    }
  }

  /**
   * The hop loop, and a shared store's writes of the chain (`CookieStore.batch`): written before
   * the response is delivered (#settleCookies), and before an error is thrown for the chain.
   */
  async #run(chain: Chain, io: Io, callerProxyAuth: string | undefined): Promise<{ response: HopwiseResponse; onBodyDone: (fn: () => void) => void; onBodyRead: (fn: () => void) => void }> {
    const batch = this.#sharedJar?.batch?.();
    if (!batch) return this.#hops(chain, io, callerProxyAuth, undefined);
    const writes: ChainWrites = { batch, hops: [], lines: 0, flushed: false };
    try {
      return await this.#hops(chain, io, callerProxyAuth, writes);
    } catch (err) {
      if (!writes.flushed) {
        // The chain failed with cookies decided and not yet written: write them, unless the chain may
        // not wait any more (aborted, timed out), then they go on their own and the trace says so.
        if (io.signal?.aborted || writes.hops.length === 0) {
          writes.flushed = true;
          batch.flush().then(undefined, () => {});
          unconfirmedDecisions(writes, 'the request ended before the write was acknowledged (it may or may not have been applied)');
        } else {
          await this.#settleCookies(writes, chain, io).catch(() => {});
        }
      }
      throw err;
    }
  }

  /**
   * One round trip writes every Set-Cookie line of the chain to the shared store, before the
   * response is handed on (read-your-writes: a request another worker starts after delivery sees
   * them); the trace then holds the final decisions. A failure is ERR_STORE with the trace, within
   * timeout.total, on the first hop whose cookies were not acknowledged.
   */
  async #settleCookies(writes: ChainWrites, chain: Chain, io: Io): Promise<void> {
    const first = writes.hops[0];
    if (writes.flushed || !first) return;
    writes.flushed = true;
    let finals;
    try {
      finals = await this.#fromStore(writes.batch.flush(), chain, io, first.url, 'storing the cookies of', first.hop);
    } catch (err) {
      unconfirmedDecisions(writes, `the write failed (${(err as HopwiseError).code ?? 'ERR_STORE'}): it may or may not have been applied`);
      throw err;
    }
    settleDecisions(writes, finals, chain.hops);
  }

  /** The hop loop (DESIGN: prepare → send → absorb → plan). */
  async #hops(
    chain: Chain,
    io: Io,
    callerProxyAuth: string | undefined,
    writes: ChainWrites | undefined,
  ): Promise<{ response: HopwiseResponse; onBodyDone: (fn: () => void) => void; onBodyRead: (fn: () => void) => void }> {
    const o = this.#o;
    const routes: RouteState = { previous: undefined, previousSent: undefined, callerHeader: callerProxyAuth, callerRoute: undefined };
    const callerDispatcher = o.dispatcher !== undefined && typeof o.dispatcher !== 'function';
    /** Every secret value the chain sent or received, kept only when bodies are recorded (they are redacted from them). */
    const secrets = o.recordBodies > 0 ? new Set<string>() : undefined;
    let repeatedFrom: Hop | undefined;
    // A shared cookie store must show this chain what other processes stored before it started.
    const shared = this.#sharedJar;
    const context = shared ? { freshSince: performance.now() } : undefined;
    for (;;) {
      // HSTS (RFC 6797 §8.3): a Known HSTS Host is asked over https, before anything is sent.
      const known = o.hsts && chain.url.protocol === 'http:' ? o.hsts.match(chain.url.hostname) : undefined;
      let hstsDecision: Decision | undefined;
      if (known) {
        const to = hstsUpgrade(chain.url);
        hstsDecision = decide.hsts.upgraded(traceUrl(chain.url), traceUrl(to), known.host, known.includeSubDomains, chain.url.hostname);
        chain.url = to;
      }
      const { url } = chain;
      const isRetry = chain.refreshAuth;
      const repeat = chain.repeat || isRetry;

      // ---- prepare: caller headers through the policy, scoped auth, jar cookies ----
      const policy = planHeaders({ prev: chain.prev, next: url, first: chain.first, userHeaders: chain.userHeaders, stripped: chain.stripped, trust: o.trust, providers: o.auth });
      for (const name of policy.newlyStripped) chain.stripped.add(name);
      // No provider in scope (the common case): no async call, so no extra promise and microtask turn per hop.
      const credentials = policy.providers.length > 0 ? await this.#credentials(policy.providers, chain, isRetry) : [];
      const netrcDecision = o.netrc ? this.#netrc(o.netrc, url, policy, chain, credentials) : undefined;
      // Any other store (a shared one answers with a promise) is asked here, awaited only if it must be.
      let evaluated: CookieEvaluation | undefined;
      if (shared) {
        const r = shared.evaluate(url, context);
        if (!isThenable(r)) evaluated = r;
        else {
          const start = Date.now();
          try {
            evaluated = await this.#fromStore(r, chain, io, url, 'looking up the cookies for');
          } catch (err) {
            // The hop that could not go ends the trace, with its error: the store failed before anything was sent.
            if (err instanceof HopwiseError) {
              // Nothing sent, no answer, its error.
              const hop = newHop(chain, url, start, {}, hstsDecision ? [hstsDecision] : []);
              hop.error = { code: err.code, message: err.message };
              chain.hops.push(hop);
              published(hop, chain.hops);
            }
            throw err;
          }
        }
      }
      const req = prepare({ url, policy, hook: chain.hookHeaders, credentials, jar: this.#memoryJar, evaluated, sensitiveHeaders: o.sensitiveHeaders });
      chain.hookHeaders = undefined;
      if (netrcDecision) req.decisions.unshift(netrcDecision);
      chain.refreshAuth = false;
      chain.repeat = false;

      if (!repeat && seenBefore(chain, req.cookieHeader)) {
        const last = chain.hops[chain.hops.length - 1];
        last?.decisions.push(decide.redirect.loop(chain.method, url));
        throw new HopwiseRedirectError(
          'ERR_REDIRECT_LOOP',
          `Redirect loop: ${chain.method} ${redactUrl(url)} with the same cookies was already requested in this chain (hop ${last?.index ?? 0} points back to it). The server keeps redirecting without changing state; see err.hops.`,
          { hops: chain.hops },
        );
      }
      // ---- route: direct or via a proxy, and the proxy credential (judged by route, not origin) ----
      const plan = planRoute({ settings: o.proxy, url, connectTo: o.connectTo, proxyAuth: o.proxyAuth, callerDispatcher, state: routes });
      withoutProxyAuthorization(req, plan);
      // A repeated request (a retry, an answered challenge) comes from where the hop it repeats came from.
      const prevHop = repeat ? repeatedFrom : chain.hops[chain.hops.length - 1];
      repeatedFrom = prevHop;
      const hop = newHop(chain, url, Date.now(), req.shown, [...plan.decisions, ...req.decisions]);
      hop.route = plan.name;
      if (hstsDecision) hop.decisions.unshift(hstsDecision);
      chain.hops.push(hop);

      // ---- send: one exchange, no redirect following inside undici ----
      const t0 = performance.now();
      let res: Exchange;
      try {
        res = await this.#send(chain, hop, req.headers, io, t0, plan, prevHop);
      } catch (err) {
        // A connection reset before any answer may be retried like a 503 (the retry option).
        const cause = err instanceof HopwiseNetworkError && err.code === 'ERR_NETWORK' ? (err.cause as { code?: string } | undefined)?.code : undefined;
        const again =
          cause === undefined
            ? undefined
            : planRetry({ policy: o.retry, method: chain.method, body: chain.body, retries: chain.retries, status: undefined, error: cause, retryAfter: undefined, ...this.#clock(io, chain) });
        if (!again) throw err;
        hop.decisions.push(...again.decisions);
        if (!again.retry) throw err;
        await this.#wait(again.waitMs, chain, io);
        continue;
      }
      const raw = res.headers as RawHeaders;
      if (secrets) this.#recordRequest(chain, hop, req.headers, req.shown, raw, secrets);

      // ---- absorb: every Set-Cookie of every response, 3xx included, before planning ----
      let stored: SetCookieResult[] | undefined;
      const setCookie = raw['set-cookie'];
      if (shared && setCookie !== undefined) {
        const lines = Array.isArray(setCookie) ? setCookie : [setCookie];
        // A batch decides each line at once (the next hop sends it) and writes them all before
        // delivery (#settleCookies); a store without one writes each hop's lines before going on.
        // Either way each answer is in the store before the response is handed on (read-your-writes).
        const rs = writes ? lines.map((line) => writes.batch.setCookie(line, url)) : lines.map((line) => shared.setCookie(line, url));
        stored = rs.some(isThenable) ? await this.#fromStore(Promise.all(rs), chain, io, url, 'storing the cookies of', hop) : (rs as SetCookieResult[]);
      }
      const absorbed = absorb(url, raw, this.#memoryJar, req.sentCookies, stored);
      if (writes && stored) {
        writes.hops.push({ hop, url, raw, sentCookies: req.sentCookies, decisions: absorbed.decisions, from: writes.lines, count: stored.length });
        writes.lines += stored.length;
      }
      if (o.hsts && url.protocol === 'https:' && raw['strict-transport-security'] !== undefined) o.hsts.observe(url, raw['strict-transport-security']);
      hop.responseHeaders = absorbed.responseHeaders;
      if (absorbed.backend) hop.backend = absorbed.backend;
      if (absorbed.decisions.length) hop.decisions.push(...absorbed.decisions);

      // ---- plan: the next hop, or stop ----
      const planInput = {
        chain,
        status: res.statusCode,
        headers: raw,
        hopIndex: hop.index,
        options: o,
        refreshableAuth: policy.providers.some((p) => p.canRefresh),
        auth: credentials.map((c) => ({ provider: c.provider, sent: c.value !== undefined, challenge: c.challenge })),
        clock: () => this.#clock(io, chain),
      };
      let next = planNext(planInput);
      let responseBody: ResponseBody | undefined;
      if (next.action === 'read-page') {
        // The page is sniffed decoded: a gzip front end must not hide a meta refresh.
        const caller = this.#callerBody(res, chain, hop, io, secrets);
        const page = await this.#readPage(caller.kind === 'source' ? caller.source.stream() : caller.stream, chain, hop, io, t0);
        responseBody = page.body;
        next = planNext({ ...planInput, page: readPage(page.bytes, raw) });
      }

      if (next.action === 'retry') {
        await res.body.dump();
        hop.timings.end = performance.now() - t0;
        if (next.decisions?.length) hop.decisions.push(...next.decisions);
        if (next.why === 'challenge') {
          // The provider answers this challenge on the repeated hop, and on later hops to this origin.
          const byOrigin = (chain.challenges ??= new Map());
          const m = byOrigin.get(url.origin) ?? new Map<AuthProvider, Challenge>();
          m.set(next.provider, next.challenge);
          byOrigin.set(url.origin, m);
          if (next.stale) chain.staleAnswered = true;
          chain.repeat = true;
        } else if (next.why !== 'status') {
          chain.refreshedOnce = true;
          chain.refreshAuth = true;
        }
        published(hop, chain.hops);
        if (next.why === 'status') await this.#wait(next.waitMs, chain, io);
        continue;
      }
      if (next.action === 'read-page') throw new Error('unreachable: a page is read once');
      if (next.decisions.length) hop.decisions.push(...next.decisions);
      const location = next.action === 'follow' ? next.url : next.location;
      if (location) hop.location = traceUrl(location);

      if (next.action === 'return') {
        // The chain's cookies are in the shared store before its response (or streamed body) is handed on.
        if (writes) await this.#settleCookies(writes, chain, io);
        hop.timings.end = hop.timings.firstByte;
        published(hop, chain.hops);
        const responseUrl = url.hash ? url.href.slice(0, -url.hash.length) : url.href; // Fetch: response URL has no fragment
        const hops = chain.hops;
        const timeouts = o.timeout;
        const hooks = {
          // Whatever ends a read after fetch() resolved reaches the caller as a HopwiseError with the trace.
          mapError: (err: unknown): unknown => {
            const e = bodyError(err, url, hops, io, timeouts);
            hop.error ??= { code: e.code, message: e.message };
            return e;
          },
          onEnd: () => void (hop.timings.end = performance.now() - t0),
        };
        // Fetch: a HEAD answer, 204, 205 and 304 have a null body.
        const nullBody = chain.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 205 || res.statusCode === 304;
        if (nullBody) await res.body.dump();
        const body: ResponseBody = nullBody ? { kind: 'buffer', bytes: EMPTY } : (responseBody ?? this.#callerBody(res, chain, hop, io, secrets));
        const response = new HopwiseResponse(res.statusCode, hop.statusText || undefined, responseUrl, raw, body, hops, nullBody ? { ...hooks, nullBody } : hooks);
        const source = res.body;
        return { response, onBodyDone: (fn) => source.onSettled(fn), onBodyRead: (fn) => source.onConsumed(fn) };
      }
      // A redirect's body is not wanted: let the connection be reused if it comes quickly, else close it.
      if (responseBody?.kind === 'stream') discard(responseBody.stream);
      if (next.action === 'error' || responseBody) res.body.destroy();
      else if (raw['content-length'] === '0' || res.body.settled) await res.body.dump();
      else await this.#drain(res.body);
      hop.timings.end = performance.now() - t0;
      if (next.action === 'error') {
        published(hop, chain.hops);
        throw new HopwiseRedirectError(next.code, next.message, { hops: chain.hops });
      }
      chain.redirects++;
      try {
        await this.#advance(chain, next, hop);
      } finally {
        published(hop, chain.hops);
      }
    }
  }

  /**
   * The .netrc entry of this hop's exact host, as a Basic credential added to `credentials`, unless an
   * auth provider or the caller's (or the hook's) Authorization is in scope: those win (curl, requests).
   */
  #netrc(netrc: Netrc, url: URL, policy: HeaderPolicyResult, chain: Chain, credentials: Credential[]): Decision | undefined {
    const entry = netrcEntry(netrc, url);
    if (!entry) return undefined;
    const to = url.origin;
    const host = url.hostname.toLowerCase();
    const provider = credentials.find((c) => c.provider.header === 'authorization');
    if (provider) return decide.netrc.overridden(host, `the ${provider.provider.kind} provider`, to);
    if (policy.send.some((h) => h.name === 'authorization') || chain.hookHeaders?.add.some(([k]) => k === 'authorization'))
      return decide.netrc.overridden(host, "the caller's Authorization header", to);
    const value = `Basic ${Buffer.from(`${entry.login}:${entry.password}`, 'utf8').toString('base64')}`;
    credentials.push({ provider: { kind: 'netrc', header: 'authorization', canRefresh: false, schemes: ['basic'], value: () => value }, value, refreshed: false });
    return decide.netrc.sent(host, entry.machine === undefined, to, netrc.path);
  }

  /** What a retry plan reads of time: now, what is left of timeout.total, and a jitter. */
  #clock(io: Io, chain: Chain): { now: number; remaining: number | undefined; random: number } {
    const now = Date.now();
    const total = io.deadline === undefined ? Infinity : io.deadline - performance.now();
    const maxTime = this.#o.retry.maxTime;
    const started = chain.hops[0]?.timings.start ?? now;
    const remaining = Math.min(total, maxTime === undefined ? Infinity : started + maxTime - now);
    return { now, remaining: remaining === Infinity ? undefined : remaining, random: Math.random() };
  }

  /** Sleep before a retry (the plan chose how long); the caller's signal and timeout.total end it. */
  async #wait(ms: number, chain: Chain, io: Io): Promise<void> {
    chain.retries++;
    chain.waited += ms;
    chain.repeat = true;
    try {
      await sleep(ms, undefined, io.signal ? { signal: io.signal } : undefined);
    } catch (err) {
      throw transportError(err, chain.url, chain.hops, io, this.#o.timeout);
    }
  }

  /** Read and drop a redirect's body so the connection can be reused, for a bounded time: a body dripped slowly is cut off. */
  async #drain(body: BodySource): Promise<void> {
    const timer = setTimeout(() => body.destroy(), Math.min(this.#o.timeout.body, REDIRECT_BODY_MS));
    try {
      await body.dump(REDIRECT_BODY_LIMIT);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The body as the caller reads it: decoded (unless decompress is off), capped at maxBodySize, tapped for recordBodies. */
  #callerBody(res: Exchange, chain: Chain, hop: Hop, io: Io, secrets: Set<string> | undefined): Exclude<ResponseBody, { kind: 'buffer' }> {
    const o = this.#o;
    const raw = res.headers as RawHeaders;
    const status = res.statusCode;
    const hasBody = chain.method !== 'HEAD' && status !== 204 && status !== 304;
    const codings = io.decompress && hasBody ? codingsToUndo(raw['content-encoding']) : undefined;
    const declared = res.body.declared;
    const tapped = secrets !== undefined && hasBody && isTextLike(raw['content-type']);
    // Nothing to decode, count or record: the body goes to the caller as it arrives, with no stream in between.
    if (!tapped && passesAsIs(codings, declared, o.maxBodySize)) return { kind: 'source', source: res.body };
    const body = decodedBody(res.body.stream(), codings, declared, o.maxBodySize);
    if (!tapped) return { kind: 'stream', stream: body };
    const cap = o.recordBodies;
    const tap = new BodyTap(cap, (bytes, total) => {
      hop.responseBody = bodyText(bytes, cap, secrets).text;
      if (total !== undefined) hop.responseBodySize = total;
    });
    return { kind: 'stream', stream: pipeline(body, tap, () => {}) };
  }

  /** recordBodies: the secret values of this exchange (redacted from every body), and the request body as text. */
  #recordRequest(chain: Chain, hop: Hop, headers: readonly string[], shown: Record<string, string>, raw: RawHeaders, secrets: Set<string>): void {
    let contentType: string | undefined;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (name === 'content-type') contentType = value;
      if (shown[name] !== value) addSecrets(secrets, name, value);
    }
    const setCookie = raw['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) addSecrets(secrets, 'set-cookie', line);
    const cap = this.#o.recordBodies;
    const bytes = chain.body && isTextLike(contentType) ? chain.body.peek(cap + 1) : undefined;
    if (bytes) hop.requestBody = bodyText(bytes, cap, secrets).text;
  }

  /**
   * The credentials of the providers in scope for this hop (a retry after a 401 asks for fresh ones).
   * A provider answering this origin's challenge is given it; another provider of the same header
   * then sends nothing (the challenge's scheme picked the one that answers).
   */
  async #credentials(providers: readonly AuthProvider[], chain: Chain, isRetry: boolean): Promise<Credential[]> {
    const out: Credential[] = [];
    const challenged = providers.length ? chain.challenges?.get(chain.url.origin) : undefined;
    const body = chain.body;
    const bodyBytes = (): Buffer | undefined => (body === undefined ? Buffer.alloc(0) : body.size === undefined ? undefined : body.peek(body.size));
    for (const p of providers) {
      const refresh = isRetry && p.canRefresh;
      const challenge = challenged?.get(p);
      if (!challenge && challenged) {
        const other = [...challenged].find(([q]) => q !== p && q.header === p.header && providers.includes(q));
        if (other) {
          out.push({ provider: p, value: undefined, otherScheme: other[1].scheme, refreshed: false });
          continue;
        }
      }
      let value: unknown;
      try {
        const v = p.value({ url: chain.url, method: chain.method, refresh, challenge, body: bodyBytes });
        value = typeof v === 'string' || v === undefined ? v : await v;
      } catch (err) {
        // A shared token source (hopwise/redis sharedToken) that cannot reach its store says so itself.
        if (err instanceof HopwiseError && err.code === 'ERR_STORE') {
          err.hops = chain.hops;
          throw err;
        }
        // The provider's own message may quote the credential; keep it in `cause`, out of the message.
        throw new HopwiseOptionError('ERR_INVALID_OPTION', `The ${p.kind} auth provider threw while producing ${p.header} for ${chain.url.origin}; see err.cause.`, { hops: chain.hops, cause: err });
      }
      if (value === undefined) {
        out.push({ provider: p, value: undefined, challenge, refreshed: false });
        continue;
      }
      const problem = typeof value === 'string' ? headerValueProblem(value) : undefined;
      if (typeof value !== 'string' || problem) {
        throw new HopwiseOptionError(
          'ERR_INVALID_OPTION',
          `The ${p.kind} auth provider returned ${typeof value === 'string' ? `a value with ${problem}` : `a ${typeof value}`} for ${p.header}; it must return a header-safe string.`,
          { hops: chain.hops },
        );
      }
      out.push({ provider: p, value, challenge, refreshed: refresh });
    }
    return out;
  }

  /**
   * The private-network guard for one hop, before anything is sent. Returns the function that ends
   * the hop's arming of the connector (direct routes), or throws ERR_PRIVATE_ADDRESS.
   */
  #guard(chain: Chain, hop: Hop, plan: RoutePlan, prevHop: Hop | undefined, io: Io, t0: number): (() => void) | undefined {
    const pn = this.#o.privateNetworks;
    const url = chain.url;
    // A redirect from a public address (or one hopwise could not see) may not reach a private one.
    const fromClass = prevHop?.addressClass ?? (prevHop ? 'unknown' : undefined);
    const armed = pn.refuse === 'all' || (pn.refuse === 'redirects' && prevHop !== undefined && fromClass !== 'private');
    const key = hostPortKey(url);
    const refuse = (address: string): never => {
      refusedOn(hop, pn, url.hostname, address, prevHop);
      throw this.#failed(new PrivateAddressRefusal(url.hostname, address), chain, hop, io, t0, plan);
    };
    const transport = this.#transport;
    if (plan.route.kind === 'direct' && transport && (this.#o.dispatcher === undefined || typeof this.#o.dispatcher === 'function')) {
      // hopwise's own connector (also under the caller's composition) judges the address connected to.
      if (!armed) return undefined;
      const a = transport.arm(key);
      if (a.reusedPrivate) {
        a.disarm();
        refuse(a.reusedPrivate.address);
      }
      return a.disarm;
    }
    // A proxy resolves the name (or the caller's dispatcher connects): only an IP literal, or
    // localhost, can be judged here; anything else is 'unknown' for the next hop.
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const target = connectToRoute(this.#o.connectTo, url.hostname, port).host;
    const cls = pn.classifier.classifyHost(target);
    if (cls === 'private' && armed) refuse(target);
    hop.addressClass = cls ?? 'unknown';
    if (cls !== undefined) hop.remoteAddress = target;
    return undefined;
  }

  /** One exchange on the dispatcher. A failure becomes a typed error carrying the trace. */
  async #send(chain: Chain, hop: Hop, headers: string[], io: Io, t0: number, plan: RoutePlan, prevHop: Hop | undefined): Promise<Exchange> {
    const o = this.#o;
    const url = chain.url;
    const dispatcher = this.#dispatcherFor(plan);
    const disarm = this.#guard(chain, hop, plan, prevHop, io, t0);
    let res: Exchange;
    // undici restarts its headers timer on each 1xx: after the first one, hopwise keeps the deadline itself.
    const signal = new HopSignal(io.signal);
    let informational: NodeJS.Timeout | undefined;
    const onInfo = (): void => {
      informational ??= setTimeout(
        () => signal.abort(Object.assign(new Error('1xx responses only, past timeout.headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
        Math.max(0, o.timeout.headers - (performance.now() - t0)),
      );
    };
    try {
      res = await exchange(io.dispatcher ?? dispatcher, {
        origin: url.origin,
        path: url.pathname + url.search,
        method: chain.method as Dispatcher.HttpMethod,
        headers,
        body: chain.body?.forSend() as never,
        signal,
        onInfo,
        headersTimeout: o.timeout.headers,
        bodyTimeout: o.timeout.body,
        // hopwise decides every hop: a redirect interceptor in a caller's dispatcher stays off.
        maxRedirections: 0,
      } as Parameters<typeof exchange>[1]);
    } catch (err) {
      if (err instanceof PrivateAddressRefusal) refusedOn(hop, this.#o.privateNetworks, url.hostname, err.address, prevHop);
      throw this.#failed(err, chain, hop, io, t0, plan);
    } finally {
      disarm?.();
      clearTimeout(informational);
    }
    hop.timings.firstByte = performance.now() - t0;
    hop.status = res.statusCode;
    hop.statusText = res.statusText ?? '';
    if (chain.body && chain.body.size !== undefined) hop.requestBodySize = chain.body.size;
    const transport = this.#transport;
    if (plan.route.kind === 'direct' && transport && !io.dispatcher && (o.dispatcher === undefined || typeof o.dispatcher === 'function')) {
      const key = hostPortKey(url);
      const conn = transport.unclaimed > 0 ? transport.claimConnection(key, t0) : undefined;
      if (conn) {
        hop.newConnection = true;
        if (conn.connected !== undefined) hop.timings.connect = conn.connected - t0;
        if (conn.secured !== undefined) hop.timings.tls = conn.secured - t0;
        if (conn.address !== undefined) hop.remoteAddress = conn.address;
        hop.addressClass = conn.addressClass ?? 'unknown';
        hop.protocol = conn.alpn === 'h2' ? 'h2' : 'http/1.1';
      } else {
        // A reused keep-alive connection: what it reached when it was opened.
        const reused = transport.liveAddress(key);
        if (reused?.address !== undefined) hop.remoteAddress = reused.address;
        hop.addressClass = reused?.addressClass ?? 'unknown';
        hop.protocol = reused?.alpn === 'h2' ? 'h2' : 'http/1.1';
      }
    }
    return res;
  }

  #failed(err: unknown, chain: Chain, hop: Hop, io: Io, t0: number, plan?: RoutePlan, reading = false): HopwiseError {
    const error = reading ? bodyError(err, chain.url, chain.hops, io, this.#o.timeout) : transportError(err, chain.url, chain.hops, io, this.#o.timeout, { via: plan });
    hop.error = { code: error.code, message: error.message };
    hop.timings.end = performance.now() - t0;
    published(hop, chain.hops);
    return error;
  }

  /** Read the start of a 200 HTML page for planNext; a stall or abort is a transport failure of this hop. */
  async #readPage(stream: Readable, chain: Chain, hop: Hop, io: Io, t0: number): Promise<{ bytes: Buffer; body: ResponseBody }> {
    try {
      // Bounded in time: a page dripped slowly is sniffed for what arrived within timeout.body.
      return await readPageStart(stream, HTML_SNIFF_LIMIT, this.#o.timeout.body);
    } catch (err) {
      throw this.#failed(err, chain, hop, io, t0, undefined, true);
    }
  }

  /** Carry out a 'follow' plan: new URL/method/body, then the hook, with the policy re-run on its result. */
  async #advance(chain: Chain, plan: Extract<Plan, { action: 'follow' }>, hop: Hop): Promise<void> {
    const o = this.#o;
    if (plan.dropBodyHeaders) dropBodyHeaders(chain, hop.decisions);
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
    try {
      await hook(state);
    } catch (err) {
      if (err instanceof HopwiseError) {
        if (err.hops.length === 0) err.hops = chain.hops;
        throw err;
      }
      // The hook's own message may quote a header value; keep it in `cause`, out of the message.
      throw new HopwiseOptionError('ERR_HOOK', `The beforeRedirect hook threw while planning hop ${hop.index + 1} (${redactUrl(plan.url)}); see err.cause.`, { hops: chain.hops, cause: err });
    }
    const next = state.next;

    if (typeof next.url !== 'string' || next.url !== plan.url.href) {
      const again = replanHookTarget({ ...chain, prev: from }, hop, String(next.url), plan.method, o);
      hop.decisions.push(...again.decisions);
      if (again.action !== 'follow')
        throw new HopwiseRedirectError(
          again.action === 'error' ? again.code : 'ERR_INVALID_REDIRECT',
          again.action === 'error' ? again.message : 'The beforeRedirect hook set a URL that cannot be followed.',
          { hops: chain.hops },
        );
      chain.url = again.url;
      hop.location = traceUrl(again.url);
    }
    if (typeof next.method === 'string' && next.method !== plan.method) {
      chain.method = normaliseMethod(next.method);
      hop.decisions.push(decide.method.hook(plan.method, chain.method));
      if (chain.method === 'GET' || chain.method === 'HEAD') {
        if (chain.body) hop.decisions.push(decide.body.dropped(chain.method));
        chain.body = undefined;
        dropBodyHeaders(chain, hop.decisions);
      }
    }
    const add: [string, string][] = [];
    const remove = new Set<string>();
    const after = validateHeaderRecord('beforeRedirect next.headers', next.headers ?? {});
    const afterMap = new Map(after.map(([k, v]) => [k.toLowerCase(), v]));
    for (const [k, v] of afterMap) if (proposed[k] !== v) add.push([k, v]);
    for (const k of Object.keys(proposed)) if (!afterMap.has(k)) remove.add(k);
    if (add.length || remove.size) chain.hookHeaders = { add, remove };
  }
}

/**
 * A Proxy-Authorization the beforeRedirect hook (or a custom auth provider) put among the origin's
 * headers never goes to the origin: on a proxied hop without a credential of its own it goes to the
 * proxy instead; otherwise it is dropped, and the trace says so.
 */
function withoutProxyAuthorization(req: { headers: string[]; shown: Record<string, string> }, plan: RoutePlan): void {
  for (let i = 0; i < req.headers.length; i += 2) {
    const name = req.headers[i]!;
    if (name.length !== 19 || name.toLowerCase() !== 'proxy-authorization') continue;
    const value = req.headers[i + 1]!;
    req.headers.splice(i, 2);
    i -= 2;
    delete req.shown['proxy-authorization'];
    if (plan.route.kind === 'proxy' && plan.token === undefined) {
      plan.token = value;
      plan.decisions.push(decide.proxyAuth.sent('caller-header', plan.name));
    } else if (plan.route.kind === 'direct') plan.decisions.push(decide.proxyAuth.direct('caller-header'));
  }
}

/** Record the guard's refusal on the hop: the decision, and the address nothing was sent to. */
function refusedOn(hop: Hop, pn: ResolvedOptions['privateNetworks'], host: string, address: string, prevHop: Hop | undefined): void {
  const all = pn.refuse === 'all';
  hop.decisions.push(decide.address.refused({ host, address, refuse: all ? 'all' : 'redirects', ...(all ? {} : { fromClass: prevHop?.addressClass ?? 'unknown' }), customList: pn.classifier.custom }));
  hop.remoteAddress = address;
  hop.addressClass = 'private';
}

/** The method no longer carries a body: its Content-* headers go too, for the rest of the chain. */
function dropBodyHeaders(chain: Chain, decisions: Decision[]): void {
  chain.userHeaders = chain.userHeaders.filter((h) => {
    if (!BODY_HEADERS.has(h.name)) return true;
    decisions.push(decide.header.bodyHeaderDropped(h.name));
    return false;
  });
}
