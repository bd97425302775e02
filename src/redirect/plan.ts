/**
 * The redirect planner: given one response, decide whether the chain continues, to where, with which
 * method and body. Pure. It follows the WHATWG Fetch "HTTP-redirect fetch" algorithm except where
 * DESIGN.md decides otherwise (downgrade refusal, userinfo dropping, cross-origin body refusal).
 */
import type { ErrorCode } from '../errors.js';
import { isDowngrade, isHttpsUpgrade, originOf, sameOrigin } from '../credentials/origin.js';
import { findMatch, type HostPattern } from '../credentials/patterns.js';
import * as decide from '../trace/decisions.js';
import type { Decision } from '../trace/types.js';

export type RedirectMode = 'follow' | 'manual' | 'error';

/** Fetch's redirect statuses. 300 (no agreed target) and 304 (cache) are never followed. */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

export interface PlanInput {
  status: number;
  location: string | undefined;
  current: URL;
  method: string;
  hasBody: boolean;
  /** false for a stream body that outgrew the replay buffer. */
  bodyReplayable: boolean;
  mode: RedirectMode;
  /** Redirects already followed in this chain. */
  redirectCount: number;
  maxRedirects: number;
  allowDowngrade: boolean;
  crossOriginBody: 'error' | 'send';
  trust: readonly HostPattern[];
  /** Index of the hop whose response is planned, for messages. */
  hopIndex: number;
}

export type Plan =
  | { action: 'return'; decisions: Decision[]; location?: URL }
  | { action: 'follow'; url: URL; method: string; keepBody: boolean; dropBodyHeaders: boolean; decisions: Decision[] }
  | { action: 'error'; code: ErrorCode; message: string; decisions: Decision[]; location?: URL };

/** `scheme:` then userinfo before any `/` or `\\`: `http:user:pass@host/...`. */
const BARE_USERINFO = /^([a-z][a-z0-9+.-]*:)(?![/\\])[^/?#\\@]*@/i;

/** A Location without its bare userinfo (`http:user:pass@host` → `http:host`); undefined when it has none. */
export function withoutBareUserinfo(location: string): string | undefined {
  const m = BARE_USERINFO.exec(location);
  return m ? m[1]! + location.slice(m[0].length) : undefined;
}

export function resolveLocation(location: string, base: URL): URL | undefined {
  // Servers send UTF-8 in Location though HTTP says ISO-8859-1; undici hands us latin1 code units.
  // Re-decode as UTF-8 when the bytes form valid UTF-8, as browsers do.
  let text = location;
  if (/[\x80-\xff]/.test(text)) {
    const bytes = Buffer.from(text, 'latin1');
    const utf8 = bytes.toString('utf8');
    if (!utf8.includes('\ufffd')) text = utf8;
  }
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

export function planRedirect(input: PlanInput): Plan {
  const { status, current, hopIndex } = input;
  const decisions: Decision[] = [];
  if (!isRedirectStatus(status)) {
    if (status >= 300 && status < 400) decisions.push(decide.redirect.notRedirectStatus(status));
    return { action: 'return', decisions };
  }
  if (input.mode === 'error') {
    decisions.push(decide.redirect.errorMode(status));
    return {
      action: 'error',
      code: 'ERR_REDIRECT',
      message: `Hop ${hopIndex} answered ${status} (a redirect) and redirect is set to "error". Use redirect: "follow" to follow it or "manual" to read the 3xx yourself.`,
      decisions,
    };
  }
  if (input.location === undefined) {
    decisions.push(decide.redirect.noLocation(status));
    return { action: 'return', decisions };
  }
  // Userinfo written without `//` (`http:bob:PASS@host`): for a same-scheme base the URL parser
  // reads it as a relative path, so the password would travel in the next request's path. It is
  // userinfo all the same, and removed like any other.
  const bare = withoutBareUserinfo(input.location);
  const target = resolveLocation(bare ?? input.location, current);
  if (bare !== undefined) decisions.push(decide.location.userinfoDropped());
  else if (target && (target.username !== '' || target.password !== '')) {
    // A Location can smuggle credentials (http://user:pass@host); they never become a credential,
    // and are removed before anything (trace, error, manual mode) records the URL.
    target.username = '';
    target.password = '';
    decisions.push(decide.location.userinfoDropped());
  }
  if (input.mode === 'manual') {
    decisions.push(decide.redirect.manualMode(status));
    return { action: 'return', decisions, location: target };
  }
  if (!target) {
    decisions.push(decide.location.invalid(status));
    return {
      action: 'error',
      code: 'ERR_INVALID_REDIRECT',
      message: `Hop ${hopIndex} answered ${status} with a Location header that is not a valid URL. The server's redirect is broken; hopwise stopped the chain.`,
      decisions,
    };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    decisions.push(decide.redirect.unsafeScheme(status, target));
    return {
      action: 'error',
      code: 'ERR_UNSAFE_REDIRECT',
      message: `Hop ${hopIndex} redirects to a ${target.protocol} URL. hopwise follows only http: and https: redirects (a redirect to ${target.protocol} can read local files or reach other protocols).`,
      decisions,
      location: target,
    };
  }
  if (input.redirectCount + 1 > input.maxRedirects) {
    decisions.push(decide.redirect.limit(input.redirectCount + 1, input.maxRedirects));
    return {
      action: 'error',
      code: 'ERR_TOO_MANY_REDIRECTS',
      message: `More than ${input.maxRedirects} redirects (maxRedirects). The chain is in err.hops; raise maxRedirects if the chain is legitimately long.`,
      decisions,
      location: target,
    };
  }
  if (isDowngrade(current, target)) {
    if (!input.allowDowngrade) {
      decisions.push(decide.redirect.downgradeRefused(status, originOf(current), originOf(target)));
      return {
        action: 'error',
        code: 'ERR_INSECURE_REDIRECT',
        message: `Hop ${hopIndex} redirects from https to plain http (${originOf(current)} → ${originOf(target)}). Refused: the next request would travel unencrypted. Fix the server's redirect, or pass allowDowngrade: true (credentials and Secure cookies still stay behind).`,
        decisions,
        location: target,
      };
    }
    decisions.push(decide.redirect.downgradeAllowed(status, originOf(current), originOf(target)));
  }
  // Fetch "HTTP-redirect fetch" step 3: a Location without a fragment inherits the request's.
  if (target.hash === '' && current.hash !== '' && !input.location.includes('#')) {
    target.hash = current.hash;
    decisions.push(decide.location.fragmentInherited(current.hash));
  }

  let method = input.method;
  let keepBody = input.hasBody;
  // Fetch step 12; RFC 9110 §15.4: 301/302 POST → GET is historic practice; 303 means "go GET it".
  const rewrite = ((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET' && method !== 'HEAD');
  if (rewrite) {
    decisions.push(decide.method.rewritten(status as 301 | 302 | 303, method));
    method = 'GET';
    if (input.hasBody) decisions.push(decide.body.dropped('GET'));
    keepBody = false;
  } else if (input.hasBody) {
    if (!input.bodyReplayable) {
      decisions.push(decide.body.notReplayable(status));
      return {
        action: 'error',
        code: 'ERR_BODY_NOT_REPLAYABLE',
        message: `Hop ${hopIndex} answered ${status}, which requires sending the request body again, but the body was a stream larger than the replay buffer. Pass the body as a Buffer/string, raise replayBufferSize, or send the request to the final URL directly.`,
        decisions,
        location: target,
      };
    }
    const sameish = sameOrigin(current, target) || isHttpsUpgrade(current, target);
    const trusted = !sameish && findMatch(input.trust, target) !== undefined;
    if (!sameish && !trusted) {
      if (input.crossOriginBody === 'error') {
        decisions.push(decide.body.crossOriginRefused(status, originOf(current), originOf(target)));
        return {
          action: 'error',
          code: 'ERR_CROSS_ORIGIN_BODY',
          message: `Hop ${hopIndex} answered ${status}, asking to resend the request body to another origin (${originOf(current)} → ${originOf(target)}). Refused by default: a body goes only where credentials may go. Add the target to trust, or pass crossOriginBody: "send".`,
          decisions,
          location: target,
        };
      }
      decisions.push(decide.body.crossOriginSent(originOf(current), originOf(target)));
    } else {
      decisions.push(decide.body.replayed(status));
    }
  }
  if (!rewrite && input.method !== 'GET' && input.method !== 'HEAD') {
    decisions.push(decide.method.kept(method, status));
  }
  decisions.push(decide.redirect.followed(status, originOf(current), target, originOf(target)));
  return { action: 'follow', url: target, method, keepBody, dropBodyHeaders: rewrite, decisions };
}
