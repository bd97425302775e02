/** Running the CLI in-process: `main(argv, io)` with streams that capture what it writes. */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += String(chunk);
    cb();
  }
}

/** `hopwise ...args` in this process: the exit code and what it wrote (no colours). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { ...env, NO_COLOR: '1' } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
