// Every CLI fix `hopwise doctor` prints runs as printed when pasted: each lab case's doctor runs
// in-process against one lab, every `run` line it prints is handed to a real POSIX shell (/bin/sh,
// with the variables the note names set, as the note asks), the arguments the shell produces are
// run through the CLI again, and none may be a usage error (exit 2). The printed lines carry no
// secret; the secrets become shell variables. Plus the masking of every kind of secret, one by one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startLab, LAB_TOKEN, LAB_API_KEY, type Lab } from '../src/lab/index.js';
import { caseArgv, caseKey } from '../src/cli/scenarios.js';
import { fixLine, maskArgv, shellQuote } from '../src/cli/fix-command.js';
import { runCli } from './helpers/cli.ts';

/** The environment a person sets after reading the note: the lab's own secrets. */
const SHELL_ENV: Record<string, string> = { TOKEN: LAB_TOKEN, X_API_KEY: LAB_API_KEY, USERNAME: 'alice', PASSWORD: 'wonderland', CREDENTIALS: 'dXNlcjpwYXNz' };

/** What /bin/sh makes of a pasted `hopwise ...` line: the arguments after `hopwise`. */
function shellArgs(line: string, env: Record<string, string>): string[] {
  assert.ok(line.startsWith('hopwise '), line);
  const script = `printf '%s\\0' ${line.slice('hopwise '.length)}`;
  const out = execFileSync('/bin/sh', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab?.close();
});

describe('the CLI fixes of every lab case', () => {
  test('each printed command line runs when pasted into a shell: no usage error, and no secret printed', async () => {
    const problems: string[] = [];
    let lines = 0;
    for (const s of lab.scenarios) {
      for (const c of s.expect.cases) {
        const key = caseKey(s, c);
        lab.reset(s.id);
        const res = await runCli(['doctor', ...caseArgv(c, lab)]);
        for (const secret of [LAB_TOKEN, LAB_API_KEY]) if (res.stdout.includes(secret)) problems.push(`${key}: the doctor printed a secret`);
        const runs = res.stdout
          .split('\n')
          .filter((l) => l.startsWith('  run     '))
          .map((l) => l.slice('  run     '.length));
        // a fix flag printed on its own in the words is what people paste: only run lines name flags
        for (const l of res.stdout.split('\n').filter((x) => x.startsWith('  client  '))) if (/\(CLI: /.test(l)) problems.push(`${key}: a partial CLI hint in ${l}`);
        for (const line of runs) {
          lines++;
          lab.reset(s.id);
          const argv = shellArgs(line, SHELL_ENV);
          const again = await runCli(argv);
          if (again.code === 2) problems.push(`${key}: \`${line}\` exits 2: ${again.stderr.trim()}`);
          if (/usage:|needs a value|applies to/i.test(again.stderr)) problems.push(`${key}: \`${line}\` is a usage error: ${again.stderr.trim()}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(lines >= 8, `the lab's cases print CLI fixes (${lines} lines)`);
  });

  test('the pasted fix for the stripped Authorization header makes the chain work: exit 0, and the server got the token', async () => {
    const s = lab.scenarios.find((x) => x.id === 'cross-origin-auth')!;
    const c = s.expect.cases.find((x) => x.name === 'raw-header')!;
    lab.reset(s.id);
    const res = await runCli(['doctor', ...caseArgv(c, lab)]);
    assert.equal(res.code, 1);
    const line = res.stdout.split('\n').find((l) => l.startsWith('  run     '))!;
    assert.match(line, /-H "authorization: Bearer \$TOKEN"/);
    assert.match(line, / --trust cdn\.hopwise\.test$/);
    assert.match(res.stdout, /\$TOKEN stands for what you gave \(never printed\)/);
    lab.reset(s.id);
    const again = await runCli(shellArgs(line.slice('  run     '.length), SHELL_ENV));
    assert.equal(again.code, 0, again.stdout);
    const got = lab.received(s.id).find((r) => r.host === 'cdn.hopwise.test');
    assert.equal(got?.headers.authorization, `Bearer ${LAB_TOKEN}`);
  });

  test('--json carries each fix as a whole command line too', async () => {
    const s = lab.scenarios.find((x) => x.id === 'https-downgrade')!;
    const c = s.expect.cases.find((x) => x.name === 'default')!;
    lab.reset(s.id);
    const res = await runCli(['doctor', '--json', ...caseArgv(c, lab)]);
    const out = JSON.parse(res.stdout) as { findings: { code: string; fix: { cli?: string[]; command?: string } }[] };
    const f = out.findings.find((x) => x.code === 'downgrade-refused')!;
    assert.deepEqual(f.fix.cli, ['--allow-downgrade']);
    assert.match(f.fix.command!, /^hopwise doctor --json .* --allow-downgrade$/);
  });
});

describe('masking the command line', () => {
  const mask = (argv: string[]) => maskArgv(argv, 'doctor');
  test('credential headers keep their scheme, the value becomes a variable', () => {
    const m = mask(['doctor', '-H', 'Authorization: Bearer s3cr3t', '-H', 'X-Api-Key: k3y', '-H', 'Accept: text/html', 'https://a.example/']);
    assert.deepEqual(m.argv, ['doctor', '-H', 'Authorization: Bearer $TOKEN', '-H', 'X-Api-Key: $X_API_KEY', '-H', 'Accept: text/html', 'https://a.example/']);
    assert.deepEqual(m.variables, ['TOKEN', 'X_API_KEY']);
  });
  test('-u keeps the user name, --oauth2-bearer and --proxy-user lose their secrets, -b its cookie values', () => {
    const m = mask(['doctor', '-u', 'alice:pw', '--oauth2-bearer=tok', '--proxy-user', 'bob:ppw', '-b', 'sid=abc; theme=dark', 'https://a.example/']);
    assert.deepEqual(m.argv, [
      'doctor',
      '-u',
      'alice:$PASSWORD',
      '--oauth2-bearer',
      '$TOKEN',
      '--proxy-user',
      'bob:$PROXY_PASSWORD',
      '-b',
      'sid=$COOKIE_SID; theme=$COOKIE_THEME',
      'https://a.example/',
    ]);
  });
  test('secret-looking form, JSON and query fields, URL and proxy passwords, and --sensitive-header names', () => {
    const m = mask(['doctor', '-d', 'user=alice&password=pw', '--sensitive-header', 'x-tenant', '-H', 'X-Tenant: t1', '-x', 'http://p:ppw@proxy:3128', 'https://u:upw@a.example/cb?code=xyz&state=1']);
    assert.deepEqual(m.argv, [
      'doctor',
      '-d',
      'user=alice&password=$PASSWORD',
      '--sensitive-header',
      'x-tenant',
      '-H',
      'X-Tenant: $X_TENANT',
      '-x',
      'http://p:$PROXY_PASSWORD@proxy:3128',
      'https://u:$PASSWORD@a.example/cb?code=$CODE&state=1',
    ]);
    const j = mask(['doctor', '--data-raw', '{"user":"alice","api_key":"k"}', 'https://a.example/']);
    assert.equal(j.argv[2], '{"user":"alice","api_key":"$API_KEY"}');
  });
  test('combined short flags and inline values are split, and the fix goes before a --', () => {
    const m = mask(['doctor', '-sHAuthorization: Basic eA==', '--', 'https://a.example/']);
    assert.deepEqual(m.argv, ['doctor', '-s', '-H', 'Authorization: Basic $CREDENTIALS', '--', 'https://a.example/']);
    assert.equal(fixLine(m, ['--trust', 'b.example']), `hopwise doctor -s -H "Authorization: Basic \\$CREDENTIALS" -- https://a.example/`.replace('\\$', '$').replace(' --', ' --trust b.example --'));
  });
  test('quoting: plain words bare, variables in double quotes, the rest in single quotes', () => {
    assert.equal(shellQuote('--trust'), '--trust');
    assert.equal(shellQuote('Authorization: Bearer $TOKEN'), '"Authorization: Bearer $TOKEN"');
    assert.equal(shellQuote('a "b" $5 `c`: $TOKEN'), '"a \\"b\\" \\$5 \\`c\\`: $TOKEN"');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(''), `''`);
    assert.deepEqual(shellArgs(`hopwise ${['a b', "it's", 'x: $TOKEN', '$5'].map(shellQuote).join(' ')}`, { TOKEN: 't' }), ['a b', "it's", 'x: t', '$5']);
  });
});
