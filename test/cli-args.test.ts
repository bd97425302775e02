// CLI argument parsing: curl-compatible flags, hopwise's own, errors that name the flag, usage.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgError, argvForOption, COMMANDS, effectiveMethod, FLAGS, flagForOption, parseArgs, resolveBody, usage, type RequestArgs } from '../src/cli/args.js';
import { caseArgv } from '../src/cli/scenarios.js';
import { labScenarios } from '../src/lab/index.js';
import { sessionOptions } from '../src/cli/run.js';
import { main } from '../src/cli/main.js';

function req(argv: string[]): RequestArgs {
  const p = parseArgs(argv);
  assert.ok(p.command === 'trace' || p.command === 'doctor' || p.command === 'fetch');
  return p.request;
}

function argError(argv: string[], flag: string | RegExp, message?: RegExp): ArgError {
  try {
    parseArgs(argv);
  } catch (e) {
    assert.ok(e instanceof ArgError, `ArgError, got ${e}`);
    if (typeof flag === 'string') assert.equal(e.flag, flag);
    else assert.match(e.flag ?? '', flag);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected an ArgError for ${argv.join(' ')}`);
}

describe('commands', () => {
  test('no arguments, help, --help, help <command>, <command> --help', () => {
    assert.deepEqual(parseArgs([]), { command: 'help' });
    assert.deepEqual(parseArgs(['--help']), { command: 'help' });
    assert.deepEqual(parseArgs(['help', 'doctor']), { command: 'help', topic: 'doctor' });
    for (const c of COMMANDS) {
      assert.deepEqual(parseArgs([c, '--help']), { command: 'help', topic: c });
      assert.deepEqual(parseArgs([c, '-h']), { command: 'help', topic: c });
    }
    assert.deepEqual(parseArgs(['--version']), { command: 'version' });
  });
  test('a bare URL is the curl-like fetch; flags before or after the URL, or before the command', () => {
    const p = parseArgs(['https://example.com/', '-H', 'a: b']);
    assert.equal(p.command, 'fetch');
    const q = parseArgs(['-H', 'a: b', 'https://example.com/']);
    assert.ok(q.command === 'fetch' && q.request.url === 'https://example.com/');
    const t = parseArgs(['-H', 'a: b', 'trace', 'https://x.test/']);
    assert.ok(t.command === 'trace' && t.request.headers.length === 1);
    // a value that happens to be a command's name is a value
    const d = parseArgs(['-d', 'trace', 'https://x.test/']);
    assert.ok(d.command === 'fetch' && d.request.data[0]?.value === 'trace');
  });
  test('unknown commands suggest the close one', () => {
    argError(['doctr', 'https://x.test/'], 'doctr', /Did you mean 'doctor'/);
  });
  test('help FLAG, help exit, and help for a topic that does not exist', () => {
    assert.deepEqual(parseArgs(['help', '-F']), { command: 'help', flag: '-F' });
    assert.deepEqual(parseArgs(['help', 'fail']), { command: 'help', flag: '--fail' });
    assert.deepEqual(parseArgs(['help', 'exit']), { command: 'help', flag: 'exit' });
    argError(['help', 'nonsense-topic'], 'nonsense-topic', /no help/);
  });
  test('lab and demo', () => {
    assert.deepEqual(parseArgs(['lab']), { command: 'lab', json: false });
    assert.deepEqual(parseArgs(['lab', '--json', '--host', '0.0.0.0']), { command: 'lab', json: true, host: '0.0.0.0' });
    assert.deepEqual(parseArgs(['demo', '--only', 'cookie-path,meta-refresh', '--only=round-robin']), { command: 'demo', json: false, only: ['cookie-path', 'meta-refresh', 'round-robin'] });
    argError(['demo', 'x'], 'x');
    argError(['lab', '-H', 'a: b'], '-H', /does not apply to 'lab'/);
  });
});

describe('curl-compatible flags', () => {
  test('-X, -H (repeatable, attached forms), -d joined with & and POST by default', () => {
    const r = req(['trace', '-XPUT', '-H', 'Authorization: Bearer t', '-HX-Trace:  1 ', '--header=Accept: */*', 'https://x.test/p']);
    assert.equal(r.method, 'PUT');
    assert.deepEqual(r.headers, [
      ['Authorization', 'Bearer t'],
      ['X-Trace', '1'],
      ['Accept', '*/*'],
    ]);
    assert.equal(r.url, 'https://x.test/p');
    const d = req(['doctor', '-d', 'a=1', '--data', 'b=2', 'https://x.test/']);
    assert.deepEqual(d.data, [
      { mode: 'ascii', value: 'a=1' },
      { mode: 'ascii', value: 'b=2' },
    ]);
    assert.equal(effectiveMethod(d), 'POST');
    assert.equal(effectiveMethod(req(['trace', 'https://x.test/'])), 'GET');
    assert.equal(effectiveMethod(req(['trace', '-I', 'https://x.test/'])), 'HEAD');
  });
  test('bundled booleans and accepted no-ops (-sL, -v, --location)', () => {
    const r = req(['trace', '-sLv', '--location', '-S', 'https://x.test/']);
    assert.equal(r.verbose, true);
  });
  test('--data-binary @file is raw, -d @file drops newlines, joined with &', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-args-'));
    writeFileSync(join(dir, 'f.txt'), 'x=1\r\ny=2\n');
    writeFileSync(join(dir, 'b.bin'), Buffer.from([0, 1, 10, 13, 255]));
    const r = req(['trace', '-d', `@${join(dir, 'f.txt')}`, '--data-binary', `@${join(dir, 'b.bin')}`, '--data-raw', '@literal', 'https://x.test/']);
    const body = await resolveBody(r.data, (p) => readFile(p));
    assert.ok(body);
    assert.deepEqual([...body.body], [...Buffer.from('x=1y=2&'), 0, 1, 10, 13, 255, ...Buffer.from('&@literal')]);
    assert.equal(body.contentType, 'application/x-www-form-urlencoded');
    await assert.rejects(
      resolveBody([{ mode: 'binary', value: '@/nonexistent/file' }], (p) => readFile(p)),
      (e: unknown) => e instanceof ArgError && e.flag === '--data-binary',
    );
    assert.equal(await resolveBody([], (p) => readFile(p)), undefined);
  });
  test('-u user:pass, and no password prompt', () => {
    assert.deepEqual(req(['trace', '-u', 'ann:p:w', 'https://x.test/']).user, { name: 'ann', password: 'p:w' });
    argError(['trace', '-u', 'ann', 'https://x.test/'], '-u', /does not prompt/);
  });
  test('--oauth2-bearer, -b (string or file), -c, --connect-to, --cacert, --max-redirs, --max-time', () => {
    const r = req([
      'doctor',
      '--oauth2-bearer',
      'tok',
      '-b',
      'a=1; b=2',
      '--cookie',
      'jar.txt',
      '-c',
      'out.txt',
      '--connect-to',
      '::127.0.0.1:8443',
      '--connect-to',
      'a.test:443:127.0.0.1:9443',
      '--cacert',
      'ca.pem',
      '--max-redirs',
      '3',
      '--max-time',
      '2.5',
      '--connect-timeout',
      '1',
      'https://x.test/',
    ]);
    assert.equal(r.bearer, 'tok');
    assert.deepEqual(r.cookies, ['a=1; b=2', 'jar.txt']);
    assert.equal(r.cookieJar, 'out.txt');
    assert.deepEqual(r.connectTo, ['::127.0.0.1:8443', 'a.test:443:127.0.0.1:9443']);
    assert.deepEqual(r.cacert, ['ca.pem']);
    assert.equal(r.maxRedirs, 3);
    assert.equal(r.maxTime, 2.5);
    assert.equal(r.connectTimeout, 1);
  });
  test('-k and --insecure are refused with an explanation', () => {
    for (const k of ['-k', '--insecure']) argError(['trace', k, 'https://x.test/'], k, /never turns off certificate verification.*--cacert/s);
    argError(['trace', '-sk', 'https://x.test/'], '-k');
  });
});

describe("hopwise's own flags", () => {
  test('--trust, --sensitive-header, --allow-downgrade, --follow-meta-refresh, --cross-origin-body, --auth-scope, --json, --har, --show-secrets', () => {
    const r = req([
      'trace',
      '--trust',
      '*.example.com',
      '--trust=https://x.test:8443',
      '--sensitive-header',
      'X-Tenant',
      '--allow-downgrade',
      '--follow-meta-refresh',
      '--cross-origin-body',
      'send',
      '--oauth2-bearer',
      't',
      '--auth-scope',
      'api.example.com',
      '--json',
      '--har',
      'out.har',
      '--show-secrets',
      'https://x.test/',
    ]);
    assert.deepEqual(r.trust, ['*.example.com', 'https://x.test:8443']);
    assert.deepEqual(r.sensitiveHeaders, ['x-tenant']);
    assert.equal(r.allowDowngrade, true);
    assert.equal(r.followMetaRefresh, true);
    assert.equal(r.crossOriginBody, 'send');
    assert.deepEqual(r.authScope, ['api.example.com']);
    assert.equal(r.json, true);
    assert.equal(r.har, 'out.har');
    assert.equal(r.showSecrets, true);
  });
});

describe('argument errors name the flag', () => {
  test('unknown flag, with a suggestion', () => {
    argError(['trace', '--max-redirect', '3', 'https://x.test/'], '--max-redirect', /Did you mean --max-redirs/);
    argError(['trace', '--frobnicate', 'https://x.test/'], '--frobnicate', /unknown flag/);
  });
  test('missing and bad values', () => {
    argError(['trace', 'https://x.test/', '-H'], '-H', /needs a value/);
    argError(['trace', '-H', 'no-colon', 'https://x.test/'], '-H', /Name: value/);
    argError(['trace', '--max-redirs', 'many', 'https://x.test/'], '--max-redirs', /whole number/);
    argError(['trace', '--max-time', '-1', 'https://x.test/'], '--max-time');
    argError(['trace', '--connect-to', 'a:b', 'https://x.test/'], '--connect-to', /HOST1:PORT1:HOST2:PORT2/);
    argError(['trace', '--cross-origin-body', 'maybe', 'https://x.test/'], '--cross-origin-body');
    argError(['trace', '-X', 'GE T', 'https://x.test/'], '-X');
    argError(['trace', '--json=yes', 'https://x.test/'], '--json', /takes no value/);
    argError(['trace', '--auth-scope', 'a.test', 'https://x.test/'], '--auth-scope', /-u or --oauth2-bearer/);
    argError(['trace', '--show-secrets', 'https://x.test/'], '--show-secrets', /--har or --json/);
  });
  test('the URL', () => {
    argError(['trace'], 'URL', /needs a URL/);
    argError(['trace', 'example.com'], 'URL', /https:\/\/example\.com/);
    argError(['trace', 'ftp://x.test/'], 'URL', /only http: and https:/);
    argError(['trace', 'https://a.test/', 'https://b.test/'], 'https://b.test/');
    assert.equal(req(['trace', '--url', 'https://x.test/']).url, 'https://x.test/');
  });
});

describe('usage', () => {
  test('every command has help with examples; every flag is listed for its commands', () => {
    assert.match(usage(), /hopwise \[flags\] URL[\s\S]*trace[\s\S]*doctor[\s\S]*lab[\s\S]*demo/);
    for (const f of FLAGS.filter((x) => x.commands.includes('fetch'))) assert.ok(usage().includes(f.names[0]!), `main help lists ${f.names[0]}`);
    for (const c of COMMANDS) {
      const u = usage(c);
      assert.match(u, new RegExp(`hopwise ${c}`));
      assert.match(u, /Examples:/);
      for (const f of FLAGS.filter((x) => x.commands.includes(c))) assert.ok(u.includes(f.names[0]!), `${c} usage lists ${f.names[0]}`);
    }
    assert.match(usage('doctor'), /Exit status: 0 .* 1 .* 2/);
  });
  test('main prints the error naming the flag, then usage, and exits 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: { write: (s: string) => (out.push(s), true), isTTY: false } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => (err.push(s), true) } as unknown as NodeJS.WritableStream,
      env: {},
    };
    assert.equal(await main(['trace', '-k', 'https://x.test/'], io), 2);
    assert.match(err.join(''), /^hopwise: -k is refused/);
    assert.match(err.join(''), /Usage: hopwise trace URL/);
    assert.equal(await main(['help', 'trace'], io), 0);
    assert.match(out.join(''), /Send data:/);
  });
});

describe('flags to Session options', () => {
  test('headers, auth with scope, cookies from a string, trust, limits', async () => {
    const r = req([
      'trace',
      '-H',
      'X-A: 1',
      '-H',
      'x-a: 2',
      '-u',
      'ann:pw',
      '--auth-scope',
      'x.test',
      '-b',
      'sid=abc; theme=dark',
      '--trust',
      'cdn.x.test',
      '--max-redirs',
      '4',
      '--max-time',
      '2',
      '--follow-meta-refresh',
      'https://x.test/a',
    ]);
    const { options, jar } = await sessionOptions(r, async () => Buffer.from(''));
    assert.deepEqual(options.headers, { 'x-a': '1, 2' });
    assert.ok(Array.isArray(options.auth) && options.auth.length === 1);
    assert.equal(options.auth[0]!.kind, 'basic');
    assert.deepEqual(options.trust, ['cdn.x.test']);
    assert.equal(options.maxRedirects, 4);
    assert.deepEqual(options.timeout, { total: 2000 });
    assert.equal(options.followMetaRefresh, true);
    assert.equal(jar.getCookieString('https://x.test/b'), 'sid=abc; theme=dark');
    assert.equal(jar.getCookieString('https://other.test/'), '', '-b cookies are host-only for the first URL');
  });
  test('--cacert and -b files that cannot be read name the flag', async () => {
    const r = req(['trace', '--cacert', '/nonexistent/ca.pem', 'https://x.test/']);
    await assert.rejects(sessionOptions(r), (e: unknown) => e instanceof ArgError && e.flag === '--cacert');
    const b = req(['trace', '-b', '/nonexistent/cookies.txt', 'https://x.test/']);
    await assert.rejects(sessionOptions(b), (e: unknown) => e instanceof ArgError && e.flag === '-b');
  });
});

describe('the flag table is the one map between flags and Session options', () => {
  test('the arguments made for each lab case parse back into the Session options the case names', async () => {
    const lab = { connectTo: [':443:127.0.0.1:1', ':80:127.0.0.1:2'], caPath: '/lab/ca.pem' };
    for (const s of labScenarios()) {
      for (const c of s.expect.cases) {
        const key = `${s.id}/${c.name}`;
        const r = req(['doctor', ...caseArgv(c, lab)]);
        const read = async (p: string) => (assert.equal(p, lab.caPath, key), Buffer.from('PEM'));
        const { options } = await sessionOptions(r, read);
        const got = options as Record<string, unknown>;
        for (const [k, v] of Object.entries(c.options ?? {})) assert.deepEqual(got[k], v, `${key}: ${k}`);
        const headers = Object.fromEntries(Object.entries(c.request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        assert.deepEqual(options.headers, headers, `${key}: headers`);
        assert.deepEqual(options.connectTo, lab.connectTo, key);
        assert.deepEqual(options.ca, ['PEM'], key);
        if (c.auth) {
          assert.ok(Array.isArray(options.auth) && options.auth.length === 1, key);
          assert.equal(options.auth[0]!.kind, c.auth.kind, key);
          assert.equal(options.auth[0]!.scope?.length ?? 0, c.auth.scope?.length ?? 0, key);
        } else {
          assert.equal(options.auth, undefined, key);
        }
      }
    }
  });

  test('two flags that set one option are merged, and an option no flag can say is an error', async () => {
    const r = req(['trace', '--max-time', '2.5', '--connect-timeout', '1', '-u', 'ann:pw', '--oauth2-bearer', 't', 'https://x.test/']);
    const { options } = await sessionOptions(r);
    assert.deepEqual(options.timeout, { total: 2500, connect: 1000 });
    assert.deepEqual(Array.isArray(options.auth) && options.auth.map((a) => a.kind), ['basic', 'bearer']);
    assert.deepEqual(argvForOption('timeout', { total: 2500, connect: 1000 }), ['--max-time', '2.5', '--connect-timeout', '1']);
    assert.deepEqual(argvForOption('auth', { kind: 'bearer', token: 't', scope: ['a.test'] }), ['--oauth2-bearer', 't', '--auth-scope', 'a.test']);
    assert.deepEqual(argvForOption('allowDowngrade', false), []);
    assert.equal(flagForOption('ca'), '--cacert');
    assert.throws(() => argvForOption('hooks', {}), /no CLI flag sets the Session option 'hooks'/);
    assert.throws(() => argvForOption('auth', { kind: 'header', name: 'x-api-key', value: 'k' }), /no CLI flag/);
  });

  test('every option link names a flag of trace and doctor only', () => {
    for (const f of FLAGS.filter((x) => x.option)) assert.deepEqual([...f.commands].sort(), ['doctor', 'fetch', 'trace'], f.names[0]);
  });
});
