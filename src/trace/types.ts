/**
 * The trace: one Hop per exchange, each carrying the decisions that shaped it. Decisions are the
 * single source of truth: the session acts on them and every renderer (text, JSON, HAR, doctor)
 * reads them. Nothing re-derives "why" after the fact.
 */
import type { ReasonCode } from './reasons.js';

export type DecisionSubject =
  | 'header' // a request header the caller set (or the session set by default)
  | 'auth' // a header produced by an auth provider
  | 'cookie' // a cookie from the jar, considered for this hop's request
  | 'set-cookie' // a Set-Cookie line of this hop's response
  | 'method'
  | 'body'
  | 'location' // the Location header of this hop's response, as resolved
  | 'redirect'; // whether and how the chain continues after this hop

export type DecisionAction =
  | 'sent'
  | 'stripped'
  | 're-applied'
  | 'withheld'
  | 'stored'
  | 'rejected'
  | 'rewritten'
  | 'kept'
  | 'dropped'
  | 'followed'
  | 'stopped'
  | 'refreshed';

export interface Decision {
  subject: DecisionSubject;
  /** Header or cookie name, when the subject has one. */
  name?: string;
  action: DecisionAction;
  reason: ReasonCode;
  /** One line for a person, with the facts; never a secret value. */
  detail: string;
  /** The same facts as data, for tools (origins, paths, domains...). */
  facts?: Record<string, string | number | boolean | null>;
}

export interface HopTimings {
  /** ms since epoch when the request started. */
  start: number;
  /** ms from start to TCP connected, when this hop opened a new connection. */
  connect?: number;
  /** ms from start to TLS handshake done, when this hop opened a new TLS connection. */
  tls?: number;
  /** ms from start to response headers. */
  firstByte?: number;
  /** ms from start to the end of the response body (redirect bodies are discarded). */
  end?: number;
}

export interface Hop {
  index: number;
  url: string;
  method: string;
  /** Request headers as sent, secrets redacted (`Bearer ‹redacted›`). Lower-case names. */
  requestHeaders: Record<string, string>;
  /** 0 when no response arrived (see `error`). */
  status: number;
  statusText: string;
  /** Response headers, lower-case names; Set-Cookie values redacted, names kept. */
  responseHeaders: Record<string, string | string[]>;
  /** The resolved Location of a redirect response (userinfo removed). */
  location?: string;
  /** Bytes of the request body sent on this hop, when there was one. */
  requestBodySize?: number;
  newConnection: boolean;
  timings: HopTimings;
  decisions: Decision[];
  error?: { code: string; message: string };
}
