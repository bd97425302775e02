/**
 * The test servers' throwaway TLS material, made once per test run instead of once per test file:
 * a CA and a server certificate cost two 2048-bit RSA keys and two signatures (about 0.4 s of CPU),
 * and some 25 files start servers. Every file of one `node --test` run is a child process of the
 * same runner (`process.ppid`), so the first file to need it writes it to the temp dir under the
 * runner's pid, and the others read it there. A file run on its own makes its own. The CA's private
 * key never leaves the process that made it (createLabCertificates does not return it); what is
 * shared is its certificate, and the server certificate and key, for test hostnames only, mode 0600.
 * Files left by runs that have ended (their runner's pid is gone) are removed by the next run.
 */
import { closeSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLabCertificates, type LabCertificates } from '../../src/lab/certs.ts';

const PREFIX = 'hopwise-test-tls-';
/** The certificates are valid for 7 days from their making; a run reuses them for one. */
const MAX_AGE_MS = 24 * 3600 * 1000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function sweep(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

function read(file: string, hosts: readonly string[]): LabCertificates | undefined {
  try {
    if (Date.now() - statSync(file).mtimeMs > MAX_AGE_MS) return undefined;
    const got = JSON.parse(readFileSync(file, 'utf8')) as LabCertificates & { hosts: string[] };
    return got.hosts.join(',') === hosts.join(',') ? { caCert: got.caCert, cert: got.cert, key: got.key } : undefined;
  } catch {
    return undefined;
  }
}

/** createLabCertificates(hosts), shared by the files of one test run. */
export async function runCertificates(hosts: readonly string[]): Promise<LabCertificates> {
  const dir = tmpdir();
  const tag = Buffer.from(hosts.join(',')).toString('base64url').slice(0, 16);
  const file = join(dir, `${PREFIX}${process.ppid}-${tag}.json`);
  const have = read(file, hosts);
  if (have) return have;
  // One maker per run; the others wait for its file (a few hundred ms), or make their own after 10 s.
  let lock: number | undefined;
  try {
    lock = openSync(`${file}.lock`, 'wx', 0o600);
  } catch {
    for (let waited = 0; waited < 10_000; waited += 25) {
      await sleep(25);
      const got = read(file, hosts);
      if (got) return got;
    }
  }
  try {
    if (lock !== undefined) sweep(dir);
    const made = createLabCertificates(hosts);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ hosts, ...made }), { mode: 0o600 });
    renameSync(tmp, file);
    return made;
  } finally {
    if (lock !== undefined) {
      closeSync(lock);
      rmSync(`${file}.lock`, { force: true });
    }
  }
}
