/**
 * Every scenario of the lab, from the server side: first responses (status, Location, Set-Cookie),
 * the follow-up hops a client would make (routed by hand, cookies and headers set by hand), what
 * received() records, reset(), and the 404s. One lab for the whole file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startLab, labScenarios, LAB_HOSTS, type Lab } from '../src/lab/index.js';
import { send, sidCookie, setCookies, type Reply } from './lab-client.js';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab.close();
});

const BEARER = { authorization: 'Bearer t0ken' };
const APP = 'https://app.hopwise.test';
const API = 'https://api.hopwise.test';

function assertRedirect(r: Reply, status: number, location: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers.location, location);
}

describe('scenario list', () => {
  test('ids, stories, problems, entries and expect cases are well formed', () => {
    const ids = lab.scenarios.map((s) => s.id);
    assert.deepEqual(ids, [
      'same-origin-auth',
      'cross-origin-auth',
      'open-redirect',
      'post-redirects',
      'login-session',
      'cookie-path',
      'meta-refresh',
      'subdomain-cookie',
      'https-upgrade',
      'https-downgrade',
      'round-robin',
      'redirect-loop',
      'long-chain',
      'upload-307',
      'api-key-header',
      'samesite-strict-idp',
      'samesite-lax-form-post',
    ]);
    assert.deepEqual([...new Set(lab.scenarios.map((s) => s.item))], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    for (const s of lab.scenarios) {
      assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(s.story.length > 200 && !s.story.includes('\n'), `${s.id}: one paragraph`);
      if (s.problem !== undefined) assert.ok(['lost-token', 'lost-session'].includes(s.problem));
      assert.equal(s.entry, lab.url(s.id));
      const entry = new URL(s.entry);
      assert.ok(LAB_HOSTS.includes(entry.hostname));
      assert.ok(entry.pathname.startsWith(`/${s.id}/`));
      assert.ok(s.expect.summary && s.expect.cause && s.expect.cases.length > 0);
      const names = s.expect.cases.map((c) => c.name);
      assert.equal(new Set(names).size, names.length, `${s.id}: case names unique`);
      for (const c of s.expect.cases) {
        const urls = [c.request.url, ...(c.reached ?? []).map((r) => r.url), ...(c.notReached ?? [])];
        if (c.outcome.url) urls.push(c.outcome.url);
        for (const u of urls) {
          assert.ok(LAB_HOSTS.includes(new URL(u).hostname), `${s.id}/${c.name}: ${u} is a lab host`);
          assert.ok(new URL(u).pathname.startsWith(`/${s.id}/`), `${s.id}/${c.name}: ${u} is under the prefix`);
        }
        assert.ok((c.outcome.error === undefined) !== (c.outcome.status === undefined), `${s.id}/${c.name}: status xor error`);
      }
    }
    assert.deepEqual(labScenarios(), lab.scenarios);
  });

  test('every case request gets a real answer (not a 404) from the lab', async () => {
    for (const s of lab.scenarios) {
      for (const c of s.expect.cases) {
        const r = await send(lab, c.request.url, {
          method: c.request.method,
          ...(c.request.headers ? { headers: c.request.headers } : {}),
          ...(c.request.body !== undefined ? { body: c.request.body } : {}),
        });
        assert.notEqual(r.status, 404, `${s.id}/${c.name}: ${r.body}`);
        assert.equal(r.headers['x-hopwise-lab'], s.id);
      }
    }
    lab.reset();
  });

  test('url() builds paths on the entry origin and rejects unknown scenarios', () => {
    assert.equal(lab.url('cross-origin-auth'), `${API}/cross-origin-auth/start`);
    assert.equal(lab.url('cross-origin-auth', '/resource'), `${API}/cross-origin-auth/resource`);
    assert.equal(lab.url('long-chain', 'chain/3'), `${APP}/long-chain/chain/3`);
    assert.equal(lab.url('https-upgrade'), 'http://app.hopwise.test/https-upgrade/start');
    assert.throws(() => lab.url('nope'), /unknown scenario 'nope'/);
    assert.throws(() => lab.received('nope'), /unknown scenario/);
    assert.throws(() => lab.reset('nope'), /unknown scenario/);
  });
});

describe('auth header scenarios', () => {
  test('1 same-origin-auth: 302 on the same origin; /resource wants a Bearer token', async () => {
    assertRedirect(await send(lab, lab.url('same-origin-auth'), { headers: BEARER }), 302, '/same-origin-auth/resource');
    const ok = await send(lab, lab.url('same-origin-auth', '/resource'), { headers: BEARER });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /authorized/);
    const no = await send(lab, lab.url('same-origin-auth', '/resource'));
    assert.equal(no.status, 401);
    assert.match(String(no.headers['www-authenticate']), /^Bearer/);
  });

  test('2 cross-origin-auth: api → cdn (401 without the token, 200 with it), and the cross-port variant', async () => {
    assertRedirect(await send(lab, lab.url('cross-origin-auth'), { headers: BEARER }), 302, 'https://cdn.hopwise.test/cross-origin-auth/resource');
    const cdn = 'https://cdn.hopwise.test/cross-origin-auth/resource';
    assert.equal((await send(lab, cdn)).status, 401);
    assert.equal((await send(lab, cdn, { headers: BEARER })).status, 200);
    assertRedirect(await send(lab, 'http://api.hopwise.test/cross-origin-auth/port-start', { headers: BEARER }), 302, 'http://api.hopwise.test:8080/cross-origin-auth/resource');
    const alt = 'http://api.hopwise.test:8080/cross-origin-auth/resource';
    assert.equal((await send(lab, alt)).status, 401);
    assert.equal((await send(lab, alt, { headers: BEARER })).status, 200);
    // /resource is not served on the api host's default ports.
    assert.equal((await send(lab, `${API}/cross-origin-auth/resource`)).status, 404);
    const seen = lab.received('cross-origin-auth');
    const altSeen = seen.find((q) => q.url === alt)!;
    assert.equal(altSeen.host, 'api.hopwise.test:8080');
    assert.equal(altSeen.headers.host, 'api.hopwise.test:8080');
  });

  test('3 open-redirect: api → api/redirect?to=evil → evil.test, which lists what leaked', async () => {
    lab.reset('open-redirect');
    const first = await send(lab, lab.url('open-redirect'), { headers: BEARER });
    assert.equal(first.status, 302);
    const next = new URL(first.headers.location!, lab.url('open-redirect'));
    assert.equal(next.searchParams.get('to'), 'https://evil.test/open-redirect/collect');
    assertRedirect(await send(lab, next.href, { headers: BEARER }), 302, 'https://evil.test/open-redirect/collect');
    const clean = await send(lab, 'https://evil.test/open-redirect/collect');
    assert.deepEqual(JSON.parse(clean.body).leaked, []);
    const dirty = await send(lab, 'https://evil.test/open-redirect/collect', { headers: { ...BEARER, 'x-api-key': 'k', cookie: 'sid=1' } });
    assert.deepEqual(JSON.parse(dirty.body).leaked, ['authorization', 'x-api-key', 'cookie']);
    const evilSeen = lab.received('open-redirect').filter((q) => q.host === 'evil.test');
    assert.equal(evilSeen.length, 2);
    assert.equal(evilSeen[1]!.headers.authorization, 'Bearer t0ken');
    assert.equal((await send(lab, `${API}/open-redirect/redirect`)).status, 400);
  });

  test('14 api-key-header: api wants X-Api-Key and redirects to a public cdn asset', async () => {
    assert.equal((await send(lab, lab.url('api-key-header'))).status, 401);
    assertRedirect(await send(lab, lab.url('api-key-header'), { headers: { 'x-api-key': 'k' } }), 302, 'https://cdn.hopwise.test/api-key-header/asset');
    const asset = 'https://cdn.hopwise.test/api-key-header/asset';
    assert.deepEqual(JSON.parse((await send(lab, asset)).body), { asset: 'public', apiKeyReceived: false });
    assert.equal(JSON.parse((await send(lab, asset, { headers: { 'x-api-key': 'k' } })).body).apiKeyReceived, true);
  });

  test("14 api-key-header answers CORS only to a request with an Origin (a page's fetch()): the preflight, then ACAO on every answer", async () => {
    const asset = 'https://cdn.hopwise.test/api-key-header/asset';
    const page = { origin: 'https://app.hopwise.test' };
    for (const url of [lab.url('api-key-header'), asset]) {
      const pre = await send(lab, url, { method: 'OPTIONS', headers: { ...page, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-api-key' } });
      assert.equal(pre.status, 204, url);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://app.hopwise.test');
      assert.equal(pre.headers['access-control-allow-headers'], 'X-Api-Key');
      assert.equal(pre.headers['access-control-allow-methods'], 'GET');
    }
    // After a cross-origin redirect the browser's Origin is `null` (a tainted origin): echoed as is.
    const r = await send(lab, lab.url('api-key-header'), { headers: { ...page, 'x-api-key': 'k' } });
    assertRedirect(r, 302, asset);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.hopwise.test');
    assert.equal((await send(lab, asset, { headers: { origin: 'null' } })).headers['access-control-allow-origin'], 'null');
    // Without an Origin (hopwise, curl, requests) nothing changes: no CORS headers, and OPTIONS is a request without a key.
    assert.equal((await send(lab, lab.url('api-key-header'), { method: 'OPTIONS' })).status, 401);
    const plain = await send(lab, lab.url('api-key-header'), { headers: { 'x-api-key': 'k' } });
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
    assert.equal((await send(lab, asset)).headers['access-control-allow-origin'], undefined);
  });
});

describe('method and body scenarios', () => {
  test('4 post-redirects: each status redirects to /echo, which reports method, body size and type', async () => {
    const body = 'name=alice&note=hello';
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const code of [301, 302, 303, 307, 308]) {
      assertRedirect(await send(lab, lab.url('post-redirects', `/${code}`), { method: 'POST', headers: form, body }), code, '/post-redirects/echo');
    }
    assert.equal((await send(lab, lab.url('post-redirects', '/305'))).status, 404);
    const echoed = JSON.parse((await send(lab, lab.url('post-redirects', '/echo'), { method: 'POST', headers: form, body })).body);
    assert.deepEqual(echoed, { method: 'POST', bodySize: 21, contentType: 'application/x-www-form-urlencoded' });
    assert.deepEqual(JSON.parse((await send(lab, lab.url('post-redirects', '/echo'))).body), { method: 'GET', bodySize: 0, contentType: null });
  });

  test('13 upload-307: s3 answers 307 to the eu endpoint, which records the body size', async () => {
    lab.reset('upload-307');
    const body = Buffer.alloc(1024, 'x');
    const r = await send(lab, lab.url('upload-307'), { method: 'PUT', body, headers: { ...BEARER, 'content-type': 'application/octet-stream' } });
    assertRedirect(r, 307, 'https://eu.s3.hopwise.test/upload-307/bucket/key');
    assert.equal(r.headers['x-amz-bucket-region'], 'eu-west-1');
    assert.match(r.body, /TemporaryRedirect/);
    const eu = await send(lab, 'https://eu.s3.hopwise.test/upload-307/bucket/key', { method: 'PUT', body });
    assert.deepEqual(JSON.parse(eu.body), { region: 'eu-west-1', method: 'PUT', bodySize: 1024, stored: 1024 });
    const seen = lab.received('upload-307');
    assert.deepEqual(
      seen.map((q) => [q.method, q.host, q.bodySize, q.status]),
      [
        ['PUT', 's3.hopwise.test', 1024, 307],
        ['PUT', 'eu.s3.hopwise.test', 1024, 200],
      ],
    );
    assert.equal(seen[0]!.headers.authorization, 'Bearer t0ken');
    assert.equal(seen[0]!.headers['content-length'], '1024');
  });
});

describe('session scenarios (seed 001)', () => {
  const SID_ROOT = /^sid=[0-9a-f]{24}; Path=\/; HttpOnly$/;

  test('5 login-session: the 302 sets sid (Path=/), /dashboard greets the user with it', async () => {
    const login = await send(lab, lab.url('login-session'));
    assertRedirect(login, 302, '/login-session/dashboard');
    assert.match(setCookies(login)[0]!, SID_ROOT);
    const dash = lab.url('login-session', '/dashboard');
    assert.equal((await send(lab, dash, { headers: { cookie: sidCookie(login) } })).body, 'Hello, alice\n');
    const no = await send(lab, dash);
    assert.equal(no.status, 401);
    assert.equal(no.body, 'no session\n');
    assert.equal((await send(lab, dash, { headers: { cookie: 'sid=forged' } })).status, 401);
    const bob = await send(lab, lab.url('login-session'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=bob',
    });
    assert.equal((await send(lab, dash, { headers: { cookie: sidCookie(bob) } })).body, 'Hello, bob\n');
  });

  test('6 cookie-path: Path=/app on the login 302; the fixed login uses Path=/', async () => {
    const login = await send(lab, lab.url('cookie-path'));
    assertRedirect(login, 302, '/cookie-path/dashboard');
    assert.match(setCookies(login)[0]!, /^sid=\w+; Path=\/app; HttpOnly$/);
    const fixed = await send(lab, lab.url('cookie-path', '/login-fixed'));
    assertRedirect(fixed, 302, '/cookie-path/dashboard');
    assert.match(setCookies(fixed)[0]!, SID_ROOT);
    const dash = lab.url('cookie-path', '/dashboard');
    assert.equal((await send(lab, dash)).status, 401);
    assert.equal((await send(lab, dash, { headers: { cookie: sidCookie(fixed) } })).body, 'Hello, alice\n');
  });

  test('7 meta-refresh: 200 HTML pages that "redirect" by meta refresh and by script', async () => {
    const meta = await send(lab, lab.url('meta-refresh'));
    assert.equal(meta.status, 200);
    assert.equal(meta.headers.location, undefined);
    assert.match(String(meta.headers['content-type']), /^text\/html/);
    assert.match(meta.body, /<meta http-equiv="refresh" content="0; url=\/meta-refresh\/next">/);
    assert.match(setCookies(meta)[0]!, SID_ROOT);
    const script = await send(lab, lab.url('meta-refresh', '/script'));
    assert.equal(script.status, 200);
    assert.match(script.body, /<script>location\.href='\/meta-refresh\/next'<\/script>/);
    const next = lab.url('meta-refresh', '/next');
    assert.equal((await send(lab, next, { headers: { cookie: sidCookie(meta) } })).body, 'Hello, alice\n');
    assert.equal((await send(lab, next)).status, 401);
  });

  test('8 subdomain-cookie: host-only sid on app → api/me; the Domain=hopwise.test fix', async () => {
    const me = 'https://api.hopwise.test/subdomain-cookie/me';
    const hostOnly = await send(lab, lab.url('subdomain-cookie'));
    assertRedirect(hostOnly, 302, me);
    assert.match(setCookies(hostOnly)[0]!, SID_ROOT);
    const domain = await send(lab, lab.url('subdomain-cookie', '/login-domain'));
    assertRedirect(domain, 302, me);
    assert.match(setCookies(domain)[0]!, /^sid=\w+; Domain=hopwise\.test; Path=\/; HttpOnly$/);
    assert.equal((await send(lab, me)).status, 401);
    assert.equal((await send(lab, me, { headers: { cookie: sidCookie(domain) } })).body, 'Hello, alice\n');
  });

  test('9 https-upgrade: cookie set over http, redirect to https; the Secure-over-http variant', async () => {
    const page = `${APP}/https-upgrade/page`;
    const plain = await send(lab, lab.url('https-upgrade'));
    assertRedirect(plain, 302, page);
    assert.match(setCookies(plain)[0]!, SID_ROOT);
    const secure = await send(lab, lab.url('https-upgrade', '/start-secure'));
    assertRedirect(secure, 302, page);
    assert.match(setCookies(secure)[0]!, /^sid=\w+; Path=\/; Secure; HttpOnly$/);
    assert.equal((await send(lab, page, { headers: { cookie: sidCookie(plain) } })).body, 'Hello, alice\n');
    assert.equal((await send(lab, page)).body, 'no session\n');
    assert.equal(lab.received('https-upgrade')[0]!.url, 'http://app.hopwise.test/https-upgrade/start');
  });

  test('10 https-downgrade: Secure sid and 302 to http; landing reports what it got', async () => {
    const start = await send(lab, lab.url('https-downgrade'), { headers: BEARER });
    assertRedirect(start, 302, 'http://app.hopwise.test/https-downgrade/landing');
    assert.match(setCookies(start)[0]!, /^sid=\w+; Path=\/; Secure; HttpOnly$/);
    const landing = 'http://app.hopwise.test/https-downgrade/landing';
    assert.equal((await send(lab, landing)).body, '{"scheme":"http","authorization":false,"cookies":[]}');
    const leaky = await send(lab, landing, { headers: { ...BEARER, cookie: sidCookie(start) } });
    assert.deepEqual(JSON.parse(leaky.body), { scheme: 'http', authorization: true, cookies: ['sid'] });
  });

  test('11 round-robin: A logs in, B does not know the sid and replaces it; the shared store works', async () => {
    lab.reset('round-robin');
    const login = await send(lab, lab.url('round-robin'));
    assertRedirect(login, 302, '/round-robin/dashboard');
    assert.equal(login.headers['x-backend'], 'a');
    const sid = sidCookie(login);
    const dash = await send(lab, lab.url('round-robin', '/dashboard'), { headers: { cookie: sid } });
    assert.equal(dash.status, 401);
    assert.equal(dash.body, 'no session\n');
    assert.equal(dash.headers['x-backend'], 'b');
    const fresh = sidCookie(dash);
    assert.match(setCookies(dash)[0]!, SID_ROOT);
    assert.notEqual(fresh, sid);
    // The rotation goes on: the next request lands on A, which knows the original sid.
    const again = await send(lab, lab.url('round-robin', '/dashboard'), { headers: { cookie: sid } });
    assert.equal(again.headers['x-backend'], 'a');
    assert.equal(again.body, 'Hello, alice\n');

    const sLogin = await send(lab, lab.url('round-robin', '/shared/login'));
    assertRedirect(sLogin, 302, '/round-robin/shared/dashboard');
    assert.equal(sLogin.headers['x-backend'], 'a');
    const sDash = await send(lab, lab.url('round-robin', '/shared/dashboard'), { headers: { cookie: sidCookie(sLogin) } });
    assert.equal(sDash.status, 200);
    assert.equal(sDash.headers['x-backend'], 'b');
    assert.equal(sDash.body, 'Hello, alice\n');
    assert.equal(sDash.headers['set-cookie'], undefined);
  });
});

describe('loops and limits', () => {
  test('12 redirect-loop: /loop → /loop, /a → /b → /a', async () => {
    assertRedirect(await send(lab, lab.url('redirect-loop')), 302, '/redirect-loop/loop');
    assertRedirect(await send(lab, lab.url('redirect-loop', '/a')), 302, '/redirect-loop/b');
    assertRedirect(await send(lab, lab.url('redirect-loop', '/b')), 302, '/redirect-loop/a');
  });

  test('12 long-chain: /chain/25 counts down to /chain/0', async () => {
    assertRedirect(await send(lab, lab.url('long-chain')), 302, '/long-chain/chain/24');
    assertRedirect(await send(lab, lab.url('long-chain', '/chain/1')), 302, '/long-chain/chain/0');
    const end = await send(lab, lab.url('long-chain', '/chain/0'));
    assert.equal(end.status, 200);
    assert.equal(end.body, 'end of chain\n');
    assert.equal((await send(lab, lab.url('long-chain', '/chain/5000'))).status, 400);
  });
});

describe('received(), reset() and routing', () => {
  test('received() records method, logical URL, raw headers (Authorization included), body size, status, in order', async () => {
    lab.reset('post-redirects');
    const t0 = Date.now();
    await send(lab, lab.url('post-redirects', '/307?x=1'), {
      method: 'POST',
      headers: { Authorization: 'Bearer s3cret', 'X-Custom': 'A' },
      body: 'hello',
    });
    await send(lab, lab.url('post-redirects', '/echo'));
    const seen = lab.received('post-redirects');
    assert.equal(seen.length, 2);
    const [a, b] = seen as [(typeof seen)[0], (typeof seen)[0]];
    assert.equal(a.scenario, 'post-redirects');
    assert.equal(a.method, 'POST');
    assert.equal(a.host, 'api.hopwise.test');
    assert.equal(a.url, 'https://api.hopwise.test/post-redirects/307?x=1');
    assert.equal(a.path, '/post-redirects/307?x=1');
    assert.equal(a.headers.authorization, 'Bearer s3cret');
    assert.equal(a.headers['x-custom'], 'A');
    assert.ok(Object.keys(a.headers).every((k) => k === k.toLowerCase()));
    assert.equal(a.bodySize, 5);
    assert.equal(a.status, 307);
    assert.ok(a.time >= t0 && b.time >= a.time);
    assert.equal(b.method, 'GET');
    assert.equal(b.bodySize, 0);
    // Copies: changing them does not change the lab's record.
    a.headers.authorization = 'changed';
    assert.equal(lab.received('post-redirects')[0]!.headers.authorization, 'Bearer s3cret');
    // A request with no known route in a scenario is still recorded under it.
    await send(lab, 'https://cdn.hopwise.test/post-redirects/nothing-here');
    assert.equal(lab.received('post-redirects').at(-1)!.status, 404);
  });

  test('repeated request headers are joined (cookie with "; ")', async () => {
    lab.reset('login-session');
    await new Promise<void>((resolve, reject) => {
      const { port } = { port: lab.ports.http };
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/login-session/dashboard',
          agent: false,
          headers: ['Host', 'app.hopwise.test', 'Cookie', 'a=1', 'Cookie', 'b=2', 'X-Dup', 'one', 'X-Dup', 'two'] as unknown as http.OutgoingHttpHeaders,
        },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end();
    });
    const [q] = lab.received('login-session');
    assert.equal(q!.headers.cookie, 'a=1; b=2');
    assert.equal(q!.headers['x-dup'], 'one, two');
    assert.equal(q!.url, 'http://app.hopwise.test/login-session/dashboard');
  });

  test('reset(id) forgets requests and sessions of one scenario; reset() of all', async () => {
    const login = await send(lab, lab.url('login-session'));
    await send(lab, lab.url('same-origin-auth'));
    assert.ok(lab.received('login-session').length > 0);
    lab.reset('login-session');
    assert.equal(lab.received('login-session').length, 0);
    assert.ok(lab.received('same-origin-auth').length > 0);
    const dash = await send(lab, lab.url('login-session', '/dashboard'), { headers: { cookie: sidCookie(login) } });
    assert.equal(dash.status, 401, 'the session is gone after reset');
    lab.reset();
    for (const s of lab.scenarios) assert.equal(lab.received(s.id).length, 0);
  });

  test('unknown host, unknown scenario and unknown route answer 404 with an explanation; /ok is 200 on every host', async () => {
    const host = await send(lab, 'http://unknown.example/ok');
    assert.equal(host.status, 404);
    assert.match(host.body, /unknown host 'unknown\.example'.*connectTo/);
    const scen = await send(lab, `${APP}/no-such-scenario/x`);
    assert.equal(scen.status, 404);
    assert.match(scen.body, /no scenario 'no-such-scenario'.*cross-origin-auth/);
    const route = await send(lab, `${APP}/same-origin-auth/start`);
    assert.equal(route.status, 404, 'same-origin-auth lives on api., not app.');
    assert.match(route.body, /scenario 'same-origin-auth' has no GET \/start on https:\/\/app\.hopwise\.test/);
    for (const h of LAB_HOSTS) {
      for (const scheme of ['http', 'https']) {
        const ok = await send(lab, `${scheme}://${h}/ok`);
        assert.equal(ok.status, 200);
        assert.equal(ok.body, `ok ${h}\n`);
      }
    }
    const index = await send(lab, `${APP}/`);
    assert.equal(index.status, 200);
    assert.match(index.body, /round-robin +https:\/\/app\.hopwise\.test\/round-robin\/login/);
  });

  test('keep-alive: two requests share one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r1 = await send(lab, `http://app.hopwise.test/ok`, { agent });
      const r2 = await send(lab, `http://app.hopwise.test/ok`, { agent });
      assert.equal(r1.headers.connection, 'keep-alive');
      assert.equal(r2.status, 200);
      assert.equal(Object.values(agent.freeSockets).flat().length, 1);
    } finally {
      agent.destroy();
    }
  });
});
