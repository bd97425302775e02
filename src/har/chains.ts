/**
 * Redirect chains out of a HAR's exchanges. A chain starts at a request nothing led to (the user
 * typed a URL, clicked, or a program called it) and goes on while the next request is what the
 * previous answer asked for:
 * - a status redirect: a 3xx whose `redirectURL` / Location is the next request's URL;
 * - in a browser, a navigation the page made within the same page load: a meta refresh or Refresh
 *   header (HTML Standard §4.2.5.3), a location script, or a form the page posts by itself (an
 *   identity provider's `form_post`). Without the page's body, such a hop is recognised by the
 *   Fetch metadata the browser sent (Sec-Fetch-Site not `none`, no Sec-Fetch-User: no user
 *   activation) or a Referer naming the page, and a start soon after the page loaded.
 *
 * Browser HARs also hold subresources: top-level navigations and the page's fetch()/XHR requests
 * form chains (a fetch's redirects are followed by the browser too); scripts, images and the rest
 * only feed the cookie jar of the replay.
 */
import { findClientRedirect } from '../redirect/client-redirect.js';
import type { Exchange, HarSource } from './read.js';

/** How a hop of a chain was reached from the previous one. */
export type Link =
  | { kind: 'start' }
  | { kind: 'redirect'; status: number }
  /** A navigation the previous page made by itself (`navigation`: the page's body is not in the HAR to say how). */
  | { kind: 'meta-refresh' | 'refresh-header' | 'script' | 'form-post' | 'navigation'; delaySeconds?: number };

export interface HarChain {
  /** A browser's top-level navigation, a page's fetch/XHR (browsers), or a program's request. */
  kind: 'navigation' | 'fetch' | 'request';
  /** The exchanges of the chain in order, and how each was reached (`links[0]` is `start`). */
  exchanges: Exchange[];
  links: Link[];
}

/** How long after a page loaded a navigation it made by itself may start (plus any refresh delay). */
const CLIENT_HOP_WINDOW_MS = 10_000;

export const isBrowser = (s: HarSource): boolean => s.client === 'chromium' || s.client === 'firefox';

function header(x: Exchange, name: string): string | undefined {
  return x.requestHeaders.find(([n]) => n === name)?.[1];
}

const withoutHash = (u: string): string => {
  const i = u.indexOf('#');
  return i < 0 ? u : u.slice(0, i);
};

/** A top-level navigation of a browser (not a subresource, not an iframe). */
export function isNavigation(x: Exchange): boolean {
  const dest = header(x, 'sec-fetch-dest');
  if (dest !== undefined) return dest === 'document';
  if (x.resourceType !== undefined) return x.resourceType.toLowerCase() === 'document';
  const accept = header(x, 'accept') ?? '';
  return (x.method === 'GET' || x.method === 'POST') && accept.includes('text/html');
}

/** A page's fetch() or XMLHttpRequest (not a CORS preflight): its redirects make a chain too. */
export function isFetch(x: Exchange): boolean {
  if (x.method === 'OPTIONS') return false;
  const dest = header(x, 'sec-fetch-dest');
  if (dest !== undefined) return dest === 'empty' && header(x, 'sec-fetch-mode') !== 'navigate';
  const t = x.resourceType?.toLowerCase();
  return t === 'fetch' || t === 'xhr';
}

const isHtml = (x: Exchange): boolean => /^\s*(text\/html|application\/xhtml\+xml)/i.test(x.mimeType || String(x.responseHeaders['content-type'] ?? ''));

const FORM = /<form\b[^>]*>/gi;
const ACTION = /\baction\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;
const METHOD = /\bmethod\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/** The targets of the page's forms (resolved), with their methods. */
function formsOf(page: Exchange): Array<{ url: string; method: string }> {
  if (!page.body) return [];
  const out: Array<{ url: string; method: string }> = [];
  for (const tag of page.body.match(FORM) ?? []) {
    const a = ACTION.exec(tag);
    const m = METHOD.exec(tag);
    try {
      out.push({ url: withoutHash(new URL(a ? (a[1] ?? a[2] ?? a[3] ?? '') : '', page.url).href), method: (m ? (m[1] ?? m[2] ?? m[3] ?? 'GET') : 'GET').toUpperCase() });
    } catch {
      // an action that is not a URL: no hop to it
    }
  }
  return out;
}

/**
 * Whether navigation `next` was made by page `page` by itself, and how. Undefined: it was not (the
 * user went somewhere else, or too long after).
 */
export function clientHop(page: Exchange, next: Exchange): Exclude<Link, { kind: 'start' | 'redirect' }> | undefined {
  if (page.status < 200 || page.status >= 300 || !isHtml(page)) return undefined;
  // A user activation (a click, the address bar) starts a new chain (Fetch metadata, Sec-Fetch-User).
  if (header(next, 'sec-fetch-user') === '?1' || header(next, 'sec-fetch-site') === 'none') return undefined;
  const target = withoutHash(next.url);
  let link: Exclude<Link, { kind: 'start' | 'redirect' }> | undefined;
  const refresh = page.responseHeaders.refresh;
  const cr = page.body !== undefined || typeof refresh === 'string' ? findClientRedirect(page.body ?? '', typeof refresh === 'string' ? refresh : undefined) : undefined;
  if (cr) {
    let to: string | undefined;
    try {
      to = withoutHash(new URL(cr.target, page.url).href);
    } catch {
      to = undefined;
    }
    if (to === target) link = { kind: cr.kind, delaySeconds: cr.delaySeconds };
  }
  if (!link && formsOf(page).some((f) => f.url === target && f.method === next.method)) link = { kind: next.method === 'POST' ? 'form-post' : 'navigation' };
  if (!link) {
    // No body to read: the request's own headers say where it came from.
    const referer = header(next, 'referer');
    let fromPage = false;
    if (referer !== undefined) {
      try {
        const r = new URL(referer);
        const p = new URL(page.url);
        fromPage = withoutHash(r.href) === withoutHash(p.href) || (r.origin === p.origin && r.pathname === '/' && r.search === '');
      } catch {
        fromPage = false;
      }
    }
    const site = header(next, 'sec-fetch-site');
    if (!fromPage && (site === undefined || site === 'none')) return undefined;
    link = { kind: next.method === 'POST' ? 'form-post' : 'navigation' };
  }
  const loaded = (Number.isFinite(page.started) ? page.started : 0) + page.time;
  const delay = 'delaySeconds' in link && link.delaySeconds !== undefined ? link.delaySeconds * 1000 : 0;
  if (Number.isFinite(next.started) && Number.isFinite(page.started) && next.started - loaded > CLIENT_HOP_WINDOW_MS + delay) return undefined;
  return link;
}

/** The chains of a HAR, in the order they started. */
export function reconstructChains(exchanges: readonly Exchange[], source: HarSource): HarChain[] {
  const browser = isBrowser(source);
  const order = [...exchanges].sort((a, b) => (Number.isFinite(a.started) && Number.isFinite(b.started) ? a.started - b.started : 0) || a.entry - b.entry);
  const candidates = browser ? order.filter((x) => isNavigation(x) || isFetch(x)) : order;
  const claimed = new Set<Exchange>();
  const chains: HarChain[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const first = candidates[i]!;
    if (claimed.has(first)) continue;
    claimed.add(first);
    const nav = browser && isNavigation(first);
    const chain: HarChain = { kind: !browser ? 'request' : nav ? 'navigation' : 'fetch', exchanges: [first], links: [{ kind: 'start' }] };
    let cur = first;
    let at = i;
    for (;;) {
      let found: { x: Exchange; j: number; link: Link } | undefined;
      if (cur.status >= 300 && cur.status < 400 && cur.redirectUrl !== undefined) {
        const target = withoutHash(cur.redirectUrl);
        for (let j = at + 1; j < candidates.length; j++) {
          const y = candidates[j]!;
          // a navigation redirects to a navigation, a fetch to a fetch
          if (!claimed.has(y) && withoutHash(y.url) === target && (!browser || isNavigation(y) === nav)) {
            found = { x: y, j, link: { kind: 'redirect', status: cur.status } };
            break;
          }
        }
      } else if (nav) {
        // The next navigation after the page, if the page made it.
        for (let j = at + 1; j < candidates.length; j++) {
          const y = candidates[j]!;
          if (claimed.has(y) || !isNavigation(y)) continue;
          const link = clientHop(cur, y);
          if (link) found = { x: y, j, link };
          break;
        }
      }
      if (!found) break;
      claimed.add(found.x);
      chain.exchanges.push(found.x);
      chain.links.push(found.link);
      cur = found.x;
      at = found.j;
    }
    chains.push(chain);
  }
  return chains;
}
