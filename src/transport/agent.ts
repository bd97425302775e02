/**
 * The transport: one undici Agent per session, with a connector that applies connectTo routing, extra
 * CA certificates and the connect timeout, and notes when each new connection was made so a hop can
 * show connect/TLS timings. Nothing else lives here: no policy.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { route, type ConnectToRule } from './connect-to.js';

export interface ConnectionTiming {
  /** performance.now() values */
  start: number;
  connected?: number;
  secured?: number;
}

export interface TransportOptions {
  connectTo: readonly ConnectToRule[];
  ca: readonly (string | Buffer)[];
  connectTimeout: number;
  /** Most connections to one origin. */
  connections?: number;
}

export class Transport {
  readonly agent: Agent;
  /** Unclaimed new connections per logical 'host:port', oldest first. */
  readonly #fresh = new Map<string, ConnectionTiming[]>();
  /** How many new connections no hop has claimed yet: lets the hot path skip the lookup. */
  unclaimed = 0;

  constructor(options: TransportOptions) {
    const base = buildConnector({
      timeout: options.connectTimeout,
      // Passing `ca` replaces Node's roots, so keep the public roots and add the caller's.
      ...(options.ca.length > 0 ? { ca: [...tls.rootCertificates, ...options.ca.map(String)] } : {}),
    });
    const rules = options.connectTo;
    const fresh = this.#fresh;
    const self = this;
    const connector: buildConnector.connector = (opts, callback) => {
      const logicalPort = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const target = route(rules, opts.hostname, logicalPort);
      const logicalHost = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
      const timing: ConnectionTiming = { start: performance.now() };
      const key = `${logicalHost}:${logicalPort}`;
      const socket = base(
        {
          ...opts,
          hostname: target.host,
          port: String(target.port),
          // SNI and the certificate check use the logical name, not where we connect (curl semantics).
          servername: opts.protocol === 'https:' && isIP(logicalHost) === 0 ? logicalHost : (opts.servername ?? undefined),
        } as Parameters<buildConnector.connector>[0],
        (err, sock) => {
          if (!err) {
            const now = performance.now();
            if (opts.protocol === 'https:') timing.secured = now;
            else timing.connected = now;
            let list = fresh.get(key);
            if (!list) fresh.set(key, (list = []));
            list.push(timing);
            self.unclaimed++;
            if (list.length > 16) {
              list.shift(); // unclaimed records of abandoned requests must not pile up
              self.unclaimed--;
            }
          }
          callback(err as Error, sock as never);
        },
      ) as unknown as import('node:net').Socket | undefined;
      if (opts.protocol === 'https:' && socket && typeof socket.once === 'function') {
        socket.once('connect', () => (timing.connected = performance.now()));
      }
      return socket as never;
    };
    this.agent = new Agent({ connect: connector, keepAliveTimeout: 10_000, ...(options.connections ? { connections: options.connections } : {}) });
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

  close(): Promise<void> {
    return this.agent.close();
  }
}
