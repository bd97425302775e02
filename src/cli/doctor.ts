/** `hopwise doctor URL`: run the trace, then the doctor's rules over it. */
import { diagnose, hasProblems, renderFindings, type Finding } from '../doctor/index.js';
import { fixLine, maskArgv, variablesIn } from './fix-command.js';
import { palette, shouldColor } from '../trace/render-text.js';
import type { RequestArgs } from './args.js';
import { write, type CliIO } from './io.js';
import { runChain } from './run.js';
import { hopsForOutput, SECRETS_NOTE, writeHar, writeHtml } from './trace.js';

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
    if (result.error) lines.push(`${p.red('stopped')} ${result.error.code}: ${result.error.message}`);
    write(io.stdout, lines.join('\n') + '\n');
    write(io.stdout, renderFindings(findings, { color, command }) + fixNote);
    if (code === 2) write(io.stderr, `hopwise doctor: no hop got a response, so there is no redirect chain to diagnose (${result.error?.code}).`);
  }
  if (r.har) await writeHar(r.har, result, r, io, { findings });
  if (r.html) await writeHtml(r.html, result, io, { findings, command, title: 'hopwise doctor' });
  if (result.cookieJarWritten) write(io.stderr, `cookies written to ${result.cookieJarWritten} (Netscape format)`);
  return code;
}
