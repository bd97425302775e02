/**
 * The header policy for one hop: which caller-set headers go, which are stripped, which auth
 * providers apply. Pure: plain data in, decisions out. The session acts on the result and the trace
 * shows the same decisions, so behaviour and explanation cannot drift.
 */
import type { Decision } from '../trace/types.js';
import type { AuthProvider } from './auth.js';
import { isDowngrade, isHttpsUpgrade, originOf, sameOrigin } from './origin.js';
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

function scopeText(p: AuthProvider, first: URL): string {
  return p.scope === undefined ? `${originOf(first)} (the first request's origin) and its https upgrade` : p.scope.map((s) => s.source).join(', ');
}

const NOTHING: readonly never[] = Object.freeze([]);

export function planHeaders(input: HeaderPolicyInput): HeaderPolicyResult {
  const { prev, next, userHeaders, stripped, trust, providers, first } = input;
  // The common case on the hot path: no provider and no sensitive header, so nothing to decide.
  if (providers.length === 0 && !userHeaders.some((h) => h.sensitive)) {
    return { send: userHeaders, providers: NOTHING, newlyStripped: NOTHING, decisions: NOTHING };
  }
  const decisions: Decision[] = [];
  const newlyStripped: string[] = [];
  const applied: AuthProvider[] = [];
  const providerHeaders = new Set<string>();

  // An allowed https → http downgrade is a cleartext hop: no credential goes, in scope or not.
  const cleartextAfterDowngrade = prev !== undefined && isDowngrade(prev, next);
  for (const p of providers) {
    if (cleartextAfterDowngrade) {
      decisions.push({ subject: 'auth', name: p.header, action: 'withheld', reason: 'downgrade-allowed', detail: `${p.kind} credential not applied: ${originOf(prev!)} → ${originOf(next)} is a downgrade to cleartext`, facts: { provider: p.kind, from: originOf(prev!), to: originOf(next) } });
    } else if (providerInScope(p, next, first)) {
      applied.push(p);
      providerHeaders.add(p.header);
      decisions.push({ subject: 'auth', name: p.header, action: prev ? 're-applied' : 'sent', reason: 'in-scope', detail: `${p.kind} credential applied: ${originOf(next)} is in scope ${scopeText(p, first)}`, facts: { provider: p.kind, url: originOf(next) } });
    } else {
      decisions.push({ subject: 'auth', name: p.header, action: 'withheld', reason: 'out-of-scope', detail: `${p.kind} credential not applied: ${originOf(next)} is outside scope ${scopeText(p, first)}`, facts: { provider: p.kind, url: originOf(next) } });
    }
  }

  // Decided once per hop, shared by every sensitive header: the hop is the same for all of them.
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
      decisions.push({ subject: 'header', name: h.name, action: 'dropped', reason: 'overrides-header', detail: `an auth provider in scope sets ${h.name} for this hop instead of the caller's header` });
      continue;
    }
    if (!h.sensitive) {
      send.push(h);
      continue;
    }
    if (stripped.has(h.name)) {
      decisions.push({ subject: 'header', name: h.name, action: 'stripped', reason: 'stripped-earlier', detail: `${h.name} was stripped at an earlier hop and stays stripped for the rest of the chain` });
      continue;
    }
    switch (verdict) {
      case 'first-request':
        decisions.push({ subject: 'header', name: h.name, action: 'sent', reason: 'first-request', detail: `${h.name} sent to ${originOf(next)}` });
        send.push(h);
        break;
      case 'cross-origin':
        newlyStripped.push(h.name);
        decisions.push({
          subject: 'header',
          name: h.name,
          action: 'stripped',
          reason: 'cross-origin',
          detail: `${h.name} not forwarded from ${originOf(prev!)} to ${originOf(next)}: different origin and not trusted`,
          facts: { from: originOf(prev!), to: originOf(next) },
        });
        break;
      default:
        send.push(h);
        decisions.push({
          subject: 'header',
          name: h.name,
          action: 'sent',
          reason: verdict,
          detail:
            verdict === 'trusted'
              ? `${h.name} forwarded to ${originOf(next)}: matches trust pattern '${trustedBy!.source}'`
              : verdict === 'https-upgrade'
                ? `${h.name} kept: ${originOf(prev!)} to ${originOf(next)} is an https upgrade of the same host`
                : `${h.name} kept: ${originOf(next)} is the same origin`,
          facts: { from: originOf(prev!), to: originOf(next) },
        });
    }
  }
  return { send, providers: applied, newlyStripped, decisions };
}
