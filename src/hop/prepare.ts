/**
 * prepare: one hop's request from the chain state. Caller headers go through the header policy
 * (credentials/policy), the beforeRedirect hook's changes are applied, the credentials the auth
 * providers produced are added, and the jar gives this hop's cookies. Pure over plain records plus
 * the jar (whose `evaluate` updates last-access times, as RFC 6265bis §5.8.3 step 3 asks).
 */
import { siteInfo } from '../cookies/domain.js';
import type { CookieEvaluation } from '../cookies/types.js';
import type { AuthProvider, Challenge } from '../credentials/auth.js';
import type { HeaderPolicyResult } from '../credentials/policy.js';
import { isSensitiveName, redactQuery, redactValue } from '../credentials/sensitive.js';
import * as decide from '../trace/decisions.js';
import type { Decision } from '../trace/types.js';
import type { HookHeaders } from './chain.js';

/** A credential an auth provider produced for this hop. */
export interface Credential {
  provider: AuthProvider;
  /** undefined: the provider sends nothing on this hop (it waits for a challenge, or `otherScheme` answers). */
  value: string | undefined;
  /** The scheme of the challenge another provider of the same header answers on this hop. */
  otherScheme?: string;
  /** The challenge the provider was given (ctx.challenge). */
  challenge?: Challenge | undefined;
  /** Produced after a 401 asked the provider for a fresh one. */
  refreshed: boolean;
}

export interface PrepareInput {
  url: URL;
  policy: HeaderPolicyResult;
  hook: HookHeaders | undefined;
  credentials: readonly Credential[];
  /** A store that answers synchronously (the in-memory jar): asked here. */
  jar: { evaluate(url: URL): CookieEvaluation; readonly size?: number } | undefined;
  /** This hop's cookies from a store the session asked itself (one that may answer with a promise). */
  evaluated?: CookieEvaluation | undefined;
  sensitiveHeaders: ReadonlySet<string>;
}

export interface PreparedRequest {
  /** Name, value, name, value... as undici takes them. */
  headers: string[];
  /** What the trace shows: the same headers, secrets redacted. */
  shown: Record<string, string>;
  cookieHeader: string;
  /** Name → value of the jar cookies sent, to tell later whether a Set-Cookie changed one. */
  sentCookies: Map<string, string> | undefined;
  decisions: Decision[];
}

export function prepare(input: PrepareInput): PreparedRequest {
  const { policy, hook, url, jar } = input;
  const decisions: Decision[] = policy.decisions.length ? [...policy.decisions] : [];
  const headers: string[] = [];
  const shown: Record<string, string> = {};
  let callerCookie: string | undefined;
  const put = (name: string, value: string, sensitive: boolean): void => {
    headers.push(name, value);
    // A Referer is a URL: its secret-looking query values stay out of the trace.
    shown[name] = sensitive ? redactValue(name, value) : name === 'referer' ? redactQuery(value) : value;
  };

  // The policy's headers the hook removed or set (its value replaces the policy's: never both, even
  // when the policy, planned again for a URL the hook chose, sends that header too).
  const overridden = hook ? new Set([...hook.remove, ...hook.add.map(([name]) => name)]) : undefined;
  for (const h of policy.send) {
    if (overridden?.has(h.name)) continue;
    if (h.name === 'cookie') callerCookie = h.value;
    else put(h.name, h.value, h.sensitive);
  }
  if (hook) {
    for (const [name, value] of hook.add) {
      if (name === 'cookie') callerCookie = value;
      else put(name, value, isSensitiveName(name, input.sensitiveHeaders));
      decisions.push(decide.header.hookAdded(name));
    }
    for (const name of hook.remove) decisions.push(decide.header.hookRemoved(name));
  }
  for (const c of input.credentials) {
    if (c.value === undefined) {
      // The policy applied the provider, but it sends nothing here: the trace says so instead.
      const i = decisions.findIndex((d) => d.subject === 'auth' && d.name === c.provider.header && d.reason === 'in-scope' && d.facts.provider === c.provider.kind);
      const d = decisions[i];
      if (d?.subject === 'auth') {
        const f = d.facts;
        const pf = { name: d.name, kind: c.provider.kind, scope: f.scope, to: f.to, pair: f.from !== undefined ? { from: f.from, to: f.to, sameSite: f.sameSite ?? false } : undefined };
        decisions[i] = c.otherScheme !== undefined ? decide.auth.otherScheme(pf, c.otherScheme) : decide.auth.awaitingChallenge(pf);
      }
      continue;
    }
    put(c.provider.header, c.value, true);
    if (c.refreshed) {
      const applied = decisions.find((d) => d.subject === 'auth' && d.name === c.provider.header && d.reason === 'in-scope');
      if (applied?.subject === 'auth') decisions.push(decide.auth.refreshed({ name: c.provider.header, kind: c.provider.kind, scope: applied.facts.scope, to: applied.facts.to, pair: undefined }));
    }
  }

  let cookieHeader = '';
  let sentCookies: Map<string, string> | undefined;
  const evaluated = input.evaluated ?? (jar && jar.size !== 0 ? jar.evaluate(url) : undefined);
  if (evaluated) {
    const { header, verdicts } = evaluated;
    cookieHeader = header;
    // The request host's site, looked up only when a cookie was withheld for its domain: the trace
    // then names the Domain= that would have covered this host, with the jar's own PSL settings.
    let site: string | undefined;
    for (const v of verdicts) {
      if (v.sent) (sentCookies ??= new Map()).set(v.cookie.name, v.cookie.value);
      const forDomain = v.reason === 'host-only' || v.reason === 'domain-mismatch';
      decisions.push(decide.cookie.verdict(v, forDomain ? (site ??= siteInfo(url.hostname).site) : undefined));
    }
  }
  if (callerCookie !== undefined) {
    decisions.push(decide.cookie.callerHeader());
    cookieHeader = cookieHeader ? `${callerCookie}; ${cookieHeader}` : callerCookie;
  }
  if (cookieHeader) put('cookie', cookieHeader, true);
  return { headers, shown, cookieHeader, sentCookies, decisions };
}
