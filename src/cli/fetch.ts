/**
 * `hopwise [flags] URL`: curl -L. The final body on stdout and nothing else unless asked: -v the
 * trace on stderr, -i / -I / -D headers, -o / -O a file, -w a summary line, --fail exit 22. Exit
 * codes are curl's (exit.ts). The trace renderer is loaded only for -v.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { remoteName, type RequestArgs } from './args.js';
import { exitCodeFor } from './exit.js';
import { readAll, write, type CliIO } from './io.js';
import type { HopMessage } from '../session.js';
import { redirectsIn, type Hop } from '../trace/types.js';
import { runChain, SinkError, type BodySink, type ChainResult, type ResponseHead } from './run.js';

/** The status line and headers of the final response, as curl writes them (CRLF, a blank line after). */
export function headerBlock(res: Pick<ResponseHead, 'status' | 'statusText' | 'headers' | 'setCookie'>): string {
  const lines = [`HTTP/1.1 ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`];
  for (const [name, value] of Object.entries(res.headers)) if (name !== 'set-cookie') lines.push(`${name}: ${value}`);
  for (const c of res.setCookie) lines.push(`set-cookie: ${c}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A sink over a stream we do not own (stdout): waits for 'drain', never ends it. */
function streamSink(stream: NodeJS.WritableStream, name: string): BodySink {
  return {
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        const onError = (e: unknown) => reject(new SinkError(name, e));
        stream.once('error', onError);
        const done = () => (stream.off('error', onError), resolve());
        if (stream.write(chunk)) done();
        else stream.once('drain', done);
      }),
    end: async () => {},
  };
}

/** A sink over a file it creates (-o, -O, -D FILE). */
function fileSink(path: string): BodySink {
  const ws = createWriteStream(path);
  let failed: unknown;
  ws.on('error', (e) => (failed ??= e));
  const check = () => {
    if (failed) throw new SinkError(path, failed);
  };
  return {
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        check();
        ws.write(chunk, (e) => (e ? reject(new SinkError(path, e)) : resolve()));
      }),
    end: () =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(new SinkError(path, failed));
        ws.end(() => (failed ? reject(new SinkError(path, failed)) : resolve()));
        ws.once('error', (e) => reject(new SinkError(path, e)));
      }),
  };
}

const sinkFor = (target: string, io: CliIO): BodySink => (target === '-' ? streamSink(io.stdout, 'stdout') : fileSink(target));

/** curl's -w: %{variable}, %header{name}, %{stdout}/%{stderr} to switch stream, \n \r \t \\ and %%. */
export function writeOut(format: string, result: ChainResult, exitCode: number, io: CliIO, warn: (s: string) => void): void {
  const res = result.response;
  const last = result.hops[result.hops.length - 1];
  const vars: Record<string, () => string> = {
    http_code: () => String(res?.status ?? 0).padStart(3, '0'),
    response_code: () => String(res?.status ?? 0).padStart(3, '0'),
    url_effective: () => res?.url ?? last?.url ?? result.url,
    url: () => result.url,
    num_redirects: () => String(redirectsIn(result.hops)),
    time_total: () => (result.elapsed / 1000).toFixed(6),
    content_type: () => res?.headers['content-type'] ?? '',
    size_download: () => String(res?.bodySize ?? 0),
    method: () => last?.method ?? result.method,
    exitcode: () => String(exitCode),
    errormsg: () => (result.error ? inFlagWords(result.error.message) : ''),
    redirect_url: () => (res && res.status >= 300 && res.status < 400 ? (last?.location ?? '') : ''),
  };
  let out: NodeJS.WritableStream = io.stdout;
  let buf = '';
  const flush = () => {
    if (buf) out.write(buf);
    buf = '';
  };
  const re = /%\{([a-z_]+)\}|%header\{([^}]+)\}|%%|\\([nrt\\])/g;
  let at = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    buf += format.slice(at, m.index);
    at = m.index + m[0].length;
    if (m[0] === '%%') buf += '%';
    else if (m[3] !== undefined) buf += m[3] === 'n' ? '\n' : m[3] === 'r' ? '\r' : m[3] === 't' ? '\t' : '\\';
    else if (m[2] !== undefined) buf += res?.headers[m[2].toLowerCase()] ?? '';
    else if (m[1] === 'stdout' || m[1] === 'stderr') {
      flush();
      out = m[1] === 'stdout' ? io.stdout : io.stderr;
    } else if (m[1] !== undefined && vars[m[1]]) buf += vars[m[1]]!();
    else warn(`unknown --write-out variable: '${m[1]}'`);
  }
  buf += format.slice(at);
  flush();
}

export async function fetchCommand(r: RequestArgs, io: CliIO, warnings: readonly string[] = []): Promise<number> {
  for (const w of warnings) write(io.stderr, `hopwise: ${w}`);
  const quiet = r.silent && !r.showError;
  const say = (text: string) => {
    if (!quiet) write(io.stderr, `hopwise: ${text}`);
  };
  let format = r.writeOut;
  if (format?.startsWith('@')) {
    const file = format.slice(1);
    try {
      format = file === '-' ? (await readAll(io.stdin ?? process.stdin)).toString('utf8') : await readFile(file, 'utf8');
    } catch (e) {
      say(`(2) -w @${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return 2;
    }
  }

  const target = r.remoteName ? remoteName(r.url)! : (r.output ?? '-');
  const live = r.verbose ? await liveTrace(io) : undefined;
  let failedStatus: number | undefined;
  let sinkError: SinkError | undefined;
  let result: ChainResult;
  try {
    result = await runChain(r, io.stdin, {
      // the body streams to its target as it arrives; the decisions (--fail, -i, -D) are made on the head
      sink: async (head) => {
        if (r.fail !== undefined && head.status >= 400) failedStatus = head.status;
        if (r.dumpHeader !== undefined) {
          const d = sinkFor(r.dumpHeader, io);
          await d.write(Buffer.from(headerBlock(head), 'latin1'));
          await d.end();
        }
        if (failedStatus !== undefined && r.fail === 'fail') return undefined;
        const out = sinkFor(target, io);
        if (r.include || r.method === 'HEAD') await out.write(Buffer.from(headerBlock(head), 'latin1'));
        return out;
      },
    });
  } catch (e) {
    if (!(e instanceof SinkError)) throw e;
    sinkError = e;
    result = { hops: [], rawRequestHeaders: [], method: r.method ?? 'GET', url: r.url, elapsed: 0 };
  } finally {
    live?.stop();
  }
  if (live) live.finish(result);
  if (r.har && !sinkError) {
    const { writeHar, SECRETS_NOTE } = await import('./trace.js');
    if (r.showSecrets) write(io.stderr, SECRETS_NOTE);
    await writeHar(r.har, result, r, io);
  }
  if (result.cookieJarWritten && r.verbose) write(io.stderr, `cookies written to ${result.cookieJarWritten} (Netscape format)`);

  let code = 0;
  if (sinkError) {
    code = 23;
    say(`(23) ${sinkError.message}`);
  } else if (result.error) {
    code = exitCodeFor({ code: result.error.code, cause: result.errorCause, hops: result.hops });
    say(`(${code}) ${inFlagWords(result.error.message)}`);
    if (!r.verbose && !quiet) say(`add -v to see every hop, or run hopwise doctor with the same flags for a diagnosis.`);
  } else if (failedStatus !== undefined) {
    code = 22;
    say(`(22) The requested URL returned error: ${failedStatus}`);
  }
  if (format !== undefined) writeOut(format, result, code, io, (s) => write(io.stderr, `hopwise: warning: ${s}`));
  return code;
}

/** The library's messages name Session options; on the command line the flag is the thing to change. */
const FLAG_WORDS: [RegExp, string][] = [
  [/\btimeout\.total\b/g, '--max-time'],
  [/\btimeout\.connect\b/g, '--connect-timeout'],
  [/\bmaxRedirects\b/g, '--max-redirs'],
  // an option with its value first: the flag takes no value, or its value without the colon and quotes
  [/\ballowDowngrade: true\b/g, '--allow-downgrade'],
  [/\bcrossOriginBody: "send"/g, '--cross-origin-body send'],
  [/\bAdd the target to trust\b/g, 'Add the target with --trust'],
  [/\ballowDowngrade\b/g, '--allow-downgrade'],
  [/\bcrossOriginBody\b/g, '--cross-origin-body'],
  [/\bfollowMetaRefresh\b/g, '--follow-meta-refresh'],
  [/\bthe ca option\b/g, '--cacert'],
  [/\ba connectTo rule\b/g, 'a --connect-to / --resolve rule'],
];
export function inFlagWords(message: string): string {
  return FLAG_WORDS.reduce((m, [re, flag]) => m.replace(re, flag), message);
}

/** A hop as the CLI prints it: its error message in the CLI's words. */
export function hopInFlagWords(h: Hop): Hop {
  return h.error ? { ...h, error: { ...h.error, message: inFlagWords(h.error.message) } } : h;
}

/**
 * -v: each hop's block on stderr as the hop ends (the session's `hopwise:hop` channel), as curl -v
 * prints while it works; then the blocks of hops not seen live, and the summary line.
 */
async function liveTrace(io: CliIO) {
  const dc = await import('node:diagnostics_channel');
  const { renderHop, renderTrace, shouldColor } = await import('../trace/render-text.js');
  const opts = { color: shouldColor(io.stderr, io.env), headers: true };
  let mine: readonly Hop[] | undefined;
  let printed = 0;
  const onHop = (message: unknown) => {
    const { hop, hops } = message as HopMessage;
    // this chain's hops array, from its first hop on (another session in the process has its own)
    if (mine === undefined && hops.length === 1) mine = hops;
    if (hops !== mine || hop.index !== printed) return;
    write(io.stderr, renderHop(hopInFlagWords(hop), opts) + '\n\n');
    printed++;
  };
  dc.subscribe('hopwise:hop', onHop);
  return {
    stop: () => dc.unsubscribe('hopwise:hop', onHop),
    finish(result: ChainResult) {
      for (const h of result.hops.slice(printed)) write(io.stderr, renderHop(hopInFlagWords(h), opts) + '\n\n');
      const full = renderTrace(result.hops, { ...opts, ...(result.error ? { error: { ...result.error, message: inFlagWords(result.error.message) } } : {}) });
      write(io.stderr, full.slice(full.trimEnd().lastIndexOf('\n\n') + 2));
    },
  };
}
