/**
 * curl's --connect-to rules, 'HOST1:PORT1:HOST2:PORT2': a request for HOST1:PORT1 connects to
 * HOST2:PORT2 instead, while keeping its logical Host header, TLS SNI and certificate check. An empty
 * HOST1 or PORT1 matches any; an empty HOST2 or PORT2 keeps the logical one. IPv6 goes in brackets.
 */
import { HopwiseOptionError } from '../errors.js';

export interface ConnectToRule {
  source: string;
  fromHost: string; // '' = any (lower-case, no brackets)
  fromPort: number | 0; // 0 = any
  toHost: string; // '' = same (no brackets)
  toPort: number | 0; // 0 = same
}

const RULE = /^(\[[0-9a-fA-F:.]*\]|[^:[\]]*):(\d*):(\[[0-9a-fA-F:.]*\]|[^:[\]]*):(\d*)$/;

const unbracket = (h: string): string => (h.startsWith('[') ? h.slice(1, -1) : h).toLowerCase();

function port(text: string, rule: string): number {
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new HopwiseOptionError('ERR_INVALID_OPTION', `connectTo: port '${text}' in '${rule}' is not 1-65535`);
  return n;
}

export function parseConnectTo(rules: readonly string[]): ConnectToRule[] {
  return rules.map((source) => {
    const m = typeof source === 'string' ? RULE.exec(source) : null;
    if (!m) {
      throw new HopwiseOptionError(
        'ERR_INVALID_OPTION',
        `connectTo: cannot read rule '${String(source)}'. Expected 'HOST1:PORT1:HOST2:PORT2' as in curl --connect-to, e.g. 'api.example.com:443:127.0.0.1:8443' (empty HOST1 = any host).`,
      );
    }
    return { source, fromHost: unbracket(m[1]!), fromPort: port(m[2]!, source), toHost: unbracket(m[3]!), toPort: port(m[4]!, source) };
  });
}

/** Where to really connect for a logical host:port; the logical pair when no rule matches. */
export function route(rules: readonly ConnectToRule[], host: string, portNumber: number): { host: string; port: number } {
  const h = unbracket(host);
  for (const r of rules) {
    if ((r.fromHost === '' || r.fromHost === h) && (r.fromPort === 0 || r.fromPort === portNumber)) {
      return { host: r.toHost || h, port: r.toPort || portNumber };
    }
  }
  return { host: h, port: portNumber };
}
