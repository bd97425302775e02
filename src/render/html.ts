/**
 * The chain as one self-contained HTML page (`hopwise doctor --html FILE`, `hopwise trace --html
 * FILE`, `renderHtml()` from `hopwise/html`): the findings with their fixes on top, then the hops as
 * a timeline, each with its request and response and every decision marked (sent, stripped,
 * withheld, stored, rejected, replayed...) with its reason in the words of `REASONS`.
 *
 * Self-contained: inline CSS, no script, no external asset, and a Content-Security-Policy that
 * forbids any load, so opening the file makes no request. It reads only the trace as recorded, so
 * it shows exactly what the text and HAR outputs show: secrets were redacted when the hops were
 * recorded (credential headers keep their scheme, cookies their names, Set-Cookie its attributes,
 * secret-looking query values are `redacted`); as a second guard every header value whose name is
 * sensitive and every URL pass through the same redaction again here. Every string is escaped.
 */
import { redactQuery, redactSetCookie, redactValue, isSensitiveName } from '../credentials/sensitive.js';
import type { Finding, Severity } from '../doctor/findings.js';
import { groupOf, reasonWords, subjectLabel, type DecisionGroup } from '../trace/render-text.js';
import { redirectsIn, type Decision, type Hop } from '../trace/types.js';

export interface RenderHtmlOptions {
  /** The error the chain stopped with, if any. */
  error?: { code: string; message: string } | undefined;
  /** The page's heading (default: "hopwise doctor" with findings, else "hopwise trace"). */
  title?: string;
  /** The whole command line that applies a finding's CLI fix, as `hopwise doctor` prints it. */
  command?: (f: Finding) => string | undefined;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

const NO_EXTRA = new Set<string>();
/**
 * A header value as every output shows it: already redacted by the session; redacted again here if
 * it is a request header with a sensitive name, a Set-Cookie, or a URL-valued header with secret
 * query values (a challenge in WWW-Authenticate is not a secret: it stays readable).
 */
function shownHeader(side: 'request' | 'response', name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'location' || lower === 'content-location' || lower === 'referer') return redactQuery(value);
  if (side === 'response') return lower === 'set-cookie' && !value.includes('‹redacted›') ? redactSetCookie(value) : value;
  if (!isSensitiveName(lower, NO_EXTRA) || value.includes('‹redacted›')) return value;
  return redactValue(lower, value);
}

/** The mark a decision gets on the page: its action, with the words people look for. */
function mark(d: Decision): string {
  if (d.subject === 'body' && d.reason === 'body-replayed') return 'replayed';
  return d.action;
}

/** The order of the tally in the summary line (the findings themselves keep the doctor's order: hop, then cause before consequence). */
const SEVERITY_ORDER: readonly Severity[] = ['error', 'warning', 'info'];

function factText(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(none)';
  if (v === null) return '(none)';
  return String(v);
}

function findingHtml(f: Finding, i: number, command: RenderHtmlOptions['command']): string {
  const facts = Object.entries(f.facts).filter(([k]) => k !== 'detail');
  const run = command?.(f);
  return `<article class="finding ${f.severity}" id="finding-${i}" data-finding="${esc(f.code)}" data-hop="${f.hop}">
<h3><span class="sev">${esc(f.severity)}</span> <code>${esc(f.code)}</code> <a href="#hop-${f.hop}">hop ${f.hop}</a></h3>
<p class="title">${esc(redactQuery(f.title))}</p>
${facts.length ? `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(redactQuery(factText(v)))}</dd>`).join('')}</dl>` : ''}
<p class="fix"><b>client</b> ${esc(f.fix.client)}</p>
${run ? `<pre class="run"><b>run</b> ${esc(run)}</pre>` : ''}
<p class="fix"><b>server</b> ${esc(f.fix.server)}</p>
</article>`;
}

function headersTable(side: 'request' | 'response', h: Record<string, string | string[]>): string {
  const rows = Object.entries(h).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `<tr><th>${esc(k)}</th><td>${esc(shownHeader(side, k, one))}</td></tr>`));
  return rows.length ? `<table class="headers">${rows.join('')}</table>` : '<p class="none">(none recorded)</p>';
}

function statusClass(status: number): string {
  return status === 0 || status >= 400 ? 'bad' : status >= 300 ? 'redirect' : 'ok';
}

function hopHtml(h: Hop): string {
  const status = h.status === 0 ? (h.error?.code ?? 'no response') : `${h.status} ${h.statusText ?? ''}`.trim();
  const t = h.timings;
  const total = t?.end ?? t?.firstByte;
  const meta: string[] = [];
  if (total !== undefined) meta.push(`${Math.round(total * 10) / 10} ms`);
  meta.push(h.newConnection ? 'new connection' : 'reused connection');
  if (h.protocol) meta.push(h.protocol);
  if (h.route && h.route !== 'direct') meta.push(h.route);
  if (h.remoteAddress) meta.push(h.remoteAddress);
  if (h.backend) meta.push(...Object.entries(h.backend.headers).map(([k, v]) => `${k}: ${v}`));
  const decisions = h.decisions.map((d) => {
    const g: DecisionGroup = groupOf(d);
    const detail = d.detail && d.detail !== reasonWords(d) ? `<div class="detail">${esc(redactQuery(d.detail))}</div>` : '';
    return `<li class="decision ${g}" data-mark="${esc(mark(d))}"><span class="mark">${esc(mark(d))}</span> <b>${esc(subjectLabel(d))}</b> — ${esc(reasonWords(d))} <code class="reason">${esc(d.reason)}</code>${detail}</li>`;
  });
  const bodies: string[] = [];
  if (h.requestBody !== undefined) bodies.push(`<details><summary>request body</summary><pre>${esc(h.requestBody)}</pre></details>`);
  if (h.responseBody !== undefined) bodies.push(`<details><summary>response body</summary><pre>${esc(h.responseBody)}</pre></details>`);
  return `<li class="hop" id="hop-${h.index}" data-hop="${h.index}">
<h3><span class="idx">#${h.index}</span> <span class="method">${esc(h.method)}</span> <span class="url">${esc(redactQuery(h.url))}</span> <span class="status ${statusClass(h.status)}">${esc(status)}</span></h3>
<p class="meta">${esc(meta.join(' · '))}${h.location ? ` · location <span class="url">${esc(redactQuery(h.location))}</span>` : ''}${h.requestBodySize !== undefined ? ` · request body ${h.requestBodySize} bytes` : ''}</p>
${decisions.length ? `<ul class="decisions">${decisions.join('')}</ul>` : ''}
${h.error ? `<p class="hop-error">${esc(h.error.code)}: ${esc(h.error.message)}</p>` : ''}
<div class="exchange"><details open><summary>request</summary>${headersTable('request', h.requestHeaders)}</details><details open><summary>response</summary>${headersTable('response', h.responseHeaders)}</details></div>
${bodies.join('')}
</li>`;
}

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--dim:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da;--next:#8250df}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--dim:#8d96a0;--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--info:#58a6ff;--next:#bc8cff}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:72rem;padding:1rem 1.5rem}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.1rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:1.6rem}h3{font-size:1rem;margin:.2rem 0}
code,pre,.url{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;overflow-wrap:anywhere}
.summary{color:var(--dim)}.finding{border-left:4px solid var(--line);padding:.3rem .8rem;margin:.6rem 0}
.finding.error{border-color:var(--bad)}.finding.warning{border-color:var(--warn)}.finding.info{border-color:var(--info)}
.sev{text-transform:uppercase;font-size:11px;font-weight:700;letter-spacing:.04em}.error .sev{color:var(--bad)}.warning .sev{color:var(--warn)}.info .sev{color:var(--info)}
.title{margin:.2rem 0 .4rem;font-weight:600}.facts{display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem;margin:.2rem 0;color:var(--dim);font-size:12.5px}.facts dt{font-weight:600}.facts dd{margin:0;overflow-wrap:anywhere}
.fix{margin:.2rem 0}.run{background:color-mix(in srgb,var(--ok) 10%,transparent);padding:.4rem .6rem;white-space:pre-wrap;margin:.3rem 0}
ol.timeline{list-style:none;padding:0;margin:0;border-left:2px solid var(--line)}
.hop{position:relative;margin:0 0 1.2rem 0;padding:0 0 0 1rem}.hop::before{content:"";position:absolute;left:-7px;top:.35rem;width:12px;height:12px;border-radius:50%;background:var(--line)}
.idx{color:var(--dim)}.method{font-weight:700}.status{font-weight:700;margin-left:.4rem}.status.ok{color:var(--ok)}.status.redirect{color:var(--warn)}.status.bad{color:var(--bad)}
.meta{color:var(--dim);margin:.1rem 0 .3rem}.decisions{list-style:none;padding:0;margin:.3rem 0}.decision{margin:.15rem 0}.detail{color:var(--dim);font-size:12.5px;margin-left:5.6rem}
.mark{display:inline-block;min-width:5rem;text-align:center;font-size:11px;font-weight:700;border-radius:3px;padding:0 .3rem;color:#fff}
.sent .mark{background:var(--ok)}.stripped .mark,.withheld .mark{background:var(--warn)}.stored .mark{background:var(--info)}.rejected .mark{background:var(--bad)}.next .mark{background:var(--next)}
.reason{color:var(--dim);font-size:11px}.exchange{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}@media (max-width:50rem){.exchange{grid-template-columns:1fr}}
table.headers{border-collapse:collapse;width:100%;font-size:12.5px}table.headers th{text-align:left;font-weight:600;padding:.05rem .6rem .05rem 0;vertical-align:top;white-space:nowrap}table.headers td{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
summary{cursor:pointer;color:var(--dim)}.hop-error,.stopped{color:var(--bad)}.none{color:var(--dim)}
`;

/** The page: a whole HTML document as a string. */
export function renderHtml(hops: readonly Hop[], findings: readonly Finding[] = [], options: RenderHtmlOptions = {}): string {
  const title = options.title ?? (findings.length || hops.length === 0 ? 'hopwise doctor' : 'hopwise trace');
  const first = hops[0];
  const last = hops[hops.length - 1];
  const redirects = redirectsIn(hops);
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const tally = SEVERITY_ORDER.map((s) => [s, count(s)] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s === 'info' ? `note${n === 1 ? '' : 's'}` : `${s}${n === 1 ? '' : 's'}`}`)
    .join(', ');
  const end = options.error
    ? `<p class="stopped"><b>stopped</b> ${esc(options.error.code)}: ${esc(options.error.message)}</p>`
    : last
      ? `<p class="summary">done <b>${esc(`${last.status} ${last.statusText ?? ''}`.trim())}</b> ${esc(redactQuery(last.url))}</p>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}${first ? ` — ${esc(redactQuery(first.url))}` : ''}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}${first ? ` <span class="url">${esc(first.method)} ${esc(redactQuery(first.url))}</span>` : ''}</h1>
<p class="summary">${hops.length} hop${hops.length === 1 ? '' : 's'}, ${redirects} redirect${redirects === 1 ? '' : 's'}${findings.length ? ` · ${esc(tally)}` : ''} · secrets redacted</p>
${end}
</header>
<section id="findings">
<h2>Findings</h2>
${findings.length ? findings.map((f, i) => findingHtml(f, i, options.command)).join('\n') : '<p class="none">No findings: every hop went as a careful client would want.</p>'}
</section>
<section id="hops">
<h2>Hops</h2>
<ol class="timeline">
${hops.map(hopHtml).join('\n')}
</ol>
</section>
</body>
</html>
`;
}
