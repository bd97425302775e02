/** `hopwise doctor URL`: run the trace, then the doctor's rules over it. */
import { diagnose, hasProblems, renderFindings, type Finding } from '../doctor/index.js';
import { fixLine, maskArgv, variablesIn } from './fix-command.js';
import { palette, shouldColor } from '../trace/render-text.js';
import type { RequestArgs } from './args.js';
import { readAll, write, type CliIO } from './io.js';
import { inFlagWords } from './fetch.js';
import { runChain } from './run.js';
import { hopsForOutput, SECRETS_NOTE, writeHar, writeHtml } from './trace.js';
import { readFile, writeFile } from 'node:fs/promises';
import { HopwiseError } from '../errors.js';
import type { HarDiagnosis } from '../har/index.js';

/**
 * Exit code: 0 no finding worse than info; 1 findings (warnings or errors); 2 when nothing could be
 * diagnosed because no hop got a response at all (bad URL, connection refused on the first hop...).
 */
export async function doctorCommand(r: RequestArgs, io: CliIO, argv?: readonly string[]): Promise<number> {
  const result = await runChain(r, io.stdin);
  const findings = diagnose(result.hops, result.error);
  // each CLI fix as the whole command that made this chain plus the fix's flags, secrets as $VARIABLES
  const base = argv ? maskArgv(argv, 'doctor') : undefined;
  const command = (f: Finding): string | undefined => (base && f.fix.cli ? fixLine(base, f.fix.cli) : undefined);
  const variables = base
    ? variablesIn(
        base,
        findings.flatMap((f) => (f.fix.cli ? [f.fix.cli] : [])),
      )
    : [];
  const fixNote =
    variables.length && findings.some((f) => f.fix.cli)
      ? `In the commands above, ${variables.map((v) => `$${v}`).join(', ')} stand${variables.length === 1 ? 's' : ''} for what you gave (never printed): set ${variables.length === 1 ? 'it' : 'them'} in your shell first.\n`
      : '';
  const answered = result.hops.some((h) => h.status > 0);
  const code = !answered && result.error ? 2 : hasProblems(findings) ? 1 : 0;
  if (r.showSecrets) write(io.stderr, SECRETS_NOTE);
  if (r.json) {
    const withCommands = findings.map((f) => {
      const line = command(f);
      return line ? { ...f, fix: { ...f.fix, command: line } } : f;
    });
    const out: Record<string, unknown> = { findings: withCommands, hops: hopsForOutput(result, r.showSecrets) };
    if (result.response) out.response = result.response;
    if (result.error) out.error = result.error;
    write(io.stdout, JSON.stringify(out, null, 2));
  } else {
    const color = shouldColor(io.stdout, io.env);
    const p = palette(color);
    const lines: string[] = [];
    for (const h of result.hops) {
      const status = h.status === 0 ? p.red(h.error?.code ?? 'no response') : String(h.status);
      lines.push(`${p.dim(`#${h.index}`)} ${h.method} ${h.url} ${p.dim('→')} ${status}`);
    }
    if (result.error) lines.push(`${p.red('stopped')} ${result.error.code}: ${inFlagWords(result.error.message)}`);
    write(io.stdout, lines.join('\n') + '\n');
    write(io.stdout, renderFindings(findings, { color, command }) + fixNote);
    if (code === 2) write(io.stderr, `hopwise doctor: no hop got a response, so there is no redirect chain to diagnose (${result.error?.code}).`);
  }
  if (r.har) await writeHar(r.har, result, r, io, { findings });
  if (r.html) await writeHtml(r.html, result, io, { findings, command, title: 'hopwise doctor' });
  if (result.cookieJarWritten) write(io.stderr, `cookies written to ${result.cookieJarWritten} (Netscape format)`);
  return code;
}

/**
 * `hopwise doctor --har FILE` (no URL): the recorded chains of a HAR (a browser's export, hopwise
 * record, hopwise's own --har) replayed and diagnosed (har/index.ts `diagnoseHar`). Views and exit
 * codes as `hopwise doctor URL`: 0 nothing worse than info, 1 findings, 2 the HAR cannot be read or
 * holds no answered request.
 */
export async function doctorHarCommand(r: RequestArgs, io: CliIO): Promise<number> {
  const file = r.harInput!;
  let text: string;
  try {
    text = file === '-' ? (io.stdin ? (await readAll(io.stdin)).toString('utf8') : '') : await readFile(file, 'utf8');
  } catch (err) {
    write(io.stderr, `hopwise doctor: cannot read the HAR ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 2;
  }
  const { diagnoseHar } = await import('../har/index.js');
  let d: HarDiagnosis;
  try {
    d = diagnoseHar(text);
  } catch (err) {
    if (err instanceof HopwiseError) {
      write(io.stderr, `hopwise doctor: ${err.code}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const answered = d.chains.some((c) => c.hops.some((h) => h.status > 0));
  const code = !answered ? 2 : hasProblems(d.findings) ? 1 : 0;
  if (r.json) {
    write(io.stdout, JSON.stringify(d, null, 2));
  } else {
    const color = shouldColor(io.stdout, io.env);
    const p = palette(color);
    const lines: string[] = [`${p.bold('HAR')} from ${d.source.browser ?? d.source.creator} ${p.dim(`(${RULES_NAME[d.source.client]})`)}`];
    for (const c of d.chains) {
      if (d.chains.length > 1) lines.push(`${p.bold(`chain ${c.index}`)} ${p.dim(`(${c.kind === 'fetch' ? "a page's fetch/XHR" : c.kind})`)}`);
      c.hops.forEach((h, i) => {
        const link = c.links[i];
        const how = link && link.kind !== 'start' && link.kind !== 'redirect' ? p.dim(` (${LINK_NAME[link.kind]})`) : '';
        const status = h.status === 0 ? p.red(h.error?.code ?? 'no response') : String(h.status);
        lines.push(`${p.dim(`#${h.index}`)} ${h.method} ${h.url}${how} ${p.dim('→')} ${status}`);
        const rp = c.replay[i];
        if (rp) {
          const withheld = h.decisions.flatMap((x) => (x.subject === 'cookie' && x.action === 'withheld' ? [`${x.name} (${x.reason})`] : []));
          const sent = rp.cookies.actual === undefined ? 'not recorded' : rp.cookies.actual.length ? rp.cookies.actual.join(', ') : 'none';
          if (rp.cookies.actual?.length || rp.cookies.expected.length || withheld.length) {
            lines.push(`   ${p.dim('cookies sent:')} ${sent}${withheld.length ? `${p.dim(' · withheld by the rules:')} ${withheld.join(', ')}` : ''}`);
          }
        }
      });
      if (c.error) lines.push(`${p.red('stopped')} ${c.error.code}: ${c.error.message}`);
      if (c.notReplayed.length) lines.push(p.dim(`(${c.notReplayed.length} more request(s) of this chain not replayed)`));
    }
    write(io.stdout, lines.join('\n') + '\n');
    write(io.stdout, renderFindings(d.findings, { color }));
    if (code === 2) write(io.stderr, `hopwise doctor: no request in ${file} got a response, so there is no redirect chain to diagnose.`);
  }
  if (r.html && d.chains.length) {
    // One page shows one chain: the one with the worst finding (the first, on a tie).
    const worst = (c: HarDiagnosis['chains'][number]): number => Math.max(-1, ...c.findings.map((f) => (f.severity === 'error' ? 2 : f.severity === 'warning' ? 1 : 0)));
    const chain = d.chains.reduce((a, b) => (worst(b) > worst(a) ? b : a));
    const { renderHtml } = await import('../render/html.js');
    const error = chain.error ? { ...chain.error } : undefined;
    await writeFile(r.html, renderHtml(chain.hops, chain.findings, { ...(error ? { error } : {}), title: `hopwise doctor --har (chain ${chain.index} of ${d.chains.length})` }));
    write(
      io.stderr,
      `HTML written to ${r.html} (chain ${chain.index} of ${d.chains.length}: ${chain.hops.length} hop${chain.hops.length === 1 ? '' : 's'}, ${chain.findings.length} finding${chain.findings.length === 1 ? '' : 's'}, secrets redacted)`,
    );
  }
  return code;
}

const RULES_NAME: Record<HarDiagnosis['source']['client'], string> = {
  chromium: 'replayed with Chromium rules: SameSite, Lax by default',
  firefox: 'replayed with Firefox rules: SameSite',
  hopwise: "hopwise's own trace: its recorded decisions",
  other: 'replayed with HTTP client rules',
};

const LINK_NAME: Record<string, string> = {
  'meta-refresh': 'meta refresh of the previous page',
  'refresh-header': 'Refresh header of the previous page',
  script: 'location script of the previous page',
  'form-post': 'form posted by the previous page',
  navigation: 'navigation made by the previous page',
};
