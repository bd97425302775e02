// The pure parts of the cookie module: the Set-Cookie parser (RFC 6265bis §5.6), cookie-date
// (§5.1.1), default-path and path-match (§5.1.4), domain-match (§5.1.3), and the URL fast path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSetCookie } from '../src/cookies/parse.js';
import { parseCookieDate } from '../src/cookies/date.js';
import { defaultPath, pathMatch } from '../src/cookies/path.js';
import { domainChain, domainMatch, isIpHost, isPublicSuffix, siteInfo, siteOf } from '../src/cookies/domain.js';
import { factsFromUrl, requestFacts } from '../src/cookies/url.js';

function ok(line: string) {
  const p = parseSetCookie(line);
  assert.ok(p.ok, `${JSON.stringify(line)} parses`);
  return p;
}

test('a line without "=" is a nameless cookie whose value is the whole pair', () => {
  const p = ok('foo; Path=/x');
  assert.equal(p.name, '');
  assert.equal(p.value, 'foo');
  assert.equal(p.path, '/x');
});

test('a line starting with "=" is a nameless cookie too', () => {
  const p = ok('=a=b');
  assert.equal(p.name, '');
  assert.equal(p.value, 'a=b');
});

test('a line with neither name nor value is refused as syntax', () => {
  for (const line of ['', '=', '   ', '; Path=/', ' = ; Secure']) {
    const p = parseSetCookie(line);
    assert.equal(p.ok, false, JSON.stringify(line));
    if (!p.ok) assert.equal(p.reason, 'syntax');
  }
});

test('only SP and HTAB are trimmed from names, values and attributes', () => {
  const p = ok(' \tsid \t= \tabc def\t ;\t path \t=\t/app\t');
  assert.equal(p.name, 'sid');
  assert.equal(p.value, 'abc def');
  assert.equal(p.path, '/app');
  assert.equal(ok('a=\u00a0x\u00a0').value, '\u00a0x\u00a0');
});

test('a comma never splits a Set-Cookie line', () => {
  const p = ok('z=y, a=b; Expires=Wed, 09 Jun 2021 10:18:14 GMT');
  assert.equal(p.name, 'z');
  assert.equal(p.value, 'y, a=b');
  assert.equal(p.expires, Date.UTC(2021, 5, 9, 10, 18, 14));
});

test('control characters other than HTAB make the whole line ignored', () => {
  for (const ch of ['\x00', '\x01', '\x08', '\n', '\r', '\x1f', '\x7f']) {
    const p = parseSetCookie(`a=b${ch}c`);
    assert.equal(p.ok, false);
    if (!p.ok) {
      assert.equal(p.reason, 'control-char');
      assert.match(p.detail, /control character 0x[0-9a-f]{2} at offset 3/);
    }
  }
  assert.equal(ok('a=b\tc').value, 'b\tc');
});

test('name plus value may be 4096 octets, not one more, counted in UTF-8', () => {
  assert.ok(parseSetCookie(`n=${'v'.repeat(4095)}`).ok);
  const over = parseSetCookie(`n=${'v'.repeat(4096)}`);
  assert.equal(over.ok, false);
  if (!over.ok) assert.equal(over.reason, 'too-large');
  // "é" is two octets: 2048 of them are 4096 octets with the one-letter name over the limit.
  assert.equal(parseSetCookie(`n=${'é'.repeat(2048)}`).ok, false);
  assert.ok(parseSetCookie(`n=${'é'.repeat(2047)}`).ok);
});

test('an attribute value over 1024 octets is ignored, and the cookie keeps the rest', () => {
  const p = ok(`a=b; Path=/${'p'.repeat(1024)}; Secure`);
  assert.equal(p.path, undefined);
  assert.equal(p.secure, true);
  assert.deepEqual(p.ignored, ['Path attribute ignored: value over 1024 octets']);
  assert.equal(ok(`a=b; Path=/${'p'.repeat(1023)}`).path?.length, 1024);
});

test('attribute names are case-insensitive and unknown attributes are ignored', () => {
  const p = ok('a=b; SECURE; hTtPoNlY; sAmEsItE=sTrIcT; Foo=bar; Partitioned');
  assert.equal(p.secure, true);
  assert.equal(p.httpOnly, true);
  assert.equal(p.sameSite, 'strict');
});

test('the last Max-Age and Expires win, and invalid ones are ignored', () => {
  assert.equal(ok('a=b; Max-Age=10; Max-Age=20').maxAge, 20);
  assert.equal(ok('a=b; Max-Age=10; Max-Age=2.5').maxAge, 10);
  assert.equal(ok('a=b; Max-Age=-5').maxAge, -5);
  for (const bad of ['', '-', '1e3', '+5', ' 5x', '0x10']) assert.equal(ok(`a=b; Max-Age=${bad}`).maxAge, undefined, bad);
  assert.equal(ok('a=b; Expires=nonsense').expires, undefined);
});

test('Domain drops one leading dot and is lower-cased; an empty Domain is ignored', () => {
  assert.equal(ok('a=b; Domain=.Example.COM').domain, 'example.com');
  assert.equal(ok('a=b; Domain=..example.com').domain, '.example.com');
  assert.equal(ok('a=b; Domain=example.com; Domain=').domain, 'example.com');
  assert.equal(ok('a=b; Domain=').domain, undefined);
});

test('a Path that does not start with "/" means default-path', () => {
  const p = ok('a=b; Path=/x; Path=relative');
  assert.equal(p.path, undefined);
  assert.equal(p.hasPath, true);
});

test('SameSite keeps only Strict, Lax and None; anything else means unspecified', () => {
  assert.equal(ok('a=b; SameSite=Lax').sameSite, 'lax');
  assert.equal(ok('a=b; SameSite=None').sameSite, 'none');
  assert.equal(ok('a=b; SameSite=Lax; SameSite=bogus').sameSite, undefined);
});

test('the parser never throws, whatever it is given', () => {
  const alphabet = ['a', '=', ';', ' ', '\t', '"', ',', '\x00', '\r', 'é', '%', 'Expires=', 'Max-Age=', 'Domain=', 'Path=', '/', '.'];
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 3000; i++) {
    let line = '';
    const len = rand(40);
    for (let j = 0; j < len; j++) line += alphabet[rand(alphabet.length)];
    assert.doesNotThrow(() => parseSetCookie(line));
  }
  assert.doesNotThrow(() => parseSetCookie(42 as unknown as string));
});

test('cookie dates follow §5.1.1: any weekday, two-digit years, odd delimiters, and no rollover', () => {
  assert.equal(parseCookieDate('Wed, 09 Jun 2021 10:18:14 GMT'), Date.UTC(2021, 5, 9, 10, 18, 14));
  assert.equal(parseCookieDate('Nonsense, 09-Jun-21 10:18:14'), Date.UTC(2021, 5, 9, 10, 18, 14));
  assert.equal(parseCookieDate('09 Jun 1970 10:18:14'), Date.UTC(1970, 5, 9, 10, 18, 14));
  assert.equal(parseCookieDate('09 Jun 69 10:18:14'), Date.UTC(2069, 5, 9, 10, 18, 14));
  assert.equal(parseCookieDate('31 Feb 2021 10:18:14'), null);
  assert.equal(parseCookieDate('09 Jun 1600 10:18:14'), null);
  assert.equal(parseCookieDate('09 Jun 2021 24:00:00'), null);
  assert.equal(parseCookieDate('09 Jun 2021'), null);
});

test('default-path is the directory of the request path, or "/"', () => {
  assert.equal(defaultPath(''), '/');
  assert.equal(defaultPath('x'), '/');
  assert.equal(defaultPath('/'), '/');
  assert.equal(defaultPath('/login'), '/');
  assert.equal(defaultPath('/app/login'), '/app');
  assert.equal(defaultPath('/app/sub/'), '/app/sub');
});

test('path-match needs a "/" boundary and compares percent-encoded paths literally', () => {
  assert.ok(pathMatch('/app', '/app'));
  assert.ok(pathMatch('/app/x', '/app'));
  assert.ok(pathMatch('/app/x', '/app/'));
  assert.ok(!pathMatch('/application', '/app'));
  assert.ok(!pathMatch('/dashboard', '/app'));
  assert.ok(!pathMatch('/f%6Fo', '/foo'));
});

test('domain-match is exact or a dot-bounded suffix, and never for IP addresses', () => {
  assert.ok(domainMatch('example.com', 'example.com'));
  assert.ok(domainMatch('www.example.com', 'example.com'));
  assert.ok(!domainMatch('evilexample.com', 'example.com'));
  assert.ok(!domainMatch('example.com', 'www.example.com'));
  assert.ok(!domainMatch('1.2.3.4', '2.3.4'));
  assert.ok(isIpHost('127.0.0.1') && isIpHost('[::1]') && !isIpHost('example.com'));
});

test('public suffixes come from the PSL, private registries included, and localhost is not one', () => {
  assert.ok(isPublicSuffix('com'));
  assert.ok(isPublicSuffix('co.uk'));
  assert.ok(isPublicSuffix('github.io'));
  assert.ok(isPublicSuffix('org.'));
  assert.ok(!isPublicSuffix('example.com'));
  assert.ok(!isPublicSuffix('localhost'));
  assert.equal(siteInfo('a.b.example.co.uk').site, 'example.co.uk');
  assert.equal(siteInfo('a.localhost').site, 'localhost');
  assert.equal(siteInfo('10.0.0.1').site, '10.0.0.1');
});

test('simple URL strings read without the URL parser give exactly what the parser gives', () => {
  const urls = [
    'http://example.com',
    'http://example.com/',
    'https://www.example.com/app/page?x=1#frag',
    'http://example.com:8080/a/b/',
    'http://example.com:80/x',
    'http://example.com?q',
    'http://localhost:3000/login',
    'http://a.localhost/',
    'https://EXAMPLE.com/Path',
    'http://example.com/a/./b',
    'http://example.com/a/../b',
    'http://example.com/.well-known/x',
    'http://example.com/%7Euser',
    'http://example.com/a b',
    'http://example.com/ä',
    'http://127.0.0.1:8080/x',
    'http://0x7f.1/x',
    'http://1.2.3/x',
    'http://example.123/x',
    'http://xn--bcher-kva.example/x',
    'http://bücher.example/x',
    'http://user:pw@example.com/x',
    'http://example.com./x',
    'http://example.com\\x',
    'http://[::1]:3000/x',
    'http://example.com:/x',
    'http://example.com/x?a b',
    'http://example.com/x#a`b',
  ];
  for (const s of urls) {
    if (!URL.canParse(s)) {
      assert.throws(() => requestFacts(s, 'test'), { code: 'ERR_INVALID_URL' }, s);
      continue;
    }
    const fast = requestFacts(s, 'test');
    const slow = factsFromUrl(new URL(s));
    assert.equal(fast.host, slow.host, s);
    assert.equal(fast.path, slow.path, s);
    assert.equal(fast.secure, slow.secure, s);
    assert.equal(fast.scheme, slow.scheme, s);
  }
});

test('attribute names match ASCII case-insensitively, letter by letter, and near misses are ignored', () => {
  const p = ok('a=b; pATH=/p; DoMaIn=Example.COM; SECURE; eXpIrEs=Wed, 21 Oct 2037 07:28:00 GMT; mAx-AgE=5; HTTPONLY; sAmEsItE=Strict');
  assert.equal(p.path, '/p');
  assert.equal(p.domain, 'example.com');
  assert.equal(p.secure, true);
  assert.equal(p.httpOnly, true);
  assert.equal(p.maxAge, 5);
  assert.equal(typeof p.expires, 'number');
  assert.equal(p.sameSite, 'strict');
  // Same lengths, one character off (including characters one bit away from a letter or "-").
  const q = ok('a=b; Pat@=/p; Domai.=x.com; Secur%=1; Expire3=x; Max_Age=5; Max\tAge=5; MaxMAge=5; HttpOnl9; SameSit%=Lax; Pa=/x; Pathh=/y');
  assert.equal(q.path, undefined);
  assert.equal(q.hasPath, false);
  assert.equal(q.domain, undefined);
  assert.equal(q.secure, false);
  assert.equal(q.httpOnly, false);
  assert.equal(q.maxAge, undefined);
  assert.equal(q.expires, undefined);
  assert.equal(q.sameSite, undefined);
  // Non-ASCII look-alikes (KELVIN SIGN folds to "k" in toLowerCase, dotless/dotted I) do not name attributes.
  const r = ok('a=b; Secur\u0130=1; Pat\u0130=/z');
  assert.equal(r.secure, false);
  assert.equal(r.hasPath, false);
});

test("a host's site is one of its own domain chain, so a jar holding none of them holds no cookie of its site", () => {
  // CookieJar.evaluate relies on this to skip the Public Suffix List for hosts it has no cookies near
  // (a trailing-dot host is the exception it checks for: its site is written without the dot).
  const hosts = [
    'example.com',
    'a.b.example.co.uk',
    '.example.com',
    'a..b.example.com',
    'xn--bcher-kva.example',
    '127.0.0.1',
    '[::1]',
    'localhost',
    'a.localhost',
    'github.io',
    'x.github.io',
    'com',
    'co.uk',
    'b.s3.amazonaws.com',
    'www.ck',
    'a.www.ck',
    'x.y.ck',
    'foo.bar.kawasaki.jp',
    'city.kawasaki.jp',
    '1.2.3.com',
    'a.b',
  ];
  for (const host of hosts) assert.ok(domainChain(host).includes(siteOf(host)), `${host}: ${siteOf(host)} in ${domainChain(host).join(' ')}`);
  assert.equal(siteOf('example.com.'), 'example.com');
  assert.deepEqual(domainChain('a.b.example.com'), ['a.b.example.com', 'b.example.com', 'example.com', 'com']);
  assert.deepEqual(domainChain('10.0.0.1'), ['10.0.0.1']);
});
