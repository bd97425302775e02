/**
 * planNext: after one response, what comes next — one pure decision that folds the status redirect
 * (redirect/plan, the Fetch "HTTP-redirect fetch" algorithm), a 200 HTML page's meta refresh, the
 * one-time retry of a 401 with a refreshed credential, and the re-plan of a target the
 * beforeRedirect hook changed. The session carries the answer out; it decides nothing itself.
 */
import { findClientRedirect, type ClientRedirect } from '../redirect/client-redirect.js';
import { isRedirectStatus, planRedirect, type Plan, type PlanInput } from '../redirect/plan.js';
import type { ResolvedOptions } from '../options.js';
import * as decide from '../trace/decisions.js';
import { redactUrl } from '../credentials/sensitive.js';
import { schemesOf, type AuthProvider } from '../credentials/auth.js';
import { parseChallenges, type Challenge } from '../credentials/challenge.js';
import { originOf } from '../credentials/origin.js';
import { scopeText } from '../credentials/policy.js';
import type { Decision } from '../trace/types.js';
import type { RawHeaders } from './absorb.js';
import { planRetry } from './retry.js';
import type { Chain } from './chain.js';

type PlanOptions = Pick<ResolvedOptions, 'maxRedirects' | 'allowDowngrade' | 'crossOriginBody' | 'trust' | 'followMetaRefresh'> & Partial<Pick<ResolvedOptions, 'retry'>>;

export interface NextInput {
  chain: Pick<Chain, 'url' | 'method' | 'body' | 'mode' | 'redirects' | 'refreshedOnce'> & Partial<Pick<Chain, 'first' | 'staleAnswered' | 'retries'>>;
  status: number;
  headers: RawHeaders;
  hopIndex: number;
  options: PlanOptions;
  /** A provider that can refresh its credential was applied on this hop. */
  refreshableAuth: boolean;
  /** The providers in scope on this hop: whether each sent a credential, and the challenge it was given. */
  auth?: readonly AppliedAuth[];
  /** The clock for a retry, asked only when one is planned: now (ms since epoch), ms left of timeout.total, and a jitter in [0, 1). */
  clock?: () => { now: number; remaining: number | undefined; random: number };
  /** The page's client-side redirect once the page was read: `null` when it has none. */
  page?: ClientRedirect | null;
}

export interface AppliedAuth {
  provider: AuthProvider;
  /** The provider produced a credential on this hop. */
  sent: boolean;
  /** The challenge it was asked to answer on this hop (ctx.challenge). */
  challenge: Challenge | undefined;
}

export type Next =
  | Plan
  /** Repeat the hop once, asking refreshable providers for a fresh credential (a 401). */
  | { action: 'retry'; why?: 'refresh'; decisions?: readonly Decision[] }
  /** Send the same request again after `waitMs` (a retryable status: the `retry` option). */
  | { action: 'retry'; why: 'status'; waitMs: number; decisions: readonly Decision[] }
  /** Repeat the hop with `provider` answering `challenge` (a 401 with WWW-Authenticate). */
  | { action: 'retry'; why: 'challenge'; provider: AuthProvider; challenge: Challenge; stale: boolean; decisions: readonly Decision[] }
  /** Read the start of the page (a 200 HTML answer) and plan again with `page` set. */
  | { action: 'read-page' };

/** Small HTML pages are read to spot meta-refresh/script redirects (the "session lost" story's third case). */
export const HTML_SNIFF_LIMIT = 64 * 1024;

/** The one place a redirect plan's input is assembled from the chain and the options. */
function redirectInput(
  chain: NextInput['chain'],
  options: PlanOptions,
  hopIndex: number,
  at: { status: number; location: string | undefined; method: string; mode: PlanInput['mode']; redirectCount: number; hasBody: boolean },
): PlanInput {
  return {
    status: at.status,
    location: at.location,
    current: chain.url,
    method: at.method,
    hasBody: at.hasBody,
    bodyReplayable: chain.body?.replayable ?? true,
    mode: at.mode,
    redirectCount: at.redirectCount,
    maxRedirects: options.maxRedirects,
    allowDowngrade: options.allowDowngrade,
    crossOriginBody: options.crossOriginBody,
    trust: options.trust,
    hopIndex,
  };
}

function isHtml(raw: RawHeaders): boolean {
  const ct = raw['content-type'];
  return typeof ct === 'string' && /^\s*(?:text\/html|application\/xhtml\+xml)/i.test(ct);
}

/**
 * A 401's challenges (RFC 9110 §11.6.1) against the providers in scope: the first challenge whose
 * scheme a provider answers picks that provider. It answers once (a second plain 401 after an
 * answer stops: a wrong password never loops); a `stale=true` challenge is answered once more per
 * chain (RFC 7616 §3.3). Returns the retry, or the decisions of a 401 that is returned as it is.
 */
function planChallenge(input: NextInput): Extract<Next, { action: 'retry' }> | { action: 'stop'; decisions: Decision[] } | undefined {
  const { chain, headers } = input;
  const challenges = parseChallenges(headers['www-authenticate']);
  const applied = input.auth ?? [];
  const replayable = !chain.body || chain.body.replayable;
  const first = chain.first ?? chain.url;
  const to = originOf(chain.url);
  const facts = (p: AuthProvider) => ({ name: p.header, kind: p.kind, scope: scopeText(p, first), to, pair: undefined });
  const refresh = !chain.refreshedOnce && input.refreshableAuth && replayable;
  let pick: { c: Challenge; a: AppliedAuth } | undefined;
  for (const c of challenges) {
    // A provider may pass over a challenge of its scheme it cannot answer (a Digest algorithm RFC 7616
    // does not define): the next challenge is tried, as RFC 7616 §3.7 asks.
    const a = applied.find((x) => schemesOf(x.provider).includes(c.scheme) && (x.provider.answers?.(c) ?? true));
    if (a) {
      pick = { c, a };
      break;
    }
  }
  if (!pick) {
    if (refresh) return { action: 'retry', why: 'refresh' };
    if (challenges.length === 0) return undefined;
    return {
      action: 'stop',
      decisions: [
        decide.auth.unanswered(
          to,
          challenges.map((c) => ({ scheme: c.scheme, realm: c.params.realm })),
          applied.map((a) => a.provider.kind),
        ),
      ],
    };
  }
  const { c, a } = pick;
  const cf = { scheme: c.scheme, realm: c.params.realm };
  if (!replayable) return undefined;
  if (!a.sent && a.challenge === undefined)
    return { action: 'retry', why: 'challenge', provider: a.provider, challenge: c, stale: false, decisions: [decide.auth.answered(facts(a.provider), cf, false)] };
  if (a.sent && a.challenge !== undefined && c.params.stale?.toLowerCase() === 'true' && !chain.staleAnswered) {
    return { action: 'retry', why: 'challenge', provider: a.provider, challenge: c, stale: true, decisions: [decide.auth.answered(facts(a.provider), cf, true)] };
  }
  if (refresh && a.provider.canRefresh) return { action: 'retry', why: 'refresh' };
  return { action: 'stop', decisions: [decide.auth.rejected(facts(a.provider), cf)] };
}

export function planNext(input: NextInput): Next {
  // A 401: a provider in scope answers the server's challenge, or a refreshable provider is asked
  // for a new credential (once per chain), and the hop is repeated if the body can be sent again.
  const { status } = input;
  let authStop: Decision[] | undefined;
  if (status === 401) {
    const c = planChallenge(input);
    if (c?.action === 'retry') return c;
    if (c?.action === 'stop') authStop = c.decisions;
  }
  // A retryable answer (408, 429, 5xx) to a method that may be sent twice: the same request again.
  const policy = input.options.retry;
  if (policy && policy.statuses.has(status) && policy.limit > 0) {
    const clock = input.clock?.() ?? { now: Date.now(), remaining: undefined, random: 0.5 };
    const r = planRetry({ policy, method: input.chain.method, body: input.chain.body, retries: input.chain.retries ?? 0, status, retryAfter: input.headers['retry-after'], ...clock });
    if (r.retry) return { action: 'retry', why: 'status', waitMs: r.waitMs, decisions: r.decisions };
    if (r.decisions.length) authStop = [...(authStop ?? []), ...r.decisions];
  }
  const next = planResponse(input);
  return authStop && 'decisions' in next && next.action !== 'retry' ? { ...next, decisions: [...authStop, ...next.decisions] } : next;
}

/** The status redirect and the page's client-side redirect (planNext past the 401 handling). */
function planResponse(input: NextInput): Next {
  const { chain, status, headers, options, hopIndex } = input;

  const rawLocation = headers.location;
  // Two Location headers that disagree are a broken (or smuggled) redirect: following either one,
  // or both joined, would be a guess (RFC 9110 §5.3: Location is a singleton field).
  if (Array.isArray(rawLocation) && new Set(rawLocation).size > 1 && isRedirectStatus(status) && chain.mode !== 'manual') {
    return {
      action: 'error',
      code: 'ERR_INVALID_REDIRECT',
      message: `Hop ${hopIndex} answered ${status} with ${new Set(rawLocation).size} different Location headers. hopwise follows none of them; the server's redirect is broken.`,
      decisions: [decide.location.conflicting(status, new Set(rawLocation).size)],
    };
  }
  const location = Array.isArray(rawLocation) ? rawLocation[0] : rawLocation;
  const plan = planRedirect(redirectInput(chain, options, hopIndex, { status, location, method: chain.method, mode: chain.mode, redirectCount: chain.redirects, hasBody: chain.body !== undefined }));
  if (plan.action !== 'return' || status !== 200 || chain.mode !== 'follow' || chain.method === 'HEAD' || !isHtml(headers)) return plan;

  // A 200 HTML page may "redirect" in the browser (HTML Standard §4.2.5.3 shared declarative refresh
  // steps, or a location script). The page must be read to know; a page declared larger than the
  // sniff limit is not read.
  if (input.page === undefined) {
    const len = Number(headers['content-length']);
    return Number.isFinite(len) && len > HTML_SNIFF_LIMIT ? plan : { action: 'read-page' };
  }
  const cr = input.page;
  if (cr === null) return plan;
  if (cr.kind === 'script' || !options.followMetaRefresh) return { ...plan, decisions: [...plan.decisions, decide.redirect.clientNotFollowed(cr)] };

  // Following the page is a navigation: a GET, whatever the request was.
  const follow = planRedirect(redirectInput(chain, options, hopIndex, { status: 302, location: cr.target, method: 'GET', mode: 'follow', redirectCount: chain.redirects, hasBody: false }));
  const decisions = [...plan.decisions, decide.redirect.clientFollowed(cr)];
  if (follow.action === 'follow' && chain.method !== 'GET') {
    decisions.push(decide.method.metaRefresh(chain.method));
    if (chain.body) decisions.push(decide.body.dropped('GET'));
    return { ...follow, decisions: [...decisions, ...follow.decisions], method: 'GET', keepBody: false, dropBodyHeaders: true };
  }
  return { ...follow, decisions: [...decisions, ...follow.decisions] };
}

/** The client-side redirect of a page read by the session (`page` for planNext). */
export function readPage(bytes: Buffer, headers: RawHeaders): ClientRedirect | null {
  const refresh = headers.refresh;
  return findClientRedirect(bytes.toString('utf8'), typeof refresh === 'string' ? refresh : undefined) ?? null;
}

/**
 * The beforeRedirect hook moved the target: the redirect policy runs again on the new URL, as if
 * the server had sent it (same status, the method already planned, the redirect already counted).
 */
export function replanHookTarget(chain: NextInput['chain'] & { prev: URL }, hop: { status: number; index: number }, hookUrl: string, method: string, options: PlanOptions): Plan {
  const from = { ...chain, url: chain.prev };
  const again = planRedirect(
    redirectInput(from, options, hop.index, { status: hop.status, location: hookUrl, method, mode: 'follow', redirectCount: chain.redirects - 1, hasBody: chain.body !== undefined }),
  );
  const decisions = [decide.redirect.hookChanged(redactUrl(hookUrl)), ...again.decisions];
  if (again.action === 'follow') return { ...again, decisions };
  if (again.action === 'error') return { ...again, decisions, message: `${again.message} (URL set by the beforeRedirect hook)` };
  return { action: 'error', code: 'ERR_INVALID_REDIRECT', message: 'The beforeRedirect hook set a URL that cannot be followed.', decisions };
}

/**
 * Loop detection (DESIGN "Defaults"): the same method + URL + cookie state twice in one chain is a
 * loop. The set is built only once a chain actually redirects: a single exchange pays nothing.
 * Returns true when this request was already made; records it otherwise.
 */
export function seenBefore(chain: Chain, cookieHeader: string): boolean {
  if (chain.hops.length === 0) {
    chain.firstCookie = cookieHeader;
    return false;
  }
  const key = `${chain.method} ${chain.url.href} ${cookieHeader}`;
  const first = chain.hops[0];
  const seen = (chain.seen ??= new Set([`${first?.method ?? chain.method} ${chain.first.href} ${chain.firstCookie}`]));
  if (seen.has(key)) return true;
  seen.add(key);
  return false;
}
