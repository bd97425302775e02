// `hopwise [flags] URL`, the command people type instead of curl -L: one end-to-end test per everyday
// task, in-process through main(argv, io) against a local server on 127.0.0.1 (port 0), asserting
// stdout, stderr and the exit code (curl's numbers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import { main } from '../src/cli/main.js';

class Capture extends Writable {
  chunks: Buffer[] = [];
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    cb();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function hopwise(args: string[], stdin?: string): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { NO_COLOR: '1' }, ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}) });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

let server: Server;
let base: string;
let port: number;
const sockets = new Set<Socket>();
const dir = mkdtempSync(join(tmpdir(), 'hopwise-curl-'));

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const body = await bodyOf(req);
    let m: RegExpExecArray | null;
    if (p === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-served-by': 'test' });
      res.end('hello\n');
    } else if ((m = /^\/redirect\/(\d+)$/.exec(p))) {
      const n = Number(m[1]);
      res.writeHead(302, { location: n <= 1 ? '/hello' : `/redirect/${n - 1}` });
      res.end();
    } else if (p === '/echo' || p === '/api/me') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
    } else if (p === '/api/start') {
      res.writeHead(302, { location: '/api/me' });
      res.end();
    } else if (p === '/api/elsewhere') {
      // another origin: same server, another host name
      res.writeHead(302, { location: `http://localhost:${port}/echo` });
      res.end();
    } else if (p === '/missing') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such thing\n');
    } else if (p === '/login' && req.method === 'POST') {
      const ok = body.toString() === 'user=ann&password=s3cret';
      res.writeHead(302, { location: '/dashboard', ...(ok ? { 'set-cookie': 'sid=abc123; Path=/; HttpOnly' } : {}) });
      res.end();
    } else if (p === '/dashboard') {
      const ok = /(^|; )sid=abc123(;|$)/.test(req.headers.cookie ?? '');
      res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
      res.end(ok ? 'welcome ann\n' : 'log in first\n');
    } else if (p === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 16; i++) res.write('x'.repeat(64 * 1024));
      res.end();
    } else if (p === '/files/report.csv') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('a,b\n1,2\n');
    } else if (p === '/slow') {
      setTimeout(() => res.end('late'), 5000).unref();
    } else if (p === '/hangup') {
      req.socket.destroy();
    } else if (p === '/upload') {
      // a 307 to another origin: same server, another host name
      res.writeHead(307, { location: `http://localhost:${port}/echo` });
      res.end();
    } else if (p === '/ftp') {
      res.writeHead(302, { location: 'ftp://example.com/file' });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('hopwise URL: everyday tasks', () => {
  test('get a page: the body on stdout, nothing on stderr, exit 0', async () => {
    const r = await hopwise([`${base}/hello`]);
    assert.deepEqual(r, { code: 0, stdout: 'hello\n', stderr: '' });
  });

  test('follow redirects (curl -L): the final body; -L and -sSL accepted', async () => {
    assert.deepEqual(await hopwise([`${base}/redirect/3`]), { code: 0, stdout: 'hello\n', stderr: '' });
    assert.deepEqual(await hopwise(['-sSL', `${base}/redirect/3`]), { code: 0, stdout: 'hello\n', stderr: '' });
  });

  test('-v: the trace of every hop on stderr, the body alone on stdout', async () => {
    const r = await hopwise(['-v', `${base}/redirect/2`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /^#0 GET http:\/\/127\.0\.0\.1:\d+\/redirect\/2$/m);
    assert.match(r.stderr, /^#2 GET http:\/\/127\.0\.0\.1:\d+\/hello$/m);
    assert.match(r.stderr, /request headers/);
    // hop blocks as they end (blank line between), then the summary once
    assert.match(r.stderr, /\n\n#1 GET [^\n]+\/redirect\/1\n/);
    assert.equal(r.stderr.match(/^done 200 OK /gm)?.length, 1);
    assert.equal(r.stderr.match(/^#\d /gm)?.length, 3);
  });

  test('-i: status line and headers, then the body; -I: a HEAD, headers only', async () => {
    const r = await hopwise(['-i', `${base}/redirect/1`]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\nx-served-by: test\r\n/);
    assert.match(r.stdout, /\r\n\r\nhello\n$/);
    assert.equal(r.stderr, '');
    const h = await hopwise(['-I', `${base}/hello`]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/plain; charset=utf-8\r\n[\s\S]*\r\n\r\n$/);
  });

  test('a large body streams to stdout whole', async () => {
    const r = await hopwise(['-w', '\\n%{size_download}', `${base}/big`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${'x'.repeat(1024 * 1024)}\n${1024 * 1024}`);
  });

  test('--har FILE: the body on stdout, the trace as HAR beside it', async () => {
    const har = join(dir, 'run.har');
    const r = await hopwise(['--har', har, `${base}/redirect/2`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /^HAR written to .*run\.har \(3 entries, secrets redacted\)$/m);
    assert.equal(JSON.parse(readFileSync(har, 'utf8')).log.entries.length, 3);
  });

  test('-o FILE and -D FILE: body and headers to files, stdout empty', async () => {
    const out = join(dir, 'body.txt');
    const hdr = join(dir, 'headers.txt');
    const r = await hopwise(['-o', out, '-D', hdr, `${base}/redirect/2`]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.equal(readFileSync(out, 'utf8'), 'hello\n');
    assert.match(readFileSync(hdr, 'utf8'), /^HTTP\/1\.1 200 OK\r\n/);
  });

  test("-O: the body to a file named like the URL's last segment", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await hopwise(['-O', `${base}/files/report.csv`]);
      assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
      assert.equal(readFileSync(join(dir, 'report.csv'), 'utf8'), 'a,b\n1,2\n');
    } finally {
      process.chdir(cwd);
    }
    const bad = await hopwise(['-O', `${base}/`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-O needs a file name/);
  });

  test('-w: curl variables after the body (status, redirects, final URL, type, size, time)', async () => {
    const r = await hopwise(['-s', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects} %{url_effective} %{content_type} %{size_download} %{method}\\n', `${base}/redirect/3`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `200 3 ${base}/hello text/plain; charset=utf-8 6 GET\n`);
    assert.equal(r.stderr, '');
    const t = await hopwise(['-w', '%{time_total}', `${base}/hello`]);
    assert.match(t.stdout, /^hello\n\d+\.\d{6}$/);
    const unknown = await hopwise(['-w', '%{nonsense}', `${base}/hello`]);
    assert.match(unknown.stderr, /unknown --write-out variable: 'nonsense'/);
  });

  test("--fail: exit 22, no body, curl's message; --fail-with-body keeps the body; -s silences, -sS shows", async () => {
    const plain = await hopwise([`${base}/missing`]);
    assert.deepEqual(plain, { code: 0, stdout: 'no such thing\n', stderr: '' });
    const f = await hopwise(['--fail', `${base}/missing`]);
    assert.equal(f.code, 22);
    assert.equal(f.stdout, '');
    assert.match(f.stderr, /^hopwise: \(22\) The requested URL returned error: 404$/m);
    const wb = await hopwise(['--fail-with-body', `${base}/missing`]);
    assert.equal(wb.code, 22);
    assert.equal(wb.stdout, 'no such thing\n');
    assert.deepEqual(await hopwise(['-sf', `${base}/missing`]), { code: 22, stdout: '', stderr: '' });
    const sS = await hopwise(['-sSf', `${base}/missing`]);
    assert.equal(sS.code, 22);
    assert.match(sS.stderr, /\(22\)/);
  });

  test('--json DATA: a JSON POST with Content-Type and Accept, as curl', async () => {
    const r = await hopwise(['--json', '{"name":"ann"}', `${base}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers.accept, 'application/json');
    assert.equal(seen.body, '{"name":"ann"}');
    const file = join(dir, 'user.json');
    writeFileSync(file, '{"from":"file"}');
    assert.equal(JSON.parse((await hopwise(['--json', `@${file}`, `${base}/echo`])).stdout).body, '{"from":"file"}');
  });

  test('-d and --data-urlencode: a form POST, encoded as curl encodes it; -d @- reads stdin', async () => {
    const r = await hopwise(['-d', 'user=ann', '--data-urlencode', 'comment=hello world & more', '--data-urlencode', 'plain', `${base}/echo`]);
    const seen = JSON.parse(r.stdout);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(seen.body, 'user=ann&comment=hello%20world%20%26%20more&plain');
    const s = await hopwise(['-d', '@-', `${base}/echo`], 'from=stdin\n');
    assert.equal(JSON.parse(s.stdout).body, 'from=stdin');
  });

  test('-G with -d: the data in the query string of a GET', async () => {
    const r = await hopwise(['-G', '-d', 'q=shoes', '--data-urlencode', 'color=dark red', `${base}/echo?page=2`]);
    const seen = JSON.parse(r.stdout);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/echo?page=2&q=shoes&color=dark%20red');
    assert.equal(seen.body, '');
  });

  test('-F: multipart/form-data with a field and a file', async () => {
    const file = join(dir, 'report.txt');
    writeFileSync(file, 'the report\n');
    const r = await hopwise(['-F', 'note=Q3', '-F', `file=@${file};type=text/plain`, `${base}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout);
    assert.equal(seen.method, 'POST');
    assert.match(seen.headers['content-type'], /^multipart\/form-data; boundary=/);
    assert.match(seen.body, /name="note"\r\n\r\nQ3\r\n/);
    assert.match(seen.body, /name="file"; filename="report.txt"\r\nContent-Type: text\/plain\r\n\r\nthe report\n/);
  });

  test('-X PUT --data-binary @file: the file byte for byte', async () => {
    const file = join(dir, 'raw.bin');
    writeFileSync(file, 'line1\r\nline2\n');
    const seen = JSON.parse((await hopwise(['-XPUT', '--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', `${base}/echo`])).stdout);
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.body, 'line1\r\nline2\n');
    assert.equal(seen.headers['content-type'], 'application/octet-stream');
  });

  test('a token survives a same-origin redirect and is stripped on the way to another origin', async () => {
    const same = JSON.parse((await hopwise(['-H', 'Authorization: Bearer t0ken', `${base}/api/start`])).stdout);
    assert.equal(same.headers.authorization, 'Bearer t0ken');
    const other = await hopwise(['--oauth2-bearer', 't0ken', `${base}/api/elsewhere`]);
    assert.equal(other.code, 0);
    assert.equal(JSON.parse(other.stdout).headers.authorization, undefined);
    assert.equal(other.stderr, '');
  });

  test('log in and keep the session: -c saves the cookie, -b sends it back', async () => {
    const jar = join(dir, 'cookies.txt');
    const login = await hopwise(['-c', jar, '-d', 'user=ann', '-d', 'password=s3cret', `${base}/login`]);
    assert.deepEqual(login, { code: 0, stdout: 'welcome ann\n', stderr: '' });
    assert.match(readFileSync(jar, 'utf8'), /\tsid\tabc123$/m);
    assert.deepEqual(await hopwise(['-b', jar, `${base}/dashboard`]), { code: 0, stdout: 'welcome ann\n', stderr: '' });
    assert.deepEqual(await hopwise(['-b', 'sid=abc123', `${base}/dashboard`]), { code: 0, stdout: 'welcome ann\n', stderr: '' });
  });

  test('-A and -e set User-Agent and Referer', async () => {
    const seen = JSON.parse((await hopwise(['-A', 'my-agent/1.0', '-e', 'https://from.example/', `${base}/echo`])).stdout);
    assert.equal(seen.headers['user-agent'], 'my-agent/1.0');
    assert.equal(seen.headers.referer, 'https://from.example/');
  });

  test('--resolve HOST:PORT:ADDR reaches a name that does not resolve, Host header kept', async () => {
    const r = await hopwise(['--resolve', `api.hopwise.test:${port}:127.0.0.1`, `http://api.hopwise.test:${port}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).headers.host, `api.hopwise.test:${port}`);
  });

  test('-4 / -6: one address family', async () => {
    const v4 = await hopwise(['-4', `http://localhost:${port}/hello`]);
    assert.deepEqual(v4, { code: 0, stdout: 'hello\n', stderr: '' });
    // the server listens on 127.0.0.1 only: IPv6 cannot reach it (no ::1 for localhost: 6, else 7)
    const v6 = await hopwise(['-6', '-s', `http://localhost:${port}/hello`]);
    assert.ok(v6.code === 7 || v6.code === 6, `exit ${v6.code}`);
  });

  test('--location-trusted: accepted, narrowed to the first host, with a loud warning', async () => {
    const r = await hopwise(['--location-trusted', '-u', 'ann:pw', `${base}/api/elsewhere`]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^hopwise: warning: --location-trusted: curl would send your credentials to every host/m);
    assert.equal(JSON.parse(r.stdout).headers.authorization, undefined, 'not sent to another host');
  });

  test('--compressed is accepted', async () => {
    assert.deepEqual(await hopwise(['--compressed', `${base}/hello`]), { code: 0, stdout: 'hello\n', stderr: '' });
  });
});

describe("hopwise URL: failures exit with curl's codes", () => {
  test('connection refused: 7; a name that does not resolve: 6', async () => {
    const refused = await hopwise(['http://127.0.0.1:1/']);
    assert.equal(refused.code, 7);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^hopwise: \(7\) Could not connect to 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    assert.match(refused.stderr, /add -v to see every hop/);
    const dns = await hopwise(['-s', 'http://nothing.invalid/']);
    assert.deepEqual(dns, { code: 6, stdout: '', stderr: '' });
  });

  test("the CLI's words for a failed connection name its flags: in the message, -v, trace, %{errormsg}, doctor's stopped line", async () => {
    const runs = [
      await hopwise(['http://127.0.0.1:1/']),
      await hopwise(['-v', 'http://127.0.0.1:1/']),
      await hopwise(['trace', 'http://127.0.0.1:1/']),
      await hopwise(['-s', '-w', '%{errormsg}', 'http://127.0.0.1:1/']),
      await hopwise(['doctor', 'http://127.0.0.1:1/']),
    ];
    for (const r of runs.slice(0, 4)) {
      const out = r.stdout + r.stderr;
      assert.match(out, /Check the host and port, or a --connect-to \/ --resolve rule\./);
      assert.doesNotMatch(out, /a connectTo rule/);
    }
    // the doctor's findings are the library's (the same in --json); its own line for the error is the CLI's
    assert.match(runs[4]!.stdout, /^stopped ERR_CONNECT: .*, or a --connect-to \/ --resolve rule\.$/m);
  });

  test('a body that cannot be written: 23', async () => {
    const r = await hopwise(['-o', join(dir, 'no-such-dir', 'out.txt'), `${base}/hello`]);
    assert.equal(r.code, 23);
    assert.match(r.stderr, /^hopwise: \(23\) cannot write .*out\.txt: ENOENT/);
    assert.equal(r.stdout, '');
  });

  test('-m: 28 when the time is up', async () => {
    const r = await hopwise(['-m', '0.3', `${base}/slow`]);
    assert.equal(r.code, 28);
    assert.match(r.stderr, /^hopwise: \(28\) .*longer than --max-time \(300 ms\)/m);
  });

  test('--max-redirs: 47 past the limit', async () => {
    const r = await hopwise(['--max-redirs', '1', `${base}/redirect/3`]);
    assert.equal(r.code, 47);
    assert.match(r.stderr, /^hopwise: \(47\) /);
  });

  test('the server hangs up without an answer: 52', async () => {
    const r = await hopwise(['-sS', `${base}/hangup`]);
    assert.equal(r.code, 52, r.stderr);
    assert.equal(r.stdout, '');
  });

  test('a redirect to another scheme is refused: 1 (as curl)', async () => {
    const r = await hopwise([`${base}/ftp`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_UNSAFE_REDIRECT|ftp:/);
  });

  test('a body refused for another origin: 1, and the message names the flag that sends it, as it is typed', async () => {
    const r = await hopwise(['-d', 'x=1', `${base}/upload`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Add the target with --trust, or pass --cross-origin-body send\./);
    assert.doesNotMatch(r.stderr, /crossOriginBody|--cross-origin-body:/);
    const sent = await hopwise(['-d', 'x=1', '--cross-origin-body', 'send', `${base}/upload`]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).body, 'x=1');
  });

  test('bad flags: 2, the flag named; a curl flag hopwise lacks says so; -k refused', async () => {
    const typo = await hopwise(['--max-redirect', '3', `${base}/hello`]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^hopwise: unknown flag --max-redirect\. Did you mean --max-redirs\?/);
    const curlOnly = await hopwise(['--proxy-negotiate', `${base}/hello`]);
    assert.equal(curlOnly.code, 2);
    assert.match(curlOnly.stderr, /^hopwise: --proxy-negotiate is not supported by hopwise/);
    assert.doesNotMatch(curlOnly.stderr, /Did you mean/);
    const far = await hopwise(['--frobnicate', `${base}/hello`]);
    assert.doesNotMatch(far.stderr, /Did you mean/);
    const k = await hopwise(['-k', `${base}/hello`]);
    assert.equal(k.code, 2);
    assert.match(k.stderr, /-k is refused/);
    const wrong = await hopwise(['trace', '-i', `${base}/hello`]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /-i does not apply to 'trace' \(it is a flag of hopwise URL/);
  });

  test('--json in trace is JSON output; JSON data after it is answered with the way to send it', async () => {
    const r = await hopwise(['trace', '--json', '{"a":1}', `${base}/echo`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--json selects JSON output and takes no value/);
    const out = await hopwise(['trace', '--json', `${base}/redirect/1`]);
    assert.equal(out.code, 0);
    assert.equal(JSON.parse(out.stdout).hops.length, 2);
  });
});

describe('help a person can copy', () => {
  test('hopwise help: tasks with "$TOKEN" examples; hopwise help FLAG; hopwise help exit', async () => {
    const h = await hopwise(['help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Call an API with a token[^\n]*:\n {2}hopwise --oauth2-bearer "\$TOKEN"/);
    assert.doesNotMatch(h.stdout, /'\$TOKEN|Bearer \$TOKEN'/, 'no single-quoted $TOKEN: the shell would not expand it');
    const f = await hopwise(['help', '-F']);
    assert.match(f.stdout, /^-F, --form NAME=VALUE\|NAME=@FILE\n/);
    assert.match(f.stdout, /Examples:\n {2}hopwise -F "file=@report\.pdf/);
    const j = await hopwise(['help', '--json']);
    assert.match(j.stdout, /in: hopwise URL\n[\s\S]*in: hopwise trace, hopwise doctor, hopwise lab, hopwise demo/);
    const e = await hopwise(['help', 'exit']);
    for (const code of [0, 6, 7, 22, 28, 35, 47, 52, 56]) assert.match(e.stdout, new RegExp(`^ +${code} `, 'm'));
    const nope = await hopwise(['help', '--proxy-negotiate']);
    assert.match(nope.stdout, /a curl flag hopwise does not have/);
  });
});
