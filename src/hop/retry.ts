/**
 * planRetry: after an answer (or a connection reset before any answer), whether to send the same
 * request again and how long to wait first. Pure: the clock, the time left and the jitter are
 * inputs; the session only sleeps. Idempotent methods only (RFC 9110 §9.2.2) unless the caller
 * lists more; `Retry-After` (RFC 9110 §10.2.3, seconds or an HTTP-date) is honoured up to
 * `maxRetryAfter` and never past `timeout.total`; otherwise exponential backoff with jitter.
 */
import type { PreparedBody } from '../body.js';
import * as decide from '../trace/decisions.js';
import type { Decision } from '../trace/types.js';

export interface RetryPolicy {
  /** Retries per chain; 0 = off. */
  limit: number;
  methods: ReadonlySet<string>;
  statuses: ReadonlySet<number>;
  /** Longest Retry-After honoured, ms. */
  maxRetryAfter: number;
  /** The first backoff step, ms (doubled per retry, with jitter). */
  backoff: number;
  /** No retry starts later than this many ms after the chain's first request (curl --retry-max-time). */
  maxTime: number | undefined;
}

export interface RetryInput {
  policy: RetryPolicy;
  method: string;
  body: PreparedBody | undefined;
  /** Retries already made in this chain. */
  retries: number;
  /** The answer's status, or undefined for a connection reset before any response byte. */
  status: number | undefined;
  /** The transport error code of a reset (ECONNRESET, UND_ERR_SOCKET). */
  error?: string;
  retryAfter: string | string[] | undefined;
  /** ms since epoch, for an HTTP-date Retry-After. */
  now: number;
  /** ms left of timeout.total (or retry.maxTime, whichever ends first), undefined when there is neither. */
  remaining: number | undefined;
  /** A number in [0, 1): the jitter. */
  random: number;
}

export type RetryPlan = { retry: true; waitMs: number; decisions: Decision[] } | { retry: false; decisions: Decision[] };

const NONE: RetryPlan = { retry: false, decisions: [] };

/** Transport failures that mean the connection went away before an answer: worth one more try. */
export const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

/** Retry-After in ms: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  if (Number.isNaN(date) || !/[A-Za-z]/.test(t)) return undefined;
  return Math.max(0, date - now);
}

export function planRetry(input: RetryInput): RetryPlan {
  const { policy, method, status } = input;
  if (policy.limit === 0) return NONE;
  const retryable = status === undefined ? input.error !== undefined && RESET_CODES.has(input.error) : policy.statuses.has(status);
  if (!retryable) return NONE;
  const why = status === undefined ? { error: input.error ?? 'reset' } : { status };
  const facts = { ...why, attempt: input.retries + 1, limit: policy.limit };
  if (!policy.methods.has(method)) return { retry: false, decisions: [decide.retry.notIdempotent(method, facts)] };
  if (input.retries >= policy.limit) return { retry: false, decisions: [decide.retry.exhausted(facts)] };
  if (input.body && !input.body.replayable) return { retry: false, decisions: [decide.retry.notReplayable(facts)] };

  const after = status === undefined ? undefined : retryAfterMs(input.retryAfter, input.now);
  let waitMs: number;
  let source: 'retry-after' | 'backoff';
  if (after !== undefined) {
    const raw = Array.isArray(input.retryAfter) ? input.retryAfter[0] : input.retryAfter;
    if (after > policy.maxRetryAfter) return { retry: false, decisions: [decide.retry.afterTooLong({ ...facts, retryAfter: raw ?? '', waitMs: after }, policy.maxRetryAfter)] };
    waitMs = after;
    source = 'retry-after';
  } else {
    const step = policy.backoff * 2 ** input.retries;
    waitMs = Math.round(step / 2 + (input.random * step) / 2);
    source = 'backoff';
  }
  if (input.remaining !== undefined && waitMs >= input.remaining) return { retry: false, decisions: [decide.retry.pastTotal({ ...facts, waitMs }, input.remaining)] };
  return { retry: true, waitMs, decisions: [decide.retry.retried({ ...facts, waitMs, source })] };
}
