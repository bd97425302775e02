/**
 * The lab as a forward proxy: real clients (Python requests, curl) pointed at `lab.proxyUrl` with the
 * lab's CA reach scenarios by name, with no connect-to rules; the lab never tunnels anywhere else.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { startLab, type Lab } from '../src/lab/index.js';
import { Session } from '../src/index.js';
import { labCommand } from '../src/cli/lab.ts';
import { Capture } from './helpers/cli.ts';
import { CURL, NO_CURL, NO_REQUESTS, PYTHON_REQUESTS } from './record-clients.ts';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The environment without any proxy or CA setting of the machine's own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|no|all)_proxy$|^(SSL_CERT_FILE|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$/i.test(k)) delete env[k];
  return env;
}

/**
 * One lab for the tests that only use it (each lab is a fresh CA and certificate, about 0.4 s of CPU),
 * reset before each: no request seen, no server-side state. The tests run one after another; the
 * ones about starting or closing a lab have their own.
 */
let shared: Promise<Lab> | undefined;
after(async () => {
  await (await shared)?.close();
});
async function resetLab(): Promise<Lab> {
  const lab = await (shared ??= startLab());
  lab.reset();
  return lab;
}

test('Python requests with HTTPS_PROXY at the lab and its CA reaches a scenario by name, and the lab received the hops', { skip: PYTHON_REQUESTS ? false : NO_REQUESTS }, async () => {
  const lab = await resetLab();
  const env = { ...cleanEnv(), HTTPS_PROXY: lab.proxyUrl, HTTP_PROXY: lab.proxyUrl, REQUESTS_CA_BUNDLE: lab.caPath };
  const script = `import requests\nr = requests.get('${lab.url('cross-origin-auth')}', headers={'Authorization': 'Bearer t0ken'})\nprint(r.status_code, r.url)`;
  const res = await run(PYTHON_REQUESTS!, ['-c', script], env);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.trim(), '401 https://cdn.hopwise.test/cross-origin-auth/resource');
  assert.deepEqual(
    lab.received('cross-origin-auth').map((r) => [r.url, r.headers['authorization']]),
    [
      ['https://api.hopwise.test/cross-origin-auth/start', 'Bearer t0ken'],
      ['https://cdn.hopwise.test/cross-origin-auth/resource', undefined],
    ],
  );
});

test('curl -x through the lab proxy reaches https and plain http scenarios by name', { skip: CURL ? false : NO_CURL }, async () => {
  const lab = await resetLab();
  const https_ = await run('curl', ['-sS', '-L', '-x', lab.proxyUrl, '--cacert', lab.caPath, '-H', 'Authorization: Bearer t0ken', lab.url('cross-origin-auth')], cleanEnv());
  assert.equal(https_.code, 0, https_.stderr);
  assert.match(https_.stdout, /no Authorization/);
  assert.deepEqual(
    lab.received('cross-origin-auth').map((r) => r.host),
    ['api.hopwise.test', 'cdn.hopwise.test'],
  );
  const plain = await run('curl', ['-sS', '-x', lab.proxyUrl, 'http://app.hopwise.test:8080/ok'], cleanEnv());
  assert.match(plain.stdout, /^ok app\.hopwise\.test/);
  assert.equal(plain.code, 0);
});

test(
  'the lab proxy refuses a CONNECT to a host that is not the lab or to a port the lab does not serve, and answers a plain request for another host itself',
  { skip: CURL ? false : NO_CURL },
  async () => {
    const lab = await resetLab();
    const other = await run('curl', ['-sS', '-x', lab.proxyUrl, 'https://example.com/'], cleanEnv());
    assert.equal(other.code, 56); // CURLE_RECV_ERROR: the CONNECT was answered 403
    assert.match(other.stderr, /403/);
    const port = await run('curl', ['-sS', '-x', lab.proxyUrl, '--cacert', lab.caPath, 'https://app.hopwise.test:9443/ok'], cleanEnv());
    assert.match(port.stderr, /403/);
    // a plain request for another host is answered by the lab itself, never forwarded
    const plain = await run('curl', ['-sS', '-x', lab.proxyUrl, '-w', '\n%{http_code}', 'http://example.com/'], cleanEnv());
    assert.match(plain.stdout, /^hopwise lab: unknown host 'example\.com'[\s\S]*\n404$/);
  },
);

test('hopwise lab --json prints the proxy URL', async () => {
  const stdout = new Capture();
  let release!: () => void;
  const until = new Promise<void>((r) => (release = r));
  const done = labCommand({ json: true }, { stdout, stderr: new Capture(), env: {} }, until);
  for (let i = 0; i < 100 && !stdout.text; i++) await new Promise((r) => setTimeout(r, 20));
  const out = JSON.parse(stdout.text) as { proxyUrl: string; caPath: string };
  assert.match(out.proxyUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  release();
  assert.equal(await done, 0);
});

test('close() ends a CONNECT tunnel that is still open, at once', async () => {
  const lab = await startLab();
  const proxy = new URL(lab.proxyUrl);
  const socket = net.connect(Number(proxy.port), proxy.hostname);
  const reply = await new Promise<string>((resolve) => {
    socket.once('connect', () => socket.write('CONNECT app.hopwise.test:443 HTTP/1.1\r\nHost: app.hopwise.test:443\r\n\r\n'));
    socket.once('data', (d) => resolve(String(d)));
  });
  assert.match(reply, /^HTTP\/1\.1 200/);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const t0 = Date.now();
  await lab.close();
  await closed;
  assert.ok(Date.now() - t0 < 1000, `close() took ${Date.now() - t0} ms`);
});

test("hopwise's own proxy option reaches https and plain scenarios through lab.proxyUrl", async () => {
  const lab = await resetLab();
  const session = new Session({ proxy: lab.proxyUrl, ca: lab.ca });
  try {
    const res = await session.fetch(lab.url('cross-origin-auth'), { headers: { authorization: 'Bearer t0ken' } });
    assert.equal(res.status, 401);
    await res.dump();
    assert.match(await (await session.fetch('http://app.hopwise.test:8080/ok')).text(), /^ok app\.hopwise\.test/);
    assert.deepEqual(
      lab.received('cross-origin-auth').map((r) => [r.url, r.headers['authorization']]),
      [
        ['https://api.hopwise.test/cross-origin-auth/start', 'Bearer t0ken'],
        ['https://cdn.hopwise.test/cross-origin-auth/resource', undefined],
      ],
    );
  } finally {
    await session.close();
  }
});
