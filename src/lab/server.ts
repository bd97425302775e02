/**
 * The lab's listeners and router. Three listeners on the bind address, each on port 0:
 *   http  → logical port 80   (plain HTTP)
 *   https → logical port 443  (TLS, the run's certificate)
 *   alt   → logical port 8080 (plain HTTP, for cross-port cases)
 * A request is routed by its Host header (lab hostnames only) and the first path segment (the
 * scenario id). It is recorded as soon as its headers arrive, its body is read to the end, and only
 * then is it answered. Keep-alive is on (Node's default); close() ends every connection.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
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
    for (const s of Object.values(this.servers)) {
      // A client that goes away mid-request must never take the lab down.
      s.on('clientError', (_err, socket) => socket.destroy());
    }
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
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.servers).map(
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
