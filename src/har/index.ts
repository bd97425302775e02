/**
 * `diagnoseHar(har, options?)`: the doctor for a recorded chain, whoever made the requests.
 *
 *   import { diagnoseHar } from 'hopwise';
 *   const { chains, findings, source, notes } = diagnoseHar(JSON.parse(readFileSync('login.har', 'utf8')));
 *
 * Input: a HAR 1.2 object (or its JSON text / Buffer) from Chrome/Chromium DevTools ("Export HAR
 * (with sensitive data)"; the sanitized export works with less to say), Firefox, hopwise's own
 * `--har`, or a recorder such as `hopwise record`. Not a HAR: a `HopwiseError` with code
 * ERR_INVALID_HAR.
 *
 * Result (`HarDiagnosis`, plain data, JSON-safe):
 * - `source`: who wrote the HAR (`client`: chromium | firefox | hopwise | other) — it decides the
 *   rules of the replay (browser SameSite rules for browsers);
 * - `chains`: each redirect chain found (status redirects, and in a browser the meta refreshes and
 *   form auto-posts of the same page load; `kind`: a navigation, a page's fetch/XHR, or a program's
 *   request), with `hops` (trace `Hop` records carrying the replay's
 *   typed decisions, secrets redacted), `replay` (per hop: cookies the rules send next to the
 *   cookies the client sent, the same-site context, the first request's secret headers), the
 *   `error` the chain ended with, and its `findings`;
 * - `findings`: every chain's findings in chain order, then `har-incomplete` notes; with more than
 *   one chain each finding carries `facts.chain` (the chain's index);
 * - `notes`: what the HAR lacks, in words (also the `har-incomplete` findings).
 * Findings are the live doctor's (`diagnose` over the replayed decisions) plus the replay's own
 * (doctor/replay-rules): exit status and views are those of `hopwise doctor URL`.
 *
 * Options: `client` forces the rules (`'chromium'`, `'firefox'`, `'other'`) when the HAR's creator
 * is not recognised.
 */
import { HopwiseError } from '../errors.js';
import { diagnose, type DiagnosableError } from '../doctor/rules.js';
import type { Finding } from '../doctor/findings.js';
import { incompleteFinding, reconcile, replayFindings } from '../doctor/replay-rules.js';
import type { Hop } from '../trace/types.js';
import { isSensitiveName, redactSetCookie, redactValue } from '../credentials/sensitive.js';

const NONE = new Set<string>();
import { reconstructChains, type Link } from './chains.js';
import { readHar, type Exchange, type HarNote, type HarSource } from './read.js';
import { replayChains, type ReplayedHop } from './replay.js';

export type { HarSource, HarNote, Exchange } from './read.js';
export type { Link } from './chains.js';
export type { ReplayedHop } from './replay.js';

export interface DiagnoseHarOptions {
  /** The rules to replay with, instead of the ones the HAR's creator implies. */
  client?: HarSource['client'];
}

export interface HarChainDiagnosis {
  index: number;
  hops: Hop[];
  /** Per hop: how it was reached, and what the rules and the client sent (empty for hopwise's own HAR). */
  replay: ReplayedHop[];
  links: Link[];
  /** A browser's top-level navigation, a page's fetch()/XHR, or a program's request. */
  kind: 'navigation' | 'fetch' | 'request';
  error: { code: string; message: string } | undefined;
  /** HAR entry positions of the chain the replay did not reach (after a loop or the redirect limit). */
  notReplayed: number[];
  findings: Finding[];
}

export interface HarDiagnosis {
  source: HarSource;
  chains: HarChainDiagnosis[];
  findings: Finding[];
  notes: HarNote[];
}

/** hopwise's own HAR: its hops, with the decisions hopwise made, as they were. */
function hopwiseHops(exchanges: readonly Exchange[]): Hop[] {
  return exchanges.map((x, i) => {
    const h = x.hopwise;
    // A HAR written with --show-secrets holds values: the diagnosis shows names only, as every output does.
    const requestHeaders: Record<string, string> = {};
    for (const [n, raw] of x.requestHeaders) {
      const v = isSensitiveName(n, NONE) ? redactValue(n, raw) : raw;
      requestHeaders[n] = requestHeaders[n] === undefined ? v : `${requestHeaders[n]}, ${v}`;
    }
    const responseHeaders = x.setCookies.length ? { ...x.responseHeaders, 'set-cookie': x.setCookies.map(redactSetCookie) } : x.responseHeaders;
    const hop: Hop = {
      index: h?.index ?? i,
      url: x.url,
      method: x.method,
      requestHeaders,
      status: x.status,
      statusText: x.statusText,
      responseHeaders,
      newConnection: false,
      timings: h?.timings ?? { start: Number.isFinite(x.started) ? x.started : 0 },
      decisions: Array.isArray(h?.decisions) ? h.decisions : [],
    };
    if (h?.location) hop.location = h.location;
    if (h?.error) hop.error = h.error;
    return hop;
  });
}

export function diagnoseHar(har: unknown, options: DiagnoseHarOptions = {}): HarDiagnosis {
  if (options.client !== undefined && !['chromium', 'firefox', 'hopwise', 'other'].includes(options.client)) {
    throw new HopwiseError('ERR_INVALID_OPTION', `diagnoseHar: client must be 'chromium', 'firefox', 'hopwise' or 'other'`);
  }
  const read = readHar(har);
  const source: HarSource = options.client ? { ...read.source, client: options.client } : read.source;
  const chains: HarChainDiagnosis[] = [];

  if (source.client === 'hopwise') {
    // One chain, as hopwise fetched it: the doctor reads the decisions hopwise recorded.
    const hops = hopwiseHops(read.exchanges);
    const error: DiagnosableError | undefined = read.chainError ? { ...read.chainError, hops } : undefined;
    chains.push({
      index: 0,
      hops,
      replay: [],
      kind: 'request',
      links: hops.map((_, i) => (i === 0 ? { kind: 'start' as const } : { kind: 'redirect' as const, status: hops[i - 1]!.status })),
      error: read.chainError,
      notReplayed: [],
      findings: diagnose(hops, error),
    });
  } else {
    const found = reconstructChains(read.exchanges, source);
    const replayed = replayChains(read.exchanges, found, source, !read.notes.some((n) => n.missing === 'cookies'));
    replayed.forEach((c, index) => {
      const live = reconcile(diagnose(c.hops, c.error), c);
      const own = replayFindings(c);
      // Hop order; within a hop, causes before consequences: the live rules' notes and warnings,
      // then the replay's (a SameSite cookie withheld), then the errors they explain (the 401).
      const rank = (f: Finding, mine: boolean): number => (mine ? 1 : f.severity === 'error' ? 2 : 0);
      const findings = [...live.map((f) => ({ f, r: rank(f, false) })), ...own.map((f) => ({ f, r: rank(f, true) }))]
        .map((x, k) => ({ ...x, k }))
        .sort((a, b) => a.f.hop - b.f.hop || a.r - b.r || a.k - b.k)
        .map(({ f }) => f);
      chains.push({
        index,
        hops: c.hops,
        replay: c.replay,
        links: found[index]!.links,
        kind: found[index]!.kind,
        error: c.error ? { code: c.error.code, message: c.error.message } : undefined,
        notReplayed: c.notReplayed,
        findings,
      });
    });
  }
  const many = chains.length > 1;
  const findings = chains.flatMap((c) => (many ? c.findings.map((f) => ({ ...f, facts: { ...f.facts, chain: c.index } })) : c.findings));
  findings.push(...read.notes.map(incompleteFinding));
  return { source, chains, findings, notes: read.notes };
}
