/**
 * The state of one redirect chain, as a plain record the phases read and the session loop updates.
 * Nothing here does I/O; the signal and the timers live in the session.
 */
import type { PreparedBody } from '../body.js';
import type { AuthProvider } from '../credentials/auth.js';
import type { Challenge } from '../credentials/challenge.js';
import type { UserHeader } from '../credentials/policy.js';
import type { RedirectMode } from '../redirect/plan.js';
import type { Hop } from '../trace/types.js';

/** What a beforeRedirect hook changed in the headers of the next hop. */
export interface HookHeaders {
  /** Headers the hook set or changed, with their values. */
  add: [string, string][];
  /** Headers the hook deleted. */
  remove: Set<string>;
}

export interface Chain {
  first: URL;
  url: URL;
  prev: URL | undefined;
  method: string;
  userHeaders: readonly UserHeader[];
  body: PreparedBody | undefined;
  mode: RedirectMode;
  /** Sensitive header names stripped at an earlier hop: they stay stripped (a → b → a). */
  stripped: Set<string>;
  /** Method + URL + cookies of every request so far; created at the first redirect. */
  seen: Set<string> | undefined;
  firstCookie: string;
  hops: Hop[];
  redirects: number;
  /** The hook's header changes, carried into the next hop. */
  hookHeaders: HookHeaders | undefined;
  /** This hop repeats the previous one after a 401, asking refreshable providers for a new credential. */
  refreshAuth: boolean;
  refreshedOnce: boolean;
  /** This hop repeats the previous request (a challenge answered, a retry): not a loop. */
  repeat: boolean;
  /** The last challenge each provider answered, per origin: later hops to that origin answer it again. */
  challenges: Map<string, Map<AuthProvider, Challenge>> | undefined;
  /** A stale=true challenge was answered once in this chain. */
  staleAnswered: boolean;
  /** Retries of this chain so far (status or connection reset), and the ms waited in all. */
  retries: number;
  waited: number;
}

export function newChain(url: URL, method: string, userHeaders: readonly UserHeader[], body: PreparedBody | undefined, mode: RedirectMode): Chain {
  return {
    first: url,
    url,
    prev: undefined,
    method,
    userHeaders,
    body,
    mode,
    stripped: new Set(),
    seen: undefined,
    firstCookie: '',
    hops: [],
    redirects: 0,
    hookHeaders: undefined,
    refreshAuth: false,
    refreshedOnce: false,
    repeat: false,
    challenges: undefined,
    staleAnswered: false,
    retries: 0,
    waited: 0,
  };
}
