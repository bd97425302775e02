/**
 * `hopwise record [flags] -- CMD [ARGS...]`: runs a program through a recording proxy (src/record/),
 * then prints the doctor's findings on what the program's redirects did, in the views of
 * `hopwise doctor` (text, `--json`), and writes the recording as a HAR with `--har OUT`.
 *
 * Exit status: 0 no problem found, 1 findings, 2 an error (bad arguments, the program could not be
 * started, or it made no HTTP request through the recorder, so there is nothing to diagnose). The
 * program's own exit status is reported beside the findings, never as hopwise's.
 *
 * Loaded only when `record` runs: the recorder (node:tls, node-forge) and the HAR diagnosis stay off
 * the path of every other command and of the library.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { hasProblems, renderFindings, type Finding } from '../doctor/index.js';
import { diagnoseHar, type HarDiagnosis } from '../har/index.js';
import { programEnv } from '../record/env.js';
import { exchangesToHar, type RecordedHar } from '../record/har.js';
import { clientNotes, type ClientNote } from '../record/clients.js';
import { Recorder, type Exchange } from '../record/recorder.js';
import { palette, shouldColor } from '../trace/render-text.js';
import { ArgError } from './args.js';
import { processIO, write, type CliIO } from './io.js';

export interface RecordArgs {
  program: string[];
  json: boolean;
  har?: string;
  cacert: string[];
  connectTo: string[];
}

/** How the program ended. Its arguments are not repeated in any output: they may hold a secret (`-H 'Authorization: ...'`). */
export interface ProgramExit {
  /** The program's name, as given. */
  command: string;
  /** Its exit status; null when a signal ended it. */
  status: number | null;
  signal: string | null;
}

/**
 * The one call into the doctor: the findings for a recorded HAR. The HAR given here is the raw one
 * (values as sent, like a DevTools HAR "with sensitive data"), so the replay can compare cookie
 * values; it is never written or printed.
 */
export function diagnoseRecording(har: RecordedHar): HarDiagnosis {
  // a program is a plain HTTP client: no browser rules (SameSite), whatever its name
  const d = diagnoseHar(har, { client: 'other' });
  // The recorder saw every header the program sent and received: a HAR without any Cookie or
  // Set-Cookie is a program that used none, not a sanitized export, so that note does not apply.
  const findings = d.findings.filter((f) => !(f.code === 'har-incomplete' && f.facts.missing === 'cookies'));
  return { ...d, findings };
}

/** The User-Agent the program sent at a finding's hop (its chain's entry in the recording). */
function userAgentFor(d: HarDiagnosis, exchanges: readonly Exchange[]): (f: Finding) => string | undefined {
  return (f) => {
    const chain = d.chains[typeof f.facts.chain === 'number' ? f.facts.chain : 0];
    const entry = chain?.replay[f.hop]?.entry;
    return entry === undefined ? undefined : exchanges[entry]?.requestHeaders.find(([n]) => n.toLowerCase() === 'user-agent')?.[1];
  };
}

function describeExit(p: ProgramExit): string {
  return p.signal ? `${p.command} was ended by ${p.signal}` : `${p.command} exited with status ${p.status}`;
}

/** Runs the program with the recorder's environment; its output goes where `stdio` says. */
function runProgram(program: string[], env: NodeJS.ProcessEnv, io: CliIO, json: boolean): Promise<ProgramExit | { error: NodeJS.ErrnoException }> {
  // From a shell the program keeps the terminal (colours, progress bars); in-process (tests) its
  // output is piped into the given streams. Under --json its stdout goes to stderr: stdout is the JSON's.
  const real = io.stdout === processIO.stdout && io.stderr === processIO.stderr;
  const stdio: StdioOptions = real ? ['inherit', json ? 2 : 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
  return new Promise((resolve) => {
    const child = spawn(program[0]!, program.slice(1), { env, stdio });
    child.stdout?.on('data', (c: Buffer) => (json ? io.stderr : io.stdout).write(c));
    child.stderr?.on('data', (c: Buffer) => io.stderr.write(c));
    // Ctrl-C reaches the program from the terminal; hopwise stays to report on what it did.
    // A TERM sent to hopwise alone is passed on.
    const onInt = (): void => {};
    const onTerm = (): void => void child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (r: ProgramExit | { error: NodeJS.ErrnoException }): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(r);
    };
    child.once('error', (error: NodeJS.ErrnoException) => done({ error }));
    child.once('close', (status, signal) => done({ command: program[0]!, status, signal }));
  });
}

export async function recordCommand(a: RecordArgs, io: CliIO): Promise<number> {
  const ca: string[] = [];
  for (const file of a.cacert) {
    try {
      ca.push(await readFile(file, 'utf8'));
    } catch (e) {
      throw new ArgError(`--cacert ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '--cacert', 'record');
    }
  }
  const recorder = await Recorder.create({ ca, connectTo: a.connectTo });
  await recorder.listen();
  // The CA certificate (public) in a private directory; its key never leaves this process.
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-record-'));
  const caPath = join(dir, 'ca.pem');
  let exit: ProgramExit | { error: NodeJS.ErrnoException };
  try {
    writeFileSync(caPath, recorder.caPem, { mode: 0o600 });
    exit = await runProgram(a.program, programEnv(io.env, recorder.url, caPath), io, a.json);
  } finally {
    await recorder.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if ('error' in exit) {
    const why = exit.error.code === 'ENOENT' ? 'not found (is it on PATH?)' : (exit.error.code ?? exit.error.message);
    write(io.stderr, `hopwise record: cannot run '${a.program[0]}': ${why}`);
    return 2;
  }

  const exchanges = recorder.exchanges;
  const client = basename(exit.command);
  let findings: Finding[] = [];
  let notes: ClientNote[] = [];
  /** The recording's entries of each chain the doctor found (a finding's `facts.chain` is an index here). */
  let chains: number[][] = [];
  if (exchanges.length) {
    const d = diagnoseRecording(exchangesToHar(exchanges, { redact: false, program: client }));
    findings = d.findings;
    chains = d.chains.map((c) => c.replay.map((r) => r.entry));
    notes = clientNotes(findings, userAgentFor(d, exchanges));
  }
  const code = exchanges.length === 0 ? 2 : hasProblems(findings) ? 1 : 0;
  const program: ProgramExit = { command: exit.command, status: exit.status, signal: exit.signal };
  const shown = exchangesToHar(exchanges, { extra: { findings, clientNotes: notes, program }, program: client });
  if (a.json) {
    const requests = shown.log.entries.map((e) => ({
      method: e.request.method,
      url: e.request.url,
      status: e.response.status,
      ...(e.response.redirectURL ? { redirectURL: e.response.redirectURL } : {}),
      ...(e.response._error ? { error: e.response._error } : {}),
    }));
    write(io.stdout, JSON.stringify({ findings, clientNotes: notes, program, requests, chains, notes: recorder.notes }, null, 2));
  } else {
    const color = shouldColor(io.stdout, io.env);
    const p = palette(color);
    const lines = [p.bold(`hopwise record: ${exchanges.length} request${exchanges.length === 1 ? '' : 's'}, ${describeExit(exit)}`)];
    const line = (i: number): string => {
      const e = shown.log.entries[i]!;
      const status = e.response.status === 0 ? p.red(e.response._error?.code ?? 'no response') : String(e.response.status);
      return `${p.dim(`#${i}`)} ${e.request.method} ${e.request.url} ${p.dim('→')} ${status}`;
    };
    if (chains.length > 1) {
      // several chains: each under its index, which the findings name as facts.chain; hops count from 0 in each
      const inChain = new Set(chains.flat());
      chains.forEach((entries, c) => lines.push(p.bold(`chain ${c}`), ...entries.map((i) => `  ${line(i)}`)));
      const rest = shown.log.entries.map((_, i) => i).filter((i) => !inChain.has(i));
      if (rest.length) lines.push(p.bold('in no chain'), ...rest.map((i) => `  ${line(i)}`));
    } else {
      for (let i = 0; i < shown.log.entries.length; i++) lines.push(line(i));
    }
    for (const n of recorder.notes) lines.push(`${p.yellow('note')} ${n}`);
    write(io.stdout, lines.join('\n') + '\n');
    if (exchanges.length) write(io.stdout, renderFindings(findings, { color }));
    for (const n of notes) write(io.stdout, `\n${p.bold(`${n.client}`)} ${p.dim(`(${n.code}, hop ${n.hop})`)}\n  ${p.dim('why')}  ${n.why}\n  ${p.green('fix')}  ${n.fix}`);
  }
  if (exchanges.length === 0) {
    write(
      io.stderr,
      `hopwise record: ${a.program[0]} made no HTTP request through the recorder, so there is nothing to diagnose. ` +
        `Does it read HTTPS_PROXY / https_proxy? (Node's fetch needs Node 24 or later for that; Go, curl, Python requests, wget do.)`,
    );
  }
  if (a.har) {
    await writeFile(a.har, JSON.stringify(shown, null, 2) + '\n');
    write(io.stderr, `HAR written to ${a.har} (${exchanges.length} entr${exchanges.length === 1 ? 'y' : 'ies'}, secrets redacted)`);
  }
  return code;
}
