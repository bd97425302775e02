// Cookie files cannot change cookies: what cookies.txt cannot hold is left out (and reported) when
// saving, a loaded file goes through the Set-Cookie rules (and each refusal is reported), and a
// random jar saved and loaded again in either format gives the same cookies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CookieJar, type Cookie, type CookieRefusal } from '../src/cookies/index.js';

const T0 = Date.UTC(2025, 0, 1);
const now = () => T0;
const DAY = 24 * 3600 * 1000;

function collect(): { refused: CookieRefusal[]; onRefused: (r: CookieRefusal) => void } {
  const refused: CookieRefusal[] = [];
  return { refused, onRefused: (r) => refused.push(r) };
}

const base: Cookie = { name: 'a', value: '1', domain: 'example.com', path: '/', hostOnly: true, secure: false, httpOnly: false, expires: null, creation: T0, lastAccess: T0 };

test('toNetscape leaves out what a TAB or line break would turn into another cookie, and says so', () => {
  const jar = new CookieJar({ now });
  jar.setCookie('ok=1', 'http://example.com/');
  jar.setCookie('tab\tname=1', 'http://example.com/');
  jar.setCookie('p=1; Path=/a\tb', 'http://example.com/');
  jar.setCookie('nameless\tvalue', 'http://example.com/');
  jar.setCookie('v=in\tside', 'http://example.com/'); // a TAB in a named cookie's value is safe
  jar.setCookie('dot=1', 'http://.example.com/'); // host-only for ".example.com"
  const { refused, onRefused } = collect();
  const text = jar.toNetscape({ onRefused });
  assert.deepEqual(
    refused.map((r) => [r.where, r.name, r.reason]),
    [
      ['cookie 2', 'tab\tname', 'unrepresentable'],
      ['cookie 3', 'p', 'unrepresentable'],
      ['cookie 4', '', 'unrepresentable'],
      ['cookie 6', 'dot', 'unrepresentable'],
    ],
  );
  assert.ok(refused.every((r) => !r.detail.includes('1') || r.detail.startsWith('not saved')));
  const back = CookieJar.fromNetscape(text, { now });
  assert.deepEqual(
    back.cookies().map((c) => [c.name, c.value, c.domain, c.path]),
    [
      ['ok', '1', 'example.com', '/'],
      ['v', 'in\tside', 'example.com', '/'],
    ],
  );
  // A line break cannot get in from JSON either (refused as data, as before).
  assert.throws(() => CookieJar.fromJSON([{ ...base, value: 'x\ny' }]), { code: 'ERR_INVALID_OPTION' });
  // saveToFile passes onRefused on; JSON keeps every one of them.
  assert.equal(CookieJar.fromJSON(jar.toJSON(), { now }).size, 6);
});

test('a loaded file goes through the Set-Cookie rules, and each refusal is reported with its reason', () => {
  const { refused, onRefused } = collect();
  const jar = CookieJar.fromJSON(
    [
      { ...base, name: 'good' },
      { ...base, name: 'psl', domain: 'github.io', hostOnly: false },
      { ...base, name: 'tenant', domain: 'alice.github.io', hostOnly: false },
      { ...base, name: 'ipdom', domain: '127.0.0.1', hostOnly: false },
      { ...base, name: '__Host-x', secure: true, domain: 'example.com', hostOnly: false },
      { ...base, name: '__Host-y', secure: true, path: '/app' },
      { ...base, name: '__Host-z', secure: true },
      { ...base, name: '__Secure-s' },
      { ...base, name: '', value: '__Secure-v' },
      { ...base, name: 'big', value: 'x'.repeat(5000) },
      { ...base, name: 'far', expires: T0 + 1000 * DAY },
      { ...base, name: 'old', expires: T0 - 1000 },
      { ...base, name: 'port', domain: 'example.com:8080' },
      { ...base, name: 'upper', domain: 'b\u00fccher.example' },
    ],
    { now, onRefused },
  );
  assert.deepEqual(
    refused.map((r) => [r.where, r.name, r.reason]),
    [
      ['cookies[1]', 'psl', 'public-suffix'],
      ['cookies[3]', 'ipdom', 'invalid-domain'],
      ['cookies[4]', '__Host-x', 'prefix-host'],
      ['cookies[5]', '__Host-y', 'prefix-host'],
      ['cookies[7]', '__Secure-s', 'prefix-secure'],
      ['cookies[8]', '', 'prefix-secure'],
      ['cookies[9]', 'big', 'too-large'],
      ['cookies[11]', 'old', 'expired'],
      ['cookies[12]', 'port', 'invalid-domain'],
      ['cookies[13]', 'upper', 'invalid-domain'],
    ],
  );
  assert.ok(refused.every((r) => r.detail.length > 0 && !r.detail.includes('x'.repeat(100))));
  assert.deepEqual(
    jar.cookies().map((c) => c.name),
    ['good', 'tenant', '__Host-z', 'far'],
  );
  assert.equal(jar.cookies().find((c) => c.name === 'far')?.expires, T0 + 400 * DAY);
});

test('fromNetscape reports the lines it skips, and applies the same rules', () => {
  const text = [
    '# Netscape HTTP Cookie File',
    'broken line without tabs',
    'example.com\tFALSE\t/\tFALSE\tsoon\tbad\t1',
    '.github.io\tTRUE\t/\tFALSE\t0\tpsl\t1',
    'example.com\tFALSE\trelative\tFALSE\t0\tnopath\t1',
    'example.com\tFALSE\t/\tFALSE\t0\tgood\t1',
    '',
  ].join('\n');
  const { refused, onRefused } = collect();
  const jar = CookieJar.fromNetscape(text, { now, onRefused });
  assert.deepEqual(
    refused.map((r) => [r.where, r.reason]),
    [
      ['line 2', 'malformed'],
      ['line 3', 'malformed'],
      ['line 4', 'public-suffix'],
      ['line 5', 'malformed'],
    ],
  );
  assert.deepEqual(
    jar.cookies().map((c) => c.name),
    ['good'],
  );
});

// ---- round trip ---------------------------------------------------------------------------------

const HOSTS = ['example.com', 'www.example.com', 'alice.github.io', 'localhost', '127.0.0.1', '.example.com', 'example.com.'];
const NAMES = ['a', 'b', 'sid', '', 'x\ty', '__Secure-s', '__Host-h'];
const VALUES = ['v1', '', 'a\tb', '__Host-v', 'q"uoted', 'sp ace'];
const ATTRS = ['Path=/', 'Path=/app', 'Path=/a\tb', 'Secure', 'HttpOnly', 'SameSite=Lax', 'SameSite=None', 'Max-Age=60', 'Max-Age=100000000', 'Domain=example.com', 'Domain=github.io'];

const setCall = fc.record({
  scheme: fc.constantFrom('http', 'https'),
  host: fc.constantFrom(...HOSTS),
  name: fc.constantFrom(...NAMES),
  value: fc.constantFrom(...VALUES),
  attrs: fc.array(fc.constantFrom(...ATTRS), { maxLength: 3 }),
  dt: fc.integer({ min: 0, max: 3 }),
});

test('a random jar saved and loaded again, as JSON or as cookies.txt, has the same cookies', () => {
  fc.assert(
    fc.property(fc.array(setCall, { maxLength: 40 }), (calls) => {
      let t = T0;
      const jar = new CookieJar({ now: () => t });
      for (const c of calls) {
        t += c.dt * 1000;
        jar.setCookie([c.name === '' ? c.value : `${c.name}=${c.value}`, ...c.attrs].join('; '), `${c.scheme}://${c.host}/app/page`);
      }
      const later = () => t;
      // JSON keeps everything, times and SameSite included.
      const j = collect();
      assert.deepStrictEqual(CookieJar.fromJSON(JSON.stringify(jar.toJSON()), { now: later, onRefused: j.onRefused }).cookies(), jar.cookies());
      assert.deepEqual(j.refused, []);
      // cookies.txt keeps what it can hold; the rest is reported on saving, and nothing else changes.
      const saved = collect();
      const text = jar.toNetscape({ onRefused: saved.onRefused });
      const loaded = collect();
      const back = CookieJar.fromNetscape(text, { now: later, onRefused: loaded.onRefused });
      assert.deepEqual(loaded.refused, []);
      const left = new Set(saved.refused.map((r) => Number(r.where.slice('cookie '.length)) - 1));
      const strip = (c: Cookie) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, hostOnly: c.hostOnly, secure: c.secure, httpOnly: c.httpOnly, expires: c.expires });
      assert.deepStrictEqual(
        back.cookies().map(strip),
        jar
          .cookies()
          .filter((_, i) => !left.has(i))
          .map(strip),
      );
    }),
    { numRuns: 300, seed: 6265 },
  );
});
