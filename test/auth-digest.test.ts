import { runCli } from './helpers/cli.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, basic, digest, digestResponse, parseChallenges, type AuthProvider, type Challenge, type Hop } from '../src/index.ts';
import { echo, redirect, startServers, type Handler, type TestServers } from './helpers/servers.ts';

const require = createRequire(import.meta.url);
// A server-side Digest implementation nobody here wrote (npm http-auth: MD5 and MD5-sess, qop=auth or none).
const httpAuth = require('http-auth') as {
  digest: (o: Record<string, unknown>, checker: (user: string, cb: (hash: string) => void) => void) => { check: (next: Handler) => Handler; nonces: unknown[] };
};

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const REALM = 'hopwise-test';
const makeServer = (algorithm: string, qop?: string) =>
  httpAuth.digest({ realm: REALM, algorithm, ...(qop ? { qop } : {}) }, (user, cb) => cb(user === 'Mufasa' ? md5(`Mufasa:${REALM}:Circle of Life`) : 'nope'));

const md5Server = makeServer('MD5');
const md5SessServer = makeServer('MD5-sess');
const noQopServer = makeServer('MD5', 'none');

const auths = (hops: Hop[]) => hops.flatMap((h) => h.decisions.filter((d) => d.subject === 'auth'));

let srv: TestServers;
before(async () => {
  srv = await startServers(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const p = url.pathname;
    if (p === '/md5') return md5Server.check(echo)(req, res);
    if (p === '/md5-sess') return md5SessServer.check(echo)(req, res);
    if (p === '/no-qop') return noQopServer.check(echo)(req, res);
    if (p === '/md5-then-redirect') return md5Server.check((_q, s) => redirect(s, 302, url.searchParams.get('u') ?? '/md5'))(req, res);
    if (p === '/md5-then-expire') {
      // After a good answer, every nonce the server gave is forgotten: the next answer is stale.
      return md5Server.check((_q, s) => {
        md5Server.nonces.length = 0;
        redirect(s, 302, '/md5');
      })(req, res);
    }
    if (p === '/two-schemes') {
      if (/^Digest /.test(req.headers.authorization ?? '')) return md5Server.check(echo)(req, res);
      res.writeHead(401, { 'www-authenticate': ['Newauth realm="apps", type=1, title="Login to \\"apps\\""', `Digest realm="${REALM}", qop="auth", nonce="${'n'.repeat(8)}", algorithm=MD5`] });
      return void res.end();
    }
    if (p === '/sha512-then-md5') {
      // Two Digest challenges, the first with a plain SHA-512 RFC 7616 does not define (httpbin offers one).
      const set = res.setHeader.bind(res);
      res.setHeader = ((name: string, value: string) =>
        set(name, name.toLowerCase() === 'www-authenticate' ? [`Digest realm="${REALM}", qop="auth", nonce="${'s'.repeat(8)}", algorithm=SHA-512`, value] : value)) as typeof res.setHeader;
      return md5Server.check(echo)(req, res);
    }
    if (p === '/custom') {
      if (req.headers.authorization === 'Sig k=abc:GET') return echo(req, res);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x", Sig keyid="abc", alg=hmac' });
      return void res.end();
    }
    if (p === '/echo') return echo(req, res);
    res.writeHead(404);
    res.end();
  });
});
after(() => srv.close());

const session = (o: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...o });

describe('RFC 7616 example values', () => {
  const base = {
    username: 'Mufasa',
    password: 'Circle of Life',
    realm: 'http-auth@example.org',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    qop: 'auth' as const,
  };

  it('computes the §3.9.1 MD5 response', () => {
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }).response, '8ca523f5e9506fed4657c9700eebdbec');
  });

  it('computes the §3.9.1 SHA-256 response', () => {
    assert.equal(digestResponse({ ...base, algorithm: 'SHA-256' }).response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('hashes the user name as §3.4.4 says when the challenge asks for userhash (§3.9.2 example)', () => {
    const { username } = digestResponse({
      username: 'J\u00e4s\u00f8n Doe',
      password: 'Secret, or not?',
      realm: 'api@example.org',
      method: 'GET',
      uri: '/doe.json',
      nonce: '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
      algorithm: 'SHA-512-256',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
      userhash: true,
    });
    assert.equal(username, createHash('sha512-256').update('J\u00e4s\u00f8n Doe:api@example.org').digest('hex'));
  });

  it('answers the §3.9.1 challenge with the §3.9.1 Authorization, field by field', async () => {
    const p = digest('Mufasa', 'Circle of Life', { cnonce: () => base.cnonce });
    const [challenge] = parseChallenges(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    const v = await p.value({ url: new URL('http://www.example.org/dir/index.html'), method: 'GET', refresh: false, challenge });
    const [sent] = parseChallenges(v);
    assert.equal(sent?.scheme, 'digest');
    assert.deepEqual(
      { ...sent?.params },
      {
        username: 'Mufasa',
        realm: 'http-auth@example.org',
        uri: '/dir/index.html',
        algorithm: 'SHA-256',
        nonce: base.nonce,
        nc: '00000001',
        cnonce: base.cnonce,
        qop: 'auth',
        response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      },
    );
  });

  it('hashes the body for qop=auth-int when it is the only qop offered', async () => {
    const p = digest('Mufasa', 'Circle of Life', { cnonce: () => 'c' });
    const [challenge] = parseChallenges('Digest realm="r", qop="auth-int", nonce="n", algorithm=SHA-256-sess');
    const body = Buffer.from('{"a":1}');
    const v = await p.value({ url: new URL('http://h/x?y=1'), method: 'POST', refresh: false, challenge, body: () => body });
    const H = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
    const ha1 = H(`${H('Mufasa:r:Circle of Life')}:n:c`);
    const ha2 = H(`POST:/x?y=1:${H(body)}`);
    assert.match(String(v), new RegExp(`response="${H(`${ha1}:n:00000001:c:auth-int:${ha2}`)}"`));
    assert.match(String(v), /qop=auth-int/);
  });

  it('counts requests per nonce (nc) and sends nothing before a challenge', async () => {
    const p = digest('u', 'p');
    assert.equal(await p.value({ url: new URL('http://h/'), method: 'GET', refresh: false }), undefined);
    const [challenge] = parseChallenges('Digest realm="r", qop=auth, nonce="abc"');
    await p.value({ url: new URL('http://h/'), method: 'GET', refresh: false, challenge });
    assert.match(String(await p.value({ url: new URL('http://h/'), method: 'GET', refresh: false, challenge })), /nc=00000002/);
  });
});

describe('WWW-Authenticate parsing (RFC 9110 §11.6.1)', () => {
  it('reads several challenges in one field, quoted strings with escapes and token68', () => {
    const cs = parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Negotiate YIIGhgYGKwYB==');
    assert.deepEqual(
      cs.map((c: Challenge) => c.scheme),
      ['newauth', 'basic', 'negotiate'],
    );
    assert.deepEqual({ ...cs[0]?.params }, { realm: 'apps', type: '1', title: 'Login to "apps"' });
    assert.equal(cs[1]?.params.realm, 'simple');
    assert.equal(cs[2]?.token68, 'YIIGhgYGKwYB==');
    assert.equal(cs[0]?.raw, 'Newauth realm="apps", type=1, title="Login to \\"apps\\""');
  });

  it('reads challenges from several header fields, commas inside quotes kept', () => {
    const cs = parseChallenges(['Digest realm="a, b", qop="auth,auth-int", nonce=xyz', 'Bearer']);
    assert.deepEqual(
      cs.map((c) => c.scheme),
      ['digest', 'bearer'],
    );
    assert.equal(cs[0]?.params.realm, 'a, b');
    assert.equal(cs[0]?.params.qop, 'auth,auth-int');
    assert.equal(cs[0]?.params.nonce, 'xyz');
  });
});

describe('digest() against http-auth (a server-side implementation nobody here wrote)', () => {
  for (const path of ['/md5', '/md5-sess', '/no-qop']) {
    it(`answers the challenge of ${path} and gets 200, sending nothing before it`, async () => {
      const s = session({ auth: digest('Mufasa', 'Circle of Life') });
      const res = await s.fetch(`https://a.test${path}`);
      assert.equal(res.status, 200);
      const got = srv.received.slice(-2);
      assert.equal(got[0]?.headers.authorization, undefined);
      assert.match(String(got[1]?.headers.authorization), /^Digest username="Mufasa"/);
      assert.equal(res.hops.length, 2);
      assert.deepEqual(
        auths(res.hops).map((d) => d.reason),
        ['awaiting-challenge', 'answered-challenge', 'in-scope'],
      );
      await s.close();
    });
  }

  it('stops after one answer when the password is wrong (a wrong password never loops)', async () => {
    const s = session({ auth: digest('Mufasa', 'wrong') });
    const res = await s.fetch('https://a.test/md5');
    assert.equal(res.status, 401);
    assert.equal(res.hops.length, 2);
    assert.equal(auths(res.hops).at(-1)?.reason, 'challenge-rejected');
    await s.close();
  });

  it('answers a stale=true challenge once more with the new nonce', async () => {
    const s = session({ auth: digest('Mufasa', 'Circle of Life') });
    const res = await s.fetch('https://a.test/md5-then-expire');
    assert.equal(res.status, 200);
    // 401, answered 302, the stored challenge answered stale 401, answered again 200.
    assert.deepEqual(
      res.hops.map((h) => h.status),
      [401, 302, 401, 200],
    );
    assert.ok(auths(res.hops).some((d) => d.reason === 'stale-nonce'));
    await s.close();
  });

  it('never re-sends the Digest answer to another origin after a redirect', async () => {
    const s = session({ auth: digest('Mufasa', 'Circle of Life') });
    const res = await s.fetch(`https://a.test/md5-then-redirect?u=${encodeURIComponent('https://b.test/echo')}`);
    assert.equal(res.status, 200);
    const last = srv.received.at(-1)!;
    assert.equal(last.host, 'b.test');
    assert.equal(last.headers.authorization, undefined);
    assert.equal(auths(res.hops).at(-1)?.reason, 'out-of-scope');
    await s.close();
  });

  it('answers again on a later same-origin hop with the challenge it already has', async () => {
    const s = session({ auth: digest('Mufasa', 'Circle of Life') });
    const res = await s.fetch('https://a.test/md5-then-redirect?u=/md5');
    assert.deepEqual(
      res.hops.map((h) => h.status),
      [401, 302, 200],
    );
    // The same nonce, counted: the second request sent with it.
    assert.match(String(srv.received.at(-1)?.headers.authorization), /nc=00000002/);
    await s.close();
  });
});

describe('challenge-aware providers', () => {
  it("lets the challenge's scheme pick the provider: Digest answers, Basic is not sent with it", async () => {
    const s = session({ auth: [basic('Mufasa', 'Circle of Life'), digest('Mufasa', 'Circle of Life')] });
    const res = await s.fetch('https://a.test/two-schemes');
    // /two-schemes gives a fixed nonce http-auth never issued: http-auth calls the answer stale, and it is answered once more.
    assert.equal(res.hops[0]?.requestHeaders.authorization?.startsWith('Basic'), true);
    assert.match(String(srv.received[srv.received.length - res.hops.length + 1]?.headers.authorization), /^Digest /);
    assert.ok(auths(res.hops).some((d) => d.reason === 'other-scheme'));
    await s.close();
  });

  it('passes over a Digest challenge with an algorithm RFC 7616 does not define and answers the next one offered (RFC 7616 §3.7)', async () => {
    const s = session({ auth: digest('Mufasa', 'Circle of Life') });
    const res = await s.fetch('https://a.test/sha512-then-md5');
    assert.deepEqual(
      res.hops.map((h) => h.status),
      [401, 200],
    );
    const sent = String(srv.received.at(-1)?.headers.authorization);
    assert.match(sent, /algorithm=MD5/);
    assert.doesNotMatch(sent, /SHA-512|nonce="s{8}"/);
    await s.close();
  });

  it('gives a custom provider the parsed challenge it answers (ctx.challenge)', async () => {
    const seen: (Challenge | undefined)[] = [];
    const sig: AuthProvider = {
      kind: 'sig',
      header: 'authorization',
      canRefresh: false,
      value: (ctx) => {
        seen.push(ctx.challenge);
        return ctx.challenge ? `Sig k=${ctx.challenge.params.keyid}:${ctx.method}` : undefined;
      },
    };
    const s = session({ auth: sig });
    const res = await s.fetch('https://a.test/custom');
    assert.equal(res.status, 200);
    assert.equal(seen[0], undefined);
    assert.equal(seen[1]?.scheme, 'sig');
    assert.equal(seen[1]?.raw, 'Sig keyid="abc", alg=hmac');
    await s.close();
  });

  it('records an unanswered challenge naming the scheme the server asked for', async () => {
    const s = session({ auth: basic('a', 'b', { scope: 'c.test' }) });
    const res = await s.fetch('https://a.test/md5');
    assert.equal(res.status, 401);
    const d = auths(res.hops).find((x) => x.reason === 'unanswered-challenge');
    assert.ok(d);
    assert.match(d.detail, /asked for Digest/);
    await s.close();
  });
});

describe('the CLI', () => {
  const cli = (args: string[]) => runCli(args);
  const conn = () => srv.connectTo.flatMap((c) => ['--connect-to', c]);

  it('answers a Digest challenge with --digest -u user:pass', async () => {
    const res = await cli(['--digest', '-u', 'Mufasa:Circle of Life', '--cacert', caFile(), ...conn(), 'https://a.test/md5']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).headers.authorization.startsWith('Digest username="Mufasa"'), true);
  });

  it('refuses --digest without -u', async () => {
    const res = await cli(['--digest', 'https://a.test/md5']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--digest needs -u/);
  });
});

function caFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-digest-'));
  const f = join(dir, 'ca.pem');
  writeFileSync(f, srv.ca);
  return f;
}
