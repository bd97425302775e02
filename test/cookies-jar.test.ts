// The jar: RFC 6265bis storage (§5.7) and retrieval (§5.8.3) as a non-browser client, its reasons,
// its verdicts, its limits. One test (or a few) per rule of issue 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar } from '../src/cookies/index.js';
import type { SetCookieResult } from '../src/cookies/index.js';
import { REASONS } from '../src/trace/reasons.js';
import { HopwiseOptionError } from '../src/errors.js';

const T0 = Date.UTC(2025, 0, 1);

function clockJar(options: { maxCookiesPerDomain?: number; maxCookies?: number } = {}) {
  const clock = { t: T0 };
  const jar = new CookieJar({ ...options, now: () => clock.t });
  return { jar, clock };
}

function stored(r: SetCookieResult) {
  assert.equal(r.stored, true, `expected stored, got ${r.reason}: ${r.detail}`);
  if (!r.stored) throw new Error('unreachable');
  return r;
}

function rejected(r: SetCookieResult, reason: string) {
  assert.equal(r.stored, false, `expected ${reason}, got stored`);
  assert.equal(r.reason, reason, r.detail);
  return r;
}

// ---- parsing rules as seen through the jar -----------------------------------------------------

test('a nameless cookie is stored with an empty name and sent as just its value', () => {
  const { jar } = clockJar();
  const r = stored(jar.setCookie('foo', 'http://example.com/'));
  assert.equal(r.cookie.name, '');
  jar.setCookie('a=b', 'http://example.com/');
  assert.equal(jar.getCookieString('http://example.com/'), 'foo; a=b');
});

test('a line with a control character is rejected as control-char and stores nothing', () => {
  const { jar } = clockJar();
  rejected(jar.setCookie('sid=abc\r\nSet-Cookie: evil=1', 'http://example.com/'), 'control-char');
  assert.equal(jar.getCookieString('http://example.com/'), '');
});

test('name and value over 4096 octets are rejected as too-large; a long attribute is only ignored', () => {
  const { jar } = clockJar();
  rejected(jar.setCookie(`big=${'x'.repeat(4094)}`, 'http://example.com/'), 'too-large');
  const r = stored(jar.setCookie(`ok=1; Path=/${'p'.repeat(1100)}`, 'http://example.com/app/x'));
  assert.equal(r.cookie.path, '/app');
  assert.match(r.detail, /Path attribute ignored: value over 1024 octets/);
});

test('Max-Age wins over Expires, whichever comes first', () => {
  const { jar } = clockJar();
  const far = 'Expires=Sun, 01 Jun 2025 00:00:00 GMT';
  assert.equal(stored(jar.setCookie(`a=1; Max-Age=60; ${far}`, 'http://example.com/')).cookie.expires, T0 + 60_000);
  assert.equal(stored(jar.setCookie(`b=1; ${far}; Max-Age=60`, 'http://example.com/')).cookie.expires, T0 + 60_000);
  assert.equal(stored(jar.setCookie(`c=1; ${far}`, 'http://example.com/')).cookie.expires, Date.UTC(2025, 5, 1));
});

test('no cookie lives longer than 400 days, by Max-Age or by Expires', () => {
  const { jar } = clockJar();
  const cap = T0 + 400 * 24 * 3600 * 1000;
  assert.equal(stored(jar.setCookie('a=1; Max-Age=999999999999', 'http://example.com/')).cookie.expires, cap);
  assert.equal(stored(jar.setCookie('b=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT', 'http://example.com/')).cookie.expires, cap);
});

// ---- storage rules ------------------------------------------------------------------------------

test('a Domain cookie set by api.example.com with Domain=example.com reaches www.example.com', () => {
  const { jar } = clockJar();
  const r = stored(jar.setCookie('sid=1; Domain=.Example.com', 'http://api.example.com/'));
  assert.equal(r.cookie.domain, 'example.com');
  assert.equal(r.cookie.hostOnly, false);
  assert.equal(jar.getCookieString('http://www.example.com/'), 'sid=1');
  assert.equal(jar.getCookieString('http://example.com/'), 'sid=1');
  assert.equal(jar.getCookieString('http://evilexample.com/'), '');
});

test('a Domain attribute that does not domain-match the host is rejected as invalid-domain', () => {
  const { jar } = clockJar();
  const r = rejected(jar.setCookie('a=1; Domain=other.com', 'http://example.com/'), 'invalid-domain');
  assert.equal(r.detail, 'Domain=other.com does not domain-match the request host example.com');
  rejected(jar.setCookie('a=1; Domain=www.example.com', 'http://example.com/'), 'invalid-domain');
  rejected(jar.setCookie('a=1; Domain=bücher.example', 'http://example.com/'), 'invalid-domain');
});

test('a public suffix as Domain is rejected, unless it is the host itself, which makes the cookie host-only', () => {
  const { jar } = clockJar();
  rejected(jar.setCookie('a=1; Domain=com', 'http://example.com/'), 'public-suffix');
  rejected(jar.setCookie('a=1; Domain=co.uk', 'http://shop.example.co.uk/'), 'public-suffix');
  const r = rejected(jar.setCookie('a=1; Domain=github.io', 'https://me.github.io/'), 'public-suffix');
  assert.equal(r.detail, 'Domain=github.io is a public suffix; the request host is me.github.io');
  const own = stored(jar.setCookie('b=1; Domain=github.io', 'https://github.io/'));
  assert.equal(own.cookie.hostOnly, true);
  assert.equal(jar.getCookieString('https://me.github.io/'), '');
});

test('cookies set by an IP address are host-only, and a Domain naming another address is rejected', () => {
  const { jar } = clockJar();
  const r = stored(jar.setCookie('a=1; Domain=127.0.0.1', 'http://127.0.0.1:8080/'));
  assert.equal(r.cookie.hostOnly, true);
  rejected(jar.setCookie('b=1; Domain=0.0.1', 'http://127.0.0.1/'), 'invalid-domain');
  stored(jar.setCookie('c=1', 'http://[::1]:3000/'));
  assert.equal(jar.getCookieString('http://127.0.0.1:9999/'), 'a=1');
  assert.equal(jar.getCookieString('http://[::1]/'), 'c=1');
});

test('localhost and *.localhost can set and share cookies, Domain=localhost included', () => {
  const { jar } = clockJar();
  stored(jar.setCookie('host=1', 'http://localhost:3000/'));
  const shared = stored(jar.setCookie('shared=1; Domain=localhost', 'http://a.localhost:3000/'));
  assert.equal(shared.cookie.hostOnly, false);
  assert.equal(jar.getCookieString('http://b.localhost:4000/'), 'shared=1');
  assert.equal(jar.getCookieString('http://localhost:3000/'), 'host=1; shared=1');
});

test('a Secure cookie from an insecure origin is rejected, but localhost over http counts as secure', () => {
  const { jar } = clockJar();
  const r = rejected(jar.setCookie('a=1; Secure', 'http://example.com/'), 'secure-from-insecure');
  assert.equal(r.detail, 'Secure cookie set by http://example.com, which is not https: or localhost');
  stored(jar.setCookie('b=1; Secure', 'http://localhost:3000/'));
  stored(jar.setCookie('c=1; Secure', 'http://127.0.0.1:3000/'));
});

test('__Secure- needs Secure; __Host- needs Secure, Path=/ and no Domain; both case-insensitively', () => {
  const { jar } = clockJar();
  const u = 'https://example.com/app/x';
  rejected(jar.setCookie('__Secure-a=1', u), 'prefix-secure');
  rejected(jar.setCookie('__secure-a=1', u), 'prefix-secure');
  stored(jar.setCookie('__Secure-a=1; Secure', u));
  rejected(jar.setCookie('__Host-b=1; Secure', u), 'prefix-host'); // no Path attribute
  rejected(jar.setCookie('__Host-b=1; Secure; Path=/app', u), 'prefix-host');
  const r = rejected(jar.setCookie('__HOST-b=1; Secure; Path=/; Domain=example.com', u), 'prefix-host');
  assert.equal(r.detail, '__HOST-b has the __Host- prefix but Domain=example.com given');
  stored(jar.setCookie('__Host-b=1; Secure; Path=/', u));
  rejected(jar.setCookie('__Host-c', u), 'prefix-host'); // nameless, value looks like a prefixed name
  rejected(jar.setCookie('__Secure-a=1; Secure', 'http://example.com/'), 'secure-from-insecure');
});

test('an insecure origin cannot overwrite or shadow a Secure cookie (overwrite-secure)', () => {
  const { jar } = clockJar();
  stored(jar.setCookie('sid=good; Secure; Path=/', 'https://example.com/'));
  const r = rejected(jar.setCookie('sid=evil', 'http://example.com/'), 'overwrite-secure');
  assert.equal(r.name, 'sid');
  rejected(jar.setCookie('sid=evil; Path=/app', 'http://example.com/'), 'overwrite-secure');
  rejected(jar.setCookie('sid=evil; Domain=example.com', 'http://www.example.com/'), 'overwrite-secure');
  stored(jar.setCookie('other=fine', 'http://example.com/'));
  stored(jar.setCookie('sid=new; Secure', 'https://example.com/'));
  assert.equal(jar.getCookieString('https://example.com/'), 'sid=new; other=fine');
});

test('an expiry in the past deletes the stored cookie (deleted), or stores nothing (expired)', () => {
  const { jar } = clockJar();
  stored(jar.setCookie('sid=1; Path=/', 'http://example.com/'));
  const d = rejected(jar.setCookie('sid=; Max-Age=0; Path=/', 'http://example.com/'), 'deleted');
  assert.match(d.detail, /deleted/);
  assert.equal(jar.getCookieString('http://example.com/'), '');
  rejected(jar.setCookie('gone=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'http://example.com/'), 'expired');
  assert.equal(jar.cookies().length, 0);
});

test('the same name, domain, host-only flag and path replaces, keeping creation time and order', () => {
  const { jar, clock } = clockJar();
  stored(jar.setCookie('a=1', 'http://example.com/'));
  clock.t += 1000;
  stored(jar.setCookie('b=1', 'http://example.com/'));
  clock.t += 1000;
  const r = stored(jar.setCookie('a=2; HttpOnly', 'http://example.com/'));
  assert.equal(r.reason, 'replaced');
  assert.equal(r.cookie.creation, T0);
  assert.equal(jar.getCookieString('http://example.com/'), 'a=2; b=1');
  // A domain cookie of the same name is a different cookie (6265bis §5.7 step 19 includes host-only).
  stored(jar.setCookie('a=3; Domain=example.com', 'http://example.com/'));
  assert.equal(jar.getCookieString('http://example.com/'), 'a=2; b=1; a=3');
});

test('past maxCookiesPerDomain the least recently used cookie of that domain is evicted', () => {
  const { jar, clock } = clockJar({ maxCookiesPerDomain: 3 });
  for (const n of ['a', 'b', 'c']) {
    jar.setCookie(`${n}=1; Path=/${n}`, 'http://example.com/');
    clock.t += 10;
  }
  jar.getCookieString('http://example.com/a'); // a is now more recent than b
  const r = stored(jar.setCookie('d=1; Path=/d', 'http://example.com/'));
  assert.match(r.detail, /evicted the least recently used cookie of example\.com \(limit 3 per domain\)/);
  assert.deepEqual(
    jar.cookies().map((c) => c.name),
    ['a', 'c', 'd'],
  );
  // Other domains have their own allowance.
  stored(jar.setCookie('x=1', 'http://other.example.com/'));
  assert.equal(jar.cookies().length, 4);
});

test('past maxCookies the least recently used cookie of the whole jar is evicted', () => {
  const { jar, clock } = clockJar({ maxCookies: 3 });
  for (const h of ['a', 'b', 'c']) {
    jar.setCookie('k=1', `http://${h}.test/`);
    clock.t += 10;
  }
  jar.getCookieString('http://a.test/');
  stored(jar.setCookie('k=1', 'http://d.test/'));
  assert.deepEqual(
    jar.cookies().map((c) => c.domain),
    ['a.test', 'c.test', 'd.test'],
  );
  assert.equal(jar.size, 3);
});

test('the default limits are 180 per domain and 50,000 in all, and bad limits are refused', () => {
  const jar = new CookieJar();
  for (let i = 0; i < 200; i++) jar.setCookie(`k${i}=1`, 'http://example.com/');
  assert.equal(jar.size, 180);
  for (let i = 0; i < 1000; i++) for (let k = 0; k < 10; k++) jar.setCookie(`k${k}=1`, `http://d${i}.example.net/`);
  assert.equal(jar.size, 180 + 10_000);
  assert.throws(() => new CookieJar({ maxCookies: 0 }), HopwiseOptionError);
  assert.throws(() => new CookieJar({ maxCookiesPerDomain: 1.5 }), { code: 'ERR_INVALID_OPTION' });
});

// ---- retrieval ----------------------------------------------------------------------------------

test('cookies are sent longest path first, then oldest first', () => {
  const { jar, clock } = clockJar();
  jar.setCookie('root2=1; Path=/', 'http://example.com/');
  clock.t += 1;
  jar.setCookie('deep=1; Path=/app/x', 'http://example.com/');
  jar.setCookie('mid=1; Path=/app', 'http://example.com/');
  jar.setCookie('root1=1; Path=/', 'http://example.com/');
  jar.setCookie('dom=1; Domain=example.com; Path=/app', 'http://example.com/');
  assert.equal(jar.getCookieString('http://example.com/app/x/y'), 'deep=1; mid=1; dom=1; root2=1; root1=1');
});

test('cookies created in the same millisecond keep their creation order', () => {
  const { jar } = clockJar();
  for (const n of ['z', 'y', 'x', 'w']) jar.setCookie(`${n}=1`, 'http://example.com/');
  assert.equal(jar.getCookieString('http://example.com/'), 'z=1; y=1; x=1; w=1');
});

test('a Secure cookie goes only to https:, and to localhost over http', () => {
  const { jar } = clockJar();
  jar.setCookie('s=1; Secure', 'https://example.com/');
  jar.setCookie('p=1', 'https://example.com/');
  assert.equal(jar.getCookieString('https://example.com/'), 's=1; p=1');
  assert.equal(jar.getCookieString('http://example.com/'), 'p=1');
  jar.setCookie('ls=1; Secure', 'https://localhost/');
  assert.equal(jar.getCookieString('http://localhost:8080/'), 'ls=1');
});

test('expiry is checked against now(), and an expired cookie is reported once then swept', () => {
  const { jar, clock } = clockJar();
  jar.setCookie('short=1; Max-Age=10', 'http://example.com/');
  jar.setCookie('long=1', 'http://example.com/');
  clock.t += 9_999;
  assert.equal(jar.getCookieString('http://example.com/'), 'short=1; long=1');
  clock.t += 1;
  const { header, verdicts } = jar.evaluate(new URL('http://example.com/'));
  assert.equal(header, 'long=1');
  const v = verdicts.find((x) => x.cookie.name === 'short');
  assert.equal(v?.reason, 'expired');
  assert.equal(v?.detail, 'cookie expired at 2025-01-01T00:00:10.000Z (now 2025-01-01T00:00:10.000Z)');
  assert.deepEqual(
    jar.cookies().map((c) => c.name),
    ['long'],
  );
});

test('getCookieString and evaluate update last-access; explain and cookies() change nothing', () => {
  const { jar, clock } = clockJar();
  jar.setCookie('a=1', 'http://example.com/');
  clock.t += 5000;
  jar.explain('http://example.com/');
  assert.equal(jar.cookies()[0]?.lastAccess, T0);
  jar.getCookieString('http://example.com/');
  assert.equal(jar.cookies()[0]?.lastAccess, T0 + 5000);
  clock.t += 5000;
  const { verdicts } = jar.evaluate(new URL('http://example.com/'));
  assert.equal(verdicts[0]?.cookie.lastAccess, T0 + 10_000);
  const snap = jar.cookies()[0]!;
  snap.value = 'tampered';
  assert.equal(jar.getCookieString('http://example.com/'), 'a=1');
});

test('the domain and path of a URL are compared as the URL parser canonicalises them', () => {
  const { jar } = clockJar();
  jar.setCookie('a=1; Path=/foo', 'http://EXAMPLE.com/');
  assert.equal(jar.getCookieString('http://example.COM/foo/bar'), 'a=1');
  assert.equal(jar.getCookieString('http://example.com/f%6Fo'), '');
  assert.equal(jar.getCookieString('http://example.com./foo'), '');
});

// ---- verdicts and reasons -------------------------------------------------------------------------

test('a Path=/app cookie is withheld from /dashboard with path-mismatch and the facts', () => {
  const { jar } = clockJar();
  jar.setCookie('session_id=secret-value; Path=/app', 'http://example.com/');
  const { header, verdicts } = jar.evaluate(new URL('http://example.com/dashboard'));
  assert.equal(header, '');
  assert.equal(verdicts.length, 1);
  assert.equal(verdicts[0]!.sent, false);
  assert.equal(verdicts[0]!.reason, 'path-mismatch');
  assert.equal(verdicts[0]!.detail, 'cookie Path=/app does not cover request path /dashboard');
});

test('a host-only cookie is withheld from a subdomain with host-only, and from a sibling with domain-mismatch', () => {
  const { jar } = clockJar();
  jar.setCookie('sid=1', 'http://example.com/');
  jar.setCookie('api=1', 'http://api.example.com/');
  const { verdicts } = jar.evaluate(new URL('http://www.example.com/'));
  const byName = new Map(verdicts.map((v) => [v.cookie.name, v]));
  assert.equal(byName.get('sid')?.reason, 'host-only');
  assert.equal(byName.get('sid')?.detail, 'host-only cookie for example.com (set without Domain=) does not go to www.example.com');
  assert.equal(byName.get('api')?.reason, 'domain-mismatch');
  assert.equal(byName.get('api')?.detail, 'host-only cookie for api.example.com does not go to request host www.example.com');
});

test('a Secure cookie is withheld from http: with secure-only, e.g. after an allowed downgrade', () => {
  const { jar } = clockJar();
  jar.setCookie('s=1; Secure', 'https://example.com/');
  const { header, verdicts } = jar.evaluate(new URL('http://example.com/'));
  assert.equal(header, '');
  assert.equal(verdicts[0]?.reason, 'secure-only');
  assert.equal(verdicts[0]?.detail, 'Secure cookie not sent to http://example.com, which is not https: or localhost');
});

test('evaluate lists sent cookies first in header order, then withheld ones of the same site, never other sites', () => {
  const { jar } = clockJar();
  jar.setCookie('a=1; Path=/', 'http://www.example.com/');
  jar.setCookie('b=1; Path=/app', 'http://www.example.com/');
  jar.setCookie('c=1', 'http://static.example.com/');
  jar.setCookie('d=1', 'http://unrelated.test/');
  const { header, verdicts } = jar.evaluate(new URL('http://www.example.com/app/x'));
  assert.equal(header, 'b=1; a=1');
  assert.deepEqual(
    verdicts.map((v) => [v.cookie.name, v.sent, v.reason]),
    [
      ['b', true, 'match'],
      ['a', true, 'match'],
      ['c', false, 'domain-mismatch'],
    ],
  );
  assert.equal(verdicts[0]!.detail, 'host-only cookie for www.example.com covers www.example.com, Path=/app covers /app/x');
});

test('evaluate bounds the withheld cookies of other hosts of the site and says how many it left out', () => {
  const { jar } = clockJar();
  for (let i = 0; i < 60; i++) jar.setCookie('k=1', `http://h${i}.example.com/`);
  const r = jar.evaluate(new URL('http://www.example.com/'));
  assert.equal(r.verdicts.length, 50);
  assert.equal(r.omitted, 10);
});

test('a verdict shows the cookie as it was when judged, whenever it is read, and serialises in full', () => {
  const { jar, clock } = clockJar();
  jar.setCookie('a=1; Path=/', 'http://www.example.com/');
  jar.setCookie('b=1', 'http://api.example.com/');
  const { verdicts } = jar.evaluate(new URL('http://www.example.com/'));
  clock.t += 1000;
  jar.setCookie('a=2; Path=/; Secure', 'https://www.example.com/');
  jar.setCookie('b=; Max-Age=0', 'http://api.example.com/');
  jar.evaluate(new URL('http://www.example.com/'));
  assert.deepEqual(verdicts[0]!.cookie, { name: 'a', value: '1', domain: 'www.example.com', path: '/', hostOnly: true, secure: false, httpOnly: false, expires: null, creation: T0, lastAccess: T0 });
  assert.equal(verdicts[1]!.cookie.value, '1');
  assert.equal(verdicts[1]!.detail, 'host-only cookie for api.example.com does not go to request host www.example.com');
  const plain = JSON.parse(JSON.stringify(verdicts[1])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(plain), ['cookie', 'sent', 'reason', 'detail']);
  assert.equal(plain.detail, verdicts[1]!.detail);
});

test('explain gives a verdict for every cookie in the jar and sends nothing', () => {
  const { jar } = clockJar();
  jar.setCookie('a=1', 'http://example.com/');
  jar.setCookie('b=1', 'http://other.test/');
  const verdicts = jar.explain('http://example.com/');
  assert.deepEqual(
    verdicts.map((v) => [v.cookie.name, v.reason]),
    [
      ['a', 'match'],
      ['b', 'domain-mismatch'],
    ],
  );
});

test('SameSite is recorded, ignored for sending, and explained for cross-site requests', () => {
  const { jar } = clockJar();
  const strict = stored(jar.setCookie('s=1; SameSite=Strict', 'https://app.example.com/'));
  assert.equal(strict.cookie.sameSite, 'strict');
  jar.setCookie('l=1; SameSite=Lax', 'https://app.example.com/');
  jar.setCookie('u=1', 'https://app.example.com/');
  const cross = jar.evaluate(new URL('https://app.example.com/'), { initiator: 'https://evil.test/', method: 'POST' });
  assert.equal(cross.header, 's=1; l=1; u=1');
  const notes = new Map(cross.verdicts.map((v) => [v.cookie.name, v.sameSiteNote]));
  assert.match(notes.get('s') ?? '', /^SameSite=Strict: the request comes from https:\/\/evil\.test, another site, so a browser would not send it; hopwise does$/);
  assert.match(notes.get('l') ?? '', /a cross-site POST from https:\/\/evil\.test; a browser would not send it/);
  assert.match(notes.get('u') ?? '', /no SameSite \(browsers default to Lax\)/);
  const same = jar.evaluate(new URL('https://app.example.com/'), { initiator: 'https://www.example.com/' });
  assert.ok(same.verdicts.every((v) => v.sameSiteNote === undefined));
  const none = stored(jar.setCookie('n=1; SameSite=None', 'http://example.com/'));
  assert.match(none.sameSiteNote ?? '', /SameSite=None without Secure: a browser would have rejected this cookie/);
});

test('every reason the jar gives is a trace reason code, and no detail contains a cookie value', () => {
  const { jar } = clockJar();
  const results = [
    jar.setCookie('ok=VALUE1', 'http://example.com/'),
    jar.setCookie('ok=VALUE2', 'http://example.com/'),
    jar.setCookie('ok=; Max-Age=0', 'http://example.com/'),
    jar.setCookie('x=VALUE3; Max-Age=0', 'http://example.com/'),
    jar.setCookie('', 'http://example.com/'),
    jar.setCookie('a=VALUE4\x00', 'http://example.com/'),
    jar.setCookie(`a=${'V'.repeat(5000)}`, 'http://example.com/'),
    jar.setCookie('a=VALUE5; Domain=other.test', 'http://example.com/'),
    jar.setCookie('a=VALUE6; Domain=com', 'http://example.com/'),
    jar.setCookie('a=VALUE7; Secure', 'http://example.com/'),
    jar.setCookie('__Secure-a=VALUE8', 'https://example.com/'),
    jar.setCookie('__Host-a=VALUE9; Secure', 'https://example.com/'),
    jar.setCookie('s=VALUE10; Secure', 'https://example.com/'),
    jar.setCookie('s=VALUE11', 'http://example.com/'),
    jar.setCookie('p=VALUE12; Path=/app', 'http://example.com/'),
  ];
  const reasons = new Set(results.map((r) => r.reason));
  for (const r of [
    'stored',
    'replaced',
    'deleted',
    'expired',
    'syntax',
    'control-char',
    'too-large',
    'invalid-domain',
    'public-suffix',
    'secure-from-insecure',
    'prefix-secure',
    'prefix-host',
    'overwrite-secure',
  ]) {
    assert.ok(reasons.has(r as never), `reason ${r} was produced`);
  }
  const verdicts = jar.explain('http://www.example.com/x');
  for (const x of [...results, ...verdicts]) {
    assert.ok(x.reason in REASONS, `${x.reason} is in REASONS`);
    assert.doesNotMatch(x.detail, /VALUE|VVVV/, x.detail);
    assert.ok(!x.detail.includes('\n'), 'one line');
  }
});

test('setCookie never throws on hostile input; only a URL that is not a URL throws ERR_INVALID_URL', () => {
  const { jar } = clockJar();
  const pieces = ['a', '=', ';', ' ', 'Domain=', 'Path=', 'Secure', 'Max-Age=-1', 'Expires=x', '\x00', '__Host-', 'é', '.', 'com', '"'];
  let seed = 42;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 3000; i++) {
    let line = '';
    for (let j = rand(12); j > 0; j--) line += pieces[rand(pieces.length)];
    assert.doesNotThrow(() => jar.setCookie(line, 'https://a.example.com/x/y'));
  }
  assert.doesNotThrow(() => jar.setCookie(undefined as unknown as string, 'http://example.com/'));
  assert.throws(
    () => jar.setCookie('a=1', 'not a url'),
    (e: unknown) => e instanceof HopwiseOptionError && e.code === 'ERR_INVALID_URL',
  );
  assert.throws(() => jar.getCookieString('http://user:secret@/'), { code: 'ERR_INVALID_URL', message: /not a valid absolute URL$/ });
  assert.throws(() => jar.getCookieString(42 as unknown as string), { code: 'ERR_INVALID_URL' });
});

test('a URL object and its string give the same cookies, and a mutated URL object is re-read', () => {
  const { jar } = clockJar();
  const u = new URL('http://a.example.com/');
  jar.setCookie('one=1', u);
  u.hostname = 'b.example.com';
  jar.setCookie('two=1', u);
  assert.equal(jar.getCookieString(new URL('http://a.example.com/')), 'one=1');
  assert.equal(jar.getCookieString('http://b.example.com/'), 'two=1');
});
