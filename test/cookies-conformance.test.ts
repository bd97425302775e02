// The IETF http-state cookie suite (../shared/conformance/http-state, read in place, never copied).
// 196 cases where RFC 6265 and 6265bis agree must pass exactly; for the 26 the README lists as
// disagreements hopwise follows 6265bis, and the expected 6265bis Cookie header is written here.
// All 70 cookie-date cases must pass.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CookieJar } from '../src/cookies/index.js';
import { parseCookieDate } from '../src/cookies/date.js';

const DATA = new URL('../../shared/conformance/http-state/', import.meta.url);

interface ParserCase {
  test: string;
  received: string[];
  'sent-to'?: string;
  sent: { name: string; value: string }[];
}
interface DateCase {
  test: string;
  expected: string | null;
}

// The suite is public data read in place from beside the repo; on a clone without it, one skip line.
const present = existsSync(new URL('parser.json', DATA));
if (!present) test('the http-state conformance suite', { skip: '../shared/conformance is missing: the http-state suite is read in place, never copied into the repo' }, () => {});

const parserCases = present ? (JSON.parse(readFileSync(new URL('parser.json', DATA), 'utf8')) as ParserCase[]) : [];
const dateCases = present
  ? [...(JSON.parse(readFileSync(new URL('dates/bsd-examples.json', DATA), 'utf8')) as DateCase[]), ...(JSON.parse(readFileSync(new URL('dates/examples.json', DATA), 'utf8')) as DateCase[])]
  : [];

/**
 * The 26 cases where 6265bis differs from the suite's RFC 6265 expectations, with the Cookie header
 * 6265bis gives (worked out by hand from the draft, not taken from the implementation):
 * - nameless cookies are stored with an empty name and sent as the bare value (§5.6 step 3), a line
 *   with neither name nor value is ignored (§5.6 step 4), and a later nameless cookie replaces an
 *   earlier one (same empty name, domain, path: §5.7 step 19);
 * - a line with NUL or CR is ignored entirely (§5.6 step 1), not truncated;
 * - `/cookie-parser-result/f%6Fo/bar` is compared encoded, so `Path=/cookie-parser-result/foo/bar`
 *   does not match it (WHATWG URL does not decode %6F; WPT match-percent-encoded agrees).
 */
const BIS_EXPECTED: Record<string, string> = {
  '0004': 'foo', // ["foo"]
  '0021': 'a=b; x; c=d', // ["a=b", "=x", "c=d"]
  '0023': 'foo', // ["foo", ""]: the empty line is ignored
  '0024': 'foo', // ["foo", "="]: empty name and value, ignored
  '0025': 'foo', // ["foo", "; bar"]: empty name-value pair, ignored
  '0026': 'foo', // ["foo", "   "]
  '0027': 'bar', // ["foo", "bar"]: the second nameless cookie replaces the first
  '0028': 'foo', // ["foo", "\t"]
  CHROMIUM0009: 'BLAHHH', // ["BLAHHH; path=/;"]
  CHROMIUM0010: '"BLA\\"HHH"', // ['"BLA\"HHH"; path=/;']
  CHROMIUM0012: 'ABC', // ["=ABC"]
  MOZILLA0012: 'test="fubar! = foo; five', // the nameless "five" (Max-Age=2.63, ignored) follows test
  MOZILLA0014: 'six',
  MOZILLA0015: 'seven',
  MOZILLA0016: 'eight', // " =eight" is nameless too and replaces "seven"
  MOZILLA0017: 'eight; test=six', // the nameless cookie keeps the creation time of "six"
  NAME0017: 'a=bar', // ["=a=bar"]: name "", value "a=bar"
  NAME0023: 'foo', // ["foo;bar=baz"]: "bar=baz" is an unknown attribute
  NAME0025: '==a=bar', // ["===a=bar"]
  NAME0028: 'a', // ["=a"]
  NAME0031: '"foo', // ['"foo;bar"=baz']
  NAME0032: '"foo\\"bar', // ['"foo\"bar;baz"=qux']
  NAME0033: 'aaa', // ["=foo=bar", "aaa"]
  DISABLED_CHROMIUM0022: '', // NUL: the line is ignored
  DISABLED_CHROMIUM0023: '', // CR: the line is ignored
  DISABLED_PATH0029: '', // the encoded request path does not path-match
};

function run(c: ParserCase): string {
  const jar = new CookieJar();
  // Each case is one redirect hop: Set-Cookie on the first response, Cookie on the next request.
  const from = `http://home.example.org:8888/cookie-parser?${c.test}`;
  for (const line of c.received) jar.setCookie(line, from);
  const to = new URL(c['sent-to'] ?? `/cookie-parser-result?${c.test}`, 'http://home.example.org:8888');
  return jar.getCookieString(to);
}

const expectedHeader = (c: ParserCase): string => c.sent.map((s) => (s.name === '' ? s.value : `${s.name}=${s.value}`)).join('; ');

const counts = { agreed: 0, agreedPassed: 0, bis: 0, bisPassed: 0, dates: 0, datesPassed: 0 };

if (present) {
  after(() => {
    // Recorded for the closing note of the issue.
    console.log(
      `http-state conformance: ${counts.agreedPassed}/${counts.agreed} agreed cases, ` +
        `${counts.bisPassed}/${counts.bis} 6265bis disagreements (asserted to the 6265bis result), ` +
        `${counts.datesPassed}/${counts.dates} dates`,
    );
  });

  test('the suite has the shape its README describes: 222 parser cases, 26 known disagreements, 70 dates', () => {
    assert.equal(parserCases.length, 222);
    assert.equal(Object.keys(BIS_EXPECTED).length, 26);
    for (const id of Object.keys(BIS_EXPECTED))
      assert.ok(
        parserCases.some((c) => c.test === id),
        `case ${id} exists`,
      );
    assert.equal(dateCases.length, 70);
  });

  describe('http-state parser cases where RFC 6265 and 6265bis agree (196, must pass exactly)', () => {
    for (const c of parserCases) {
      if (c.test in BIS_EXPECTED) continue;
      counts.agreed++;
      test(`${c.test} sends ${JSON.stringify(expectedHeader(c))}`, () => {
        assert.equal(run(c), expectedHeader(c));
        counts.agreedPassed++;
      });
    }
  });

  describe('http-state parser cases where hopwise follows 6265bis (26, legacy-6265 expectation differs)', () => {
    for (const c of parserCases) {
      const bis = BIS_EXPECTED[c.test];
      if (bis === undefined) continue;
      counts.bis++;
      test(`${c.test} sends ${JSON.stringify(bis)} (RFC 6265 expected ${JSON.stringify(expectedHeader(c))})`, () => {
        assert.notEqual(bis, expectedHeader(c), 'a listed disagreement really differs from the suite');
        assert.equal(run(c), bis);
        counts.bisPassed++;
      });
    }
  });

  describe('http-state cookie-date cases (70, RFC 6265bis §5.1.1)', () => {
    for (const c of dateCases) {
      counts.dates++;
      test(`${JSON.stringify(c.test)} parses to ${c.expected ?? 'a failure'}`, () => {
        const ms = parseCookieDate(c.test);
        assert.equal(ms === null ? null : new Date(ms).toUTCString(), c.expected);
        counts.datesPassed++;
      });
    }
  });
}
