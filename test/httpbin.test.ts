/**
 * hopwise against a real httpbin (Debian's python3-httpbin 0.7.0, the Flask app nobody here wrote),
 * served by werkzeug on 127.0.0.1 and reached as http://a.test and http://b.test through connectTo.
 * Every assertion is on what httpbin answered or echoed back: its Digest check, its decoded
 * /gzip, /deflate, /brotli bodies, the headers and cookies /get and /cookies saw.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Session, basic, diagnose, digest, type Decision, type Hop } from '../src/index.ts';
import { runCli } from './helpers/cli.ts';
import { httpbinMissing, startHttpbin, type Httpbin } from './helpers/httpbin.ts';

const skip = httpbinMissing ?? false;
let hb: Httpbin;
before(async () => {
  if (!httpbinMissing) hb = await startHttpbin();
});

const A = 'http://a.test';
const sessions: Session[] = [];
const session = (options: ConstructorParameters<typeof Session>[0] = {}): Session => {
  const s = new Session({ connectTo: hb.connectTo, ...options });
  sessions.push(s);
  return s;
};
// Sessions first, then the server they talk to.
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await hb?.close();
});

const decisions = <S extends Decision['subject']>(h: Hop | undefined, subject: S) => (h?.decisions ?? []).filter((d): d is Extract<Decision, { subject: S }> => d.subject === subject);
const authReasons = (hops: readonly Hop[]) => hops.map((h) => decisions(h, 'auth').map((d) => `${d.action}:${d.reason}`));
const cli = (...args: string[]) => runCli(['--connect-to', hb.connectTo[0]!, ...args]);

// httpbin 0.7.0 offers qop auth and auth-int, and the algorithms MD5, SHA-256 and SHA-512 (plain
// SHA-512, which RFC 7616 does not define: it defines SHA-512-256).
const VARIANTS = [
  ['auth', 'MD5'],
  ['auth', 'SHA-256'],
  ['auth-int', 'MD5'],
  ['auth-int', 'SHA-256'],
] as const;

describe('Digest against httpbin', { skip }, () => {
  for (const [qop, algorithm] of VARIANTS) {
    const path = `/digest-auth/${qop}/user/passwd/${algorithm}`;

    it(`answers httpbin's ${algorithm} qop=${qop} challenge and httpbin says 200 authenticated (library)`, async () => {
      const s = session({ auth: digest('user', 'passwd', { scope: A }) });
      const res = await s.fetch(A + path);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { authenticated: true, user: 'user' });
      assert.equal(res.hops.length, 2);
      const challenge = String(res.hops[0]!.responseHeaders['www-authenticate']);
      assert.match(challenge, new RegExp(`algorithm="?${algorithm}"?`));
      assert.match(challenge, new RegExp(`qop="${qop}"`));
      assert.equal(res.hops[0]!.requestHeaders.authorization, undefined, 'nothing is sent before the challenge');
      assert.equal(res.hops[1]!.requestHeaders.authorization, 'Digest ‹redacted›');
      assert.deepEqual(authReasons(res.hops), [['withheld:awaiting-challenge', 'retried:answered-challenge'], ['sent:in-scope']]);
    });

    it(`answers httpbin's ${algorithm} qop=${qop} challenge with hopwise --digest -u user:passwd (CLI)`, async () => {
      const out = await cli('--digest', '-u', 'user:passwd', A + path);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), { authenticated: true, user: 'user' });
    });
  }

  it("answers httpbin's default challenge (qop auth and auth-int offered, MD5) with qop=auth", async () => {
    const res = await session({ auth: digest('user', 'passwd', { scope: A }) }).fetch(`${A}/digest-auth/auth/user/passwd`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { authenticated: true, user: 'user' });
  });

  it("answers httpbin's stale=true challenge once with the new nonce, then returns the 401 instead of looping", async () => {
    // stale_after=0: httpbin answers every answer with stale=true (its cookie is reset to 0 each time),
    // so the only right behaviour is one more answer, then stop.
    const res = await session({ auth: digest('user', 'passwd', { scope: A }) }).fetch(`${A}/digest-auth/auth/user/passwd/MD5/0`);
    assert.equal(res.status, 401);
    assert.equal(res.hops.length, 3);
    assert.match(String(res.hops[1]!.responseHeaders['www-authenticate']), /stale=TRUE/i);
    assert.deepEqual(authReasons(res.hops), [
      ['withheld:awaiting-challenge', 'retried:answered-challenge'],
      ['sent:in-scope', 'retried:stale-nonce'],
      ['sent:in-scope', 'stopped:challenge-rejected'],
    ]);
  });

  it("answers httpbin's stale_after=1 endpoint twice in one session, each time with 200", async () => {
    const s = session({ auth: digest('user', 'passwd', { scope: A }) });
    for (let i = 0; i < 2; i++) {
      const res = await s.fetch(`${A}/digest-auth/auth/user/passwd/MD5/1`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { authenticated: true, user: 'user' });
    }
  });

  it('sends a wrong password once, returns the 401 without looping, and the doctor says credential-rejected', async () => {
    const res = await session({ auth: digest('user', 'wrong', { scope: A }) }).fetch(`${A}/digest-auth/auth/user/passwd/MD5`);
    assert.equal(res.status, 401);
    assert.equal(res.hops.length, 2, 'one challenge, one answer');
    assert.deepEqual(authReasons(res.hops).at(-1), ['sent:in-scope', 'stopped:challenge-rejected']);
    assert.deepEqual(
      diagnose(res.hops).map((f) => f.code),
      ['credential-rejected'],
    );
  });

  it('has hopwise doctor name credential-rejected for a wrong --digest password', async () => {
    const out = await runCli(['doctor', '--json', '--connect-to', hb.connectTo[0]!, '--digest', '-u', 'user:Wr0ngPassw0rd', `${A}/digest-auth/auth/user/passwd/SHA-256`]);
    assert.equal(out.code, 1, out.stderr);
    const report = JSON.parse(out.stdout) as { findings: { code: string }[]; hops: Hop[] };
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ['credential-rejected'],
    );
    assert.deepEqual(
      report.hops.map((h) => h.status),
      [401, 401],
    );
    assert.doesNotMatch(out.stdout + out.stderr, /Wr0ngPassw0rd/, 'the password is in no output');
  });

  it("returns httpbin's 401 for its plain SHA-512 challenge (an algorithm RFC 7616 does not define) as unanswered, without sending a guess", async () => {
    const res = await session({ auth: digest('user', 'passwd', { scope: A }) }).fetch(`${A}/digest-auth/auth/user/passwd/SHA-512`);
    assert.equal(res.status, 401);
    assert.match(String(res.hops[0]!.responseHeaders['www-authenticate']), /algorithm=SHA-512\b/);
    assert.equal(res.hops.length, 1, 'no answer was sent');
    assert.deepEqual(authReasons(res.hops), [['withheld:awaiting-challenge', 'stopped:unanswered-challenge']]);
    const [f, ...rest] = diagnose(res.hops);
    assert.equal(rest.length, 0);
    assert.equal(f?.code, 'challenge-unanswered');
    assert.match(f.fix.client, /cannot answer/);
    assert.equal(f.fix.cli, undefined, 'no --digest fix: --digest is what was given');
  });

  it('has hopwise --digest name the unanswerable SHA-512 challenge in the doctor instead of failing', async () => {
    const out = await runCli(['doctor', '--json', '--connect-to', hb.connectTo[0]!, '--digest', '-u', 'user:passwd', `${A}/digest-auth/auth/user/passwd/SHA-512`]);
    assert.equal(out.code, 1, out.stderr);
    const report = JSON.parse(out.stdout) as { findings: { code: string }[]; hops: Hop[] };
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ['challenge-unanswered'],
    );
    assert.deepEqual(
      report.hops.map((h) => h.status),
      [401],
    );
  });
});

describe('content decoding against httpbin', { skip }, () => {
  const CODINGS = [
    ['/gzip', 'gzip', 'gzipped', gunzipSync],
    ['/deflate', 'deflate', 'deflated', inflateSync],
    ['/brotli', 'br', 'brotli', brotliDecompressSync],
  ] as const;

  for (const [path, coding, flag, decode] of CODINGS) {
    it(`decodes httpbin's ${path} (Content-Encoding: ${coding}) for res.json(), and httpbin saw the Accept-Encoding hopwise sent`, async () => {
      const res = await session().fetch(A + path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-encoding'), coding);
      const body = (await res.json()) as Record<string, unknown> & { headers: Record<string, string> };
      assert.equal(body[flag], true);
      assert.equal(body.headers['Accept-Encoding'], 'gzip, deflate, br');
    });

    it(`hands httpbin's ${path} bytes undecoded with decompress: false`, async () => {
      const res = await session().fetch(A + path, { decompress: false });
      const raw = Buffer.from(await res.arrayBuffer());
      assert.throws(() => JSON.parse(raw.toString('latin1')));
      const body = JSON.parse(decode(raw).toString('utf8')) as Record<string, unknown>;
      assert.equal(body[flag], true);
    });
  }
});

describe('redirects, cookies, Basic and retries against httpbin', { skip }, () => {
  it("strips a caller's Authorization when httpbin's /redirect-to sends the chain to another host, and says so in the trace", async () => {
    const res = await session().fetch(`${A}/redirect-to?url=${encodeURIComponent('http://b.test/get')}`, { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(res.status, 200);
    const echoed = (await res.json()) as { url: string; headers: Record<string, string> };
    assert.equal(echoed.url, 'http://b.test/get');
    assert.equal(echoed.headers.Authorization, undefined, 'httpbin at b.test saw no Authorization');
    assert.deepEqual(
      decisions(res.hops[0], 'header').map((d) => `${d.name}:${d.action}:${d.reason}`),
      ['authorization:sent:first-request'],
    );
    assert.deepEqual(
      decisions(res.hops[1], 'header').map((d) => `${d.name}:${d.action}:${d.reason}`),
      ['authorization:stripped:cross-origin'],
    );
  });

  it('withholds a Digest provider scoped to a.test from the other host /redirect-to sends the chain to', async () => {
    const res = await session({ auth: digest('user', 'passwd', { scope: A }) }).fetch(`${A}/redirect-to?url=${encodeURIComponent('http://b.test/get')}`);
    const echoed = (await res.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers.Authorization, undefined);
    assert.deepEqual(
      decisions(res.hops[1], 'auth').map((d) => `${d.action}:${d.reason}`),
      ['withheld:out-of-scope'],
    );
  });

  it("stores the cookie httpbin's /cookies/set sets and sends it to /cookies, which echoes it", async () => {
    const res = await session().fetch(`${A}/cookies/set?sid=abc123`);
    assert.deepEqual(await res.json(), { cookies: { sid: 'abc123' } });
    assert.deepEqual(
      res.hops.map((h) => h.status),
      [302, 200],
    );
    assert.deepEqual(
      decisions(res.hops[0], 'set-cookie').map((d) => `${d.name}:${d.action}`),
      ['sid:stored'],
    );
    assert.deepEqual(
      decisions(res.hops[1], 'cookie').map((d) => `${d.name}:${d.action}:${d.reason}`),
      ['sid:sent:match'],
    );
  });

  for (const kind of ['absolute', 'relative'] as const) {
    it(`follows httpbin's /${kind}-redirect/3 to /get in four exchanges`, async () => {
      const res = await session().fetch(`${A}/${kind}-redirect/3`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { url: string }).url, `${A}/get`);
      assert.equal(res.url, `${A}/get`);
      assert.deepEqual(
        res.hops.map((h) => `${h.status} ${new URL(h.url).pathname}`),
        [`302 /${kind}-redirect/3`, `302 /${kind}-redirect/2`, `302 /${kind}-redirect/1`, '200 /get'],
      );
    });
  }

  it("passes httpbin's /basic-auth/user/passwd with basic() on the first request", async () => {
    const res = await session({ auth: basic('user', 'passwd', { scope: A }) }).fetch(`${A}/basic-auth/user/passwd`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { authenticated: true, user: 'user' });
    assert.equal(res.hops.length, 1);
    assert.deepEqual(
      decisions(res.hops[0], 'auth').map((d) => `${d.action}:${d.reason}`),
      ['sent:in-scope'],
    );
  });

  it("retries httpbin's /status/503 (no Retry-After) twice with backoff, then returns the 503, each attempt in the trace", async () => {
    const res = await session({ retry: { backoff: 10 } }).fetch(`${A}/status/503`);
    assert.equal(res.status, 503);
    assert.equal(res.hops.length, 3);
    for (const h of res.hops) assert.equal(h.responseHeaders['retry-after'], undefined);
    const retries = res.hops.flatMap((h) => decisions(h, 'retry'));
    assert.deepEqual(
      retries.map((d) => `${d.action}:${d.reason}:${d.facts.attempt}/${d.facts.limit}:${d.facts.source ?? '-'}`),
      ['retried:retry-status:1/2:backoff', 'retried:retry-status:2/2:backoff', 'stopped:retries-exhausted:3/2:-'],
    );
  });
});
