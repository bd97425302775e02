/**
 * The header policy for one hop: which caller-set headers go, which are stripped, which auth
 * providers apply. Pure: plain data in, decisions out. The session acts on the result and the trace
 * shows the same decisions, so behaviour and explanation cannot drift.
 */
import type { Decision } from '../trace/types.js';
import type { AuthProvider } from './auth.js';
import * as decide from '../trace/decisions.js';
import { isDowngrade, isHttpsUpgrade, originOf, originPair, sameOrigin } from './origin.js';
import { findMatch, matchesPattern, type HostPattern } from './patterns.js';

export interface UserHeader {
  /** lower-case */
  name: string;
  value: string;
  sensitive: boolean;
}

export interface HeaderPolicyInput {
  /** The previous hop's URL; undefined for the first request. */
  prev: URL | undefined;
  next: URL;
  /** The chain's first URL: the default scope of providers without one. */
  first: URL;
  userHeaders: readonly UserHeader[];
  /** Sensitive names stripped at an earlier hop of this chain. */
  stripped: ReadonlySet<string>;
  trust: readonly HostPattern[];
  providers: readonly AuthProvider[];
}

export interface HeaderPolicyResult {
  readonly send: readonly UserHeader[];
  readonly providers: readonly AuthProvider[];
  /** Names to add to the chain's stripped set. */
  readonly newlyStripped: readonly string[];
  readonly decisions: readonly Decision[];
}

export function providerInScope(p: AuthProvider, url: URL, first: URL): boolean {
  if (p.scope === undefined) return sameOrigin(url, first) || isHttpsUpgrade(first, url);
  for (const s of p.scope) if (matchesPattern(s, url)) return true;
  return false;
}

export function scopeText(p: AuthProvider, first: URL): string {
  return p.scope === undefined ? `${originOf(first)} (the first request's origin) and its https upgrade` : p.scope.map((s) => s.source).join(', ');
}

const NOTHING: readonly never[] = Object.freeze([]);

/** Headers that name the request's origin: see planHeaders. */
const ORIGIN_BOUND = new Set(['host', 'origin', 'referer']);

export function planHeaders(input: HeaderPolicyInput): HeaderPolicyResult {
  const { prev, next, userHeaders, stripped, trust, providers, first } = input;
  // The common case on the hot path: no provider and no sensitive or origin-bound header, so nothing to decide.
  if (providers.length === 0 && !userHeaders.some((h) => h.sensitive || ORIGIN_BOUND.has(h.name))) {
    return { send: userHeaders, providers: NOTHING, newlyStripped: NOTHING, decisions: NOTHING };
  }
  const decisions: Decision[] = [];
  const newlyStripped: string[] = [];
  const applied: AuthProvider[] = [];
  const providerHeaders = new Set<string>();
  const pair = prev ? originPair(prev, next) : undefined;
  const to = originOf(next);

  // An allowed https → http downgrade is a cleartext hop: no credential goes, in scope or not.
  const cleartextAfterDowngrade = prev !== undefined && isDowngrade(prev, next);
  for (const p of providers) {
    const facts = { name: p.header, kind: p.kind, scope: scopeText(p, first), to, pair };
    if (cleartextAfterDowngrade && pair) {
      decisions.push(decide.auth.downgrade({ ...facts, pair }));
    } else if (providerInScope(p, next, first)) {
      applied.push(p);
      providerHeaders.add(p.header);
      decisions.push(decide.auth.applied(facts));
    } else {
      decisions.push(decide.auth.outOfScope(facts));
    }
  }

  // Decided once per hop, shared by every sensitive header: the hop is the same for all of them.
  // Fetch "HTTP-redirect fetch" step 13 strips Authorization when the origin changes; hopwise
  // applies the same rule to every sensitive header, and keeps it stripped for the rest of the
  // chain (a → b → a must not bring it back: whatwg/fetch#1544). Forwarding credentials across
  // origins is the leak of CVE-2018-1000007 (curl, custom headers) and CVE-2022-0155
  // (follow-redirects, Cookie).
  let verdict: 'same-origin' | 'https-upgrade' | 'trusted' | 'cross-origin' | 'first-request' = 'first-request';
  let trustedBy: HostPattern | undefined;
  if (prev) {
    if (sameOrigin(prev, next)) verdict = 'same-origin';
    else if (isHttpsUpgrade(prev, next)) verdict = 'https-upgrade';
    else if ((trustedBy = findMatch(trust, next))) verdict = 'trusted';
    else verdict = 'cross-origin';
  }

  const send: UserHeader[] = [];
  for (const h of userHeaders) {
    if (providerHeaders.has(h.name)) {
      // The provider's value replaces the caller's on this hop, but the caller's own header still
      // leaves the chain here if this hop changes origin: it must not come back later.
      if (h.sensitive && verdict === 'cross-origin' && !stripped.has(h.name)) newlyStripped.push(h.name);
      decisions.push(decide.header.overridden(h.name));
      continue;
    }
    if (ORIGIN_BOUND.has(h.name)) {
      // Host is computed per hop by the transport; a caller's Host, Origin or Referer describes the
      // first origin and never goes to another, trusted or not (an Origin or Referer can carry a
      // token in its URL). Kept on the same origin and its https upgrade (the same host).
      if (stripped.has(h.name)) decisions.push(decide.header.strippedEarlier(h.name));
      else if (!pair || verdict === 'same-origin' || verdict === 'https-upgrade') send.push(h);
      else {
        newlyStripped.push(h.name);
        decisions.push(decide.header.originBound(h.name, pair));
      }
      continue;
    }
    if (!h.sensitive) {
      send.push(h);
      continue;
    }
    if (stripped.has(h.name)) {
      decisions.push(decide.header.strippedEarlier(h.name));
      continue;
    }
    if (verdict === 'first-request' || !pair) {
      decisions.push(decide.header.first(h.name, to));
      send.push(h);
    } else if (verdict === 'cross-origin') {
      newlyStripped.push(h.name);
      decisions.push(decide.header.crossOrigin(h.name, pair));
    } else {
      send.push(h);
      decisions.push(decide.header.kept(h.name, verdict, pair, trustedBy?.source));
    }
  }
  return { send, providers: applied, newlyStripped, decisions };
}
