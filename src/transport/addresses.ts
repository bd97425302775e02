/**
 * Which addresses are "private" for the private-network guard (SSRF through redirects). One
 * classifier per session: the built-in list below, or the caller's `internal` CIDRs, which replace
 * it. Addresses are judged as connected to (after DNS and connectTo); IPv6 forms that embed an IPv4
 * address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4
 * 2002::/16) are judged by the IPv4 address they carry, so `[::ffff:127.0.0.1]` is loopback.
 * IP literals in URLs are normalised by the WHATWG URL parser first (`2130706433`, `0x7f.1`,
 * `0177.0.0.1`, `127.1` are all 127.0.0.1 by the time they get here).
 */
import { BlockList, isIP } from 'node:net';
import { HopwiseOptionError } from '../errors.js';

export type AddressClass = 'public' | 'private';

/** The built-in list: every range that is not a public unicast destination on the internet. */
export const BUILT_IN_PRIVATE = [
  // IPv4
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // CGNAT, RFC 6598
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, incl. 169.254.169.254 (cloud metadata)
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // TEST-NET-1
  '192.88.99.0/24', // 6to4 relay anycast (deprecated)
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. 255.255.255.255 broadcast
  // IPv6
  '::/128', // unspecified
  '::1/128', // loopback
  '100::/64', // discard-only
  '2001:db8::/32', // documentation
  'fc00::/7', // unique-local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
  '64:ff9b:1::/48', // local-use NAT64
] as const;

interface Cidr {
  source: string;
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function parseCidr(text: string, where: string): Cidr {
  if (typeof text !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where}: expected a CIDR string such as '10.0.0.0/8'; got ${typeof text}`);
  const slash = text.indexOf('/');
  const raw = (slash < 0 ? text : text.slice(0, slash)).replace(/^\[|\]$/g, '');
  const fam = isIP(raw);
  const prefix = slash < 0 ? (fam === 6 ? 128 : 32) : Number(text.slice(slash + 1));
  if (fam === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (fam === 6 ? 128 : 32) || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))) {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where}: '${text}' is not an IP address or CIDR range (e.g. '10.0.0.0/8', 'fd00::/8', '127.0.0.2/32')`);
  }
  return { source: text, address: raw, prefix, family: fam === 6 ? 'ipv6' : 'ipv4' };
}

/** The eight 16-bit groups of an IPv6 address (no zone), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let a = address.toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  let tail: number[] = [];
  const lastColon = a.lastIndexOf(':');
  const maybeV4 = a.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (isIP(maybeV4) !== 4) return undefined;
    const p = maybeV4.split('.').map(Number);
    tail = [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    a = a.slice(0, lastColon + 1) + '0:0';
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...rest].map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups;
}

const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/**
 * The IPv4 address an IPv6 address carries, for the forms that route to it: IPv4-mapped
 * (::ffff:0:0/96), IPv4-compatible (::/96, except :: and ::1), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16, the IPv4 address in groups 2-3).
 */
export function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (zeros(0, 6) && !(g[6] === 0 && (g[7] === 0 || g[7] === 1))) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

export class AddressClassifier {
  readonly #list = new BlockList();
  /** The ranges as written (the built-in list, or the caller's `internal`). */
  readonly ranges: readonly string[];
  readonly custom: boolean;

  constructor(internal?: readonly string[], where = 'privateNetworks.internal') {
    this.custom = internal !== undefined;
    const ranges = internal ?? BUILT_IN_PRIVATE;
    if (!Array.isArray(ranges)) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where} must be an array of CIDR strings such as ['10.0.0.0/8']`);
    this.ranges = [...ranges];
    ranges.forEach((r, i) => {
      const c = parseCidr(r, `${where}[${i}]`);
      this.#list.addSubnet(c.address, c.prefix, c.family);
    });
  }

  /** The class of an IP address (v4 or v6, brackets allowed); undefined when it is not an IP. */
  classify(address: string): AddressClass | undefined {
    const a = address.startsWith('[') ? address.slice(1, -1) : address;
    const fam = isIP(a);
    if (fam === 4) return this.#list.check(a, 'ipv4') ? 'private' : 'public';
    if (fam !== 6) return undefined;
    const zone = a.indexOf('%');
    const bare = zone >= 0 ? a.slice(0, zone) : a;
    if (this.#list.check(bare, 'ipv6')) return 'private';
    const inner = embeddedIPv4(bare);
    if (inner !== undefined && this.#list.check(inner, 'ipv4')) return 'private';
    return 'public';
  }

  /**
   * The class of a URL's hostname as the WHATWG URL parser left it, without DNS: an IP literal is
   * classified; `localhost` and `*.localhost` are loopback (RFC 6761) whatever a resolver says;
   * any other name is undefined (only the address connected to can tell).
   */
  classifyHost(hostname: string): AddressClass | undefined {
    const c = this.classify(hostname);
    if (c !== undefined) return c;
    const h = hostname.toLowerCase().replace(/\.$/, '');
    if (h === 'localhost' || h.endsWith('.localhost')) return this.custom ? this.classify('127.0.0.1') : 'private';
    return undefined;
  }
}
