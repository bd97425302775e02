/**
 * The doctor's rules for a replayed recording (`hopwise doctor --har`, `diagnoseHar`): what only a
 * replay can say, because it has both what the rules decided at a hop and what the client actually
 * sent there. They read the replay's records (har/replay.ts) and the replayed hops' typed decisions;
 * `diagnose` (rules.ts) reads the same hops for everything a live chain can show.
 *
 * - SameSite: a cookie the browser rules withheld (a `cookie` decision with reason
 *   `samesite-strict` / `samesite-lax`) and that the browser indeed did not send;
 * - differences: a cookie the rules send and the client did not; a cookie the rules withhold and
 *   the client sent; a secret header of the first request sent on to another origin (a leak), or
 *   dropped on the same origin.
 * `reconcile` also drops a `diagnose` finding the recording contradicts (a cookie "withheld" that
 * the client sent after all is reported as sent against the rules, not as withheld), and says a
 * body resent to another origin of the client that resent it (the replay follows 307/308 with
 * crossOriginBody "send", which is the client's doing, not an option anyone set).
 */
import type { Hop } from '../trace/types.js';
import type { ReplayedChain, ReplayedHop } from '../har/replay.js';
import type { HarNote } from '../har/read.js';
import { FINDINGS, type FactValue, type Finding, type FindingCode } from './findings.js';
import { headerTitle, hostOf, pathOf, trustPatternFor } from './rules.js';

/** The finding codes only a replay emits (the table in rules.ts emits the others). */
export const REPLAY_EMITS: readonly FindingCode[] = [
  'cookie-withheld-samesite',
  'cookie-not-sent',
  'cookie-sent-against-rules',
  'secret-sent-cross-origin',
  'credential-dropped-same-origin',
  'set-cookie-rejected-samesite-none',
  'har-incomplete',
];

function make(code: FindingCode, hop: number, title: string, facts: Record<string, FactValue | undefined>, fix: { client: string; server: string }): Finding {
  const clean: Record<string, FactValue> = {};
  for (const [k, v] of Object.entries(facts)) if (v !== undefined) clean[k] = v;
  return { code, severity: FINDINGS[code].severity, hop, title, facts: clean, fix };
}

function linkText(r: ReplayedHop): string {
  switch (r.link.kind) {
    case 'start':
      return 'the first request';
    case 'redirect':
      return `a ${r.link.status} redirect`;
    case 'form-post':
      return 'a form the previous page posted by itself';
    case 'meta-refresh':
    case 'refresh-header':
      return `the previous page's ${r.link.kind}`;
    case 'script':
      return "the previous page's location script";
    default:
      return 'a navigation the previous page made';
  }
}

/** Whether the client is a browser (the replay computed same-site contexts). */
const isBrowserReplay = (c: ReplayedChain): boolean => c.replay.some((r) => r.site !== undefined);

function sameSiteFinding(hop: Hop, r: ReplayedHop, name: string, reason: 'samesite-strict' | 'samesite-lax'): Finding {
  const attr = r.sameSiteOf?.[name] ?? (reason === 'samesite-strict' ? 'strict' : 'lax');
  const label = attr === 'strict' ? 'SameSite=Strict' : attr === 'lax' ? 'SameSite=Lax' : 'no SameSite attribute (Lax by default)';
  const from = r.site?.initiator ?? undefined;
  const through = r.site?.through ?? [];
  const crossVia = from === undefined || hostOf(from) === hostOf(hop.url) ? through.find((o) => hostOf(o) !== hostOf(hop.url)) : from;
  const fromHost = hostOf(crossVia ?? from) ?? 'another site';
  const post = hop.method !== 'GET' && hop.method !== 'HEAD';
  const facts = {
    cookie: name,
    sameSite: attr === 'default' ? 'unset (Lax by default)' : attr,
    url: hop.url,
    method: hop.method,
    from: crossVia ?? from,
    via: linkText(r),
    hops: [hop.index],
  };
  let title: string;
  let server: string;
  if (reason === 'samesite-strict') {
    title = `The browser did not send ${name} at hop ${hop.index}: it is ${label} and the navigation to ${hostOf(hop.url)} came from ${fromHost}, another site (${linkText(r)})`;
    server =
      `A session cookie that must survive a round trip through another site (an identity provider, a payment page) cannot be SameSite=Strict: ` +
      `set it SameSite=Lax (sent on top-level GET navigations from other sites), and keep Strict only for a second cookie that guards state-changing requests.`;
  } else {
    title = post
      ? `The browser did not send ${name} at hop ${hop.index}: it has ${label} and ${hop.method} ${pathOf(hop.url) ?? hop.url} is a cross-site ${hop.method} from ${fromHost} (${linkText(r)})`
      : `The browser did not send ${name} at hop ${hop.index}: it has ${label} and the request from ${fromHost} is not a top-level GET navigation`;
    server = post
      ? `Lax cookies never go on a cross-site POST, which is what an identity provider's response_mode=form_post is. Use response_mode=query (a GET back to the app), ` +
        `or set the cookie the callback needs with SameSite=None; Secure and check the OAuth state/nonce against it.`
      : `Set the cookie with SameSite=None; Secure if it must go on cross-site requests.`;
  }
  return make('cookie-withheld-samesite', hop.index, title, facts, {
    client: `Nothing to change in the browser: this is its SameSite rule (RFC 6265bis §5.8.3). hopwise as an HTTP client sends the cookie, so a script "works" where the browser does not.`,
    server,
  });
}

/** Findings only a replay can make, for one replayed chain. */
export function replayFindings(chain: ReplayedChain): Finding[] {
  const out: Finding[] = [];
  const browser = isBrowserReplay(chain);
  const seen = new Map<string, Finding>();
  const once = (key: string, f: Finding): void => {
    const first = seen.get(key);
    if (first) {
      if (Array.isArray(first.facts.hops)) (first.facts.hops as number[]).push(f.hop);
      return;
    }
    seen.set(key, f);
    out.push(f);
  };
  chain.replay.forEach((r, i) => {
    const hop = chain.hops[i];
    if (!hop) return;
    const actual = r.cookies.actual;
    // A cookie the browser ignored when it was set (browser rules in the replay's jar).
    for (const d of hop.decisions) {
      if (d.subject !== 'set-cookie' || d.reason !== 'samesite-none-insecure') continue;
      const name = d.name ?? '(nameless)';
      once(
        `none-insecure:${name}`,
        make(
          'set-cookie-rejected-samesite-none',
          hop.index,
          `The browser ignored cookie ${name} set at hop ${hop.index}: SameSite=None without Secure`,
          { cookie: name, url: hop.url, hops: [hop.index] },
          {
            client: `Nothing to change in the browser: RFC 6265bis §5.7 ignores a SameSite=None cookie that is not Secure. hopwise as an HTTP client keeps it, with a note.`,
            server: `Set ${name} with SameSite=None; Secure (and serve it over https:), or drop SameSite=None if the cookie is not needed on cross-site requests.`,
          },
        ),
      );
    }
    // SameSite, from the jar's decisions with browser rules.
    for (const d of hop.decisions) {
      if (d.subject !== 'cookie' || (d.reason !== 'samesite-strict' && d.reason !== 'samesite-lax')) continue;
      if (actual !== undefined && actual.includes(d.name)) continue; // the browser sent it after all: not the cause
      once(`samesite:${d.name}`, sameSiteFinding(hop, r, d.name, d.reason));
    }
    if (actual !== undefined) {
      for (const name of r.cookies.missing) {
        const who = browser ? 'The browser' : 'Your client';
        once(
          `not-sent:${name}`,
          make(
            'cookie-not-sent',
            hop.index,
            `${who} did not send ${name} at hop ${hop.index} (${pathOf(hop.url) ?? hop.url} on ${hostOf(hop.url)}), though the cookie rules send it there`,
            { cookie: name, url: hop.url, hops: [hop.index] },
            browser
              ? {
                  client: `Look outside the redirect rules: third-party cookie blocking or another browser setting, an extension, a script that deleted ${name}, or cookies cleared during the flow.`,
                  server: `Nothing in this chain withholds ${name}; if the browser blocks it as a third-party cookie, serve the flow first-party.`,
                }
              : {
                  client: `Keep cookies across redirects: use a session with a cookie jar (requests.Session(), curl -b FILE -c FILE, hopwise keeps them by default).`,
                  server: `Nothing to change: the cookie's attributes cover this request.`,
                },
          ),
        );
      }
      for (const d of hop.decisions) {
        if (d.subject !== 'cookie' || d.action !== 'withheld' || !r.cookies.sentAgainstRules.includes(d.name)) continue;
        once(
          `against:${d.name}`,
          make(
            'cookie-sent-against-rules',
            hop.index,
            `${browser ? 'The browser' : 'Your client'} sent ${d.name} at hop ${hop.index} although the cookie rules withhold it there: ${d.detail}`,
            { cookie: d.name, url: hop.url, reason: d.reason, hops: [hop.index] },
            {
              client: `Use a client whose cookie jar follows RFC 6265bis (domain, path, Secure, expiry): this one sends cookies where they do not belong, which can leak a session.`,
              server: `Do not rely on this client's behaviour; scope the cookie with Domain/Path/Secure as needed.`,
            },
          ),
        );
      }
    }
    // The first request's secret headers, hop by hop.
    for (const h of r.headers) {
      const prev = chain.hops[i - 1];
      const from = prev ? new URL(prev.url).origin : undefined;
      const to = new URL(hop.url).origin;
      if (!h.expected && h.actual && i > 0) {
        once(
          `leak:${h.name}`,
          make(
            'secret-sent-cross-origin',
            hop.index,
            `${browser ? 'The browser' : 'Your client'} sent ${headerTitle(h.name)} to another origin at hop ${hop.index} (a leak): ${hostOf(from) ?? 'the first origin'} → ${hostOf(to)}`,
            { header: h.name, from, to, reason: h.reason, hops: [hop.index] },
            {
              client: browser
                ? `A page's fetch() keeps the headers it set across redirects: Fetch "HTTP-redirect fetch" removes only Authorization on a cross-origin redirect, so ${headerTitle(h.name)} went on ` +
                  `(once ${hostOf(to)}'s CORS preflight allowed it). Call the API with redirect: 'manual' (or 'error') and request the target yourself without ${headerTitle(h.name)}.`
                : `Do not attach ${headerTitle(h.name)} to every request of a session: give it only to its origin (hopwise: header('${h.name}', value, { scope: ['${trustPatternFor(from ?? to)}'] }); ` +
                  `a header given to hopwise with -H goes only to the first origin and its https upgrade), and update the client (follow-redirects CVE-2022-0155 and requests CVE-2023-32681 were this bug).`,
              server: `An endpoint that receives credentials should not redirect to another origin; validate redirect targets against an allow-list. Rotate the leaked credential.`,
            },
          ),
        );
      } else if (h.expected && !h.actual && !h.other && i > 0) {
        once(
          `dropped:${h.name}`,
          make(
            'credential-dropped-same-origin',
            hop.index,
            `Your client dropped ${headerTitle(h.name)} on a same-origin hop (hop ${hop.index}, ${to}), where a careful client keeps it`,
            { header: h.name, from, to, reason: h.reason, hops: [hop.index] },
            {
              client:
                `Use a client that strips credentials only when the origin changes (Fetch "HTTP-redirect fetch" step 13): hopwise keeps ${headerTitle(h.name)} on ${to}, ` +
                `whether given as a header (-H) or as a scoped auth provider.`,
              server: `Nothing to change: the redirect stays on ${to}.`,
            },
          ),
        );
      }
    }
  });
  return out;
}

/**
 * `diagnose`'s findings for a replayed chain, minus what the recording contradicts: a cookie
 * "withheld" at every hop the finding names but sent there by the client, a header "stripped" that
 * the client sent on (the replay's own findings name those). A body resent across origins is said
 * of the client, with the bytes the recording shows at the next hop.
 */
export function reconcile(findings: readonly Finding[], chain: ReplayedChain): Finding[] {
  return findings
    .map((f) => (f.code === 'cross-origin-body-sent' ? bodyResent(f, chain) : f))
    .filter((f) => {
      if (f.code.startsWith('cookie-withheld-') && typeof f.facts.cookie === 'string') {
        const hops = Array.isArray(f.facts.hops) ? (f.facts.hops as number[]) : [f.hop];
        const name = f.facts.cookie;
        return !hops.every((h) => chain.replay[h]?.cookies.sentAgainstRules.includes(name) === true);
      }
      if ((f.code === 'credential-stripped-cross-origin' || f.code === 'secret-header-stripped') && typeof f.facts.header === 'string') {
        const r = chain.replay[f.hop];
        return !(r?.headers.some((h) => h.name === f.facts.header && h.actual) ?? false);
      }
      return true;
    });
}

/**
 * A body resent to another origin, said of the client that did it: the replay follows 307/308 with
 * crossOriginBody "send" because that is what the recorded client did, so the live rule's wording
 * ("because crossOriginBody is send", hopwise's option) is replaced by what the recording shows:
 * the next request carried the body (Fetch "HTTP-redirect fetch" keeps method and body on a 307/308,
 * across origins too).
 */
function bodyResent(f: Finding, chain: ReplayedChain): Finding {
  const next = chain.hops[f.hop + 1];
  const bytes = next?.requestBodySize;
  if (next === undefined || bytes === undefined) return f;
  const who = isBrowserReplay(chain) ? 'The browser' : 'Your client';
  const to = typeof f.facts.to === 'string' ? f.facts.to : new URL(next.url).origin;
  const status = chain.hops[f.hop]?.status;
  return make(
    'cross-origin-body-sent',
    f.hop,
    `${who} resent the request body (${bytes} bytes) to ${hostOf(to) ?? 'another origin'} at hop ${next.index}: a ${status ?? '307/308'} keeps method and body, and the redirect crossed to another origin`,
    { ...f.facts, to, bytes, hops: [next.index] },
    {
      client:
        `${who === 'The browser' ? 'Nothing to change in the browser: it resends the body on a 307/308 to any origin (Fetch "HTTP-redirect fetch").' : 'Intended? Most clients resend the body on a 307/308 to any origin.'} ` +
        `hopwise refuses by default (a body goes only where credentials may go) and sends it with trust: ['${trustPatternFor(to)}'] or crossOriginBody: 'send'.`,
      server: `Tell clients the right endpoint up front (region in the API response) instead of redirecting uploads across origins; if the redirect is intended, document it.`,
    },
  );
}

/** What the HAR lacks, as an info finding (the whole file: hop 0). */
export function incompleteFinding(n: HarNote): Finding {
  return make(
    'har-incomplete',
    0,
    `The HAR is incomplete: ${n.message}`,
    { missing: n.missing, entries: n.entries },
    {
      client:
        n.missing === 'cookies'
          ? 'Export the HAR again with sensitive data (Chrome DevTools: Network → ⤓ → "Export HAR (with sensitive data)"; Firefox keeps cookies).'
          : 'Record the flow again with a tool that keeps every header.',
      server: 'Nothing to change on the server for this note.',
    },
  );
}
