/**
 * What `session.fetch(input, init)` accepts, read the way fetch reads it: a string, a URL or a
 * Request (this Node's or another package's: method, headers, body, signal and redirect are read from
 * it, and init overrides them), headers in any Headers-like shape, and the standard RequestInit keys
 * that mean nothing here accepted and ignored, as Node's fetch does.
 */
import type { Dispatcher } from 'undici';
import { HopwiseOptionError } from './errors.js';
import { KNOWN_INIT, rejectUnknown, validateHeaderRecord } from './options.js';
import type { RedirectMode } from './redirect/plan.js';
import { redactUrl } from './credentials/sensitive.js';

/** Headers as fetch takes them, plus anything with `forEach`/`entries` or iterable of pairs (node-fetch's Headers, undici's, ...). */
export type HeadersLike = HeadersInit | Iterable<readonly [string, string]> | { forEach(callback: (value: string, name: string) => void): void } | Record<string, string | number>;

/** A Request from any fetch implementation: what hopwise reads of it. */
export interface RequestLike {
  readonly url: string;
  readonly method?: string;
  readonly headers?: unknown;
  readonly body?: unknown;
  readonly bodyUsed?: boolean;
  readonly signal?: AbortSignal | null;
  readonly redirect?: string;
}

export type FetchInput = string | URL | Request | RequestLike;

export interface FetchInit {
  method?: string;
  headers?: HeadersLike | null;
  /** Anything fetch takes (string, bytes, URLSearchParams, Blob, FormData, a web ReadableStream), a Node Readable or an async iterable of bytes. */
  body?: unknown;
  redirect?: RedirectMode;
  signal?: AbortSignal | null;
  /** An undici Dispatcher for this call, used like the session's `dispatcher` option (hopwise still decides every hop). */
  dispatcher?: Dispatcher;
  /** Per call: decode Content-Encoding (default: the session's `decompress`). */
  decompress?: boolean;
  // Standard RequestInit keys with no meaning for a server-side session: accepted and ignored.
  cache?: RequestCache;
  credentials?: RequestCredentials;
  mode?: RequestMode;
  referrer?: string;
  referrerPolicy?: ReferrerPolicy;
  integrity?: string;
  keepalive?: boolean;
  duplex?: 'half';
  priority?: 'high' | 'low' | 'auto';
  window?: null;
}

export interface ReadInput {
  url: URL;
  method: string | undefined;
  headers: [string, string][] | undefined;
  body: unknown;
  signal: AbortSignal | undefined;
  redirect: string | undefined;
  dispatcher: Dispatcher | undefined;
  decompress: boolean | undefined;
}

function isRequestLike(x: unknown): x is RequestLike {
  return typeof x === 'object' && x !== null && !(x instanceof URL) && typeof (x as RequestLike).url === 'string';
}

function isDispatcher(d: unknown): d is Dispatcher {
  return typeof d === 'object' && d !== null && typeof (d as Dispatcher).request === 'function' && typeof (d as Dispatcher).dispatch === 'function';
}

/** The call's parts, Request first and init over it; throws ERR_INVALID_OPTION / ERR_UNKNOWN_OPTION / ERR_INVALID_URL. */
export function readFetchInput(input: FetchInput, init: FetchInit | undefined | null): ReadInput {
  if (init === undefined || init === null) init = {};
  if (typeof init !== 'object') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'fetch(url, init): init must be an object');
  rejectUnknown(init, KNOWN_INIT, 'fetch() init', true);
  const req = isRequestLike(input) ? input : undefined;
  if (req?.bodyUsed) throw new HopwiseOptionError('ERR_INVALID_BODY', 'fetch(request): the Request body was already used; pass request.clone() or a fresh Request.');

  let url: URL;
  const raw = req ? req.url : input;
  try {
    url = raw instanceof URL ? new URL(raw.href) : new URL(String(raw));
  } catch {
    throw new HopwiseOptionError('ERR_INVALID_URL', `'${redactUrl(String(raw))}' is not an absolute URL`);
  }
  if (init.dispatcher !== undefined && !isDispatcher(init.dispatcher))
    throw new HopwiseOptionError('ERR_INVALID_OPTION', 'fetch() init.dispatcher must be an undici Dispatcher (Agent, Pool, a composed dispatcher)');
  if (init.decompress !== undefined && typeof init.decompress !== 'boolean') throw new HopwiseOptionError('ERR_INVALID_OPTION', 'fetch() init.decompress must be a boolean');

  const headersSource = init.headers !== undefined && init.headers !== null ? init.headers : req?.headers;
  const signal = init.signal !== undefined ? (init.signal ?? undefined) : (req?.signal ?? undefined);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new HopwiseOptionError('ERR_INVALID_OPTION', 'fetch() init.signal must be an AbortSignal');
  // A Request always says 'follow' when nobody chose: only a different choice overrides the session's redirect mode.
  const redirect = init.redirect ?? (req?.redirect !== undefined && req.redirect !== 'follow' ? req.redirect : undefined);
  return {
    url,
    method: init.method ?? req?.method,
    headers: headersSource === undefined || headersSource === null ? undefined : validateHeaderRecord('fetch() headers', headersSource),
    body: init.body !== undefined ? init.body : (req?.body ?? undefined),
    signal,
    redirect,
    dispatcher: init.dispatcher,
    decompress: init.decompress,
  };
}
