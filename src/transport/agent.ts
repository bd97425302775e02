/**
 * The transport: one undici Agent per session for direct routes, with a connector that applies
 * connectTo routing, extra CA certificates, the connect timeout and the private-network guard, and
 * notes each new connection (when, and to which address) so a hop can show connect/TLS timings and
 * the address it reached. Proxied routes use undici's ProxyAgent, one per proxy and credential.
 * The policy (which route, which hop may reach a private address) is decided by the session; this
 * module carries it out at connect time, on the address actually connected to.
 */
import { lookup } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { Agent, Pool, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import type { AddressClass, AddressClassifier } from './addresses.js';
import { route, type ConnectToRule } from './connect-to.js';
import { trustOf } from './trust.js';

export interface ConnectionTiming {
  /** performance.now() values */
  start: number;
  connected?: number;
  secured?: number;
  /** The address connected to (after DNS and connectTo), and its class. */
  address?: string;
  addressClass?: AddressClass;
  /** The protocol ALPN chose on a TLS connection ('h2', 'http/1.1'); undefined for cleartext. */
  alpn?: string;
}

export interface TransportOptions {
  connectTo: readonly ConnectToRule[];
  ca: readonly (string | Buffer)[];
  connectTimeout: number;
  /** Most connections to one origin. */
  connections?: number;
  /** The private-network guard: refuse every private address ('all'), or only while a hop is armed. */
  guard?: { refuseAll: boolean; classifier: AddressClassifier };
  /** Offer HTTP/2 by ALPN on TLS connections (undici allowH2). */
  http2?: boolean;
}

/** The connector's refusal: nothing was sent to `address`. */
export class PrivateAddressRefusal extends Error {
  readonly code = 'ERR_PRIVATE_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`refused to connect to ${host} at ${address}: a private address`);
  }
}

const MAX_PROXY_AGENTS = 16;

interface Live {
  address: string;
  addressClass: AddressClass;
  alpn: string | undefined;
}

export class Transport {
  readonly agent: Agent;
  /** Unclaimed new connections per logical 'host:port', oldest first. */
  readonly #fresh = new Map<string, ConnectionTiming[]>();
  /** How many new connections no hop has claimed yet: lets the hot path skip the lookup. */
  unclaimed = 0;
  /** Open direct connections per logical 'host:port', with the address each reached. */
  readonly #live = new Map<string, Set<Live>>();
  /** Logical 'host:port' keys a hop is about to reach while private addresses are refused for it. */
  readonly #armed = new Map<string, number>();
  /** Proxy agents per proxy, mode and credential (with the caller's composition), oldest first. */
  readonly #proxies = new Map<string, { agent: ProxyAgent; dispatcher: Dispatcher }>();
  readonly #options: TransportOptions;
  /** Trust for TLS to origins and proxies, made once (see trustOf). */
  readonly #trust: { secureContext?: tls.SecureContext };

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#trust = trustOf(options.ca);
    const base = buildConnector({
      timeout: options.connectTimeout,
      ...(options.http2 ? { allowH2: true } : {}),
      ...this.#trust,
    });
    const rules = options.connectTo;
    const fresh = this.#fresh;
    const live = this.#live;
    const guard = options.guard;
    const connector: buildConnector.connector = (opts, callback) => {
      const logicalPort = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const target = route(rules, opts.hostname, logicalPort);
      const logicalHost = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
      const timing: ConnectionTiming = { start: performance.now() };
      const key = `${logicalHost}:${logicalPort}`;
      const open = (host: string): void => {
        const socket = base(
          {
            ...opts,
            hostname: host,
            port: String(target.port),
            // SNI and the certificate check use the logical name, not where we connect (curl semantics).
            servername: opts.protocol === 'https:' && isIP(logicalHost) === 0 ? logicalHost : (opts.servername ?? undefined),
          } as Parameters<buildConnector.connector>[0],
          (err, sock) => {
            if (!err) {
              const now = performance.now();
              if (opts.protocol === 'https:') timing.secured = now;
              else timing.connected = now;
              const s = sock as unknown as Socket;
              const address = s.remoteAddress ?? host;
              const addressClass = guard?.classifier.classify(address) ?? 'public';
              timing.address = address;
              timing.addressClass = addressClass;
              const alpn = (s as unknown as { alpnProtocol?: string | false }).alpnProtocol;
              if (typeof alpn === 'string') timing.alpn = alpn;
              // The guard judged a literal or a looked-up address before connecting; judge the
              // socket's own address too (the only check when Node resolved the name itself).
              if (addressClass === 'private' && guard && (guard.refuseAll || this.#armed.has(key))) {
                s.destroy();
                callback(new PrivateAddressRefusal(logicalHost, address), null);
                return;
              }
              const rec: Live = { address, addressClass, alpn: timing.alpn };
              let set = live.get(key);
              if (!set) live.set(key, (set = new Set()));
              set.add(rec);
              s.once('close', () => {
                set.delete(rec);
                if (set.size === 0 && live.get(key) === set) live.delete(key);
              });
              let list = fresh.get(key);
              if (!list) fresh.set(key, (list = []));
              list.push(timing);
              this.unclaimed++;
              if (list.length > 16) {
                list.shift(); // unclaimed records of abandoned requests must not pile up
                this.unclaimed--;
              }
            }
            callback(err as Error, sock as never);
          },
        ) as unknown as Socket | undefined;
        if (opts.protocol === 'https:' && socket && typeof socket.once === 'function') {
          socket.once('connect', () => (timing.connected = performance.now()));
        }
      };
      if (!guard || !(guard.refuseAll || this.#armed.has(key))) return open(target.host);
      // Guarded: judge the address before a single byte goes to it, then connect to exactly that
      // address (no second lookup, so DNS rebinding between check and connect is impossible).
      if (isIP(target.host) !== 0) {
        if (guard.classifier.classify(target.host) === 'private') return callback(new PrivateAddressRefusal(logicalHost, target.host), null);
        return open(target.host);
      }
      lookup(target.host, { all: true }, (err, addresses) => {
        if (err) return callback(err, null);
        const allowed = addresses.find((a) => guard.classifier.classify(a.address) !== 'private');
        if (!allowed) return callback(new PrivateAddressRefusal(logicalHost, addresses[0]?.address ?? target.host), null);
        open(allowed.address);
      });
    };
    this.agent = new Agent({ connect: connector, keepAliveTimeout: 10_000, ...(options.connections ? { connections: options.connections } : {}), ...(options.http2 ? { allowH2: true } : {}) });
  }

  /**
   * Refuse private addresses for new connections to `key` until the returned function is called
   * (a hop that a redirect from a public address leads to). Also says whether a connection already
   * open for `key` (keep-alive) reached a private address: that hop must be refused before sending.
   */
  arm(key: string): { reusedPrivate: Live | undefined; disarm: () => void } {
    this.#armed.set(key, (this.#armed.get(key) ?? 0) + 1);
    let reusedPrivate: Live | undefined;
    for (const c of this.#live.get(key) ?? []) if (c.addressClass === 'private') reusedPrivate = c;
    let done = false;
    return {
      reusedPrivate,
      disarm: () => {
        if (done) return;
        done = true;
        const n = (this.#armed.get(key) ?? 1) - 1;
        if (n <= 0) this.#armed.delete(key);
        else this.#armed.set(key, n);
      },
    };
  }

  /** The address of the open connections to `key`, when they all agree (what a reused connection reached). */
  liveAddress(key: string): { address: string | undefined; addressClass: AddressClass; alpn: string | undefined } | undefined {
    const set = this.#live.get(key);
    if (!set || set.size === 0) return undefined;
    // One open connection (keep-alive to one origin, the usual case): its own record, read-only.
    if (set.size === 1) for (const c of set) return c;
    let address: string | undefined;
    let cls: AddressClass | undefined;
    let alpn: string | undefined;
    let first = true;
    for (const c of set) {
      if (first) {
        address = c.address;
        cls = c.addressClass;
        alpn = c.alpn;
        first = false;
        continue;
      }
      if (c.address !== address) address = undefined;
      if (c.alpn !== alpn) alpn = undefined;
      if (c.addressClass !== cls) cls = 'private'; // mixed: the cautious answer
    }
    return { address, addressClass: cls!, alpn };
  }

  /**
   * The dispatcher for a proxied route: undici's ProxyAgent for `proxy`, with `token` as its
   * Proxy-Authorization (sent to the proxy only: on the CONNECT request of a tunnel, or on the
   * absolute-form request an http: target sends through it). `tunnel` forces CONNECT for http:
   * targets too (a connectTo rule applies: as curl does, the tunnel asks the proxy for the connectTo
   * address while TLS still checks the logical name). TLS to the origin is checked with the
   * session's `ca`, as on direct routes.
   */
  proxyAgent(proxy: URL, token: string | undefined, tunnel: boolean, compose?: (d: Dispatcher) => Dispatcher): Dispatcher {
    const id = `${proxy.href}\n${tunnel ? 't' : 'a'}\n${token ?? ''}`;
    const known = this.#proxies.get(id);
    if (known) return known.dispatcher;
    // Per-call credentials (a caller's Proxy-Authorization) make new agents: keep the newest few.
    if (this.#proxies.size >= MAX_PROXY_AGENTS) {
      const [oldest, entry] = this.#proxies.entries().next().value as [string, { agent: ProxyAgent }];
      this.#proxies.delete(oldest);
      entry.agent.close().catch(() => {});
    }
    const o = this.#options;
    const ca = this.#trust;
    const rules = o.connectTo;
    const agent = new ProxyAgent({
      uri: proxy.href,
      ...(token !== undefined ? { token } : {}),
      proxyTunnel: tunnel,
      keepAliveTimeout: 10_000,
      proxyTls: { timeout: o.connectTimeout, ...ca },
      requestTls: { timeout: o.connectTimeout, ...ca },
      // The pools to origins through the tunnel: connectTo rules change the CONNECT target.
      factory: (origin: string | URL, options: object) => {
        const viaTunnel = tunnel || new URL(String(origin)).protocol === 'https:';
        const inner = (options as { connect?: buildConnector.connector }).connect;
        if (!viaTunnel || rules.length === 0 || typeof inner !== 'function') return new Pool(origin, options as Pool.Options);
        const connect: buildConnector.connector = (opts, callback) => {
          const logicalPort = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
          const t = route(rules, opts.hostname, logicalPort);
          const logicalHost = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
          const h = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
          return inner(
            {
              ...opts,
              host: `${h}:${t.port}`,
              hostname: h,
              port: String(t.port),
              servername: opts.protocol === 'https:' && isIP(logicalHost) === 0 ? logicalHost : (opts.servername ?? undefined),
            } as Parameters<buildConnector.connector>[0],
            callback,
          );
        };
        return new Pool(origin, { ...(options as Pool.Options), connect });
      },
    } as ProxyAgent.Options);
    const dispatcher = compose ? compose(agent) : agent;
    this.#proxies.set(id, { agent, dispatcher });
    return dispatcher;
  }

  /** Every dispatcher this transport made (the direct agent first). */
  dispatchers(): Dispatcher[] {
    return [this.agent, ...[...this.#proxies.values()].map((p) => p.agent)];
  }

  /** The timing of a connection opened for host:port since `since`, if this hop caused one. */
  claimConnection(hostPortKey: string, since: number): ConnectionTiming | undefined {
    const list = this.#fresh.get(hostPortKey);
    if (!list || list.length === 0) return undefined;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      if (t.start >= since - 1) {
        list.splice(i, 1);
        this.unclaimed--;
        return t;
      }
    }
    return undefined;
  }

  async close(graceMs: number): Promise<void> {
    const all = this.dispatchers();
    this.#proxies.clear();
    // undici's close() waits for every request it still holds, one stuck setting up its connection
    // included (until timeout.connect): past the grace, what is left is ended.
    await Promise.all(
      all.map(async (d) => {
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([d.close().then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, graceMs, true)))]);
        clearTimeout(timer);
        if (late) await d.destroy().catch(() => {});
      }),
    );
  }

  /** End every exchange of every dispatcher at once (their requests and bodies fail). */
  async destroy(): Promise<void> {
    const all = this.dispatchers();
    this.#proxies.clear();
    await Promise.all(all.map((d) => d.destroy().catch(() => {})));
  }
}
