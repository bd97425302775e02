/** `hopwise trace URL`: follow the chain and explain every hop. */
import { writeFile } from 'node:fs/promises';
import type { Hop } from '../index.js';
import type { Finding } from '../doctor/findings.js';
import { toHar } from '../trace/har.js';
import { renderTrace, shouldColor } from '../trace/render-text.js';
import type { RequestArgs } from './args.js';
import { hopInFlagWords, inFlagWords } from './fetch.js';
import { write, type CliIO } from './io.js';
import { runChain, type ChainResult } from './run.js';

export const SECRETS_NOTE =
  'note: --show-secrets shows the header values given on the command line (-H, -u, --oauth2-bearer) where they were sent; ' +
  'cookie values stay redacted because the session does not keep the raw values it sent.';

/** Hops with request headers unredacted from what the CLI was given (for --show-secrets). */
export function hopsForOutput(result: ChainResult, showSecrets: boolean): Hop[] {
  if (!showSecrets) return result.hops;
  return result.hops.map((h, i) => ({ ...h, requestHeaders: result.rawRequestHeaders[i] ?? h.requestHeaders }));
}

export async function writeHar(file: string, result: ChainResult, r: RequestArgs, io: CliIO, extra?: Record<string, unknown>): Promise<void> {
  const har = toHar(result.hops, {
    showSecrets: r.showSecrets,
    rawRequestHeaders: result.rawRequestHeaders,
    ...(result.error ? { error: result.error } : {}),
    ...(extra ? { extra } : {}),
  });
  await writeFile(file, JSON.stringify(har, null, 2) + '\n');
  write(io.stderr, `HAR written to ${file} (${result.hops.length} entr${result.hops.length === 1 ? 'y' : 'ies'}${r.showSecrets ? ', with secrets: do not share' : ', secrets redacted'})`);
}

/**
 * --html FILE: the page of `renderHtml` (loaded only when asked), from the hops as recorded: never
 * the --show-secrets values. `findings` default to the doctor's over the chain.
 */
export async function writeHtml(
  file: string,
  result: ChainResult,
  io: CliIO,
  opts: { findings?: readonly Finding[]; command?: (f: Finding) => string | undefined; title?: string } = {},
): Promise<void> {
  const [{ renderHtml }, { diagnose }] = await Promise.all([import('../render/html.js'), import('../doctor/rules.js')]);
  const findings = opts.findings ?? diagnose(result.hops, result.error);
  const page = renderHtml(result.hops, findings, { error: result.error, ...(opts.command ? { command: opts.command } : {}), ...(opts.title ? { title: opts.title } : {}) });
  await writeFile(file, page);
  write(io.stderr, `HTML written to ${file} (${result.hops.length} hop${result.hops.length === 1 ? '' : 's'}, ${findings.length} finding${findings.length === 1 ? '' : 's'}, secrets redacted)`);
}

/** Returns the exit code: 0 a final response arrived, 1 the chain stopped with an error. */
export async function traceCommand(r: RequestArgs, io: CliIO): Promise<number> {
  const result = await runChain(r, io.stdin);
  if (r.showSecrets) write(io.stderr, SECRETS_NOTE);
  if (r.json) {
    const out: Record<string, unknown> = { hops: hopsForOutput(result, r.showSecrets) };
    if (result.response) out.response = result.response;
    if (result.error) out.error = result.error;
    write(io.stdout, JSON.stringify(out, null, 2));
  } else {
    const error = result.error ? { ...result.error, message: inFlagWords(result.error.message) } : undefined;
    write(io.stdout, renderTrace(result.hops.map(hopInFlagWords), { color: shouldColor(io.stdout, io.env), headers: r.verbose, ...(error ? { error } : {}) }));
  }
  if (r.har) await writeHar(r.har, result, r, io);
  if (r.html) await writeHtml(r.html, result, io, { title: 'hopwise trace' });
  if (result.cookieJarWritten) write(io.stderr, `cookies written to ${result.cookieJarWritten} (Netscape format)`);
  return result.error ? 1 : 0;
}
