/**
 * Proxy selection, decided per hop and pure: which route (direct, or via which proxy) a URL takes,
 * and why. The environment is read once per session (at construction), with the conventions of curl
 * and Python requests:
 *
 * - `http_proxy` / `HTTP_PROXY` for http: targets, `https_proxy` / `HTTPS_PROXY` for https:
 *   targets, then `all_proxy` / `ALL_PROXY` for both. The lower-case name wins when both are set
 *   (curl, requests); Go prefers the upper-case one. An empty value counts as unset.
 * - Upper-case `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set: under CGI a request's
 *   `Proxy:` header arrives as `HTTP_PROXY` (the httpoxy attack). Go does the same; curl ignores
 *   upper-case `HTTP_PROXY` always.
 * - `no_proxy` / `NO_PROXY`: comma- or space-separated entries: `*` (everything), a host name
 *   (`example.com` matches it and its subdomains), `.example.com` or `*.example.com` (subdomains
 *   only), an IP address, a CIDR range (`10.0.0.0/8`, matched against IP-literal hosts only: no DNS
 *   lookup), each optionally with `:port`. Loopback and `localhost` are not exempt unless listed
 *   (curl agrees; Go always sends them direct).
 */
import { isIP } from 'node:net';
import { HopwiseOptionError } from '../errors.js';
import { AddressClassifier } from './addresses.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A proxy as configured: its URL (userinfo removed) and the credentials that URL carried. */
export interface ProxyEntry {
  url: URL;
  /** `user:pass` from the URL's userinfo, percent-decoded; undefined when there was none. */
  userinfo: string | undefined;
  /** The environment variable it came from, for env proxies. */
  variable?: string;
}

export interface NoProxyRule {
  source: string;
  /** 'any' = `*`. */
  kind: 'any' | 'host' | 'subdomains' | 'ip' | 'cidr';
  host: string;
  port: number | 0;
  cidr?: AddressClassifier;
}

export type ProxySettings =
  | { kind: 'none'; disabled?: boolean }
  | { kind: 'env'; http: ProxyEntry | undefined; https: ProxyEntry | undefined; noProxy: NoProxyRule[]; noProxyVariable: string | undefined }
  | { kind: 'option'; proxy: ProxyEntry; noProxy: NoProxyRule[] }
  | { kind: 'function'; choose: (url: URL) => string | undefined; noProxy: NoProxyRule[] };

export type Route =
  | { kind: 'direct'; reason: 'direct' | 'no-proxy-match' | 'proxy-disabled'; noProxy?: string; variable?: string }
  | { kind: 'proxy'; proxy: ProxyEntry; reason: 'proxy-env' | 'proxy-option' | 'proxy-function' };

/** The proxy's origin as the trace shows it: never userinfo. */
export const proxyOrigin = (p: ProxyEntry): string => p.url.origin;

/** Parse a proxy URL (a bare `host:port` means http://, as curl assumes). */
export function parseProxyUrl(text: string, where: string, variable?: string): ProxyEntry {
  const raw = text.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where}: '${raw.replace(/\/\/[^@/]*@/, '//‹userinfo›@')}' is not a proxy URL (expected e.g. 'http://proxy.example:3128')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where}: ${url.protocol} proxies are not supported; hopwise speaks to http:// and https:// proxies`);
  }
  const userinfo = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  url.username = '';
  url.password = '';
  const entry: ProxyEntry = { url, userinfo };
  if (variable !== undefined) entry.variable = variable;
  return entry;
}

/** Parse a no_proxy list (string with commas/spaces, or an array of entries). */
export function parseNoProxy(list: string | readonly string[] | undefined, where: string): NoProxyRule[] {
  if (list === undefined) return [];
  const entries = (typeof list === 'string' ? list.split(/[\s,]+/) : list).map((e) => String(e).trim()).filter(Boolean);
  return entries.map((source) => {
    let s = source.toLowerCase();
    if (s === '*') return { source, kind: 'any', host: '', port: 0 };
    if (s.includes('/')) {
      const cidr = new AddressClassifier([s], where); // throws ERR_INVALID_OPTION naming the entry
      return { source, kind: 'cidr', host: s, port: 0, cidr };
    }
    let port = 0;
    const m = isIP(s) === 6 ? null : /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
    if (m) {
      port = Number(m[2]);
      s = m[1]!;
    }
    if (port < 0 || port > 65535) throw new HopwiseOptionError('ERR_INVALID_OPTION', `${where}: bad port in '${source}'`);
    const host = s.startsWith('[') ? s.slice(1, -1) : s;
    if (isIP(host)) return { source, kind: 'ip', host: canonicalIp(host), port };
    if (host.startsWith('*.')) return { source, kind: 'subdomains', host: host.slice(2), port };
    if (host.startsWith('.')) return { source, kind: 'subdomains', host: host.slice(1), port };
    return { source, kind: 'host', host: host.replace(/\.$/, ''), port };
  });
}

function canonicalIp(ip: string): string {
  try {
    const h = new URL(`http://${isIP(ip) === 6 ? `[${ip}]` : ip}/`).hostname;
    return h.startsWith('[') ? h.slice(1, -1) : h;
  } catch {
    return ip;
  }
}

const defaultPort = (url: URL): number => Number(url.port) || (url.protocol === 'https:' ? 443 : 80);

/** The no_proxy entry that sends this URL direct, if any. */
export function matchNoProxy(rules: readonly NoProxyRule[], url: URL): NoProxyRule | undefined {
  if (rules.length === 0) return undefined;
  const host = (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname).toLowerCase().replace(/\.$/, '');
  const port = defaultPort(url);
  const ip = isIP(host) !== 0;
  for (const r of rules) {
    if (r.kind === 'any') return r;
    if (r.port !== 0 && r.port !== port) continue;
    if (r.kind === 'cidr') {
      if (ip && r.cidr?.classify(host) === 'private') return r;
    } else if (r.kind === 'ip') {
      if (ip && host === r.host) return r;
    } else if (r.kind === 'host') {
      if (host === r.host || host.endsWith(`.${r.host}`)) return r;
    } else if (host.endsWith(`.${r.host}`)) return r;
  }
  return undefined;
}

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') return { name, value: v };
  }
  return undefined;
}

/** Read the proxy variables of an environment (process.env by default), once. */
export function proxyFromEnv(env: Env): ProxySettings {
  // httpoxy: under CGI (REQUEST_METHOD set), HTTP_PROXY may be the client's `Proxy:` header.
  const cgi = env.REQUEST_METHOD !== undefined;
  const httpVar = firstSet(env, cgi ? ['http_proxy'] : ['http_proxy', 'HTTP_PROXY']);
  const httpsVar = firstSet(env, ['https_proxy', 'HTTPS_PROXY']);
  const allVar = firstSet(env, ['all_proxy', 'ALL_PROXY']);
  const noVar = firstSet(env, ['no_proxy', 'NO_PROXY']);
  const entry = (v: { name: string; value: string } | undefined): ProxyEntry | undefined => (v ? parseProxyUrl(v.value, `environment variable ${v.name}`, v.name) : undefined);
  const all = entry(allVar);
  const http = entry(httpVar) ?? all;
  const https = entry(httpsVar) ?? all;
  if (!http && !https) return { kind: 'none' };
  return { kind: 'env', http, https, noProxy: parseNoProxy(noVar?.value, `environment variable ${noVar?.name ?? 'no_proxy'}`), noProxyVariable: noVar?.name };
}

/** The route of one hop. Pure over the settings read at construction. */
export function chooseRoute(settings: ProxySettings, url: URL): Route {
  if (settings.kind === 'none') return { kind: 'direct', reason: settings.disabled ? 'proxy-disabled' : 'direct' };
  const skip = matchNoProxy(settings.noProxy, url);
  if (skip) {
    const r: Route = { kind: 'direct', reason: 'no-proxy-match', noProxy: skip.source };
    if (settings.kind === 'env' && settings.noProxyVariable !== undefined) r.variable = settings.noProxyVariable;
    return r;
  }
  if (settings.kind === 'option') return { kind: 'proxy', proxy: settings.proxy, reason: 'proxy-option' };
  if (settings.kind === 'env') {
    const p = url.protocol === 'https:' ? settings.https : settings.http;
    return p ? { kind: 'proxy', proxy: p, reason: 'proxy-env' } : { kind: 'direct', reason: 'direct' };
  }
  const chosen = settings.choose(new URL(url.href));
  if (chosen === undefined || chosen === null || chosen === '') return { kind: 'direct', reason: 'direct' };
  if (typeof chosen !== 'string') throw new HopwiseOptionError('ERR_INVALID_OPTION', `the proxy function must return a proxy URL string or undefined; got ${typeof chosen}`);
  return { kind: 'proxy', proxy: parseProxyUrl(chosen, 'the proxy function'), reason: 'proxy-function' };
}

/** A route as one word for the trace and for comparing hops: 'direct' or 'via http://proxy:3128'. */
export const routeName = (r: Route): string => (r.kind === 'direct' ? 'direct' : `via ${proxyOrigin(r.proxy)}`);
