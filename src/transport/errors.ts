/**
 * A failed exchange as one typed error with a message a person can act on: what undici and Node
 * report (codes such as UND_ERR_HEADERS_TIMEOUT, ECONNREFUSED, a TLS code, a proxy's status) read
 * in the light of how the chain was ending (its total timeout, the caller's signal, a closed
 * session) and of the hop's route (a proxy that could not be reached is ERR_PROXY, not ERR_CONNECT).
 */
import { redactUrl } from '../credentials/sensitive.js';
import { DECODE_FAILED } from '../decode.js';
import { HopwiseError, HopwiseNetworkError, type ErrorCode } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { RoutePlan } from '../route/plan.js';
import type { Hop } from '../trace/types.js';
import { PrivateAddressRefusal } from './agent.js';

/** How the chain is ending, as far as an error's wording depends on it. */
export interface ChainEnd {
  signal: AbortSignal | undefined;
  timedOut: () => boolean;
  /** The session was closed or destroyed (a failure then is ERR_SESSION_CLOSED). */
  closed: () => boolean;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;
/** Connect failures that, on a proxied hop, mean the proxy itself could not be reached. */
const PROXY_CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Translate a transport failure into one typed error with a message a person can act on. */
export function transportError(err: unknown, url: URL, hops: Hop[], io: ChainEnd, timeouts: ResolvedOptions['timeout'], how: { via?: RoutePlan | undefined; reading?: boolean } = {}): HopwiseError {
  const { via, reading = false } = how;
  const e = err as { code?: string; message?: string; name?: string } | undefined;
  const code = e?.code ?? '';
  const where = redactUrl(url);
  const proxy = via?.route.kind === 'proxy' ? via.route.proxy.url.origin : undefined;
  const proxyStatus = proxy !== undefined ? /Proxy Authentication Required \((\d{3})\)|Proxy response \((\d{3})\)/.exec(e?.message ?? '') : null;
  const status = proxyStatus ? Number(proxyStatus[1] ?? proxyStatus[2]) : 0;
  let out: [ErrorCode, string];
  if (err instanceof PrivateAddressRefusal)
    out = [
      'ERR_PRIVATE_ADDRESS',
      `Refused to connect to ${err.host} at ${err.address}: a private address, and the privateNetworks policy refuses it for hop ${hops.length - 1} (${where}). Nothing was sent. See err.hops; set privateNetworks if this network is yours.`,
    ];
  else if (io.timedOut()) out = ['ERR_TIMEOUT', `The whole chain took longer than timeout.total (${timeouts.total} ms); stopped while ${reading ? 'reading the body of' : 'waiting for'} ${where}.`];
  else if (io.signal?.aborted) out = ['ERR_ABORTED', `The request to ${where} was aborted by the caller's signal${reading ? ' while its body was being read' : ''}.`];
  else if (io.closed()) out = ['ERR_SESSION_CLOSED', `The session was closed while ${reading ? 'the body of' : 'the request to'} ${where} was still in flight.`];
  else if (proxy !== undefined && status === 407)
    out = [
      'ERR_PROXY_AUTH',
      `The proxy ${proxy} answered 407 Proxy Authentication Required for ${where}: give proxy credentials (proxyAuth, user:pass@ in the proxy URL, or --proxy-user), or check them.`,
    ];
  else if (proxy !== undefined && status !== 0)
    out = ['ERR_PROXY', `The proxy ${proxy} refused to open a tunnel to ${url.host} (it answered ${status}); the proxy could not reach the origin, or does not allow it.`];
  else if (proxy !== undefined && PROXY_CONNECT_CODES.has(code))
    out = [
      'ERR_PROXY',
      `Could not reach the proxy ${proxy} for ${where} (${code}). Check the proxy URL (${via?.route.kind === 'proxy' && via.route.proxy.variable ? `from ${via.route.proxy.variable}` : 'the proxy option'}), or set noProxy for hosts that should go direct.`,
    ];
  else if (code === 'UND_ERR_CONNECT_TIMEOUT') out = ['ERR_TIMEOUT', `Connecting to ${url.host} took longer than timeout.connect (${timeouts.connect} ms).`];
  else if (code === 'UND_ERR_HEADERS_TIMEOUT') out = ['ERR_TIMEOUT', `${where} sent no response headers within timeout.headers (${timeouts.headers} ms).`];
  else if (code === 'UND_ERR_BODY_TIMEOUT') out = ['ERR_TIMEOUT', `${where} stalled while sending the body for longer than timeout.body (${timeouts.body} ms).`];
  else if (code === 'UND_ERR_HEADERS_OVERFLOW') out = ['ERR_HEADER_TOO_LARGE', `${where} sent response headers larger than the limit (16 KiB); refused.`];
  else if (TLS_CODES.test(code))
    out = ['ERR_TLS', `TLS with ${url.host} failed (${code}): ${e?.message ?? ''}. If the server uses a private CA, pass it with the ca option; certificate checks are never disabled.`];
  else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    out = ['ERR_CONNECT', `Could not connect to ${url.host} (${code}). Check the host and port, or a connectTo rule.`];
  else out = ['ERR_NETWORK', `The ${reading ? 'body of' : 'exchange with'} ${where} failed${code ? ` (${code})` : ''}: ${e?.message ?? String(err)}`];
  return new HopwiseNetworkError(out[0], out[1], { hops, cause: err });
}

/** A failure while reading a response body: decoding, the size limit, or the transport. */
export function bodyError(err: unknown, url: URL, hops: Hop[], io: ChainEnd, timeouts: ResolvedOptions['timeout']): HopwiseError {
  if (err instanceof HopwiseError && err.code === 'ERR_BODY_TOO_LARGE') {
    if (err.hops.length === 0) err.hops = hops;
    return err;
  }
  const coding = typeof err === 'object' && err !== null ? (err as { [DECODE_FAILED]?: string })[DECODE_FAILED] : undefined;
  if (coding !== undefined) {
    const e = err as { code?: string; message?: string };
    return new HopwiseNetworkError('ERR_DECODE', `The body of ${redactUrl(url)} is not valid ${coding} data (Content-Encoding)${e.code ? ` (${e.code})` : ''}: ${e.message ?? ''}`, {
      hops,
      cause: err,
    });
  }
  return transportError(err, url, hops, io, timeouts, { reading: true });
}
