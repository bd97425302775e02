/**
 * The lab's listeners and router. Three listeners on the bind address, each on port 0:
 *   http  → logical port 80   (plain HTTP)
 *   https → logical port 443  (TLS, the run's certificate)
 *   alt   → logical port 8080 (plain HTTP, for cross-port cases)
 * A request is routed by its Host header (lab hostnames only) and the first path segment (the
 * scenario id). It is recorded as soon as its headers arrive, its body is read to the end, and only
 * then is it answered. Keep-alive is on (Node's default); close() ends every connection.
 *
 * A fourth listener is a forward proxy for clients that only know HTTP(S)_PROXY (Python requests,
 * curl, got, axios): an absolute-form request (RFC 9112 §3.2.2) for a lab host is answered by the
 * router as if it had come to that port's listener; a CONNECT (RFC 9110 §9.3.6) to a lab host's 443,
 * 80 or 8080 becomes a plain TCP tunnel to the listener for that port, so TLS is the lab's own
 * certificate, end to end (no interception). Any other host is refused: the lab never reaches out.
 */
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { ReceivedRequest } from './types.js';
import { type LabResponse, type RequestContext, parseCookies, text } from './respond.js';
import { LAB_HOSTNAMES, LOGICAL_PORTS, SCENARIOS, type ScenarioDef, scenarioInfo } from './scenarios.js';

type ListenerName = keyof typeof LOGICAL_PORTS;

/** The first bytes of a body kept for handlers (form parsing); the size is always counted in full. */
const BODY_KEEP = 64 * 1024;

export interface LabServerOptions {
  host: string;
  tls: { key: string; cert: string };
}

export class LabServer {
  private readonly servers: Record<ListenerName, http.Server>;
  private readonly byId = new Map<string, ScenarioDef>();
  private readonly log = new Map<string, ReceivedRequest[]>();
  private readonly state = new Map<string, unknown>();
  ports: Record<ListenerName, number> = { http: 0, https: 0, alt: 0 };
  /** The forward proxy's port. */
  proxyPort = 0;
  private readonly proxy: http.Server;
  /** CONNECT tunnels: detached from their server, so close() ends them itself. */
  private readonly tunnels = new Set<Socket>();

  constructor(private readonly options: LabServerOptions) {
    for (const d of SCENARIOS) {
      this.byId.set(d.info.id, d);
      this.log.set(d.info.id, []);
      this.state.set(d.info.id, d.createState());
    }
    this.servers = {
      http: http.createServer((req, res) => this.onRequest('http', req, res)),
      https: https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => this.onRequest('https', req, res)),
      alt: http.createServer((req, res) => this.onRequest('alt', req, res)),
    };
    this.proxy = http.createServer((req, res) => this.onProxyRequest(req, res));
    this.proxy.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.onConnect(req, socket, head));
    for (const s of [...Object.values(this.servers), this.proxy]) {
      // A client that goes away mid-request must never take the lab down.
      s.on('clientError', (_err, socket) => socket.destroy());
    }
  }

  /** The listener for a lab host's logical port, if the lab has one. */
  private listenerFor(port: number): ListenerName | undefined {
    return (Object.keys(LOGICAL_PORTS) as ListenerName[]).find((n) => LOGICAL_PORTS[n] === port);
  }

  private onProxyRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL | undefined;
    try {
      url = /^http:\/\//i.test(req.url ?? '') ? new URL(req.url!) : undefined;
    } catch {
      /* answered below */
    }
    const listener = url ? this.listenerFor(Number(url.port) || 80) : undefined;
    if (!url || !listener || listener === 'https') {
      this.write(
        res,
        text(400, `hopwise lab proxy: send absolute-form http:// requests to a lab host on port 80 or 8080, or CONNECT host:443 for https. Lab hosts: ${LAB_HOSTNAMES.join(', ')}.`),
        undefined,
      );
      return;
    }
    // the router reads the absolute-form target itself (host and path), unknown hosts included
    this.onRequest(listener, req, res);
  }

  private onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const m = /^([^:[\]]+):(\d{1,5})$/.exec(req.url ?? '');
    const hostname = m?.[1]?.toLowerCase() ?? '';
    const listener = m ? this.listenerFor(Number(m[2])) : undefined;
    if (!listener || !LAB_HOSTNAMES.includes(hostname)) {
      const body = `hopwise lab proxy: CONNECT only to a lab host on 443, 80 or 8080 (got '${req.url ?? ''}'). Lab hosts: ${LAB_HOSTNAMES.join(', ')}.\n`;
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const addr = this.proxy.address() as AddressInfo;
    const upstream = net.connect(this.ports[listener], addr.address);
    this.tunnels.add(socket).add(upstream);
    const forget = (): void => {
      this.tunnels.delete(socket);
      this.tunnels.delete(upstream);
      socket.destroy();
      upstream.destroy();
    };
    upstream.once('connect', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', forget);
    upstream.once('close', forget);
    socket.once('close', forget);
  }

  async listen(): Promise<void> {
    const names = Object.keys(this.servers) as ListenerName[];
    try {
      await Promise.all(
        names.map(
          (name) =>
            new Promise<void>((resolve, reject) => {
              const s = this.servers[name];
              const onError = (err: Error) => reject(err);
              s.once('error', onError);
              s.listen(0, this.options.host, () => {
                s.off('error', onError);
                this.ports[name] = (s.address() as AddressInfo).port;
                resolve();
              });
            }),
        ),
      );
      await new Promise<void>((resolve, reject) => {
        this.proxy.once('error', reject);
        this.proxy.listen(0, this.options.host, () => {
          this.proxy.off('error', reject);
          this.proxyPort = (this.proxy.address() as AddressInfo).port;
          resolve();
        });
      });
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const t of this.tunnels) t.destroy();
    await Promise.all(
      [...Object.values(this.servers), this.proxy].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            // Keep-alive sockets (idle or not) would otherwise hold close() open for seconds.
            s.closeAllConnections();
          }),
      ),
    );
  }

  hasScenario(id: string): boolean {
    return this.byId.has(id);
  }

  received(id: string): ReceivedRequest[] {
    const list = this.log.get(id);
    if (!list) throw new Error(`hopwise lab: unknown scenario '${id}' (known: ${[...this.byId.keys()].join(', ')})`);
    return list.map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  reset(id?: string): void {
    const ids = id === undefined ? [...this.byId.keys()] : [id];
    for (const one of ids) {
      const d = this.byId.get(one);
      if (!d) throw new Error(`hopwise lab: unknown scenario '${one}' (known: ${[...this.byId.keys()].join(', ')})`);
      this.log.set(one, []);
      this.state.set(one, d.createState());
    }
  }

  private onRequest(listener: ListenerName, req: http.IncomingMessage, res: http.ServerResponse): void {
    const scheme = listener === 'https' ? 'https' : 'http';
    const port = LOGICAL_PORTS[listener];
    const defaultPort = scheme === 'https' ? 443 : 80;

    // Request target: origin-form ("/path?q"), or absolute-form when the lab is used as an HTTP proxy.
    let target = req.url ?? '/';
    let hostHeader = (req.headers.host ?? '').toLowerCase();
    if (/^https?:\/\//i.test(target)) {
      try {
        const u = new URL(target);
        hostHeader = u.host;
        target = u.pathname + u.search;
      } catch {
        /* fall through to the 404 below */
      }
    }
    const hostname = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d*$/, '');
    const logicalHost = port === defaultPort ? hostname : `${hostname}:${port}`;
    const origin = `${scheme}://${logicalHost}`;
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const search = q < 0 ? '' : target.slice(q);
    const isLabHost = LAB_HOSTNAMES.includes(hostname);
    const segment = pathname.split('/')[1] ?? '';
    const scenario = isLabHost ? this.byId.get(segment) : undefined;

    const headers = collectHeaders(req.rawHeaders);
    let entry: ReceivedRequest | undefined;
    if (scenario) {
      entry = {
        scenario: scenario.info.id,
        host: logicalHost,
        method: req.method ?? 'GET',
        url: origin + target,
        path: target,
        headers,
        bodySize: 0,
        time: Date.now(),
      };
      this.log.get(scenario.info.id)!.push(entry);
    }

    const kept: Buffer[] = [];
    let keptSize = 0;
    let bodySize = 0;
    req.on('data', (chunk: Buffer) => {
      bodySize += chunk.length;
      if (entry) entry.bodySize = bodySize;
      if (keptSize < BODY_KEEP) {
        kept.push(chunk);
        keptSize += chunk.length;
      }
    });
    req.on('error', () => {
      /* the client went away; what arrived is recorded */
    });
    req.on('end', () => {
      let response: LabResponse;
      try {
        if (!isLabHost) {
          response = text(
            404,
            `hopwise lab: unknown host '${hostname || '(no Host header)'}'. The lab answers for: ${LAB_HOSTNAMES.join(', ')}. ` +
              `Reach them through the lab's connectTo rules (curl --connect-to) with the Host header set.`,
          );
        } else if (scenario) {
          const rest = pathname.slice(segment.length + 1) || '/';
          const ctx: RequestContext<unknown> = {
            scheme,
            hostname,
            port,
            origin,
            method: req.method ?? 'GET',
            path: rest,
            query: new URLSearchParams(search),
            headers,
            body: Buffer.concat(kept).subarray(0, BODY_KEEP),
            bodySize,
            cookies: parseCookies(headers['cookie']),
            state: this.state.get(scenario.info.id),
          };
          response = scenario.handle(ctx) ?? text(404, `hopwise lab: scenario '${scenario.info.id}' has no ${ctx.method} ${rest} on ${origin}. Its entry is ${scenarioInfo(scenario).entry}.`);
        } else if (pathname === '/ok') {
          response = text(200, `ok ${hostname}`);
        } else if (pathname === '/') {
          response = text(200, this.index());
        } else {
          response = text(404, `hopwise lab: no scenario '${segment}' on ${origin}. The first path segment is a scenario id: ${[...this.byId.keys()].join(', ')}. /ok answers 200 on every host.`);
        }
      } catch (err) {
        response = text(500, `hopwise lab: the scenario failed: ${(err as Error).message}`);
      }
      if (entry) entry.status = response.status;
      this.write(res, response, scenario?.info.id);
    });
  }

  private write(res: http.ServerResponse, r: LabResponse, id: string | undefined): void {
    const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
    const out: Array<[string, string]> = [...r.headers, ['content-length', String(body.length)], ['cache-control', 'no-store']];
    if (id) out.push(['x-hopwise-lab', id]);
    // A flat [name, value, name, value] array keeps repeated headers (Set-Cookie) apart.
    res.writeHead(r.status, out.flat());
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private index(): string {
    const lines = ['hopwise lab — scenarios (first path segment = scenario id):', ''];
    for (const d of SCENARIOS) lines.push(`  ${d.info.id.padEnd(18)} ${scenarioInfo(d).entry}`);
    lines.push('', '/ok answers 200 on every lab host.');
    return lines.join('\n');
  }
}

/** Lower-case names, values as received; repeats joined with ', ' (cookie with '; '). */
function collectHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : prev + (name === 'cookie' ? '; ' : ', ') + value;
  }
  return out;
}
