/**
 * `hopwise demo` (what `npm start` runs): starts the lab in-process, runs every case of every
 * scenario with the library, and prints for each scenario what happened, what hopwise did and what
 * the doctor said, then a table. Exits 1 if any case misbehaves (outcome, what the lab received, or
 * the doctor's findings differ from the expectation), so it doubles as an end-to-end test.
 */
import { diagnose, type Finding } from '../doctor/index.js';
import { HopwiseError, Session, type Decision, type Hop } from '../index.js';
import { startLab, type ExpectCase, type Lab, type ScenarioInfo } from '../lab/index.js';
import { palette, shouldColor, type Palette } from '../trace/render-text.js';
import { write, type CliIO } from './io.js';
import { caseSessionOptions, checkCase, checkFindings, type CaseRun } from './scenarios.js';

export interface CaseResult {
  scenario: string;
  item: number;
  case: string;
  setup: string;
  outcome: string;
  did: string[];
  findings: Finding[];
  problems: string[];
  ms: number;
}

export async function runCase(lab: Lab, s: ScenarioInfo, c: ExpectCase): Promise<{ run: CaseRun; findings: Finding[]; problems: string[] }> {
  lab.reset(s.id);
  const session = new Session(caseSessionOptions(c, lab));
  const run: CaseRun = { hops: [] };
  try {
    const res = await session.fetch(c.request.url, {
      method: c.request.method,
      ...(c.request.headers ? { headers: c.request.headers } : {}),
      ...(c.request.body !== undefined ? { body: c.request.body } : {}),
    });
    const body = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    run.hops = res.hops;
    run.response = { status: res.status, url: res.url, headers, body };
  } catch (e) {
    if (!(e instanceof HopwiseError)) throw e;
    run.hops = e.hops;
    run.error = { code: e.code, message: e.message };
  } finally {
    await session.close();
  }
  const findings = diagnose(run.hops, run.error);
  const problems = checkCase(c, run, lab.received(s.id));
  const f = checkFindings(
    c,
    findings.map((x) => x.code),
  );
  if (f) problems.push(f);
  return { run, findings, problems };
}

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function shortUrl(url: string, scenario: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol === 'http:' ? 'http://' : ''}${u.host}${u.pathname.replace(`/${scenario}`, '')}${u.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}

/** What hopwise did, in a few short phrases read from the decisions. */
export function whatHopwiseDid(hops: readonly Hop[], error?: { code: string }): string[] {
  const out: string[] = [];
  const add = (s: string) => out.includes(s) || out.push(s);
  const all: [Hop, Decision][] = hops.flatMap((h) => h.decisions.map((d) => [h, d] as [Hop, Decision]));
  for (const [h, d] of all) {
    const name = d.name ?? d.subject;
    if (d.subject === 'header' && d.action === 'stripped' && d.reason === 'cross-origin') add(`stripped ${name} → ${host(h.url)}`);
    else if (d.subject === 'header' && d.action === 'sent' && h.index > 0) add(`kept ${name} (${d.reason})`);
    else if (d.subject === 'auth' && d.action === 're-applied') add(`re-applied ${name} for ${host(h.url)} (in scope)`);
    else if (d.subject === 'auth' && d.action === 'withheld' && h.index > 0) add(`withheld ${name} from ${host(h.url)} (out of scope)`);
    else if (d.subject === 'cookie' && d.action === 'withheld') add(`withheld cookie ${name} (${d.reason})`);
    else if (d.subject === 'cookie' && d.action === 'sent' && h.index > 0) add(`sent cookie ${name}`);
    else if (d.subject === 'set-cookie' && d.action === 'rejected') add(`rejected Set-Cookie ${name} (${d.reason})`);
    else if (d.subject === 'set-cookie' && d.action === 'stored' && d.reason === 'replaced') add(`stored a new ${name} (replaced)`);
    else if (d.subject === 'method' && d.action === 'rewritten') add(`${d.facts?.from ?? 'POST'}→GET (${d.facts?.status ?? d.reason})`);
    else if (d.subject === 'body' && d.action === 'sent') add(d.reason === 'cross-origin-body' ? `resent body → ${host(String(d.facts?.to ?? ''))}` : 'resent body');
    else if (d.subject === 'body' && d.action === 'dropped') add('dropped body');
    else if (d.subject === 'redirect' && d.reason === 'meta-refresh') add('followed the meta refresh');
    else if (d.subject === 'redirect' && (d.reason === 'meta-refresh-not-followed' || d.reason === 'script-redirect-not-followed'))
      add(`stopped at the 200 page (${d.reason === 'meta-refresh-not-followed' ? 'meta refresh' : 'script'})`);
    else if (d.subject === 'redirect' && d.reason === 'downgrade-allowed') add('followed https→http as cross-origin');
  }
  if (error) add(`stopped: ${error.code}`);
  if (out.length === 0) add(hops.length > 1 ? 'followed, nothing to strip or withhold' : 'nothing to follow');
  return out;
}

function outcomeText(run: CaseRun, scenario: string): string {
  const redirects = Math.max(0, run.hops.length - 1);
  if (run.error) return `${run.error.code} after ${redirects} redirect${redirects === 1 ? '' : 's'}`;
  const r = run.response!;
  return `${r.status} ${shortUrl(r.url, scenario)}${redirects ? ` (${redirects} redirect${redirects === 1 ? '' : 's'})` : ''}`;
}

function doctorText(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'clean';
  return [...new Set(findings.map((f) => (f.severity === 'info' ? `${f.code} (info)` : f.code)))].join(', ');
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : indent + l)).join('\n');
}

function printScenario(s: ScenarioInfo, results: CaseResult[], p: Palette): string {
  const lines: string[] = [];
  const problem = s.problem ? p.dim(`  [${s.problem === 'lost-token' ? 'lost token' : 'lost session'}]`) : '';
  lines.push(`${p.bold(`${String(s.item).padStart(2)}. ${s.title}`)}${problem}`);
  lines.push(`    ${p.dim('why')}     ${wrap(s.expect.cause, 96, '            ')}`);
  const width = Math.max(...results.map((r) => r.case.length));
  for (const r of results) {
    const mark = r.problems.length ? p.red('✗') : p.green('✓');
    lines.push(`    ${mark} ${p.bold(r.case.padEnd(width))}  ${r.outcome}`);
    lines.push(`      ${' '.repeat(width)}  ${p.dim('hopwise')} ${r.did.join('; ')}`);
    lines.push(`      ${' '.repeat(width)}  ${p.dim('doctor')}  ${doctorText(r.findings)}`);
    for (const prob of r.problems) lines.push(`      ${' '.repeat(width)}  ${p.red('MISBEHAVED')} ${prob}`);
  }
  return lines.join('\n');
}

function table(results: CaseResult[], p: Palette): string {
  const rows = results.map((r) => [String(r.item), r.scenario, r.case, r.outcome, doctorText(r.findings), r.problems.length ? 'FAIL' : 'ok']);
  const head = ['#', 'scenario', 'case', 'outcome', 'doctor', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [p.bold(fmt(head)), ...rows.map((r) => (r[5] === 'ok' ? fmt(r) : p.red(fmt(r))))].join('\n');
}

export async function demoCommand(opts: { json: boolean; only: string[] }, io: CliIO): Promise<number> {
  const started = performance.now();
  const color = !opts.json && shouldColor(io.stdout, io.env);
  const p = palette(color);
  const lab = await startLab();
  const results: CaseResult[] = [];
  try {
    const unknown = opts.only.filter((id) => !lab.scenarios.some((s) => s.id === id));
    if (unknown.length) {
      write(io.stderr, `hopwise demo: unknown scenario ${unknown.join(', ')}; known: ${lab.scenarios.map((s) => s.id).join(', ')}`);
      return 2;
    }
    const scenarios = opts.only.length ? lab.scenarios.filter((s) => opts.only.includes(s.id)) : lab.scenarios;
    if (!opts.json) {
      write(
        io.stdout,
        `${p.bold('hopwise demo')}: every "lost after a redirect" story, reproduced on a local lab (${lab.hosts.length} hostnames, http and https on 127.0.0.1), run with hopwise, diagnosed by the doctor.\n`,
      );
    }
    for (const s of scenarios) {
      const mine: CaseResult[] = [];
      for (const c of s.expect.cases) {
        const t0 = performance.now();
        let r: CaseResult;
        try {
          const { run, findings, problems } = await runCase(lab, s, c);
          r = { scenario: s.id, item: s.item, case: c.name, setup: c.setup, outcome: outcomeText(run, s.id), did: whatHopwiseDid(run.hops, run.error), findings, problems, ms: performance.now() - t0 };
        } catch (e) {
          r = {
            scenario: s.id,
            item: s.item,
            case: c.name,
            setup: c.setup,
            outcome: 'crashed',
            did: [],
            findings: [],
            problems: [`unexpected ${(e as Error).name}: ${(e as Error).message}`],
            ms: performance.now() - t0,
          };
        }
        mine.push(r);
        results.push(r);
      }
      if (!opts.json) write(io.stdout, printScenario(s, mine, p) + '\n');
    }
  } finally {
    await lab.close();
  }
  const failed = results.filter((r) => r.problems.length);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (opts.json) {
    write(io.stdout, JSON.stringify({ ok: failed.length === 0, seconds: Number(secs), results: results.map((r) => ({ ...r, findings: r.findings.map((f) => f.code) })) }, null, 2));
  } else {
    write(io.stdout, table(results, p));
    write(
      io.stdout,
      failed.length
        ? `\n${p.red(p.bold(`${failed.length} of ${results.length} cases misbehaved`))} (${secs} s)`
        : `\n${p.green(p.bold(`all ${results.length} cases behaved`))} across ${new Set(results.map((r) => r.scenario)).size} scenarios (${secs} s). Try one yourself: hopwise lab, then hopwise doctor ... (see hopwise lab's output).`,
    );
  }
  return failed.length ? 1 : 0;
}
