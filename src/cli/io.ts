/**
 * The streams a command reads and writes, and its environment; injectable so commands run
 * in-process (tests) exactly as they do from the shell. Commands touch no process-global state
 * besides these: no `process.exitCode` (main returns the code), no `process.stdout` writes.
 */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Where `-d @-` / `--data-binary @-` read from (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

export const processIO: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // a getter: process.stdin is created on first access, and only `@-` needs it
  get stdin() {
    return process.stdin;
  },
};

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Everything a stream gives until it ends (stdin for `@-`, `--har -`, ...). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}
