// End to end: every case of every lab scenario run through the CLI's `main(argv, io)` in-process
// (`hopwise doctor --json ...`, output captured from the io streams) against ONE lab started here;
// checks the trace (outcome, what the lab received) and the doctor's finding codes and exit status.
// Plus `trace` in text, JSON and HAR, and one child process that runs the built bin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { startLab, type Lab } from '../src/lab/index.js';
import { caseArgv, caseKey, checkCase, checkFindings, type CaseRun } from '../src/cli/scenarios.js';
import { main } from '../src/cli/main.js';
import type { Finding } from '../src/doctor/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'cli', 'hopwise.mjs');
const PARALLEL = 4;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it, as text; not a terminal. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

/** `hopwise ...args` in-process: main() with captured stdout/stderr and the environment a shell gives it. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `node dist/cli/hopwise.mjs ...args` as a child process: the bin as npm installs it (the bundle). */
function bin(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `jobs` with at most `n` at a time. */
async function limited<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab?.close();
});

describe('every lab scenario through `hopwise doctor --json` (in-process)', () => {
  test('every case has a doctor expectation', () => {
    const missing = lab.scenarios.flatMap((s) => s.expect.cases.filter((c) => !Array.isArray(c.findings)).map((c) => caseKey(s, c)));
    assert.deepEqual(missing, []);
  });

  test('each case: outcome, what the lab received, finding codes, exit status', async () => {
    // cases of one scenario run one after another (they share its server state and `received`);
    // scenarios run PARALLEL at a time
    const perScenario = lab.scenarios.map((s) => async () => {
      const problems: string[] = [];
      for (const c of s.expect.cases) {
        const key = caseKey(s, c);
        lab.reset(s.id);
        const res = await cli(['doctor', '--json', ...caseArgv(c, lab)]);
        let out: { findings: Finding[]; hops: CaseRun['hops']; error?: CaseRun['error']; response?: { status: number; url: string; headers: Record<string, string>; bodyPreview: string } };
        try {
          out = JSON.parse(res.stdout);
        } catch {
          problems.push(`${key}: no JSON on stdout (exit ${res.code}): ${res.stderr.slice(0, 500)}`);
          continue;
        }
        const run: CaseRun = { hops: out.hops, ...(out.error ? { error: out.error } : {}) };
        if (out.response) run.response = { status: out.response.status, url: out.response.url, headers: out.response.headers, body: out.response.bodyPreview };
        for (const p of checkCase(c, run, lab.received(s.id))) problems.push(`${key}: ${p}`);
        // the trace itself: one hop per request the lab saw, decisions on every hop
        assert.ok(out.hops.length >= 1, key);
        for (const h of out.hops) assert.ok(Array.isArray(h.decisions) && typeof h.url === 'string', key);
        const findings = checkFindings(
          c,
          out.findings.map((f) => f.code),
        );
        if (findings) problems.push(`${key}: ${findings}`);
        const wantExit = out.findings.some((f) => f.severity !== 'info') ? 1 : 0;
        if (res.code !== wantExit) problems.push(`${key}: exit ${res.code}, expected ${wantExit}`);
        for (const f of out.findings) {
          if (!f.fix?.client || !f.fix?.server || typeof f.hop !== 'number' || !f.title) problems.push(`${key}: malformed finding ${JSON.stringify(f)}`);
        }
      }
      return problems;
    });
    const problems = (await limited(perScenario, PARALLEL)).flat();
    assert.deepEqual(problems, []);
  });
});

describe('`hopwise trace` against the lab', () => {
  test('text: one block per hop, decisions in plain words, no colour when piped; exit 0 on a response', async () => {
    const s = lab.scenarios.find((x) => x.id === 'cross-origin-auth')!;
    const c = s.expect.cases.find((x) => x.name === 'raw-header')!;
    const res = await cli(['trace', ...caseArgv(c, lab)], { NO_COLOR: '' });
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stdout, /\u001b\[/);
    assert.match(res.stdout, /^#0 GET https:\/\/api\.hopwise\.test\/cross-origin-auth\/start$/m);
    assert.match(res.stdout, /^#1 GET https:\/\/cdn\.hopwise\.test\/cross-origin-auth\/resource$/m);
    assert.match(res.stdout, /^ {3}302 Found · /m);
    assert.match(res.stdout, /^ {3}stripped\n {5}✗ authorization — the next hop goes to a different origin/m);
    assert.match(res.stdout, /^done 401 Unauthorized /m);
  });

  test('hopwise URL and trace, refusing a downgrade, name the flag as it is typed (--allow-downgrade takes no value); exit 1', async () => {
    const s = lab.scenarios.find((x) => x.id === 'https-downgrade')!;
    const c = s.expect.cases.find((x) => x.name === 'default')!;
    const res = await cli(caseArgv(c, lab));
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /or pass --allow-downgrade \(credentials/);
    assert.doesNotMatch(res.stderr, /allowDowngrade|--allow-downgrade: true/);
    const trace = await cli(['trace', ...caseArgv(c, lab)]);
    assert.equal(trace.code, 1, trace.stderr);
    assert.match(trace.stdout, /^stopped ERR_INSECURE_REDIRECT: .* or pass --allow-downgrade \(credentials/m);
  });

  test('--json, --har (valid HAR 1.2), -c writes a Netscape jar; exit 1 when the chain stops with an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-e2e-'));
    const har = join(dir, 'trace.har');
    const jar = join(dir, 'cookies.txt');
    const s = lab.scenarios.find((x) => x.id === 'https-downgrade')!;
    const c = s.expect.cases.find((x) => x.name === 'default')!;
    lab.reset(s.id);
    const res = await cli(['trace', '--json', '--har', har, '-c', jar, ...caseArgv(c, lab)]);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as { hops: { decisions: { reason: string }[] }[]; error: { code: string } };
    assert.equal(out.error.code, 'ERR_INSECURE_REDIRECT');
    assert.ok(out.hops[0]!.decisions.some((d) => d.reason === 'downgrade-refused'));
    assert.match(res.stderr, /HAR written to/);

    const require = createRequire(import.meta.url);
    const ajv = new Ajv({ strict: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT/);
    ajv.addFormat('uri', { validate: (x: string) => URL.canParse(x) });
    ajv.addFormat('ipv4', /./);
    ajv.addFormat('ipv6', /./);
    const schemas = require('har-schema') as Record<string, object>;
    for (const [name, schema] of Object.entries(schemas)) if (name !== 'har') ajv.addSchema(schema);
    const validate = ajv.compile(schemas.har!);
    const doc: { log: { entries: unknown[]; _hopwise: { error: { code: string } } } } = JSON.parse(readFileSync(har, 'utf8'));
    assert.ok(validate(doc), JSON.stringify(validate.errors));
    assert.equal(doc.log.entries.length, 1);
    assert.equal(doc.log._hopwise.error.code, 'ERR_INSECURE_REDIRECT');
    assert.ok(!readFileSync(har, 'utf8').includes('hopwise-lab-token'), 'the token is redacted');

    const cookies = readFileSync(jar, 'utf8');
    assert.match(cookies, /^# Netscape HTTP Cookie File/);
    assert.match(cookies, /app\.hopwise\.test\tFALSE\t\/\tTRUE\t0\tsid\t/);
  });

  test('--show-secrets puts the command-line token in the HAR and says what stays redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-e2e-'));
    const har = join(dir, 'secret.har');
    const s = lab.scenarios.find((x) => x.id === 'same-origin-auth')!;
    const c = s.expect.cases[0]!;
    const res = await cli(['trace', '--har', har, '--show-secrets', ...caseArgv(c, lab)]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /cookie values stay redacted/);
    assert.ok(readFileSync(har, 'utf8').includes('Bearer hopwise-lab-token'));
  });

  test('doctor exits 2 when no hop got a response; bad flags exit 2 naming the flag', async () => {
    const res = await cli(['doctor', '--connect-to', '::127.0.0.1:1', '--connect-timeout', '2', 'http://nothing.hopwise.test/']);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    const bad = await cli(['doctor', '-k', 'https://x.test/']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-k is refused/);
  });
});

describe('`hopwise URL` against the lab (https)', () => {
  test("the body over TLS with the lab's CA; without it, exit 60 (certificate not verified), as curl", async () => {
    const s = lab.scenarios.find((x) => x.id === 'same-origin-auth')!;
    const c = s.expect.cases[0]!;
    const args = caseArgv(c, lab);
    const ok = await cli(['-sS', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects}', ...args]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^200 [1-9]$/);
    const noCa = args.filter((a, i) => a !== '--cacert' && args[i - 1] !== '--cacert');
    const bad = await cli(noCa);
    assert.equal(bad.code, 60, bad.stderr);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^hopwise: \(60\) TLS with /);
  });
});

describe('the installed bin', () => {
  test(
    'node dist/cli/hopwise.mjs runs as a program: usage on stdout with exit 0, a refused flag on stderr with exit 2',
    { skip: existsSync(BIN) ? false : 'dist/cli/hopwise.mjs is not built (npm run build); the bin was not run' },
    async () => {
      const help = await bin(['--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^hopwise: curl -L that explains itself/);
      const bad = await bin(['doctor', '-k', 'https://x.test/']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^hopwise: -k is refused/);
    },
  );
});
