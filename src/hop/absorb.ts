/**
 * absorb: what one response tells the chain before the next hop is planned. Every Set-Cookie of
 * every response, 3xx included, goes into the jar (RFC 6265bis §5.7; a login that sets its session
 * on a 302 must be seen by the next hop), and the response headers are recorded for the trace with
 * their secrets removed. Pure over plain records plus the jar.
 */
import type { SetCookieResult } from '../cookies/types.js';
import { redactQuery, redactSetCookie } from '../credentials/sensitive.js';
import { withoutBareUserinfo } from '../redirect/plan.js';
import * as decide from '../trace/decisions.js';
import type { Hop, SetCookieDecision } from '../trace/types.js';

export type RawHeaders = Record<string, string | string[] | undefined>;

export interface Absorbed {
  decisions: SetCookieDecision[];
  /** The response headers as the trace shows them (Set-Cookie values and Location userinfo removed). */
  responseHeaders: Hop['responseHeaders'];
  /** Which server answered, when the response said so (fingerprint headers, affinity cookie names). */
  backend?: Hop['backend'];
}

/**
 * `jar`: a store that answers synchronously (the in-memory jar), given each line here. `stored`: the
 * results of a store the session gave the lines itself (one that may answer with a promise), in order.
 */
export function absorb(
  url: URL,
  raw: RawHeaders,
  jar: { setCookie(line: string, url: URL): SetCookieResult } | undefined,
  sentCookies: ReadonlyMap<string, string> | undefined,
  stored?: readonly SetCookieResult[],
): Absorbed {
  const decisions: SetCookieDecision[] = [];
  let shown = raw as Hop['responseHeaders'];
  const setCookie = raw['set-cookie'];
  if (setCookie !== undefined) {
    const lines = Array.isArray(setCookie) ? setCookie : [setCookie];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const r = stored ? stored[i] : jar?.setCookie(line, url);
      if (!r) {
        decisions.push(decide.setCookie.disabled());
        continue;
      }
      const name = r.stored ? r.cookie.name : r.name;
      decisions.push(decide.setCookie.result(r, name !== undefined ? sentCookies?.get(name) : undefined));
      if (r.stored && r.evicted) for (const gone of r.evicted) decisions.push(decide.setCookie.evicted(gone, r.cookie.name, sentCookies?.has(gone.name) === true));
    }
    shown = { ...raw, 'set-cookie': lines.map(redactSetCookie) } as Hop['responseHeaders'];
  }
  const location = raw.location;
  if (typeof location === 'string' && (location.includes('@') || location.includes('?'))) {
    // user:password@ and secret-looking query values in a Location are secrets too: the trace keeps
    // the header without them.
    const safe = redactQuery(location.includes('@') ? redactLocation(location, url) : location);
    if (safe !== location) shown = { ...shown, location: safe };
  }
  const backend = fingerprint(raw);
  return backend ? { decisions, responseHeaders: shown, backend } : { decisions, responseHeaders: shown };
}

/**
 * Headers that name the server that answered: `Server` (RFC 9110 §10.2.4), `Via` (§7.6.3), and the
 * de-facto ones balancers and CDNs add. Recorded per hop so the doctor can tell "two backends
 * answered this chain" from what the responses said.
 */
export const FINGERPRINT_HEADERS = ['server', 'via', 'x-backend', 'x-backend-server', 'x-served-by', 'x-server', 'x-upstream', 'x-instance', 'x-node'] as const;

/**
 * Load balancer affinity ("sticky session") cookies, by name: AWS ALB/ELB, HAProxy SERVERID, F5
 * BIG-IP, nginx sticky `route`/ROUTEID, Azure ARRAffinity, Google GCLB, nginx ingress, Cloudflare.
 */
const AFFINITY_COOKIE = /^(AWSALB|AWSALBCORS|AWSALBAPP-\d+|AWSELB|AWSELBCORS|SERVERID|BIGipServer.*|ROUTEID|route|ARRAffinity|ARRAffinitySameSite|GCLB|INGRESSCOOKIE|__cflb)$/;

function fingerprint(raw: RawHeaders): Hop['backend'] {
  const headers: Record<string, string> = {};
  for (const name of FINGERPRINT_HEADERS) {
    const v = raw[name];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  const affinity: string[] = [];
  const sc = raw['set-cookie'];
  for (const line of sc === undefined ? [] : Array.isArray(sc) ? sc : [sc]) {
    const name = line.slice(0, line.indexOf('=')).trim();
    if (line.includes('=') && AFFINITY_COOKIE.test(name) && !affinity.includes(name)) affinity.push(name);
  }
  if (Object.keys(headers).length === 0 && affinity.length === 0) return undefined;
  return affinity.length ? { headers, affinityCookies: affinity } : { headers };
}

function redactLocation(location: string, base: URL): string {
  const bare = withoutBareUserinfo(location);
  if (bare !== undefined) return bare;
  let u: URL;
  try {
    u = new URL(location, base);
  } catch {
    return location;
  }
  if (u.username === '' && u.password === '') return location;
  return location.replace(/\/\/[^/?#]*@/, '//');
}
