/**
 * The doctor: a table of rules over a finished trace. Each rule declares what it reads — decisions
 * of one subject with some reasons (typed with `DecisionOf<S>`, so a reason that subject never
 * carries does not compile), hops by their response facts, or the error code the chain ended with —
 * and the finding codes it can emit. `diagnose` runs the table in order and nothing else.
 *
 * No rule re-derives a policy: what a rule needs (the origin pair, whether it is the same site, a
 * cookie's attributes, whether a replaced cookie changed value) is recorded by the phase that made
 * the decision (trace/decisions.ts). If the session did not record it, the doctor does not guess it.
 * The URL helpers below only format what the trace recorded (a host out of an origin for a title).
 */
import type { CookieStoreFact, Decision, DecisionOf, DecisionSubject, Hop } from '../trace/types.js';
import { FINDINGS, type FactValue, type Finding, type FindingCode, type Severity } from './findings.js';

/** The hops the doctor reads: the trace exactly as the session recorded it. */
export type DiagnosableHop = Hop;

/** The error the chain ended with, if any: a `HopwiseError` or anything with `code` and `hops`. */
export interface DiagnosableError {
  code: string;
  message: string;
  hops?: Hop[];
}

// ---- the shape of a rule ----------------------------------------------------------------------

/** Where a rule is looking: one hop of the trace, and the whole trace for context. */
export interface At {
  hop: Hop;
  /** The hop's position in `trace` (findings report `hop.index`). */
  i: number;
  trace: readonly Hop[];
}

/**
 * A finding under a key. A later finding with a key already reported is dropped — that is how a
 * decision and the error it caused make one finding, not two — unless it says how to `fold` itself
 * into the first (the same cookie withheld at several hops is one finding listing the hops).
 */
export interface Keyed {
  key: string;
  finding: Finding;
  fold?: (first: Finding) => void;
}

/** The reasons a decision of subject `S` can carry. */
export type ReasonOf<S extends DecisionSubject> = DecisionOf<S> extends { reason: infer R } ? R : never;

/** A decision of subject `S` whose reason is one of `R`. */
export type DecisionWith<S extends DecisionSubject, R extends Decision['reason']> = DecisionOf<S> & { reason: R };

/**
 * A rule over decisions, as written in the table: it reads every decision of `subject` whose reason
 * is in `reasons` and, if given, passes `where`; each one read yields at most one finding. `reasons`
 * must be reasons that subject carries, so a check for a decision the session never makes does not
 * compile.
 */
export interface DecisionRule<S extends DecisionSubject, R extends ReasonOf<S> & Decision['reason']> {
  emits: readonly FindingCode[];
  subject: S;
  reasons: readonly R[];
  where?: (d: DecisionWith<S, R>, at: At) => boolean;
  finding: (d: DecisionWith<S, R>, at: At) => Keyed | undefined;
}

/** A decision rule in the table: what it reads, as data, and `read`, which applies it to one decision. */
export interface OnDecisions {
  on: 'decision';
  emits: readonly FindingCode[];
  subject: DecisionSubject;
  reasons: readonly Decision['reason'][];
  read(d: Decision, at: At): Keyed | undefined;
}

/** A rule over hops, by what the response said (its status); it may read earlier decisions. */
export interface HopRule {
  on: 'hop';
  emits: readonly FindingCode[];
  where(hop: Hop, at: At): boolean;
  finding(hop: Hop, at: At): Keyed | undefined;
}

/**
 * A rule over the error the chain ended with, for an error code no decision explains (a trace cut
 * short). `errors: 'other'` reads every code that no other error rule of the table reads.
 */
export interface ErrorRule {
  on: 'error';
  emits: readonly FindingCode[];
  errors: readonly string[] | 'other';
  finding(error: DiagnosableError, trace: readonly Hop[]): Keyed | undefined;
}

export type Rule = OnDecisions | HopRule | ErrorRule;

function isOf<S extends DecisionSubject>(d: Decision, subject: S): d is DecisionOf<S> {
  return d.subject === subject;
}

/** A table entry from a typed decision rule: the one place a decision is matched against a rule. */
function onDecisions<S extends DecisionSubject, R extends ReasonOf<S> & Decision['reason']>(rule: DecisionRule<S, R>): OnDecisions {
  const reasons: readonly Decision['reason'][] = rule.reasons;
  const reads = (d: Decision): d is DecisionWith<S, R> => isOf(d, rule.subject) && reasons.includes(d.reason);
  return {
    on: 'decision',
    emits: rule.emits,
    subject: rule.subject,
    reasons,
    read: (d, at) => (reads(d) && (rule.where?.(d, at) ?? true) ? rule.finding(d, at) : undefined),
  };
}

// ---- diagnose ---------------------------------------------------------------------------------

export function diagnose(hops: readonly Hop[], error?: DiagnosableError | null): Finding[] {
  const trace: readonly Hop[] = hops.length > 0 ? [...hops] : [...(error?.hops ?? [])];
  const err = error ?? undefined;
  const out: Finding[] = [];
  const seen = new Map<string, Finding>();
  const add = (k: Keyed | undefined): void => {
    if (!k) return;
    const first = seen.get(k.key);
    if (first) k.fold?.(first);
    else {
      seen.set(k.key, k.finding);
      out.push(k.finding);
    }
  };
  const readByName = new Set(RULES.flatMap((r) => (r.on === 'error' && r.errors !== 'other' ? r.errors : [])));

  for (const rule of RULES) {
    if (rule.on === 'decision') {
      trace.forEach((hop, i) => {
        const at = { hop, i, trace };
        for (const d of hop.decisions) add(rule.read(d, at));
      });
    } else if (rule.on === 'hop') {
      trace.forEach((hop, i) => {
        const at = { hop, i, trace };
        if (rule.where(hop, at)) add(rule.finding(hop, at));
      });
    } else if (err && (rule.errors === 'other' ? !readByName.has(err.code) : rule.errors.includes(err.code))) {
      add(rule.finding(err, trace));
    }
  }

  // hop order, and within a hop the table's order: causes (what was stripped or withheld) before
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

// ---- helpers: building findings, formatting recorded URLs ------------------------------------

function finding(
  code: FindingCode,
  hop: number,
  title: string,
  facts: Record<string, FactValue | undefined>,
  fix: { client: string; server: string; cli?: string[] | undefined },
  severity: Severity = FINDINGS[code].severity,
): Finding {
  const clean: Record<string, FactValue> = {};
  for (const [k, v] of Object.entries(facts)) if (v !== undefined) clean[k] = v;
  const { cli, ...words } = fix;
  return { code, severity, hop, title, facts: clean, fix: cli && cli.length ? { ...words, cli } : words };
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

/** The host of a URL or origin the trace recorded (for titles); what does not parse is shown as is. */
export function hostOf(urlOrOrigin: string | null | undefined): string | undefined {
  if (!urlOrOrigin) return undefined;
  try {
    return new URL(urlOrOrigin).hostname;
  } catch {
    return urlOrOrigin;
  }
}

export function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

function headerValue(h: Record<string, string | string[]>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
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

/** The arguments that scope -u / --oauth2-bearer to `patterns` (all of them: --auth-scope replaces the default scope). */
function scopeArgs(...patterns: string[]): string[] {
  return [...new Set(patterns)].flatMap((p) => ['--auth-scope', p]);
}

/** A header name as people write it: X-Api-Key, Authorization. */
export function headerTitle(name: string): string {
  return name
    .split('-')
    .map((p) => (p.length <= 3 && p.toLowerCase() === 'api' ? 'Api' : p.charAt(0).toUpperCase() + p.slice(1)))
    .join('-');
}

// ---- credentials and secret headers -----------------------------------------------------------

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'cookie2']);

/** The recorded hop transition a stripped credential is about. */
interface Transition {
  from: string | undefined;
  to: string;
  sameSite: boolean;
}

/** A caller's header or a provider's credential that did not go to the next origin. */
function credentialFinding(d: DecisionOf<'header'> | DecisionOf<'auth'>, t: Transition, at: At): Keyed {
  const { hop } = at;
  const { from, to, sameSite } = t;
  const provider = d.subject === 'auth';
  const name = d.name.toLowerCase();
  const toHost = hostOf(to);
  const fromHost = hostOf(from);
  const trust = trustPatternFor(to);
  const facts = { header: name, from, to, sameSite, provider: provider ? true : undefined, reason: d.reason };
  const label = headerTitle(name);

  // https: to http: (an allowed downgrade): a credential there would travel in cleartext
  const downgraded = to.startsWith('http:') && (from ?? '').startsWith('https:');
  if (provider || CREDENTIAL_HEADERS.has(name)) {
    // name origins when the host alone does not show the difference (scheme or port changed)
    const [fromName, toName] = fromHost === toHost ? [from, to] : [fromHost, toHost];
    const title = sameSite
      ? `${label} was not sent to ${toName ?? 'the next origin'}: the redirect left ${fromName ?? 'the first origin'} for another origin`
      : `${label} was kept away from ${toHost ?? 'another site'}: the redirect went to another site`;
    const firstPattern = trustPatternFor(at.trace[0]?.url ?? from ?? '');
    const client = downgraded
      ? `Nothing to change in the client: the redirect went from https: to http:, and a credential sent there travels in cleartext. Fix the redirect so the chain stays on https:.`
      : provider
        ? `The auth provider is scoped and ${to} is outside its scope. If that origin should get the credential, widen the scope: ` +
          `bearer(token, { scope: ['${firstPattern}', '${trust}'] }). Otherwise nothing to do.`
        : sameSite
          ? `If you own ${toHost}, let the header follow there: trust: ['${trust}'], ` +
            `or better, give the credential as a scoped provider that is re-applied on every hop in scope: ` +
            `bearer(token, { scope: ['${firstPattern}', '${trust}'] }).`
          : `Nothing to fix in the client unless you really own ${toHost}: hopwise did not send your credential to another site. ` +
            `Do not add it to trust just to make the request work; call the final URL directly with its own credential if that is intended.`;
    // never a command that sends a credential to another site, or in cleartext after https (a
    // downgrade). A CLI provider comes from -u or --oauth2-bearer: --auth-scope replaces its default
    // scope, so the first origin is named too.
    const cliProvider = provider && (d.facts.provider === 'bearer' || d.facts.provider === 'basic');
    const cli = !sameSite || downgraded ? undefined : cliProvider ? scopeArgs(firstPattern, trust) : provider ? undefined : ['--trust', trust];
    const server = sameSite
      ? `Avoid redirecting authenticated API calls to another origin: serve ${pathOf(hop.url) ?? 'the resource'} on ${fromHost ?? 'the original host'}, ` +
        `or answer with the final URL so clients call it directly.`
      : `An endpoint that receives credentials should not redirect to another site (an open redirect leaks tokens with naive clients). ` + `Validate redirect targets against an allow-list.`;
    return { key: `cred:${name}:${d.subject}`, finding: finding('credential-stripped-cross-origin', hop.index, title, facts, { client, server, cli }, sameSite ? 'warning' : 'info') };
  }
  const title = `${label} looks like a secret and was not forwarded from ${fromHost ?? 'the first origin'} to ${toHost ?? 'another origin'}`;
  const client = sameSite
    ? `If ${toHost} should get ${label}, add it to trust: ['${trust}'], or apply it with a scoped provider: ` + `header('${name}', value, { scope: ['${trust}'] }).`
    : `hopwise kept ${label} away from another site. Only if you own ${toHost}: trust: ['${trust}'].`;
  const server = `Do not redirect requests carrying API keys to another origin; serve the resource where the key is accepted, or document the final URL.`;
  return {
    key: `secret:${name}`,
    finding: finding('secret-header-stripped', hop.index, title, facts, { client, server, cli: sameSite && !downgraded ? ['--trust', trust] : undefined }, sameSite ? 'warning' : 'info'),
  };
}

/**
 * A provider out of scope on a hop transition: its credential stayed behind. On the first request
 * (no transition recorded: no `from`) the credential was never sent, so nothing was lost.
 */
const authOutOfScope = onDecisions({
  emits: ['credential-stripped-cross-origin'],
  subject: 'auth',
  reasons: ['out-of-scope'],
  where: (d) => d.facts.from !== undefined,
  finding: (d, at) => credentialFinding(d, { from: d.facts.from, to: d.facts.to, sameSite: d.facts.sameSite === true }, at),
});

/**
 * A caller's sensitive header stripped where the origin changed. `stripped-earlier` is not read: the
 * header was reported at the hop that stripped it.
 */
const headerStripped = onDecisions({
  emits: ['credential-stripped-cross-origin', 'secret-header-stripped'],
  subject: 'header',
  reasons: ['cross-origin'],
  // the session records the origin pair on every cross-origin decision; without it there is no hop to name
  finding: (d, at) => (d.facts ? credentialFinding(d, d.facts, at) : undefined),
});

// ---- https -> http ----------------------------------------------------------------------------

const downgradeRefused = onDecisions({
  emits: ['downgrade-refused'],
  subject: 'redirect',
  reasons: ['downgrade-refused'],
  finding: (d, { hop, trace, i }) => {
    const to = d.facts.to ?? hop.location ?? trace[i + 1]?.url;
    const from = d.facts.from ?? hop.url;
    return {
      key: 'downgrade-refused',
      finding: finding(
        'downgrade-refused',
        hop.index,
        `The server redirected from https: to http: (${to ?? 'an http: URL'}); hopwise refused to follow`,
        { from, to },
        {
          client:
            `Ask for the https: URL directly. If the http: target really is intended and nothing secret is in the request, ` +
            `allowDowngrade: true follows it as a cross-origin hop: credentials and Secure cookies stay behind.`,
          server: `Redirect to https:, never from https: to http:. Check the Location your proxy or framework builds (X-Forwarded-Proto, base URL setting).`,
          cli: ['--allow-downgrade'],
        },
      ),
    };
  },
});

const downgradeRefusedError: ErrorRule = {
  on: 'error',
  emits: ['downgrade-refused'],
  errors: ['ERR_INSECURE_REDIRECT'],
  finding: (error, trace) => {
    const last = trace[trace.length - 1];
    return {
      key: 'downgrade-refused',
      finding: finding(
        'downgrade-refused',
        last?.index ?? 0,
        `The server redirected from https: to http:; hopwise refused to follow`,
        { from: last?.url, to: last?.location, error: error.code },
        {
          client: `Ask for the https: URL directly, or allowDowngrade: true if the downgrade is intended.`,
          server: `Redirect to https:, never from https: to http:.`,
          cli: ['--allow-downgrade'],
        },
      ),
    };
  },
};

/**
 * An allowed downgrade. The credentials and Secure cookies it left behind are in this finding's fix
 * (and in the hop's own header/cookie findings); a provider withheld for the downgrade is not a
 * separate finding.
 */
const downgradeFollowed = onDecisions({
  emits: ['downgrade-followed'],
  subject: 'redirect',
  reasons: ['downgrade-allowed'],
  finding: (d, { hop, trace, i }) => {
    const to = d.facts.to ?? hop.location ?? trace[i + 1]?.url;
    const from = d.facts.from ?? hop.url;
    return {
      key: 'downgrade-followed',
      finding: finding(
        'downgrade-followed',
        hop.index,
        `An https: to http: redirect was followed (allowDowngrade): the next hop went unencrypted`,
        { from, to },
        {
          client: `Drop allowDowngrade once the server is fixed; credentials and Secure cookies were not sent on the http: hop.`,
          server: `Redirect to https:, never from https: to http:.`,
        },
      ),
    };
  },
});

// ---- cookies withheld -------------------------------------------------------------------------

const WITHHELD_REASONS = ['path-mismatch', 'domain-mismatch', 'host-only', 'secure-only', 'expired'] as const;
type WithheldReason = (typeof WITHHELD_REASONS)[number];

const WITHHELD: Record<WithheldReason, FindingCode> = {
  'path-mismatch': 'cookie-withheld-path',
  'domain-mismatch': 'cookie-withheld-domain',
  'host-only': 'cookie-withheld-host-only',
  'secure-only': 'cookie-withheld-secure',
  expired: 'cookie-withheld-expired',
};

function withheldFinding(d: DecisionWith<'cookie', WithheldReason>, { hop }: At): Keyed {
  // A host-only cookie at another host comes as 'domain-mismatch' with facts.hostOnly (what the jar
  // records) or as 'host-only': both are the host-only story.
  const code = d.reason === 'domain-mismatch' && d.facts?.hostOnly === true ? 'cookie-withheld-host-only' : WITHHELD[d.reason];
  const name = d.name;
  const url = hop.url;
  const host = hostOf(url);
  const path = pathOf(url);
  const cPath = d.facts?.path;
  const cDomain = d.facts?.domain;
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
      // the site is the jar's answer, recorded with the decision
      server = `If the cookie must reach sibling hosts, set it with Domain=${d.facts?.requestSite ?? '<parent domain>'} (it then goes to every subdomain; make sure that is wanted).`;
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
  return {
    key: `${code}:${name}`,
    finding: finding(code, hop.index, title, facts, { client, server }),
    // the same cookie withheld again at a later hop: one finding, listing every hop
    fold: (first) => {
      if (Array.isArray(first.facts.hops)) (first.facts.hops as number[]).push(hop.index);
    },
  };
}

const cookieWithheld = onDecisions({
  emits: Object.values(WITHHELD),
  subject: 'cookie',
  reasons: WITHHELD_REASONS,
  finding: withheldFinding,
});

// ---- Set-Cookie rejected ----------------------------------------------------------------------

const REJECTED_REASONS = ['secure-from-insecure', 'invalid-domain', 'public-suffix', 'prefix-secure', 'prefix-host', 'overwrite-secure', 'syntax', 'control-char', 'too-large'] as const;
type RejectedReason = (typeof REJECTED_REASONS)[number];

const REJECTED: Record<RejectedReason, FindingCode> = {
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

function rejectedFinding(d: DecisionWith<'set-cookie', RejectedReason>, { hop }: At): Keyed {
  const code = REJECTED[d.reason];
  const name = d.name ?? '(unnamed)';
  const host = hostOf(hop.url);
  // A rejected line records no attributes (the jar's result carries none): the Domain it named is
  // in `detail`, in the jar's own words.
  const facts = { cookie: name, url: hop.url, host, reason: d.reason, detail: d.detail };
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
      title = `Set-Cookie ${name} was rejected: Domain=… does not cover ${host}`;
      client = `Nothing to change in hopwise: browsers reject it too.`;
      server = `Use a Domain that ${host} belongs to (or omit Domain for a host-only cookie).`;
      break;
    case 'set-cookie-rejected-public-suffix':
      title = `Set-Cookie ${name} was rejected: Domain=… is a public suffix`;
      client = `Nothing to change in hopwise: browsers reject it too.`;
      server = `Set the cookie on your registrable domain or omit Domain.`;
      break;
    case 'set-cookie-rejected-prefix':
      title = `Set-Cookie ${name} was rejected: it does not meet the ${name.startsWith('__Host-') ? '__Host-' : '__Secure-'} prefix rules`;
      client = `Use the https: URL (prefixed cookies need https:).`;
      server = d.reason === 'prefix-host' ? `A __Host- cookie must be Secure, set over https:, with Path=/ and no Domain.` : `A __Secure- cookie must be Secure and set over https:.`;
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
  return { key: `rejected:${hop.index}:${name}:${d.reason}`, finding: finding(code, hop.index, title, facts, { client, server }) };
}

/** A Set-Cookie the jar refused. `cookies-disabled` is the caller's choice, not a server problem. */
const setCookieRejected = onDecisions({
  emits: Object.values(REJECTED),
  subject: 'set-cookie',
  reasons: REJECTED_REASONS,
  finding: rejectedFinding,
});

// ---- every way a session cookie disappears in a chain ------------------------------------------

/** Same cookie identity as the jar keys it: name, domain, host-only flag, path. */
function sameCookie(a: { name?: string | undefined; facts?: { domain: string; path: string; hostOnly: boolean } | undefined }, b: typeof a): boolean {
  return a.name === b.name && a.facts !== undefined && b.facts !== undefined && a.facts.domain === b.facts.domain && a.facts.path === b.facts.path && a.facts.hostOnly === b.facts.hostOnly;
}

/**
 * The first hop before `i` whose response stored the cookie `d` names, or whose request carried it
 * (what the phases recorded: set-cookie `stored`, cookie `sent`); undefined when this chain never
 * had it. That is what makes it "this chain's session cookie" rather than some other cookie.
 */
function firstHeldAt(trace: readonly Hop[], i: number, d: DecisionOf<'set-cookie'>): { hop: Hop; how: 'stored' | 'sent' } | undefined {
  for (const h of trace.slice(0, i)) {
    for (const x of h.decisions) {
      if (isOf(x, 'set-cookie') && x.action === 'stored' && sameCookie(x, d)) return { hop: h, how: 'stored' };
      if (isOf(x, 'cookie') && x.action === 'sent' && sameCookie(x, d)) return { hop: h, how: 'sent' };
    }
  }
  return undefined;
}

/**
 * Whether the chain's cookies live in a store shared by other processes (the phases record
 * `facts.store` on every cookie decision a `RedisCookieStore` answered): then a cookie may have been
 * stored, replaced or deleted by another worker, and what this chain does reaches every worker.
 */
function sharedStoreOf(trace: readonly Hop[]): CookieStoreFact | undefined {
  for (const h of trace) for (const d of h.decisions) if ((d.subject === 'cookie' || d.subject === 'set-cookie') && d.facts?.store !== undefined) return d.facts.store;
  return undefined;
}

/** The sentence a session finding adds when the cookies are shared (see sharedStoreOf). */
function sharedStoreText(store: CookieStoreFact | undefined): string {
  return store === undefined
    ? ''
    : ` The cookies of this session are shared through ${store === 'redis' ? 'Redis' : store} with every process that names the same namespace: another worker may have set or removed them between these hops, and this change reaches all of them on their next request.`;
}

/**
 * The backends that answered the hops of `trace[i]`'s origin up to `i`, when they differ: for each
 * fingerprint header absorb recorded (`hop.backend`) with more than one value, `name: value (hop n)`
 * per value; then the affinity cookies any of them set. Undefined when one backend (or no
 * fingerprint) answered.
 */
function backendsOf(trace: readonly Hop[], i: number): string[] | undefined {
  const at = origin(trace[i]?.url);
  const hops = trace.slice(0, i + 1).filter((h) => origin(h.url) === at && h.backend);
  const out: string[] = [];
  const names = [...new Set(hops.flatMap((h) => Object.keys(h.backend!.headers)))];
  for (const name of names) {
    const seen = new Map<string, number[]>();
    for (const h of hops) {
      const v = h.backend!.headers[name];
      if (v !== undefined) seen.set(v, [...(seen.get(v) ?? []), h.index]);
    }
    if (seen.size > 1) for (const [v, at] of seen) out.push(`${name}: ${v} (hop${at.length > 1 ? 's' : ''} ${at.join(', ')})`);
  }
  if (out.length === 0) return undefined;
  const affinity = [...new Set(hops.flatMap((h) => h.backend!.affinityCookies ?? []))];
  if (affinity.length) out.push(`affinity cookie ${affinity.join(', ')}`);
  return out;
}

const NUMBERS = ['', 'one', 'two', 'three', 'four', 'five'];

/** "; two backends answered this chain (x-backend: a (hop 0), x-backend: b (hop 1))", or ''. */
function backendsText(b: string[] | undefined): string {
  if (!b) return '';
  const values = b.filter((x) => !x.startsWith('affinity cookie '));
  const perHeader = new Map<string, number>();
  for (const v of values) perHeader.set(v.slice(0, v.indexOf(':')), (perHeader.get(v.slice(0, v.indexOf(':'))) ?? 0) + 1);
  const n = Math.max(...perHeader.values());
  return `; ${NUMBERS[n] ?? String(n)} backends answered this chain (${values.join(', ')})`;
}

function backendsServer(b: string[] | undefined): string {
  if (!b) return '';
  const affinity = b.find((x) => x.startsWith('affinity cookie '));
  return affinity
    ? ` Different backends answered this chain although the balancer sets an ${affinity}: check that the client keeps it and that the balancer honours it.`
    : ` Different backends answered this chain (${b.join(', ')}).`;
}

/** The Set-Cookie of `hop` that stored the cookie `d` replaced (same name, domain, host-only flag, path). */
function storedBy(hop: Hop | undefined, d: DecisionOf<'set-cookie'>): boolean {
  return hop !== undefined && hop.decisions.some((s) => isOf(s, 'set-cookie') && s.action === 'stored' && sameCookie(s, d));
}

/**
 * The session-lost signal, from what the session recorded: a Set-Cookie `replaced` a cookie this
 * very request carried (`sentOnThisHop`) with another value (`valueChanged`), and that cookie — the
 * jar's identity: name, domain, host-only flag, path — was stored by the previous hop's response
 * (a session rotated later in a chain is too often a legitimate rotation to call it lost).
 */
const sessionReplaced = onDecisions({
  emits: ['session-cookie-replaced'],
  subject: 'set-cookie',
  reasons: ['replaced'],
  where: (d, { trace, i }) => d.facts?.sentOnThisHop === true && d.facts.valueChanged === true && storedBy(trace[i - 1], d),
  finding: (d, { hop, trace, i }) => {
    const name = d.name ?? '(unnamed)';
    const first = trace[i - 1]!; // `where` found the cookie stored there
    const backends = backendsOf(trace, i);
    return {
      key: `replaced:${name}:${i}`,
      finding: finding(
        'session-cookie-replaced',
        hop.index,
        `The server replaced cookie ${name} that it issued one hop earlier: it did not recognise its own session${backendsText(backends)}`,
        { cookie: name, issuedAtHop: first.index, issuedBy: first.url, replacedAtHop: hop.index, replacedBy: hop.url, status: hop.status, backends },
        {
          client:
            `Nothing hopwise can fix: the cookie was stored and sent back (see hop ${hop.index}, "sent"). ` +
            `To confirm, repeat the flow: if it works only sometimes, a balancer is spreading the hops over backends.`,
          server:
            `The backend that answered hop ${hop.index} does not know the session issued at hop ${first.index}. ` +
            `Use a shared session store (Redis, database) or sticky sessions, and the same session secret on every instance.` +
            (backends ? backendsServer(backends) : ''),
        },
      ),
    };
  },
});

const LOGOUT_PATH = /(^|\/)(log[-_]?out|sign[-_]?out|log[-_]?off)(\/?|\.[a-z]+)$/i;

/** A response deleted (Max-Age=0, an Expires in the past) a cookie this chain had stored or sent. */
const sessionDeleted = onDecisions({
  emits: ['session-cookie-deleted'],
  subject: 'set-cookie',
  reasons: ['deleted'],
  where: (d, { trace, i }) => d.facts !== undefined && (d.facts.sentOnThisHop || firstHeldAt(trace, i, d) !== undefined),
  finding: (d, { hop, trace, i }) => {
    const name = d.name ?? '(unnamed)';
    const held = firstHeldAt(trace, i, d);
    const sent = d.facts?.sentOnThisHop === true;
    const logout = LOGOUT_PATH.test(pathOf(hop.url) ?? '');
    const backends = backendsOf(trace, i);
    const store = sharedStoreOf(trace);
    return {
      key: `deleted:${name}:${i}`,
      finding: finding(
        'session-cookie-deleted',
        hop.index,
        `The response at hop ${hop.index} (${hop.status}) deleted cookie ${name}${sent ? ', which this request carried' : held ? `, ${held.how} at hop ${held.hop.index}` : ''}: ` +
          `${logout ? 'a logout ended the session' : 'the server ended the session'}${backendsText(backends)}`,
        { cookie: name, url: hop.url, status: hop.status, sentOnThisHop: sent, heldSinceHop: held?.hop.index, detail: d.detail, logout, backends, store },
        {
          client:
            (logout
              ? `Nothing to fix if logging out was intended.`
              : `Nothing hopwise can change: the server asked for the cookie to go (a browser deletes it too). Find out why ${hostOf(hop.url)} ended the session at ${pathOf(hop.url) ?? 'this URL'}.`) +
            sharedStoreText(store),
          server: logout
            ? `Nothing to fix.`
            : `A Set-Cookie: ${name}=; Max-Age=0 (or a past Expires) at ${pathOf(hop.url) ?? 'this URL'} ends the session. If it should survive, this handler did not recognise it: ` +
              `check the session store and secret this backend uses.` +
              (backends ? backendsServer(backends) : ''),
        },
        logout ? 'info' : 'warning',
      ),
    };
  },
});

/** The jar's limits evicted a cookie this chain had stored or sent. */
const sessionEvicted = onDecisions({
  emits: ['session-cookie-evicted'],
  subject: 'set-cookie',
  reasons: ['evicted'],
  where: (d, { trace, i }) => d.facts?.sentOnThisHop === true || firstHeldAt(trace, i, d) !== undefined,
  finding: (d, { hop, trace, i }) => {
    const name = d.name ?? '(unnamed)';
    const held = firstHeldAt(trace, i, d);
    return {
      key: `evicted:${name}:${i}`,
      finding: finding(
        'session-cookie-evicted',
        hop.index,
        `The jar evicted cookie ${name}${held ? ` (${held.how} at hop ${held.hop.index})` : ''} to make room for ${d.facts?.evictedBy ?? 'another cookie'} set at hop ${hop.index}`,
        { cookie: name, evictedBy: d.facts?.evictedBy, heldSinceHop: held?.hop.index, domain: d.facts?.domain, detail: d.detail },
        {
          client: `Raise the jar's limits: new CookieJar({ maxCookiesPerDomain, maxCookies }) (defaults 180 and 50,000), or use a jar per site.`,
          server: `Set fewer cookies on ${d.facts?.domain ?? 'this domain'}: browsers evict past about 180 per domain too, and the session cookie may be the one to go.`,
        },
      ),
    };
  },
});

/** A login page by its last path segments: /login, /signin, /sign_in, /logon, /auth, /session(s). */
const LOGIN_PATH = /(^|\/)(log[-_]?in|sign[-_]?in|log[-_]?on|sign[-_]?on|auth|authenticate|sessions?)(\/?|\.[a-z]+)$/i;

/**
 * A login — a POST, or a request to a login path, whose response set a cookie (stored, or rejected by
 * the jar) and redirected —
 * followed later in the chain by a request for the login page again (the login's own path, or a
 * login path): the session did not hold, whatever the final status. What happened to the cookies
 * in between is read from the hops' decisions.
 */
const sessionLostToLogin: HopRule = {
  on: 'hop',
  emits: ['session-lost-to-login'],
  where: (hop, { trace, i }) => i > 0 && loginBefore(trace, i) !== undefined,
  finding: (hop, { trace, i }) => {
    const login = loginBefore(trace, i)!;
    const stored = namesOnce([login], (d) => (isOf(d, 'set-cookie') && d.action === 'stored' ? d.name : undefined));
    const refused = namesOnce([login], (d) => (isOf(d, 'set-cookie') && d.action === 'rejected' && d.reason !== 'cookies-disabled' ? d.name : undefined));
    const between = trace.slice(trace.indexOf(login) + 1, i + 1);
    const sentAfter = namesOnce(between, (d) => (isOf(d, 'cookie') && d.action === 'sent' && d.name && stored.includes(d.name) ? d.name : undefined));
    const withheld = namesOnce(between, (d) => (isOf(d, 'cookie') && d.action === 'withheld' && d.name && stored.includes(d.name) ? d.name : undefined));
    const gone = namesOnce(between, (d) =>
      isOf(d, 'set-cookie') && (d.reason === 'deleted' || d.reason === 'replaced' || d.reason === 'evicted') && d.name && stored.includes(d.name) ? `${d.name} ${d.reason}` : undefined,
    );
    const backends = backendsOf(trace, i);
    const store = sharedStoreOf(trace);
    const final = trace[trace.length - 1];
    const why =
      refused.length > 0
        ? `: Set-Cookie ${refused.join(', ')} of the login was rejected (see that finding)`
        : withheld.length > 0
          ? `: cookie ${withheld.join(', ')} was not sent (see the cookie findings)`
          : gone.length > 0
            ? `: ${gone.join(', ')} on the way`
            : sentAfter.length > 0
              ? `, although ${sentAfter.join(', ')} ${sentAfter.length === 1 ? 'was' : 'were'} sent: the server did not recognise the session`
              : '';
    return {
      key: `to-login:${login.index}`,
      finding: finding(
        'session-lost-to-login',
        hop.index,
        `Right after the login at hop ${login.index} (${[...stored, ...refused].join(', ')} set), hop ${hop.index} went back to the login page ${pathOf(hop.url) ?? hop.url}${why}${backendsText(backends)}` +
          (final && final.status >= 200 && final.status < 300 ? ` (the chain still ends ${final.status})` : ''),
        {
          loginHop: login.index,
          loginUrl: login.url,
          url: hop.url,
          cookiesSet: stored,
          cookiesRejected: refused,
          cookiesSentAfter: sentAfter,
          cookiesWithheld: withheld,
          cookiesGone: gone,
          finalStatus: final?.status ?? null,
          backends,
          store,
        },
        {
          client:
            (withheld.length > 0
              ? `See the cookie finding for ${withheld[0]}: a browser would not send it either.`
              : `Nothing hopwise can change if the cookie went back: read the session findings here. A status 200 at the end of the chain is the login form, not the page you asked for.`) +
            sharedStoreText(store),
          server:
            `The page after the login did not find the session set at hop ${login.index} and sent the client back to log in. ` +
            `Check that the session cookie covers it (Path, Domain, Secure) and that every backend shares the session store and secret.` +
            (backends ? backendsServer(backends) : ''),
        },
      ),
    };
  },
};

/**
 * The login `trace[i]` returns to: the nearest earlier hop that is a login (see the rule), when
 * `trace[i]` is a GET of the same origin for the login's own path or a login path, at least one hop
 * later (a login redirected straight back to its form is a failed login, not a lost session).
 */
function loginBefore(trace: readonly Hop[], i: number): Hop | undefined {
  const hop = trace[i]!;
  const path = pathOf(hop.url) ?? '';
  for (let k = i - 1; k >= 0; k--) {
    const h = trace[k]!;
    const loginPath = pathOf(h.url) ?? '';
    const isLogin =
      (h.method === 'POST' || LOGIN_PATH.test(loginPath)) &&
      // it set a cookie: stored, or refused by the jar (the session that never was)
      h.decisions.some((d) => isOf(d, 'set-cookie') && (d.action === 'stored' || (d.action === 'rejected' && d.reason !== 'cookies-disabled'))) &&
      h.decisions.some((d) => isOf(d, 'redirect') && d.action === 'followed');
    if (!isLogin) continue;
    const back = hop.method === 'GET' && origin(h.url) === origin(hop.url) && (path === loginPath || LOGIN_PATH.test(path));
    return back && k < i - 1 ? h : undefined;
  }
  return undefined;
}

// ---- a 200 page that redirects by meta refresh or script --------------------------------------

/** One finding per hop: the page's client-side redirect, as the session recorded it. */
const clientSideRedirect = onDecisions({
  emits: ['client-side-redirect'],
  subject: 'redirect',
  reasons: ['meta-refresh', 'meta-refresh-not-followed', 'script-redirect-not-followed'],
  finding: (d, { hop, i }) => {
    // a Refresh header is the same declarative refresh as the <meta> tag
    const kind = d.reason === 'script-redirect-not-followed' || d.facts.kind === 'script' ? 'script' : 'meta-refresh';
    let target = d.facts.target ?? null;
    if (target) {
      try {
        target = new URL(target, hop.url).href;
      } catch {
        /* keep as written */
      }
    }
    const followed = d.action === 'followed';
    const how = kind === 'meta-refresh' ? '<meta http-equiv="refresh">' : 'a location script';
    const ct = headerValue(hop.responseHeaders, 'content-type') ?? null;
    return {
      key: `client-redirect:${i}`,
      finding: finding(
        'client-side-redirect',
        hop.index,
        followed
          ? `Hop ${hop.index} is a ${hop.status} HTML page that redirects with ${how}; hopwise followed it (followMetaRefresh)`
          : `Hop ${hop.index} is a ${hop.status} HTML page that redirects with ${how} to ${target ?? 'another page'}; an HTTP client stops here`,
        { kind, target, status: hop.status, contentType: ct, followed },
        {
          client: followed
            ? `Nothing to do; keep followMetaRefresh only for sites that need it.`
            : kind === 'meta-refresh'
              ? `Follow it: followMetaRefresh: true, or request ${target ?? 'the target'} next with the same session (cookies set on this page are in the jar).`
              : `No HTTP client runs scripts: request ${target ?? 'the target'} next with the same session (cookies set on this page are in the jar).`,
          server: `Answer with a real redirect (302/303 with Location) instead of a 200 page that redirects in the browser; then every client, and the cookies set on it, follow.`,
          cli: !followed && kind === 'meta-refresh' ? ['--follow-meta-refresh'] : undefined,
        },
        followed ? 'info' : 'warning',
      ),
    };
  },
});

// ---- the Location, method and body ------------------------------------------------------------
// (in the order the redirect planner records them on the hop that answered: Location, method, body)

const userinfoInLocation = onDecisions({
  emits: ['userinfo-in-location'],
  subject: 'location',
  reasons: ['userinfo-dropped'],
  finding: (_d, { hop }) => ({
    key: `userinfo:${hop.index}`,
    finding: finding(
      'userinfo-in-location',
      hop.index,
      `The Location at hop ${hop.index} carried user:password@; it was dropped`,
      { location: hop.location },
      {
        client: `Nothing to do: credentials in a Location are never used. Give credentials with -u / basic() scoped to that origin if needed.`,
        server: `Never put credentials in a Location header: they end up in logs and histories.`,
      },
    ),
  }),
});

/** Statuses with which a target says the GET it got was not what it wanted (method, length, type, content). */
const WANTED_THE_BODY = new Set([405, 411, 415, 422]);

/** An HTML form's body: the Post/Redirect/Get pattern is what a 302 after it means. */
function isFormBody(hop: Hop): boolean {
  const ct = hop.requestHeaders['content-type']?.toLowerCase() ?? '';
  return ct.startsWith('application/x-www-form-urlencoded') || ct.startsWith('multipart/form-data');
}

/**
 * POST → GET on a 301/302 (a 303 says "GET it" on purpose: not a finding). A 302 after a login, or
 * after an HTML form whose target is a page, is the Post/Redirect/Get pattern (RFC 9110 §15.4.3 for
 * 302 Found, §15.4.4 for 303): the POST was handled and its result is fetched with GET, as every
 * browser does; an info note only. It stays a warning when the body was needed again: a 301 (the
 * resource moved: the POST belongs at the new URL), a body that is not a form or a target that is
 * not a page (an API call), or a target that answered the GET 405, 411, 415 or 422. A login is read
 * from the hop's own decisions (its 3xx stored a cookie).
 */
const postBecameGet = onDecisions({
  emits: ['post-became-get'],
  subject: 'method',
  reasons: ['method-rewrite-301', 'method-rewrite-302'],
  finding: (d, { hop, trace, i }) => {
    // the planner records the rewrite on the hop whose 3xx it planned
    const status = d.reason === 'method-rewrite-301' ? 301 : 302;
    const { from, to } = d.facts;
    const next = trace[i + 1];
    const login = hop.decisions.some((x) => isOf(x, 'set-cookie') && x.action === 'stored');
    const form = isFormBody(hop);
    const page = next !== undefined && /^text\/html\b/i.test(headerValue(next.responseHeaders, 'content-type') ?? '');
    const refused = next !== undefined && WANTED_THE_BODY.has(next.status);
    const prg = status === 302 && (login || (form && page)) && !refused;
    const facts = { status, from, to, url: hop.url, location: hop.location, login, form, nextStatus: next?.status };
    if (prg) {
      return {
        key: `post-get:${hop.index}`,
        finding: finding(
          'post-became-get',
          hop.index,
          `${from} ${hop.url} was answered 302 and its result fetched with ${to}: ${login ? 'a login' : 'a form'} followed by a redirect (Post/Redirect/Get), nothing was lost`,
          facts,
          {
            client: `Nothing to fix: this is Post/Redirect/Get. The ${from} was handled${login ? ' (the 302 set the session cookie, stored before the next hop)' : ''}, and the page it points to is fetched with GET, as browsers do.`,
            server: `Nothing to fix. 303 See Other says "GET the result" explicitly (RFC 9110 §15.4.4), and no client turns it into anything else.`,
          },
          'info',
        ),
      };
    }
    const why = refused
      ? `; ${next.url} answered ${next.status} to the GET`
      : status === 301
        ? ''
        : !form
          ? '; the body was not a form, so the target likely needed it'
          : next && !page
            ? '; the target answered the GET with something other than a page, so it likely needed the body'
            : '';
    return {
      key: `post-get:${hop.index}`,
      finding: finding('post-became-get', hop.index, `${from} ${hop.url} was answered ${status}, so the next hop was sent as ${to} without the body${why}`, facts, {
        client:
          `This is what browsers and Fetch do. If the server meant "repeat the ${from} there", it must say 307/308; ` + `until then, send the ${from} to ${hop.location ?? 'the target URL'} directly.`,
        server:
          `Answer ${status === 301 ? '308 Permanent Redirect' : '307 Temporary Redirect'} to keep the method and body, ` +
          `or 303 See Other if a GET of the result is what you mean (Post/Redirect/Get).`,
      }),
    };
  },
});

function xBodyFix(to: string | undefined): { client: string; server: string; cli?: string[] | undefined } {
  const t = to ? trustPatternFor(to) : undefined;
  return {
    client:
      `If ${hostOf(to) ?? 'that origin'} is yours (a regional endpoint, a storage bucket), trust it: trust: ['${t ?? '<origin>'}'], ` +
      `or allow bodies to any origin with crossOriginBody: 'send'. Otherwise send the upload to the final URL directly.`,
    server: `Tell clients the right endpoint up front (region in the API response) instead of redirecting uploads across origins.`,
    cli: t ? ['--trust', t] : undefined,
  };
}

function bodyReplayFix(): { client: string; server: string } {
  return {
    client: `Pass the body as a Buffer or string (replayable), or raise the replay buffer, or upload to the final URL directly.`,
    server: `Avoid 307/308 for large uploads; return the upload URL in a response instead.`,
  };
}

const crossOriginBodyRefused = onDecisions({
  emits: ['cross-origin-body-refused'],
  subject: 'body',
  reasons: ['cross-origin-body-refused'],
  finding: (d, { hop }) => {
    const to = d.facts?.to ?? hop.location;
    const from = d.facts?.from ?? origin(hop.url);
    return {
      key: 'xbody',
      finding: finding(
        'cross-origin-body-refused',
        hop.index,
        `A ${hop.status} asked to resend the request body to ${hostOf(to) ?? 'another origin'}; hopwise refused`,
        { from, to, status: hop.status },
        xBodyFix(to),
      ),
    };
  },
});

const crossOriginBodySent = onDecisions({
  emits: ['cross-origin-body-sent'],
  subject: 'body',
  reasons: ['cross-origin-body'],
  finding: (d, { hop }) => {
    const to = d.facts?.to ?? origin(hop.url);
    return {
      key: `xbody-sent:${hop.index}`,
      finding: finding(
        'cross-origin-body-sent',
        hop.index,
        `The request body was resent to ${hostOf(to) ?? 'another origin'} (crossOriginBody: "send")`,
        { to },
        {
          client: `Intended? Prefer trust: ['${trustPatternFor(to ?? '')}'] so only that origin may receive bodies and credentials.`,
          server: `Nothing to fix if the redirect is part of your API (regional endpoints); document it.`,
        },
      ),
    };
  },
});

const bodyNotReplayable = onDecisions({
  emits: ['body-not-replayable'],
  subject: 'body',
  reasons: ['body-not-replayable'],
  finding: (_d, { hop }) => ({
    key: 'replay',
    finding: finding('body-not-replayable', hop.index, `A ${hop.status} needed the request body again, but it was a stream larger than the replay buffer`, { status: hop.status }, bodyReplayFix()),
  }),
});

const crossOriginBodyError: ErrorRule = {
  on: 'error',
  emits: ['cross-origin-body-refused'],
  errors: ['ERR_CROSS_ORIGIN_BODY'],
  finding: (_e, trace) => {
    const last = trace[trace.length - 1];
    return {
      key: 'xbody',
      finding: finding(
        'cross-origin-body-refused',
        last?.index ?? 0,
        `A 307/308 asked to resend the request body to ${hostOf(last?.location) ?? 'another origin'}; hopwise refused`,
        { from: origin(last?.url), to: last?.location, status: last?.status ?? null },
        xBodyFix(last?.location),
      ),
    };
  },
};

const bodyNotReplayableError: ErrorRule = {
  on: 'error',
  emits: ['body-not-replayable'],
  errors: ['ERR_BODY_NOT_REPLAYABLE'],
  finding: (_e, trace) => {
    const last = trace[trace.length - 1];
    return {
      key: 'replay',
      finding: finding(
        'body-not-replayable',
        last?.index ?? 0,
        `A 307/308 needed the request body again, but it was a stream larger than the replay buffer`,
        { status: last?.status ?? null },
        bodyReplayFix(),
      ),
    };
  },
};

// ---- 401 after a redirect ---------------------------------------------------------------------

/** A challenge scheme as people write it. */
function schemeTitle(s: string): string {
  const known: Record<string, string> = { digest: 'Digest', basic: 'Basic', bearer: 'Bearer', negotiate: 'Negotiate', ntlm: 'NTLM' };
  return known[s] ?? s;
}

/** Names of the decisions `pick` selects in `hops`, lower-cased or as recorded, each once. */
function namesOnce(hops: readonly Hop[], pick: (d: Decision) => string | undefined): string[] {
  const out: string[] = [];
  for (const h of hops) {
    for (const d of h.decisions) {
      const n = pick(d);
      if (n !== undefined && !out.includes(n)) out.push(n);
    }
  }
  return out;
}

/**
 * A hop after the first answered 401. It names the cause from what earlier decisions recorded, most
 * direct first: a credential that did not travel (a stripped header, a provider out of scope), a
 * cookie withheld at this hop, a Set-Cookie refused earlier, or a cookie that was sent anyway.
 */
const unauthorizedAfterRedirect: HopRule = {
  on: 'hop',
  emits: ['unauthorized-after-redirect'],
  where: (hop, { i }) => i > 0 && hop.status === 401,
  finding: (hop, { trace, i }) => {
    // A replayed recording (diagnoseHar) has the rules' decisions but the headers the program really sent:
    // a header the rules strip that the program sent on anyway (a leak, named by its own finding) did travel.
    const arrived = new Set(Object.keys(hop.requestHeaders).map((k) => k.toLowerCase()));
    const strippedByRules = namesOnce(trace.slice(0, i + 1), (d) =>
      (isOf(d, 'header') && d.action === 'stripped') || (isOf(d, 'auth') && d.reason === 'out-of-scope') ? d.name.toLowerCase() : undefined,
    );
    const stripped = strippedByRules.filter((n) => !arrived.has(n));
    const sentAnyway = strippedByRules.filter((n) => arrived.has(n) && n !== 'authorization');
    const withheld = hop.decisions.filter((d) => isOf(d, 'cookie') && d.action === 'withheld').map((d) => d.name ?? '');
    const rejected = namesOnce(trace.slice(0, i), (d) => (isOf(d, 'set-cookie') && d.action === 'rejected' ? d.name : undefined));
    const sentCookies = hop.decisions.filter((d) => isOf(d, 'cookie') && d.action === 'sent' && d.name).map((d) => d.name ?? '');
    const sentAuth = 'authorization' in hop.requestHeaders;
    const challenge = headerValue(hop.responseHeaders, 'www-authenticate');
    // the schemes the 401 offered that nothing answered, as the challenge phase recorded them
    const unanswered = hop.decisions.find((d): d is DecisionOf<'auth'> => isOf(d, 'auth') && d.reason === 'unanswered-challenge');
    const asks = unanswered?.facts.offered?.length ? ` (it asks for ${unanswered.facts.offered.map(schemeTitle).join(' or ')})` : '';
    const outOfScope = trace.slice(0, i + 1).some((h) => h.decisions.some((d) => isOf(d, 'auth') && d.reason === 'out-of-scope' && (d.facts.provider === 'bearer' || d.facts.provider === 'basic')));
    const backends = backendsOf(trace, i);
    const to = trustPatternFor(hop.url);
    const host = hostOf(hop.url);
    const crossOrigin = origin(trace[0]?.url) !== origin(hop.url);
    let title: string;
    let client: string;
    let server: string;
    let cli: string[] | undefined;
    if (stripped.length > 0) {
      title = `${hop.url} answered 401 after a redirect${asks}: ${stripped.join(', ')} did not travel to it`;
      client = `See the finding that stripped ${stripped[0]}: if ${host} is yours, trust: ['${to}'], or a provider scoped to it.`;
      cli = outOfScope ? scopeArgs(trustPatternFor(trace[0]?.url ?? hop.url), to) : ['--trust', to];
      server = `Serve authenticated resources without a redirect to another origin, or accept a credential meant for ${host} there${challenge ? ` (it asks: ${challenge})` : ''}.`;
    } else if (withheld.length > 0) {
      title = `${hop.url} answered 401 after a redirect${asks}: cookie ${withheld.join(', ')} was not sent`;
      client = `See the cookie finding for ${withheld[0]}: a browser would not send it either; the fix is in the cookie's attributes.`;
      server = `Set ${withheld[0]} with attributes that cover ${host}${pathOf(hop.url) ?? ''} (Path, Domain, Secure), or keep the redirect where the cookie applies.`;
    } else if (rejected.length > 0) {
      title = `${hop.url} answered 401 after a redirect${asks}: Set-Cookie ${rejected.join(', ')} was rejected earlier, so there was no session to send`;
      client = `See the set-cookie finding for ${rejected[0]}.`;
      server = `Fix the Set-Cookie of ${rejected[0]} (see that finding) so clients can store it.`;
    } else if (sentCookies.length > 0) {
      title = `${hop.url} answered 401 after a redirect although cookie ${sentCookies.join(', ')} was sent: the server did not accept its own session${backendsText(backends)}`;
      client = `Nothing to change in the client: the cookie the server issued went back to it. If a session-cookie-replaced finding is here too, the backends do not share sessions.`;
      server = `Make every backend behind ${host} recognise the session it issued: shared session store or sticky sessions, same signing secret.`;
    } else if (sentAuth) {
      title = `${hop.url} answered 401 after a redirect${asks} even though Authorization was sent`;
      client = `The credential arrived but was refused: check it is valid for ${host} (the final host may expect another token or audience).`;
      server = `Accept the credential at ${host}${challenge ? ` (it asks: ${challenge})` : ''}, or do not redirect authenticated calls there.`;
    } else {
      title = sentAnyway.length
        ? `${hop.url} answered 401 after a redirect${asks}: ${sentAnyway.join(', ')} was sent, but no Authorization`
        : `${hop.url} answered 401 after a redirect${asks}, and no credential was sent`;
      client = `Give a credential for ${host}: bearer(token, { scope: ['${to}'] }) or basic(user, password, { scope: ['${to}'] }).`;
      server = crossOrigin ? `Document that ${host} needs its own credential, or serve the resource where the client authenticated.` : `Nothing to fix if the resource really needs a login.`;
    }
    return {
      key: `401:${hop.index}`,
      finding: finding(
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
          schemes: unanswered?.facts.offered,
          backends: sentCookies.length > 0 ? backends : undefined,
        },
        { client, server, cli },
      ),
    };
  },
};

/**
 * A 401 whose challenge no provider in scope answers, or that refused the answer a provider gave.
 * Keyed like unauthorized-after-redirect: after a redirect that rule's finding (what did not travel)
 * comes first; on the first hop or right after an answered challenge, this one says what happened.
 */
const challengeOutcome = onDecisions({
  emits: ['challenge-unanswered', 'credential-rejected'],
  subject: 'auth',
  reasons: ['unanswered-challenge', 'challenge-rejected'],
  where: (_d, { trace, i }) => i === 0 || trace[i - 1]?.status === 401,
  finding: (d, { hop }) => {
    const host = hostOf(hop.url);
    const realm = d.facts.realm !== undefined ? ` (realm "${d.facts.realm}")` : '';
    if (d.reason === 'unanswered-challenge') {
      const offered = d.facts.offered ?? [];
      const names = offered.map((s) => (s === 'digest' ? 'Digest' : s === 'basic' ? 'Basic' : s === 'bearer' ? 'Bearer' : s));
      const digestAsked = offered.includes('digest');
      const basicAsked = offered.includes('basic');
      // A provider of an offered scheme was in scope and passed the challenge over (answers(): a Digest
      // algorithm or qop RFC 7616 does not define): another credential would not help.
      const passedOver = offered.find((s) => d.facts.provider.split(', ').includes(s));
      if (passedOver !== undefined) {
        const name = names[offered.indexOf(passedOver)] ?? passedOver;
        return {
          key: `401:${hop.index}`,
          finding: finding(
            'challenge-unanswered',
            hop.index,
            `${hop.url} asked for ${names.join(' or ')} authentication${realm}; the ${passedOver} provider in scope cannot answer that challenge`,
            { url: hop.url, offered, realm: d.facts.realm, inScope: d.facts.provider },
            {
              client: `The ${passedOver} provider cannot answer this ${name} challenge${passedOver === 'digest' ? " (its algorithm or qop is not one RFC 7616 defines: see the 401's WWW-Authenticate)" : ''}; nothing was sent.`,
              server:
                passedOver === 'digest'
                  ? `Offer Digest with an algorithm RFC 7616 §6.1 defines (SHA-256, SHA-512-256 or MD5) and qop auth or auth-int.`
                  : `Offer a ${name} challenge your clients can answer.`,
            },
          ),
        };
      }
      return {
        key: `401:${hop.index}`,
        finding: finding(
          'challenge-unanswered',
          hop.index,
          `${hop.url} asked for ${names.join(' or ')} authentication${realm}; no provider in scope answers it`,
          { url: hop.url, offered, realm: d.facts.realm, inScope: d.facts.provider },
          {
            client: digestAsked
              ? `Give a Digest credential scoped to ${host}: auth: digest(user, pass).`
              : basicAsked
                ? `Give a Basic credential scoped to ${host}: auth: basic(user, pass).`
                : `Give a provider for ${names[0] ?? 'that scheme'} scoped to ${host}, or write one: a provider's value(ctx) receives ctx.challenge and its schemes say which it answers.`,
            server: `Nothing to fix if the resource needs ${names.join(' or ')}; offer a scheme your clients support otherwise.`,
            cli: digestAsked ? ['--digest', '-u', '$USERNAME:$PASSWORD'] : basicAsked ? ['-u', '$USERNAME:$PASSWORD'] : undefined,
          },
        ),
      };
    }
    return {
      key: `401:${hop.index}`,
      finding: finding(
        'credential-rejected',
        hop.index,
        `${hop.url} refused the ${d.facts.provider} answer to its ${d.facts.scheme ?? ''} challenge${realm}`,
        { url: hop.url, provider: d.facts.provider, scheme: d.facts.scheme, realm: d.facts.realm },
        {
          client: `Check the user name and password (or token) for ${host}${realm}; hopwise answers a challenge once and does not retry a wrong credential.`,
          server: `If the credential is right, check the server's realm and algorithm support, and that it accepts the answer's uri and nonce count.`,
        },
      ),
    };
  },
});

// ---- how the chain ended ----------------------------------------------------------------------

function loopFinding(trace: readonly Hop[], hopIndex: number, url: string | undefined): Finding {
  const last = trace[trace.length - 1];
  const target = url ?? last?.location ?? last?.url;
  const firstSeen = trace.find((h) => h.url === target);
  const cycle = firstSeen ? trace.slice(trace.indexOf(firstSeen)).map((h) => h.url) : trace.map((h) => h.url);
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

function limitFinding(trace: readonly Hop[], hopIndex: number, maxRedirects: number | undefined): Finding {
  const followed = Math.max(0, trace.length - 1);
  const max = maxRedirects ?? null;
  const distinct = new Set(trace.map((h) => h.url)).size;
  const last = trace[trace.length - 1];
  return finding(
    'too-many-redirects',
    hopIndex,
    `The chain stopped after ${followed} redirect${followed === 1 ? '' : 's'}: one more would exceed maxRedirects${max !== null ? ` (${max})` : ''}`,
    { redirectsFollowed: followed, maxRedirects: max, distinctUrls: distinct, first: trace[0]?.url ?? null, last: last?.url ?? null, next: last?.location ?? null },
    {
      client: `If the chain is legitimately long, raise maxRedirects. Usually it is not: read the trace for a URL pattern that never converges.`,
      server: `Redirect once, to the final URL: every hop costs a round trip, and long chains hide loops.`,
      cli: ['--max-redirs', String(Math.max(2 * (max ?? followed), followed + 10))],
    },
  );
}

function unsafeFinding(hop: Hop, to: string | undefined): Finding {
  return finding(
    'unsafe-redirect',
    hop.index,
    `A redirect to ${to ?? 'a non-http(s) URL'} was refused: only http: and https: are followed`,
    { location: to ?? null },
    {
      client: `Nothing to do in hopwise; handle that URL yourself if it is expected (for example an app deep link).`,
      server: `Redirect HTTP clients only to http: or https: URLs.`,
    },
  );
}

function invalidFinding(hop: Hop): Finding {
  const raw = headerValue(hop.responseHeaders, 'location');
  return finding(
    'invalid-location',
    hop.index,
    `Hop ${hop.index} answered ${hop.status} with a Location that is not a URL`,
    { location: raw ?? null },
    {
      client: `Nothing to do in the client.`,
      server: `Send an absolute or relative URL in Location, percent-encoded.`,
    },
  );
}

const redirectLoop = onDecisions({
  emits: ['redirect-loop'],
  subject: 'redirect',
  reasons: ['loop'],
  finding: (d, { hop, trace }) => ({ key: 'loop', finding: loopFinding(trace, hop.index, d.facts.url) }),
});

const tooManyRedirects = onDecisions({
  emits: ['too-many-redirects'],
  subject: 'redirect',
  reasons: ['limit'],
  finding: (d, { hop, trace }) => ({ key: 'limit', finding: limitFinding(trace, hop.index, d.facts.maxRedirects) }),
});

const unsafeRedirect = onDecisions({
  emits: ['unsafe-redirect'],
  subject: 'redirect',
  reasons: ['unsafe-scheme'],
  finding: (d, { hop }) => ({ key: 'unsafe', finding: unsafeFinding(hop, d.facts.url) }),
});

const invalidLocation = onDecisions({
  emits: ['invalid-location'],
  subject: 'location',
  reasons: ['invalid-location'],
  finding: (_d, { hop }) => ({ key: 'invalid', finding: invalidFinding(hop) }),
});

/** The chain ended on a 3xx hopwise does not follow (300/304, no Location, manual mode). */
const redirectNotFollowed = onDecisions({
  emits: ['redirect-not-followed'],
  subject: 'redirect',
  reasons: ['not-redirect-status', 'no-location', 'manual-mode'],
  where: (_d, { hop, trace }) => hop === trace[trace.length - 1] && hop.status >= 300 && hop.status < 400,
  finding: (d, { hop }) => ({
    key: 'not-followed',
    finding: finding(
      'redirect-not-followed',
      hop.index,
      `The chain ended on ${hop.status} ${hop.statusText}: it is not followed (${d.reason})`,
      { status: hop.status, reason: d.reason },
      {
        client: d.reason === 'manual-mode' ? `Use redirect: 'follow' to follow it.` : `Read the response as it is; a ${hop.status} is not a redirect to follow.`,
        server: d.reason === 'no-location' ? `Send a Location with every redirect status.` : `Nothing to fix if this is intended.`,
      },
    ),
  }),
});

// The chain-ending errors, for a trace that lacks the decision (same keys: the decision's finding wins).
const lastHop = (trace: readonly Hop[]): Hop | undefined => trace[trace.length - 1];

const chainEndErrors: ErrorRule[] = [
  { on: 'error', emits: ['redirect-loop'], errors: ['ERR_REDIRECT_LOOP'], finding: (_e, trace) => ({ key: 'loop', finding: loopFinding(trace, lastHop(trace)?.index ?? 0, undefined) }) },
  { on: 'error', emits: ['too-many-redirects'], errors: ['ERR_TOO_MANY_REDIRECTS'], finding: (_e, trace) => ({ key: 'limit', finding: limitFinding(trace, lastHop(trace)?.index ?? 0, undefined) }) },
  {
    on: 'error',
    emits: ['unsafe-redirect'],
    errors: ['ERR_UNSAFE_REDIRECT'],
    finding: (_e, trace) => {
      const last = lastHop(trace);
      return last && { key: 'unsafe', finding: unsafeFinding(last, last.location) };
    },
  },
  {
    on: 'error',
    emits: ['invalid-location'],
    errors: ['ERR_INVALID_REDIRECT'],
    finding: (_e, trace) => {
      const last = lastHop(trace);
      return last && { key: 'invalid', finding: invalidFinding(last) };
    },
  },
];

function requestFailedFix(code: string): { client: string; server: string } {
  switch (code) {
    case 'ERR_TLS':
      return {
        client: `Check the certificate: pass your CA with the ca option (in the CLI, --cacert with the CA's PEM file). hopwise never disables verification.`,
        server: `Serve a certificate valid for the host name, with its full chain.`,
      };
    case 'ERR_TIMEOUT':
      return { client: `Raise timeout.{connect,headers,body,total}, or check which hop stalled in the trace.`, server: `The hop that stalled is slow to answer; check it.` };
    case 'ERR_CONNECT':
      return { client: `Check the host and port (and the connectTo rules); is the server up?`, server: `Make sure the service listens on that address.` };
    default:
      return { client: `Read the error message; the trace shows the hops up to the failure.`, server: `Check the server logs for the failing hop.` };
  }
}

/** Any other error (connect, TLS, timeout, network...): the chain stopped, at the hop that failed. */
const requestFailed: ErrorRule = {
  on: 'error',
  emits: ['request-failed'],
  errors: 'other',
  finding: (err, trace) => {
    const failing = trace.find((h) => h.error) ?? lastHop(trace);
    return {
      key: 'failed',
      finding: finding(
        'request-failed',
        failing?.index ?? 0,
        `The chain stopped with ${err.code}${failing ? ` at hop ${failing.index} (${failing.url})` : ''}: ${err.message}`,
        { error: err.code, message: err.message, url: failing?.url ?? null },
        requestFailedFix(err.code),
      ),
    };
  },
};

// ---- proxies and private networks -------------------------------------------------------------

/** The route decision of a hop (every hop has one), for the proxy findings. */
function routeOf(hop: Hop | undefined): DecisionOf<'route'> | undefined {
  return hop?.decisions.find((d): d is DecisionOf<'route'> => d.subject === 'route');
}

/** A 407: which proxy, and whether a credential went to it (and from where) or a route change dropped it. */
const proxyAuthRequired: ErrorRule = {
  on: 'error',
  emits: ['proxy-auth-required'],
  errors: ['ERR_PROXY_AUTH'],
  finding: (_e, trace) => {
    const hop = trace.find((h) => h.error) ?? lastHop(trace);
    const route = routeOf(hop);
    const proxy = route?.facts.proxy ?? route?.facts.route ?? 'the proxy';
    const auth = hop?.decisions.filter((d): d is DecisionOf<'proxy-auth'> => d.subject === 'proxy-auth') ?? [];
    const sent = auth.find((d) => d.action === 'sent');
    const moved = auth.find((d) => d.reason === 'route-changed');
    const where = route?.facts.variable ?? 'the proxy option';
    const client = moved
      ? `A redirect moved the chain from ${moved.facts.previous ?? 'another route'} to ${moved.facts.route}; each proxy's credentials belong in that proxy's URL.`
      : sent
        ? `The proxy refused the credential from ${sent.facts.source}; check the user and password (hopwise sends Basic).`
        : `Give the proxy credentials: proxyAuth: 'user:pass', or user:pass@ in the proxy URL (${where}).`;
    return {
      key: 'proxy-auth',
      finding: finding(
        'proxy-auth-required',
        hop?.index ?? 0,
        `The proxy ${proxy} asked for credentials (407)`,
        { proxy, credentialSent: Boolean(sent), source: sent?.facts.source, routeChangedFrom: moved?.facts.previous },
        {
          client,
          server: `Nothing on the origin: the proxy ${proxy} is in front of it. Its administrator can check the account, or allow this destination without authentication.`,
        },
      ),
    };
  },
};

/** The proxy could not be reached, or refused the tunnel. */
const proxyUnreachable: ErrorRule = {
  on: 'error',
  emits: ['proxy-unreachable'],
  errors: ['ERR_PROXY'],
  finding: (e, trace) => {
    const hop = trace.find((h) => h.error) ?? lastHop(trace);
    const route = routeOf(hop);
    const proxy = route?.facts.proxy ?? route?.facts.route ?? 'the proxy';
    const variable = route?.facts.variable;
    let target = 'the origin';
    try {
      if (hop) target = new URL(hop.url).host;
    } catch {
      /* keep the generic wording */
    }
    return {
      key: 'proxy-unreachable',
      finding: finding(
        'proxy-unreachable',
        hop?.index ?? 0,
        `Could not go through the proxy ${proxy}`,
        { proxy, variable, mode: route?.facts.mode, target, message: e.message },
        {
          client: `Check the proxy URL (${variable ? `${variable} in the environment` : 'the proxy option'}); hosts that should not use it go in NO_PROXY or the noProxy option.`,
          server: `For the proxy's administrator: allow CONNECT to ${target} (the trace shows the target hopwise asked for).`,
        },
      ),
    };
  },
};

/** A route change left a proxy credential behind: hopwise did what it should; worth knowing. */
const proxyCredentialDropped = onDecisions({
  emits: ['proxy-credential-dropped'],
  subject: 'proxy-auth',
  reasons: ['route-changed', 'direct-route'],
  finding: (d, { hop }) => ({
    key: `proxy-auth-dropped:${hop.index}`,
    finding: finding(
      'proxy-credential-dropped',
      hop.index,
      d.reason === 'route-changed'
        ? `The proxy credential of ${d.facts.previous ?? 'the earlier route'} was not sent on ${d.facts.route}: the route changed`
        : `The proxy credential was not sent: hop ${hop.index} goes direct`,
      { route: d.facts.route, previous: d.facts.previous, source: d.facts.source },
      {
        client: `Nothing to do if this is intended. Proxy credentials go only to the proxy they were given for; give each proxy's credentials in its own URL.`,
        server: `Nothing to fix.`,
      },
    ),
  }),
});

function privateAddressFinding(hop: Hop, trace: readonly Hop[], d: DecisionOf<'address'> | undefined): Finding {
  const prev = trace[trace.indexOf(hop) - 1];
  const host = d?.facts.host ?? hostOf(hop.url) ?? 'the host';
  const address = d?.facts.address ?? hop.remoteAddress ?? 'a private address';
  const redirect = d ? d.facts.refuse === 'redirects' : prev !== undefined;
  const unknownBefore = d?.facts.fromClass === 'unknown';
  return finding(
    'private-address-refused',
    hop.index,
    redirect ? `A redirect from a public address led to ${host} at ${address}, a private address` : `${host} is at ${address}, and privateNetworks refuses private addresses`,
    { host, address, refuse: d?.facts.refuse, fromClass: d?.facts.fromClass, customList: d?.facts.customList, previousAddress: prev?.remoteAddress },
    {
      client:
        `If this internal address is yours and expected, allow it: privateNetworks: 'allow', or list your ranges with { refuse: 'redirects', internal: [...] }. ` +
        `Otherwise keep the default: this is what SSRF through a redirect looks like.` +
        (unknownBefore ? ` The previous hop went through a proxy or your own dispatcher, so its address was unknown and counted as public.` : ''),
      server: `A public service should not redirect clients to an internal address (${address}); redirect to a public host name.`,
    },
  );
}

/** The guard refused an address: the decision says which host, which address, under which policy. */
const privateAddressRefused = onDecisions({
  emits: ['private-address-refused'],
  subject: 'address',
  reasons: ['private-address'],
  finding: (d, { hop, trace }) => ({ key: 'private-address', finding: privateAddressFinding(hop, trace, d) }),
});

const privateAddressError: ErrorRule = {
  on: 'error',
  emits: ['private-address-refused'],
  errors: ['ERR_PRIVATE_ADDRESS'],
  finding: (_e, trace) => {
    const hop = trace.find((h) => h.error) ?? lastHop(trace);
    return hop && { key: 'private-address', finding: privateAddressFinding(hop, trace, undefined) };
  },
};

// ---- the table --------------------------------------------------------------------------------

/**
 * Every rule, in the order findings of one hop are listed: causes (what was stripped, withheld or
 * refused) before consequences (the 401, how the chain ended). A decision rule's error twin comes
 * after it, so the decision's finding (with its recorded facts) is the one kept.
 */
export const RULES: readonly Rule[] = [
  // the policy emits provider decisions before header decisions on a hop: same order here
  authOutOfScope,
  headerStripped,
  downgradeRefused,
  downgradeFollowed,
  downgradeRefusedError,
  cookieWithheld,
  setCookieRejected,
  sessionReplaced,
  sessionDeleted,
  sessionEvicted,
  clientSideRedirect,
  userinfoInLocation,
  postBecameGet,
  crossOriginBodyRefused,
  crossOriginBodySent,
  bodyNotReplayable,
  crossOriginBodyError,
  bodyNotReplayableError,
  challengeOutcome,
  unauthorizedAfterRedirect,
  sessionLostToLogin,
  redirectLoop,
  tooManyRedirects,
  unsafeRedirect,
  invalidLocation,
  redirectNotFollowed,
  ...chainEndErrors,
  proxyCredentialDropped,
  privateAddressRefused,
  privateAddressError,
  proxyAuthRequired,
  proxyUnreachable,
  // 'other' reads the codes no rule above reads: ERR_REDIRECT (redirect: "error") lands here too
  requestFailed,
];
