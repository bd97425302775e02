/**
 * Atomic file writes for the jar: write a temp file in the same directory, fsync it, rename it
 * over the target. rename(2) within one directory is atomic, so a crash or a failed write leaves
 * either the old file or the new one, never a truncated jar. The temp file is removed on failure.
 */
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The few fs calls used, injectable so tests can make a write fail half way. */
export interface AtomicFs {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  rm: typeof fsp.rm;
}

const realFs: AtomicFs = { open: fsp.open, rename: fsp.rename, rm: fsp.rm };

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(target: string, data: string, fs: AtomicFs = realFs): Promise<void> {
  const temp = tempPathFor(target);
  try {
    // 0600: a cookie jar holds session credentials.
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}
