/**
 * What common HTTP clients do with credentials on a redirect, and why: the part of a diagnosis the
 * replay cannot know, because it is the recorded program's own policy, not a rule of the web.
 * `hopwise record` identifies the client by the User-Agent it sent and adds, beside a finding the
 * doctor made (the finding says what happened at which hop), one sentence on why that client does
 * it and the fix in that client's own terms.
 *
 * Sources (read, not guessed):
 *   requests  Session.resolve_redirects → rebuild_auth → should_strip_auth (requests/sessions.py):
 *             Authorization is removed when the host changes, and since 2.20.0 (CVE-2018-18074) when
 *             the scheme or port changes other than http:80 → https:443; every other header of the
 *             session or request, X-Api-Key included, is sent on unchanged. Proxy-Authorization:
 *             CVE-2023-32681.
 *   curl      -L sends Authorization and Cookie given with -H, and -u credentials, to the first host
 *             only (custom Authorization since 7.58.0, CVE-2018-1000007; also on a port or scheme
 *             change since 7.83.0, CVE-2022-27776); every other -H header goes to every host.
 *             --location-trusted sends the credentials everywhere.
 */
import type { Finding } from '../doctor/index.js';

export interface ClientNote {
  /** The finding it explains (code and hop). */
  code: Finding['code'];
  hop: number;
  /** The client, as its User-Agent names it (`python-requests/2.34.2`). */
  client: string;
  why: string;
  fix: string;
}

type Explain = (f: Finding, header: string, from: string, to: string) => { why: string; fix: string } | undefined;

const host = (origin: string): string => {
  try {
    return new URL(origin).hostname;
  } catch {
    return origin;
  }
};

const REQUESTS: Explain = (f, header, from, to) => {
  if (f.code === 'credential-stripped-cross-origin' && header === 'authorization') {
    return {
      why:
        `requests removes Authorization on every redirect that changes the host (${host(from)} → ${host(to)}), and since 2.20.0 (CVE-2018-18074) the scheme or port ` +
        `other than an http → https upgrade: Session.rebuild_auth asks should_strip_auth. A header in session.headers is no exception.`,
      fix:
        `If ${host(to)} is yours and must get the token, say so for that host only: subclass requests.Session and override ` +
        `should_strip_auth(self, old_url, new_url) to return False when urlparse(new_url).hostname == '${host(to)}' (else super()'s answer); ` +
        `or call the final URL yourself with the header. Never disable the check for every host.`,
    };
  }
  if (f.code === 'secret-sent-cross-origin') {
    return {
      why: `requests strips only Authorization (and rebuilds Cookie from its jar) on a redirect to another host: every other header in session.headers or headers=, ${header} included, goes to ${host(to)} as it went to ${host(from)}.`,
      fix:
        `Keep ${header} on ${host(from)}: subclass requests.Session and override rebuild_auth(self, prepared_request, response) to call super() and then ` +
        `prepared_request.headers.pop('${header}', None) when self.should_strip_auth(response.request.url, prepared_request.url); or follow redirects yourself (allow_redirects=False).`,
    };
  }
  return undefined;
};

const CURL: Explain = (f, header, from, to) => {
  if (f.code === 'credential-stripped-cross-origin' && (header === 'authorization' || header === 'cookie')) {
    return {
      why: `curl -L sends ${header === 'cookie' ? 'a Cookie given with -H' : 'Authorization (from -H or -u)'} to the first host only (CVE-2018-1000007, CVE-2022-27776), so ${host(to)} did not get it.`,
      fix: `curl has no per-host scope: request ${host(to)} yourself with the header, or use hopwise (--auth-scope ${host(to)}). --location-trusted would send it to every host the redirects reach.`,
    };
  }
  if (f.code === 'secret-sent-cross-origin') {
    return {
      why:
        header === 'authorization'
          ? `--location-trusted makes curl send Authorization to every host the redirects reach, ${host(to)} included (without it, curl since 7.58.0 keeps Authorization on the first host).`
          : `curl -L strips only Authorization and Cookie on a redirect to another host; every other -H header, ${header} included, goes to ${host(to)} too.`,
      fix:
        header === 'authorization'
          ? `Drop --location-trusted; if ${host(to)} must get the credential, request it yourself with the header.`
          : `Do not combine -L with a secret -H header: follow the redirect yourself (-w '%{redirect_url}') and send ${header} only to ${host(from)}, or use hopwise (it strips secret-looking headers on another origin).`,
    };
  }
  return undefined;
};

const CLIENTS: readonly { product: RegExp; explain: Explain }[] = [
  { product: /^python-requests\//i, explain: REQUESTS },
  { product: /^curl\//i, explain: CURL },
];

/** Notes for the findings a known client explains; `userAgentFor` is the User-Agent the program sent at the finding's hop. */
export function clientNotes(findings: readonly Finding[], userAgentFor: (f: Finding) => string | undefined): ClientNote[] {
  const out: ClientNote[] = [];
  for (const f of findings) {
    const ua = userAgentFor(f);
    if (!ua) continue;
    const client = CLIENTS.find((c) => c.product.test(ua));
    const header = typeof f.facts.header === 'string' ? f.facts.header.toLowerCase() : undefined;
    const from = typeof f.facts.from === 'string' ? f.facts.from : undefined;
    const to = typeof f.facts.to === 'string' ? f.facts.to : undefined;
    if (!client || !header || !from || !to) continue;
    const note = client.explain(f, header, from, to);
    if (note) out.push({ code: f.code, hop: f.hop, client: ua.split(/\s/)[0]!, ...note });
  }
  return out;
}
