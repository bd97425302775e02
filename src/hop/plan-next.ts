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
import type { RawHeaders } from './absorb.js';
import type { Chain } from './chain.js';

type PlanOptions = Pick<ResolvedOptions, 'maxRedirects' | 'allowDowngrade' | 'crossOriginBody' | 'trust' | 'followMetaRefresh'>;

export interface NextInput {
  chain: Pick<Chain, 'url' | 'method' | 'body' | 'mode' | 'redirects' | 'refreshedOnce'>;
  status: number;
  headers: RawHeaders;
  hopIndex: number;
  options: PlanOptions;
  /** A provider that can refresh its credential was applied on this hop. */
  refreshableAuth: boolean;
  /** The page's client-side redirect once the page was read: `null` when it has none. */
  page?: ClientRedirect | null;
}

export type Next =
  | Plan
  /** Repeat the hop once, asking refreshable providers for a fresh credential (a 401). */
  | { action: 'retry' }
  /** Read the start of the page (a 200 HTML answer) and plan again with `page` set. */
  | { action: 'read-page' };

/** Small HTML pages are read to spot meta-refresh/script redirects (the "session lost" story's third case). */
export const HTML_SNIFF_LIMIT = 64 * 1024;

/** The one place a redirect plan's input is assembled from the chain and the options. */
function redirectInput(chain: NextInput['chain'], options: PlanOptions, hopIndex: number, at: { status: number; location: string | undefined; method: string; mode: PlanInput['mode']; redirectCount: number; hasBody: boolean }): PlanInput {
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

export function planNext(input: NextInput): Next {
  const { chain, status, headers, options, hopIndex } = input;
  // A 401 may ask a refreshable provider for a new credential, once per chain, then retry the hop,
  // if the body can be sent again.
  if (status === 401 && !chain.refreshedOnce && input.refreshableAuth && (!chain.body || chain.body.replayable)) return { action: 'retry' };

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
  const again = planRedirect(redirectInput(from, options, hop.index, { status: hop.status, location: hookUrl, method, mode: 'follow', redirectCount: chain.redirects - 1, hasBody: chain.body !== undefined }));
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
