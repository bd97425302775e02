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
      decisions.push(decide.setCookie.result(r, r.stored ? sentCookies?.get(r.cookie.name) : undefined));
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
  return { decisions, responseHeaders: shown };
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
