/**
 * The doctor: rules over a finished trace. Every rule reads the decisions the session recorded (and,
 * for the few things that are not decisions, the response facts the hop carries: status, headers).
 * No rule re-derives policy: if the session did not record it, the doctor does not guess it.
 */
import { getDomain } from 'tldts';
import type { Decision, Hop } from '../trace/types.js';
import { FINDINGS, type FactValue, type Finding, type FindingCode, type Severity } from './findings.js';

/** The hops the doctor reads: the trace exactly as the session recorded it. */
export type DiagnosableHop = Hop;
// Client-side redirects come from the session's own decisions (subject 'redirect', reasons
// 'meta-refresh', 'meta-refresh-not-followed', 'script-redirect-not-followed', facts { kind, target }).

/** The error the chain ended with, if any: a `HopwiseError` or anything with `code` and `hops`. */
export interface DiagnosableError {
  code: string;
  message: string;
  hops?: Hop[];
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'cookie2']);

export function diagnose(hops: readonly Hop[], error?: DiagnosableError | null): Finding[] {
  const trace: DiagnosableHop[] = hops.length > 0 ? [...hops] : [...(error?.hops ?? [])];
  const out: Finding[] = [];
  const seen = new Set<string>();
  const add = (key: string, f: Finding): void => {
    if (seen.has(key)) return;
    seen.add(key);
    out.push(f);
  };
  const ctx: Ctx = { trace, error: error ?? undefined, add };

  strippedCredentials(ctx);
  downgrade(ctx);
  withheldCookies(ctx);
  rejectedSetCookies(ctx);
  sessionReplaced(ctx);
  clientSideRedirect(ctx);
  methodAndBody(ctx);
  unauthorizedAfterRedirect(ctx);
  chainEnd(ctx);

  // hop order, and within a hop the rules' order: causes (what was stripped or withheld) before
  // consequences (the 401, the error the chain stopped with)
  return out
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.hop - b.f.hop || a.i - b.i)
    .map(({ f }) => f);
}

/** True when findings include something worth a non-zero exit (an error or a warning). */
export function hasProblems(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity !== 'info');
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  trace: DiagnosableHop[];
  error: DiagnosableError | undefined;
  add(key: string, f: Finding): void;
}

function finding(
  code: FindingCode,
  hop: number,
  title: string,
  facts: Record<string, FactValue | undefined>,
  fix: { client: string; server: string },
  severity: Severity = FINDINGS[code].severity,
): Finding {
  const clean: Record<string, FactValue> = {};
  for (const [k, v] of Object.entries(facts)) if (v !== undefined) clean[k] = v;
  return { code, severity, hop, title, facts: clean, fix };
}

function* decisionsOf(trace: DiagnosableHop[]): Generator<[DiagnosableHop, Decision, number]> {
  for (let i = 0; i < trace.length; i++) {
    const hop = trace[i]!;
    for (const d of hop.decisions ?? []) yield [hop, d, i];
  }
}

function factString(d: Decision, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = d.facts?.[k];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return undefined;
}

function origin(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return url;
  }
}

function hostOf(urlOrOrigin: string | undefined): string | undefined {
  if (!urlOrOrigin) return undefined;
  try {
    return new URL(urlOrOrigin).hostname;
  } catch {
    return urlOrOrigin;
  }
}

function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

function site(host: string | undefined): string | undefined {
  if (!host) return undefined;
  return getDomain(host) ?? host;
}

/** The `trust` pattern that lets a header follow into this origin (host alone only for https on 443). */
export function trustPatternFor(originOrUrl: string): string {
  try {
    const u = new URL(originOrUrl);
    if (u.protocol === 'https:' && u.port === '') return u.hostname;
    return u.origin;
  } catch {
    return originOrUrl;
  }
}

/** The hop before `i` in the trace, i.e. where the chain came from. */
function fromTo(ctx: Ctx, i: number, d: Decision): { from?: string; to?: string } {
  const from = factString(d, 'from', 'fromOrigin', 'previousOrigin') ?? origin(ctx.trace[i - 1]?.url);
  const to = factString(d, 'to', 'toOrigin', 'origin', 'url') ?? origin(ctx.trace[i]?.url);
  return { from, to };
}

function headerTitle(name: string): string {
  return name
    .split('-')
    .map((p) => (p.length <= 3 && p.toLowerCase() === 'api' ? 'Api' : p.charAt(0).toUpperCase() + p.slice(1)))
    .join('-');
}

// --- rule: credential / secret header stripped on a cross-origin hop ---------------------------

function strippedCredentials(ctx: Ctx): void {
  for (const [hop, d, i] of decisionsOf(ctx.trace)) {
    const isHeaderStrip = d.subject === 'header' && d.action === 'stripped' && d.reason === 'cross-origin';
    const isAuthOut =
      i > 0 &&
      d.subject === 'auth' && d.reason === 'out-of-scope' && (d.action === 'stripped' || d.action === 'withheld' || d.action === 'dropped');
    const isDowngradeStrip = d.subject === 'header' && d.action === 'stripped' && d.reason === 'downgrade-allowed';
    if (!isHeaderStrip && !isAuthOut && !isDowngradeStrip) continue;
    const name = (d.name ?? (d.subject === 'auth' ? 'authorization' : 'header')).toLowerCase();
    const { from, to } = fromTo(ctx, i, d);
    const toHost = hostOf(to);
    const fromHost = hostOf(from);
    const sameSite = fromHost !== undefined && toHost !== undefined && site(fromHost) === site(toHost);
    const trust = to ? trustPatternFor(to) : '<host>';
    const facts = {
      header: name,
      from,
      to,
      sameSite,
      provider: d.subject === 'auth' ? true : undefined,
      reason: d.reason,
    };

    if (d.subject === 'auth' || CREDENTIAL_HEADERS.has(name)) {
      const label = headerTitle(name);
      // name origins when the host alone does not show the difference (scheme or port changed)
      const [fromName, toName] = fromHost === toHost ? [from, to] : [fromHost, toHost];
      const title = sameSite
        ? `${label} was not sent to ${toName ?? 'the next origin'}: the redirect left ${fromName ?? 'the first origin'} for another origin`
        : `${label} was kept away from ${toHost ?? 'another site'}: the redirect went to another site`;
      const client =
        d.subject === 'auth'
          ? `The auth provider is scoped and ${to ?? 'the next origin'} is outside its scope. If that origin should get the credential, widen the scope: ` +
            `bearer(token, { scope: ['${trust}', ...] }) (CLI: --auth-scope ${trust}). Otherwise nothing to do.`
          : sameSite
            ? `If you own ${toHost}, let the header follow there: trust: ['${trust}'] (CLI: --trust ${trust}), ` +
              `or better, give the credential as a scoped provider that is re-applied on every hop in scope: ` +
              `bearer(token, { scope: ['${trustPatternFor(from ?? '')}', '${trust}'] }) (CLI: --oauth2-bearer TOKEN --auth-scope ${trustPatternFor(from ?? '')} --auth-scope ${trust}).`
            : `Nothing to fix in the client unless you really own ${toHost}: hopwise did not send your credential to another site. ` +
              `Do not add it to trust just to make the request work; call the final URL directly with its own credential if that is intended.`;
      const server = sameSite
        ? `Avoid redirecting authenticated API calls to another origin: serve ${pathOf(ctx.trace[i]?.url) ?? 'the resource'} on ${fromHost ?? 'the original host'}, ` +
          `or answer with the final URL so clients call it directly.`
        : `An endpoint that receives credentials should not redirect to another site (an open redirect leaks tokens with naive clients). ` +
          `Validate redirect targets against an allow-list.`;
      ctx.add(`cred:${name}:${d.subject}`, finding('credential-stripped-cross-origin', hop.index, title, facts, { client, server }, sameSite ? 'warning' : 'info'));
    } else {
      const label = headerTitle(name);
      const title = `${label} looks like a secret and was not forwarded from ${fromHost ?? 'the first origin'} to ${toHost ?? 'another origin'}`;
      const client = sameSite
        ? `If ${toHost} should get ${label}, add it to trust: ['${trust}'] (CLI: --trust ${trust}), or apply it with a scoped provider: ` +
          `header('${name}', value, { scope: ['${trust}'] }).`
        : `hopwise kept ${label} away from another site. Only if you own ${toHost}: trust: ['${trust}'] (CLI: --trust ${trust}).`;
      const server = `Do not redirect requests carrying API keys to another origin; serve the resource where the key is accepted, or document the final URL.`;
      ctx.add(`secret:${name}`, finding('secret-header-stripped', hop.index, title, facts, { client, server }, sameSite ? 'warning' : 'info'));
    }
  }
}

// --- rule: https -> http ------------------------------------------------------------------------

function downgrade(ctx: Ctx): void {
  let reported = false;
  for (const [hop, d, i] of decisionsOf(ctx.trace)) {
    if (d.reason !== 'downgrade-refused' && d.reason !== 'downgrade-allowed') continue;
    if (d.subject !== 'redirect' && d.subject !== 'location') continue;
    const to = factString(d, 'to', 'location', 'url') ?? hop.location ?? ctx.trace[i + 1]?.url;
    const from = factString(d, 'from') ?? hop.url;
    if (d.reason === 'downgrade-refused') {
      reported = true;
      ctx.add(
        'downgrade-refused',
        finding(
          'downgrade-refused',
          hop.index,
          `The server redirected from https: to http: (${to ?? 'an http: URL'}); hopwise refused to follow`,
          { from, to },
          {
            client:
              `Ask for the https: URL directly. If the http: target really is intended and nothing secret is in the request, ` +
              `allowDowngrade: true (CLI: --allow-downgrade) follows it as a cross-origin hop: credentials and Secure cookies stay behind.`,
            server: `Redirect to https:, never from https: to http:. Check the Location your proxy or framework builds (X-Forwarded-Proto, base URL setting).`,
          },
        ),
      );
    } else {
      ctx.add(
        'downgrade-followed',
        finding(
          'downgrade-followed',
          hop.index,
          `An https: to http: redirect was followed (allowDowngrade): the next hop went unencrypted`,
          { from, to },
          {
            client: `Drop allowDowngrade (--allow-downgrade) once the server is fixed; credentials and Secure cookies were not sent on the http: hop.`,
            server: `Redirect to https:, never from https: to http:.`,
          },
        ),
      );
    }
  }
  if (!reported && ctx.error?.code === 'ERR_INSECURE_REDIRECT') {
    const last = ctx.trace[ctx.trace.length - 1];
    ctx.add(
      'downgrade-refused',
      finding(
        'downgrade-refused',
        last?.index ?? 0,
        `The server redirected from https: to http:; hopwise refused to follow`,
        { from: last?.url, to: last?.location, error: ctx.error.code },
        {
          client: `Ask for the https: URL directly, or allowDowngrade: true (CLI: --allow-downgrade) if the downgrade is intended.`,
          server: `Redirect to https:, never from https: to http:.`,
        },
      ),
    );
  }
}

// --- rule: cookies withheld --------------------------------------------------------------------

const WITHHELD: Partial<Record<string, FindingCode>> = {
  'path-mismatch': 'cookie-withheld-path',
  'domain-mismatch': 'cookie-withheld-domain',
  'host-only': 'cookie-withheld-host-only',
  'secure-only': 'cookie-withheld-secure',
  expired: 'cookie-withheld-expired',
};

function withheldCookies(ctx: Ctx): void {
  const byKey = new Map<string, Finding>();
  for (const [hop, d] of decisionsOf(ctx.trace)) {
    if (d.subject !== 'cookie' || d.action !== 'withheld') continue;
    // A host-only cookie at another host may come as 'host-only', or as 'domain-mismatch' with
    // facts.hostOnly: true (what the jar records); both are the host-only story.
    const code = d.reason === 'domain-mismatch' && d.facts?.hostOnly === true ? 'cookie-withheld-host-only' : WITHHELD[d.reason];
    if (!code) continue;
    const name = d.name ?? '(unnamed)';
    const key = `${code}:${name}`;
    const existing = byKey.get(key);
    if (existing) {
      (existing.facts.hops as number[]).push(hop.index);
      continue;
    }
    const url = hop.url;
    const host = hostOf(url);
    const path = pathOf(url);
    const cPath = factString(d, 'cookiePath', 'path');
    const cDomain = factString(d, 'cookieDomain', 'domain');
    const facts: Record<string, FactValue | undefined> = {
      cookie: name,
      url,
      requestHost: host,
      requestPath: path,
      cookiePath: cPath,
      cookieDomain: cDomain,
      detail: d.detail,
      hops: [hop.index],
    };
    let title: string;
    let client: string;
    let server: string;
    switch (code) {
      case 'cookie-withheld-path':
        title = `Cookie ${name} was not sent to ${path ?? url}: it was set with Path=${cPath ?? '(another path)'}`;
        client = `Nothing to change in hopwise: a browser would not send it either. Request a URL under ${cPath ?? "the cookie's path"}, or ask for the server fix.`;
        server = `Set the cookie with Path=/ (or omit Path when the app is served from /): Path=${cPath ?? '…'} does not cover ${path ?? 'the redirect target'}.`;
        break;
      case 'cookie-withheld-domain':
        title = `Cookie ${name} was not sent to ${host ?? url}: its Domain (${cDomain ?? 'another domain'}) does not cover this host`;
        client = `Nothing to change in hopwise: cookies never cross to other domains. If ${host} needs a session, it has to issue its own (or accept a token).`;
        server = `Set the cookie with Domain=<parent domain shared by both hosts> if both hosts are yours, or keep the redirect on the host that issued the cookie.`;
        break;
      case 'cookie-withheld-host-only':
        title = `Cookie ${name} was not sent to ${host ?? url}: it was set by ${cDomain ?? 'another host'} without Domain=, so it is host-only`;
        client = `Nothing to change in hopwise: a browser would not send it either.`;
        server = `If the cookie must reach sibling hosts, set it with Domain=${site(host) ?? '<parent domain>'} (it then goes to every subdomain; make sure that is wanted).`;
        break;
      case 'cookie-withheld-secure':
        title = `Secure cookie ${name} was not sent over http: to ${host ?? url}`;
        client = `Use the https: URL. A Secure cookie never travels over http:, with any client.`;
        server = `Serve and redirect over https: only; do not redirect an https: session to http:.`;
        break;
      default:
        title = `Cookie ${name} was not sent: it has expired`;
        client = `Log in again (or refresh the session) to get a fresh cookie; check the clock if this is unexpected.`;
        server = `Issue the session cookie with a Max-Age/Expires long enough for the flow, or renew it while the session is active.`;
    }
    const f = finding(code, hop.index, title, facts, { client, server });
    byKey.set(key, f);
    ctx.add(key, f);
  }
}

// --- rule: Set-Cookie rejected -----------------------------------------------------------------

const REJECTED: Partial<Record<string, FindingCode>> = {
  'secure-from-insecure': 'set-cookie-rejected-secure-from-insecure',
  'invalid-domain': 'set-cookie-rejected-invalid-domain',
  'public-suffix': 'set-cookie-rejected-public-suffix',
  'prefix-secure': 'set-cookie-rejected-prefix',
  'prefix-host': 'set-cookie-rejected-prefix',
  'overwrite-secure': 'set-cookie-rejected-overwrite-secure',
  syntax: 'set-cookie-rejected-syntax',
  'control-char': 'set-cookie-rejected-syntax',
  'too-large': 'set-cookie-rejected-too-large',
};

function rejectedSetCookies(ctx: Ctx): void {
  for (const [hop, d] of decisionsOf(ctx.trace)) {
    if (d.subject !== 'set-cookie' || d.action !== 'rejected') continue;
    const code = REJECTED[d.reason];
    if (!code) continue;
    const name = d.name ?? '(unnamed)';
    const host = hostOf(hop.url);
    const domain = factString(d, 'domain', 'cookieDomain');
    const facts = { cookie: name, url: hop.url, host, reason: d.reason, domain, detail: d.detail };
    let title: string;
    let client: string;
    let server: string;
    switch (code) {
      case 'set-cookie-rejected-secure-from-insecure':
        title = `Set-Cookie ${name} was rejected: it is Secure but arrived over http: from ${host}`;
        client = `Start the flow on the https: URL so the cookie is set over https:.`;
        server = `Set Secure cookies only on https: responses: redirect http: to https: first, then set the cookie.`;
        break;
      case 'set-cookie-rejected-invalid-domain':
        title = `Set-Cookie ${name} was rejected: Domain=${domain ?? '…'} does not cover ${host}`;
        client = `Nothing to change in hopwise: browsers reject it too.`;
        server = `Use a Domain that ${host} belongs to (or omit Domain for a host-only cookie).`;
        break;
      case 'set-cookie-rejected-public-suffix':
        title = `Set-Cookie ${name} was rejected: Domain=${domain ?? '…'} is a public suffix`;
        client = `Nothing to change in hopwise: browsers reject it too.`;
        server = `Set the cookie on your registrable domain or omit Domain.`;
        break;
      case 'set-cookie-rejected-prefix':
        title = `Set-Cookie ${name} was rejected: it does not meet the ${name.startsWith('__Host-') ? '__Host-' : '__Secure-'} prefix rules`;
        client = `Use the https: URL (prefixed cookies need https:).`;
        server =
          d.reason === 'prefix-host'
            ? `A __Host- cookie must be Secure, set over https:, with Path=/ and no Domain.`
            : `A __Secure- cookie must be Secure and set over https:.`;
        break;
      case 'set-cookie-rejected-overwrite-secure':
        title = `Set-Cookie ${name} was rejected: an http: response cannot overwrite the Secure cookie ${name}`;
        client = `Stay on https: for the whole flow.`;
        server = `Do not set cookies from http: responses that share a name with Secure cookies; redirect to https: first.`;
        break;
      case 'set-cookie-rejected-too-large':
        title = `Set-Cookie ${name} was rejected: it is too large`;
        client = `Nothing to change in hopwise: browsers reject it too.`;
        server = `Keep cookies under 4096 bytes (name + value); store large state server-side and put an id in the cookie.`;
        break;
      default:
        title = `Set-Cookie ${name} was rejected: the line is malformed (${d.reason})`;
        client = `Nothing to change in hopwise: browsers reject it too.`;
        server = `Emit Set-Cookie as name=value; attributes, without control characters (use your framework's cookie API).`;
    }
    ctx.add(`rejected:${hop.index}:${name}:${d.reason}`, finding(code, hop.index, title, facts, { client, server }));
  }
}

// --- rule: the server replaced a cookie it issued one hop earlier ------------------------------

function sessionReplaced(ctx: Ctx): void {
  // name@host -> index in trace of the hop whose response set it
  const issued = new Map<string, number>();
  for (let i = 0; i < ctx.trace.length; i++) {
    const hop = ctx.trace[i]!;
    const host = hostOf(hop.url) ?? '';
    const sent = new Set(
      hop.decisions.filter((d) => d.subject === 'cookie' && d.action === 'sent' && d.name).map((d) => d.name!),
    );
    const stored = hop.decisions.filter((d) => d.subject === 'set-cookie' && d.action === 'stored' && d.name);
    for (const d of stored) {
      const name = d.name!;
      if (d.facts?.sameValue === true || d.facts?.valueChanged === false) continue;
      const prev = findIssued(issued, name, host);
      if (prev !== undefined && prev === i - 1 && sent.has(name)) {
        const first = ctx.trace[prev]!;
        ctx.add(
          `replaced:${name}:${i}`,
          finding(
            'session-cookie-replaced',
            hop.index,
            `The server replaced cookie ${name} that it issued one hop earlier: it did not recognise its own session`,
            {
              cookie: name,
              issuedAtHop: first.index,
              issuedBy: first.url,
              replacedAtHop: hop.index,
              replacedBy: hop.url,
              status: hop.status,
            },
            {
              client:
                `Nothing hopwise can fix: the cookie was stored and sent back (see hop ${hop.index}, "sent"). ` +
                `To confirm, repeat the flow: if it works only sometimes, a balancer is spreading the hops over backends.`,
              server:
                `The backend that answered hop ${hop.index} does not know the session issued at hop ${first.index}. ` +
                `Use a shared session store (Redis, database) or sticky sessions, and the same session secret on every instance.`,
            },
          ),
        );
      }
    }
    for (const d of stored) issued.set(`${d.name!}@${host}`, i);
  }
}

function findIssued(issued: Map<string, number>, name: string, host: string): number | undefined {
  const exact = issued.get(`${name}@${host}`);
  if (exact !== undefined) return exact;
  // a cookie with Domain= set by a sibling host still counts when the same site replaces it
  let best: number | undefined;
  for (const [k, v] of issued) {
    const at = k.lastIndexOf('@');
    if (k.slice(0, at) === name && site(k.slice(at + 1)) === site(host)) best = best === undefined ? v : Math.max(best, v);
  }
  return best;
}

// --- rule: a 200 page that redirects by meta refresh or script ---------------------------------

function headerValue(h: Record<string, string | string[]>, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

const CLIENT_REDIRECT_REASONS = new Set(['meta-refresh', 'meta-refresh-not-followed', 'script-redirect-not-followed']);

function clientSideRedirect(ctx: Ctx): void {
  for (let i = 0; i < ctx.trace.length; i++) {
    const hop = ctx.trace[i]!;
    // 1. what the session recorded (subject 'redirect', reason meta-refresh / *-not-followed)
    const d = hop.decisions.find((x) => x.subject === 'redirect' && CLIENT_REDIRECT_REASONS.has(x.reason));
    let found: { kind: 'meta-refresh' | 'script'; target: string | null; followed: boolean } | null = null;
    if (d) {
      const kind = d.reason === 'script-redirect-not-followed' || d.facts?.kind === 'script' || d.name === 'script' ? 'script' : 'meta-refresh';
      found = { kind, target: factString(d, 'target', 'to', 'url') ?? null, followed: d.action === 'followed' };
    }
    if (!found) continue;
    let target = found.target;
    if (target) {
      try {
        target = new URL(target, hop.url).href;
      } catch {
        /* keep as written */
      }
    }
    const followed = found.followed;
    const how = found.kind === 'meta-refresh' ? '<meta http-equiv="refresh">' : 'a location script';
    const ct = headerValue(hop.responseHeaders ?? {}, 'content-type') ?? null;
    ctx.add(
      `client-redirect:${i}`,
      finding(
        'client-side-redirect',
        hop.index,
        followed
          ? `Hop ${hop.index} is a ${hop.status} HTML page that redirects with ${how}; hopwise followed it (followMetaRefresh)`
          : `Hop ${hop.index} is a ${hop.status} HTML page that redirects with ${how} to ${target ?? 'another page'}; an HTTP client stops here`,
        { kind: found.kind, target, status: hop.status, contentType: ct, followed },
        {
          client: followed
            ? `Nothing to do; keep followMetaRefresh only for sites that need it.`
            : found.kind === 'meta-refresh'
              ? `Follow it: followMetaRefresh: true (CLI: --follow-meta-refresh), or request ${target ?? 'the target'} next with the same session (cookies set on this page are in the jar).`
              : `No HTTP client runs scripts: request ${target ?? 'the target'} next with the same session (cookies set on this page are in the jar).`,
          server: `Answer with a real redirect (302/303 with Location) instead of a 200 page that redirects in the browser; then every client, and the cookies set on it, follow.`,
        },
        followed ? 'info' : 'warning',
      ),
    );
  }
}

// --- rule: method rewritten, body refused or resent --------------------------------------------

function methodAndBody(ctx: Ctx): void {
  for (const [hop, d, i] of decisionsOf(ctx.trace)) {
    if (d.subject === 'method' && d.action === 'rewritten' && (d.reason === 'method-rewrite-301' || d.reason === 'method-rewrite-302')) {
      const status = d.reason === 'method-rewrite-301' ? 301 : 302;
      const from = factString(d, 'from') ?? 'POST';
      const to = factString(d, 'to') ?? 'GET';
      // the 3xx is the hop that answered: the decision may sit on it or on the next hop
      const answered = hop.status === status ? hop : ctx.trace[i - 1]?.status === status ? ctx.trace[i - 1]! : hop;
      ctx.add(
        `post-get:${hop.index}`,
        finding(
          'post-became-get',
          answered.index,
          `${from} ${answered.url} was answered ${status}, so the next hop was sent as ${to} without the body`,
          { status, from, to, url: answered.url, location: answered.location },
          {
            client:
              `This is what browsers and Fetch do. If the server meant "repeat the ${from} there", it must say 307/308; ` +
              `until then, send the ${from} to ${answered.location ?? 'the target URL'} directly.`,
            server:
              `Answer ${status === 301 ? '308 Permanent Redirect' : '307 Temporary Redirect'} to keep the method and body, ` +
              `or 303 See Other if a GET of the result is what you mean (post/redirect/get).`,
          },
        ),
      );
    }
    if (d.reason === 'cross-origin-body-refused') {
      const to = factString(d, 'to') ?? hop.location;
      ctx.add('xbody', finding('cross-origin-body-refused', hop.index, `A ${hop.status} asked to resend the request body to ${hostOf(to) ?? 'another origin'}; hopwise refused`, { from: origin(hop.url), to, status: hop.status }, xBodyFix(to)));
    }
    if (d.reason === 'cross-origin-body') {
      const to = factString(d, 'to') ?? origin(hop.url);
      ctx.add(
        `xbody-sent:${hop.index}`,
        finding('cross-origin-body-sent', hop.index, `The request body was resent to ${hostOf(to) ?? 'another origin'} (crossOriginBody: "send")`, { to }, {
          client: `Intended? Prefer trust: ['${trustPatternFor(to ?? '')}'] so only that origin may receive bodies and credentials.`,
          server: `Nothing to fix if the redirect is part of your API (regional endpoints); document it.`,
        }),
      );
    }
    if (d.reason === 'body-not-replayable') {
      ctx.add('replay', finding('body-not-replayable', hop.index, `A ${hop.status} needed the request body again, but it was a stream larger than the replay buffer`, { status: hop.status }, bodyReplayFix()));
    }
    if (d.reason === 'userinfo-dropped') {
      ctx.add(
        `userinfo:${hop.index}`,
        finding('userinfo-in-location', hop.index, `The Location at hop ${hop.index} carried user:password@; it was dropped`, { location: hop.location }, {
          client: `Nothing to do: credentials in a Location are never used. Give credentials with -u / basic() scoped to that origin if needed.`,
          server: `Never put credentials in a Location header: they end up in logs and histories.`,
        }),
      );
    }
  }
  if (ctx.error?.code === 'ERR_CROSS_ORIGIN_BODY') {
    const last = ctx.trace[ctx.trace.length - 1];
    ctx.add('xbody', finding('cross-origin-body-refused', last?.index ?? 0, `A 307/308 asked to resend the request body to ${hostOf(last?.location) ?? 'another origin'}; hopwise refused`, { from: origin(last?.url), to: last?.location, status: last?.status ?? null }, xBodyFix(last?.location)));
  }
  if (ctx.error?.code === 'ERR_BODY_NOT_REPLAYABLE') {
    const last = ctx.trace[ctx.trace.length - 1];
    ctx.add('replay', finding('body-not-replayable', last?.index ?? 0, `A 307/308 needed the request body again, but it was a stream larger than the replay buffer`, { status: last?.status ?? null }, bodyReplayFix()));
  }
}

function xBodyFix(to: string | undefined): { client: string; server: string } {
  const t = to ? trustPatternFor(to) : '<origin>';
  return {
    client:
      `If ${hostOf(to) ?? 'that origin'} is yours (a regional endpoint, a storage bucket), trust it: trust: ['${t}'] (CLI: --trust ${t}), ` +
      `or allow bodies to any origin with crossOriginBody: 'send' (CLI: --cross-origin-body send). Otherwise send the upload to the final URL directly.`,
    server: `Tell clients the right endpoint up front (region in the API response) instead of redirecting uploads across origins.`,
  };
}

function bodyReplayFix(): { client: string; server: string } {
  return {
    client: `Pass the body as a Buffer or string (replayable), or raise the replay buffer, or upload to the final URL directly.`,
    server: `Avoid 307/308 for large uploads; return the upload URL in a response instead.`,
  };
}

// --- rule: 401 after a redirect -----------------------------------------------------------------

function unauthorizedAfterRedirect(ctx: Ctx): void {
  for (let i = 1; i < ctx.trace.length; i++) {
    const hop = ctx.trace[i]!;
    if (hop.status !== 401) continue;
    const stripped: string[] = [];
    for (let j = 0; j <= i; j++) {
      for (const d of ctx.trace[j]!.decisions) {
        if ((d.subject === 'header' || d.subject === 'auth') && (d.action === 'stripped' || (d.subject === 'auth' && d.reason === 'out-of-scope'))) {
          const n = (d.name ?? 'authorization').toLowerCase();
          if (!stripped.includes(n)) stripped.push(n);
        }
      }
    }
    const withheld = hop.decisions.filter((d) => d.subject === 'cookie' && d.action === 'withheld').map((d) => d.name ?? '');
    const rejected: string[] = [];
    for (let j = 0; j < i; j++) {
      for (const d of ctx.trace[j]!.decisions) if (d.subject === 'set-cookie' && d.action === 'rejected' && d.name && !rejected.includes(d.name)) rejected.push(d.name);
    }
    const sentCookies = hop.decisions.filter((d) => d.subject === 'cookie' && d.action === 'sent' && d.name).map((d) => d.name!);
    const sentAuth = 'authorization' in (hop.requestHeaders ?? {});
    const challenge = headerValue(hop.responseHeaders ?? {}, 'www-authenticate');
    const to = trustPatternFor(hop.url);
    const host = hostOf(hop.url);
    const crossOrigin = origin(ctx.trace[0]?.url) !== origin(hop.url);
    let title: string;
    let client: string;
    let server: string;
    if (stripped.length > 0) {
      title = `${hop.url} answered 401 after a redirect: ${stripped.join(', ')} did not travel to it`;
      client = `See the finding that stripped ${stripped[0]}: if ${host} is yours, trust: ['${to}'] (CLI: --trust ${to}) or a provider scoped to it (CLI: --auth-scope ${to}).`;
      server = `Serve authenticated resources without a redirect to another origin, or accept a credential meant for ${host} there${challenge ? ` (it asks: ${challenge})` : ''}.`;
    } else if (withheld.length > 0) {
      title = `${hop.url} answered 401 after a redirect: cookie ${withheld.join(', ')} was not sent`;
      client = `See the cookie finding for ${withheld[0]}: a browser would not send it either; the fix is in the cookie's attributes.`;
      server = `Set ${withheld[0]} with attributes that cover ${host}${pathOf(hop.url) ?? ''} (Path, Domain, Secure), or keep the redirect where the cookie applies.`;
    } else if (rejected.length > 0) {
      title = `${hop.url} answered 401 after a redirect: Set-Cookie ${rejected.join(', ')} was rejected earlier, so there was no session to send`;
      client = `See the set-cookie finding for ${rejected[0]}.`;
      server = `Fix the Set-Cookie of ${rejected[0]} (see that finding) so clients can store it.`;
    } else if (sentCookies.length > 0) {
      title = `${hop.url} answered 401 after a redirect although cookie ${sentCookies.join(', ')} was sent: the server did not accept its own session`;
      client = `Nothing to change in the client: the cookie the server issued went back to it. If a session-cookie-replaced finding is here too, the backends do not share sessions.`;
      server = `Make every backend behind ${host} recognise the session it issued: shared session store or sticky sessions, same signing secret.`;
    } else if (sentAuth) {
      title = `${hop.url} answered 401 after a redirect even though Authorization was sent`;
      client = `The credential arrived but was refused: check it is valid for ${host} (the final host may expect another token or audience).`;
      server = `Accept the credential at ${host}${challenge ? ` (it asks: ${challenge})` : ''}, or do not redirect authenticated calls there.`;
    } else {
      title = `${hop.url} answered 401 after a redirect, and no credential was sent`;
      client = `Give a credential for ${host}: -u / --oauth2-bearer (with --auth-scope ${to}), or bearer(token, { scope: ['${to}'] }).`;
      server = crossOrigin ? `Document that ${host} needs its own credential, or serve the resource where the client authenticated.` : `Nothing to fix if the resource really needs a login.`;
    }
    ctx.add(
      `401:${hop.index}`,
      finding(
        'unauthorized-after-redirect',
        hop.index,
        title,
        {
          url: hop.url,
          status: 401,
          redirects: i,
          strippedBefore: stripped,
          cookiesWithheld: withheld,
          setCookieRejectedBefore: rejected,
          cookiesSent: sentCookies,
          authorizationSent: sentAuth,
          challenge: challenge ?? null,
        },
        { client, server },
      ),
    );
  }
}

// --- rule: how the chain ended (loop, limit, unsafe, invalid, other errors) --------------------

function chainEnd(ctx: Ctx): void {
  const last = ctx.trace[ctx.trace.length - 1];
  const lastIndex = last?.index ?? 0;
  let endedBy: string | undefined;
  for (const [hop, d] of decisionsOf(ctx.trace)) {
    if (d.subject !== 'redirect' && d.subject !== 'location') continue;
    if (d.reason === 'loop') {
      endedBy = 'ERR_REDIRECT_LOOP';
      ctx.add('loop', loopFinding(ctx, hop.index));
    } else if (d.reason === 'limit') {
      endedBy = 'ERR_TOO_MANY_REDIRECTS';
      ctx.add('limit', limitFinding(ctx, hop.index, d));
    } else if (d.reason === 'unsafe-scheme') {
      endedBy = 'ERR_UNSAFE_REDIRECT';
      ctx.add('unsafe', unsafeFinding(hop, factString(d, 'to', 'location')));
    } else if (d.reason === 'invalid-location') {
      endedBy = 'ERR_INVALID_REDIRECT';
      ctx.add('invalid', invalidFinding(hop));
    } else if (
      (d.reason === 'not-redirect-status' || d.reason === 'no-location' || d.reason === 'manual-mode') &&
      hop === last &&
      hop.status >= 300 &&
      hop.status < 400
    ) {
      ctx.add(
        'not-followed',
        finding('redirect-not-followed', hop.index, `The chain ended on ${hop.status} ${hop.statusText}: it is not followed (${d.reason})`, { status: hop.status, reason: d.reason }, {
          client: d.reason === 'manual-mode' ? `Use redirect: 'follow' to follow it.` : `Read the response as it is; a ${hop.status} is not a redirect to follow.`,
          server: d.reason === 'no-location' ? `Send a Location with every redirect status.` : `Nothing to fix if this is intended.`,
        }),
      );
    }
  }
  const err = ctx.error;
  if (!err || err.code === endedBy) return;
  switch (err.code) {
    case 'ERR_REDIRECT_LOOP':
      ctx.add('loop', loopFinding(ctx, lastIndex));
      return;
    case 'ERR_TOO_MANY_REDIRECTS':
      ctx.add('limit', limitFinding(ctx, lastIndex));
      return;
    case 'ERR_UNSAFE_REDIRECT':
      if (last) ctx.add('unsafe', unsafeFinding(last, last.location));
      return;
    case 'ERR_INVALID_REDIRECT':
      if (last) ctx.add('invalid', invalidFinding(last));
      return;
    case 'ERR_INSECURE_REDIRECT':
    case 'ERR_CROSS_ORIGIN_BODY':
    case 'ERR_BODY_NOT_REPLAYABLE':
      return; // reported by their own rules
    default: {
      const failing = ctx.trace.find((h) => h.error) ?? last;
      ctx.add(
        'failed',
        finding(
          'request-failed',
          failing?.index ?? 0,
          `The chain stopped with ${err.code}${failing ? ` at hop ${failing.index} (${failing.url})` : ''}: ${err.message}`,
          { error: err.code, message: err.message, url: failing?.url ?? null },
          requestFailedFix(err.code),
        ),
      );
    }
  }
}

function requestFailedFix(code: string): { client: string; server: string } {
  switch (code) {
    case 'ERR_TLS':
      return {
        client: `Check the certificate: pass your CA with ca (CLI: --cacert FILE). hopwise never disables verification (-k is refused).`,
        server: `Serve a certificate valid for the host name, with its full chain.`,
      };
    case 'ERR_TIMEOUT':
      return { client: `Raise timeout.{connect,headers,body,total}, or check which hop stalled in the trace.`, server: `The hop that stalled is slow to answer; check it.` };
    case 'ERR_CONNECT':
      return { client: `Check the host and port (and --connect-to rules); is the server up?`, server: `Make sure the service listens on that address.` };
    default:
      return { client: `Read the error message; the trace shows the hops up to the failure.`, server: `Check the server logs for the failing hop.` };
  }
}

function loopFinding(ctx: Ctx, hopIndex: number): Finding {
  const last = ctx.trace[ctx.trace.length - 1];
  const target = last?.location ?? last?.url;
  const firstSeen = ctx.trace.find((h) => h.url === target);
  const cycle = firstSeen ? ctx.trace.slice(ctx.trace.indexOf(firstSeen)).map((h) => h.url) : ctx.trace.map((h) => h.url);
  return finding(
    'redirect-loop',
    hopIndex,
    `Redirect loop: ${target ?? 'a URL'} was requested again with the same method and cookies`,
    { url: target ?? null, firstSeenAtHop: firstSeen?.index ?? null, cycle },
    {
      client: `No client setting fixes a loop. If the loop waits for a cookie (a login that never sticks), look for cookie findings above.`,
      server: `The redirects point back to each other: ${[...cycle, cycle[0]].join(' → ')}. Check the condition that triggers each redirect (often a missing cookie or a scheme/host canonicalisation rule fighting another).`,
    },
  );
}

function limitFinding(ctx: Ctx, hopIndex: number, d?: Decision): Finding {
  const followed = Math.max(0, ctx.trace.length - 1);
  const max = typeof d?.facts?.maxRedirects === 'number' ? d.facts.maxRedirects : null;
  const distinct = new Set(ctx.trace.map((h) => h.url)).size;
  const last = ctx.trace[ctx.trace.length - 1];
  return finding(
    'too-many-redirects',
    hopIndex,
    `The chain stopped after ${followed} redirect${followed === 1 ? '' : 's'}: one more would exceed maxRedirects${max !== null ? ` (${max})` : ''}`,
    { redirectsFollowed: followed, maxRedirects: max, distinctUrls: distinct, first: ctx.trace[0]?.url ?? null, last: last?.url ?? null, next: last?.location ?? null },
    {
      client: `If the chain is legitimately long, raise maxRedirects (CLI: --max-redirs N). Usually it is not: read the trace for a URL pattern that never converges.`,
      server: `Redirect once, to the final URL: every hop costs a round trip, and long chains hide loops.`,
    },
  );
}

function unsafeFinding(hop: DiagnosableHop, to: string | undefined): Finding {
  return finding('unsafe-redirect', hop.index, `A redirect to ${to ?? 'a non-http(s) URL'} was refused: only http: and https: are followed`, { location: to ?? null }, {
    client: `Nothing to do in hopwise; handle that URL yourself if it is expected (for example an app deep link).`,
    server: `Redirect HTTP clients only to http: or https: URLs.`,
  });
}

function invalidFinding(hop: DiagnosableHop): Finding {
  const raw = headerValue(hop.responseHeaders ?? {}, 'location');
  return finding('invalid-location', hop.index, `Hop ${hop.index} answered ${hop.status} with a Location that is not a URL`, { location: raw ?? null }, {
    client: `Nothing to do in the client.`,
    server: `Send an absolute or relative URL in Location, percent-encoded.`,
  });
}
