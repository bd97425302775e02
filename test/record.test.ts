/**
 * `hopwise record -- CMD`: real programs (Python requests, curl, node) run through the recorder
 * against the lab, reached through the recorder's own --connect-to and --cacert. The assertions are
 * on what the lab's servers received, on what the program saw, and on the output.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../src/lab/index.js';
import { runCli } from './helpers/cli.ts';
import { CURL, NO_CURL, NO_REQUESTS, PYTHON_REQUESTS } from './record-clients.ts';

/** The classic script: a token in `session.headers`, then a GET that the API redirects to its CDN. */
const CLASSIC = (url: string): string =>
  ['import requests', 's = requests.Session()', "s.headers['Authorization'] = 'Bearer s3cret-t0ken-value'", `r = s.get('${url}')`, 'print(r.status_code, r.url)'].join('\n');

/**
 * One lab for the file (each lab is a fresh CA and certificate, about 0.4 s of CPU), reset before each
 * test: no request seen, no server-side state. The tests run one after another.
 */
let shared: Promise<Lab> | undefined;
after(async () => {
  await (await shared)?.close();
});

async function withLab(run: (lab: Lab, labFlags: string[], dir: string) => Promise<void>): Promise<void> {
  const lab = await (shared ??= startLab());
  lab.reset();
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-record-test-'));
  try {
    await run(lab, ['--cacert', lab.caPath, ...lab.connectTo.flatMap((r) => ['--connect-to', r])], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'Python requests with a token in session.headers, redirected to another host: the doctor names the stripped header, the hop, why requests does it and the scoped fix',
  { skip: PYTHON_REQUESTS ? false : NO_REQUESTS },
  async () => {
    await withLab(async (lab, flags, dir) => {
      const har = join(dir, 'run.har');
      const res = await runCli(['record', ...flags, '--har', har, '--', PYTHON_REQUESTS!, '-c', CLASSIC(lab.url('cross-origin-auth'))]);
      // the program ran through the recorder and its output passed through
      assert.match(res.stdout, /401 https:\/\/cdn\.hopwise\.test\/cross-origin-auth\/resource/);
      const got = lab.received('cross-origin-auth');
      assert.deepEqual(
        got.map((r) => [r.url, r.headers['authorization']]),
        [
          ['https://api.hopwise.test/cross-origin-auth/start', 'Bearer s3cret-t0ken-value'],
          ['https://cdn.hopwise.test/cross-origin-auth/resource', undefined],
        ],
      );
      assert.match(res.stdout, /hopwise record: 2 requests, .* exited with status 0/);
      // the doctor: the header, the hop, the origins; requests' reason and the fix scoped to the CDN host
      assert.equal(res.code, 1);
      assert.match(res.stdout, /! warning credential-stripped-cross-origin \(hop 1\)\n {2}Authorization was not sent to cdn\.hopwise\.test/);
      assert.match(res.stdout, /unauthorized-after-redirect \(hop 1\)/);
      assert.match(
        res.stdout,
        /python-requests\/[\d.]+ \(credential-stripped-cross-origin, hop 1\)\n {2}why {2}requests removes Authorization on every redirect that changes the host \(api\.hopwise\.test → cdn\.hopwise\.test\)/,
      );
      assert.match(res.stdout, /fix {2}If cdn\.hopwise\.test is yours .* should_strip_auth\(self, old_url, new_url\) to return False when urlparse\(new_url\)\.hostname == 'cdn\.hopwise\.test'/);
      assert.doesNotMatch(res.stdout, /har-incomplete/, 'a recording has every header: no sanitized-export note');
      assert.match(res.stdout, /#0 GET https:\/\/api\.hopwise\.test\/cross-origin-auth\/start → 302/);
      assert.match(res.stdout, /#1 GET https:\/\/cdn\.hopwise\.test\/cross-origin-auth\/resource → 401/);
      // the HAR: both hops, the redirect, the Authorization header named with its scheme, its value nowhere
      const text = readFileSync(har, 'utf8');
      assert.ok(!text.includes('s3cret-t0ken-value'), 'the token is in the HAR');
      assert.ok(!res.stdout.includes('s3cret-t0ken-value') && !res.stderr.includes('s3cret-t0ken-value'), 'the token was printed');
      const entries = (JSON.parse(text) as { log: { entries: { request: { url: string; headers: { name: string; value: string }[] }; response: { status: number; redirectURL: string } }[] } }).log
        .entries;
      assert.equal(entries.length, 2);
      assert.equal(entries[0]!.response.redirectURL, 'https://cdn.hopwise.test/cross-origin-auth/resource');
      assert.deepEqual(
        entries[0]!.request.headers.find((h) => h.name.toLowerCase() === 'authorization'),
        { name: 'Authorization', value: 'Bearer ‹redacted›' },
      );
      assert.equal(
        entries[1]!.request.headers.find((h) => h.name.toLowerCase() === 'authorization'),
        undefined,
      );
    });
  },
);

test('curl -L with an X-Api-Key header: curl forwards it to the other host, the lab received it there, and the doctor names the leak', { skip: CURL ? false : NO_CURL }, async () => {
  await withLab(async (lab, flags) => {
    const res = await runCli(['record', '--json', ...flags, '--', 'curl', '-sS', '-L', '-o', '/dev/null', '-H', 'X-Api-Key: k3y-0f-the-api', lab.url('cross-origin-auth')]);
    const got = lab.received('cross-origin-auth');
    assert.deepEqual(
      got.map((r) => [r.host, r.headers['x-api-key']]),
      [
        ['api.hopwise.test', 'k3y-0f-the-api'],
        ['cdn.hopwise.test', 'k3y-0f-the-api'],
      ],
    );
    // --json: stdout is only the JSON, with the program's status beside the findings
    const out = JSON.parse(res.stdout) as {
      program: { command: string; status: number };
      requests: { url: string; status: number }[];
      findings: { code: string; hop: number; facts: Record<string, unknown> }[];
      clientNotes: { code: string; client: string; why: string }[];
    };
    assert.equal(res.code, 1);
    const leak = out.findings.find((f) => f.code === 'secret-sent-cross-origin');
    assert.ok(leak, `no leak finding in ${out.findings.map((f) => f.code).join(', ')}`);
    assert.equal(leak.hop, 1);
    assert.equal(leak.facts.header, 'x-api-key');
    assert.equal(leak.facts.to, 'https://cdn.hopwise.test');
    assert.match(out.clientNotes.find((n) => n.code === 'secret-sent-cross-origin')!.why, /curl -L strips only Authorization and Cookie .* x-api-key included, goes to cdn\.hopwise\.test/);
    assert.deepEqual(out.program, { command: 'curl', status: 0, signal: null });
    assert.deepEqual(
      out.requests.map((r) => r.status),
      [302, 401],
    );
    assert.ok(!res.stdout.includes('k3y-0f-the-api') && !res.stderr.includes('k3y-0f-the-api'), 'the key was printed');
  });
});

test('the program gets the proxy and CA variables, NO_PROXY removed; its stdout goes to stderr under --json; the CA file is gone afterwards', async () => {
  await withLab(async (lab, flags) => {
    const script = [
      'const fs = require("node:fs");',
      'const names = ["HTTP_PROXY","HTTPS_PROXY","http_proxy","https_proxy","NO_PROXY","no_proxy","SSL_CERT_FILE","REQUESTS_CA_BUNDLE","CURL_CA_BUNDLE","NODE_EXTRA_CA_CERTS"];',
      'const env = Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));',
      'env.caMode = (fs.statSync(process.env.SSL_CERT_FILE).mode & 0o777).toString(8);',
      'env.ca = fs.readFileSync(process.env.SSL_CERT_FILE, "utf8");',
      'console.log(JSON.stringify(env));',
      // one request through the proxy, by hand: absolute-form to the lab's plain listener
      'const http = require("node:http"); const p = new URL(process.env.http_proxy);',
      'http.get({ host: p.hostname, port: p.port, path: "http://app.hopwise.test/ok", headers: { host: "app.hopwise.test" } }, (r) => r.resume().on("end", () => process.exit(3)));',
    ].join('\n');
    const res = await runCli(['record', '--json', ...flags, '--', process.execPath, '-e', script], { ...process.env, NO_PROXY: '*', no_proxy: 'localhost' });
    const out = JSON.parse(res.stdout) as { program: { status: number }; requests: { method: string; url: string; status: number }[] };
    assert.equal(res.code, 0, 'one clean request: no finding');
    const env = JSON.parse(res.stderr.split('\n').find((l) => l.startsWith('{'))!) as Record<string, string | null>;
    const proxy = env['HTTP_PROXY']!;
    assert.match(proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const n of ['HTTPS_PROXY', 'http_proxy', 'https_proxy']) assert.equal(env[n], proxy, n);
    assert.equal(env['NO_PROXY'], null);
    assert.equal(env['no_proxy'], null);
    const ca = env['SSL_CERT_FILE']!;
    for (const n of ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS']) assert.equal(env[n], ca, n);
    assert.equal(env['caMode'], '600');
    assert.match(env['ca']!, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(!env['ca']!.includes('PRIVATE KEY'));
    assert.equal(existsSync(ca), false, 'the CA file outlived the run');
    // the program's own status is reported, the request recorded, the lab reached
    assert.equal(out.program.status, 3);
    assert.deepEqual(out.requests, [{ method: 'GET', url: 'http://app.hopwise.test/ok', status: 200 }]);
  });
});

test('a program that cannot be started, or that makes no request through the recorder, exits 2 with a message that says why', async () => {
  const missing = await runCli(['record', '--', 'hopwise-no-such-program-xyz']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot run 'hopwise-no-such-program-xyz': not found/);
  const quiet = await runCli(['record', '--', process.execPath, '-e', 'process.exit(0)']);
  assert.equal(quiet.code, 2);
  assert.match(quiet.stderr, /made no HTTP request through the recorder/);
  assert.match(quiet.stdout, /0 requests, .* exited with status 0/);
});

test('record needs a program, and its flags are its own', async () => {
  const none = await runCli(['record']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /'record' needs a program to run: hopwise record \[flags\] -- CMD/);
  const bad = await runCli(['record', '-L', '--', 'curl']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /-L does not apply to 'record'/);
  const help = await runCli(['record', '--help']);
  assert.match(help.stdout, /Usage: hopwise record \[flags\] -- CMD \[ARGS\.\.\.\]/);
  assert.match(help.stdout, /--connect-to HOST1:PORT1:HOST2:PORT2/);
});

test('the recorder refuses an upstream certificate nobody trusts: without --cacert the program gets a 502 and the exchange records the TLS error', { skip: CURL ? false : NO_CURL }, async () => {
  await withLab(async (lab) => {
    const res = await runCli(['record', '--json', ...lab.connectTo.flatMap((r) => ['--connect-to', r]), '--', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', lab.url('cross-origin-auth')]);
    assert.match(res.stderr, /502/);
    const out = JSON.parse(res.stdout) as { requests: { status: number; error?: { code: string } }[] };
    assert.equal(out.requests[0]!.status, 0);
    assert.match(out.requests[0]!.error!.code, /CERT|SELF_SIGNED|UNABLE/);
    assert.equal(lab.received('cross-origin-auth').length, 0, 'a request reached the server over an unverified connection');
  });
});

test(
  'a requests login through the recorder: the session cookie reached the dashboard, and the HAR keeps cookie names with every value redacted',
  { skip: PYTHON_REQUESTS ? false : NO_REQUESTS },
  async () => {
    await withLab(async (lab, flags, dir) => {
      const har = join(dir, 'login.har');
      const script = ['import requests', 's = requests.Session()', `r = s.post('${lab.url('login-session', '/login')}', data={'user': 'alice'})`, 'print(r.status_code, r.text)'].join('\n');
      const res = await runCli(['record', ...flags, '--har', har, '--', PYTHON_REQUESTS!, '-c', script]);
      assert.match(res.stdout, /200 Hello, alice/);
      const got = lab.received('login-session');
      assert.deepEqual(
        got.map((r) => [r.method, r.path]),
        [
          ['POST', '/login-session/login'],
          ['GET', '/login-session/dashboard'],
        ],
      );
      const sid = /sid=([^;]+)/.exec(got[1]!.headers['cookie'] ?? '')?.[1];
      assert.ok(sid, 'the dashboard got no sid cookie');
      const text = readFileSync(har, 'utf8');
      assert.ok(!text.includes(sid), 'the session id is in the HAR');
      assert.ok(!res.stdout.includes(sid), 'the session id was printed');
      const entries = (
        JSON.parse(text) as {
          log: {
            entries: {
              request: { cookies: { name: string; value: string }[]; postData?: { text: string } };
              response: { cookies: { name: string; value: string; path?: string; httpOnly?: boolean }[] };
            }[];
          };
        }
      ).log.entries;
      assert.deepEqual(entries[0]!.response.cookies, [{ name: 'sid', value: '‹redacted›', path: '/', httpOnly: true }]);
      assert.deepEqual(entries[1]!.request.cookies, [{ name: 'sid', value: '‹redacted›' }]);
      assert.equal(entries[0]!.request.postData?.text, 'user=alice');
    });
  },
);

test('a program that runs two chains: the requests are grouped by chain, and a finding names its chain', { skip: CURL ? false : NO_CURL }, async () => {
  await withLab(async (lab, flags) => {
    const argv = ['curl', '-sSL', '-o', '/dev/null', '-o', '/dev/null', '-H', 'X-Api-Key: k3y-0f-the-api', lab.url('cross-origin-auth'), lab.url('login-session', '/dashboard')];
    const text = await runCli(['record', ...flags, '--', ...argv]);
    assert.match(
      text.stdout,
      /chain 0\n {2}#0 GET https:\/\/api\.hopwise\.test\/cross-origin-auth\/start → 302\n {2}#1 GET https:\/\/cdn\.hopwise\.test\/cross-origin-auth\/resource → 401\nchain 1\n {2}#2 GET https:\/\/app\.hopwise\.test\/login-session\/dashboard → 401/,
    );
    const json = JSON.parse((await runCli(['record', '--json', ...flags, '--', ...argv])).stdout) as { chains: number[][]; findings: { code: string; facts: Record<string, unknown> }[] };
    assert.deepEqual(json.chains, [[0, 1], [2]]);
    assert.equal(json.findings.find((f) => f.code === 'secret-sent-cross-origin')?.facts.chain, 0);
  });
});

test("a program that does not trust the run's CA: nothing is relayed, and the run says which variables it should read", { skip: CURL ? false : NO_CURL }, async () => {
  await withLab(async (lab, flags) => {
    // curl told to trust only the lab's CA refuses the recorder's certificate
    const res = await runCli(['record', ...flags, '--', 'curl', '-sS', '--cacert', lab.caPath, lab.url('cross-origin-auth')]);
    assert.equal(lab.received('cross-origin-auth').length, 0);
    assert.equal(res.code, 2);
    assert.match(res.stdout, /note the TLS handshake with the program for api\.hopwise\.test:443 failed .*SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or NODE_EXTRA_CA_CERTS/);
    assert.match(res.stdout, /curl exited with status 60/);
  });
});

test('curl --location-trusted -u: the credentials reach the other host, and the doctor names the leak and the flag that caused it', { skip: CURL ? false : NO_CURL }, async () => {
  await withLab(async (lab, flags) => {
    const res = await runCli(['record', '--json', ...flags, '--', 'curl', '-sS', '-L', '--location-trusted', '-u', 'ann:pa55-w0rd', '-o', '/dev/null', lab.url('cross-origin-auth')]);
    const basic = `Basic ${Buffer.from('ann:pa55-w0rd').toString('base64')}`;
    assert.deepEqual(
      lab.received('cross-origin-auth').map((r) => [r.host, r.headers['authorization']]),
      [
        ['api.hopwise.test', basic],
        ['cdn.hopwise.test', basic],
      ],
    );
    const out = JSON.parse(res.stdout) as { findings: { code: string; hop: number; facts: Record<string, unknown> }[]; clientNotes: { code: string; why: string }[] };
    const leak = out.findings.find((f) => f.code === 'secret-sent-cross-origin');
    assert.equal(leak?.facts.header, 'authorization');
    assert.match(out.clientNotes.find((n) => n.code === 'secret-sent-cross-origin')!.why, /--location-trusted makes curl send Authorization to every host/);
    assert.ok(!res.stdout.includes(basic.slice(6)), 'the credentials were printed');
  });
});
