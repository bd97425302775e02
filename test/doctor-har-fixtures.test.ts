// `diagnoseHar` and `hopwise doctor --har` without a browser: hand-written HARs in the shapes other
// writers produce (Firefox, Chrome's sanitized export, a recorder of a program's traffic), hopwise's
// own --har read back, broken input, and the browser SameSite rules as pure functions and in the jar.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnoseHar, type BrowserSameSite, type HarDiagnosis } from '../src/index.ts';
import { CookieJar } from '../src/cookies/jar.ts';
import { isSameSiteNavigation, sameSiteReason } from '../src/cookies/rules.ts';
import type { Cookie } from '../src/cookies/types.ts';
import { startLab, type Lab } from '../src/lab/index.ts';
import { caseArgv } from '../src/cli/scenarios.ts';
import { runCli } from './helpers/cli.ts';
import { REPLAY_EMITS } from '../src/doctor/replay-rules.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/har/${name}`, import.meta.url), 'utf8');
/** Every finding code a test of this file saw: each of the replay's codes must be among them. */
const produced = new Set<string>();
const codes = (d: HarDiagnosis): string[] => d.findings.map((f) => f.code);
const diagnosed = (har: unknown): HarDiagnosis => {
  const d = diagnoseHar(har);
  for (const f of d.findings) produced.add(f.code);
  return d;
};

after(() => {
  assert.deepEqual(
    REPLAY_EMITS.filter((c) => !produced.has(c)),
    [],
    'every code only a replay emits is produced by a test of this file',
  );
});

describe('HARs from other writers', () => {
  test("a Firefox HAR of an identity provider's form_post: the Lax state cookie is named as withheld on the cross-site POST", () => {
    const d = diagnosed(JSON.parse(fixture('firefox-form-post.har')));
    assert.equal(d.source.client, 'firefox');
    const [chain] = d.chains;
    assert.deepEqual(
      chain!.links.map((l) => l.kind),
      ['start', 'redirect', 'form-post'],
    );
    // Two Set-Cookie lines in one header, joined by a newline as Firefox writes them: both stored.
    assert.deepEqual(
      chain!.hops[0]!.decisions.filter((x) => x.subject === 'set-cookie').map((x) => [x.name, x.action]),
      [
        ['oidc_state', 'stored'],
        ['lang', 'stored'],
      ],
    );
    const f = d.findings.find((x) => x.code === 'cookie-withheld-samesite');
    assert.ok(f, JSON.stringify(d.findings));
    assert.equal(f.hop, 2);
    assert.deepEqual([f.facts.cookie, f.facts.sameSite, f.facts.method, f.facts.from], ['oidc_state', 'lax', 'POST', 'https://login.idp-example.net']);
    // lang (no SameSite: None in Firefox) went, as the replay says: no difference finding.
    assert.deepEqual(codes(d), ['cookie-withheld-samesite']);
    assert.deepEqual(chain!.replay[2]!.cookies, { expected: ['lang'], actual: ['lang'], unknown: [], missing: [], sentAgainstRules: [] });
  });

  test("Chrome's sanitized export: the doctor says cookie findings are impossible, and still names the 401", async () => {
    const d = diagnosed(fixture('chrome-sanitized.har'));
    assert.equal(d.source.client, 'chromium');
    assert.deepEqual(codes(d), ['unauthorized-after-redirect', 'har-incomplete']);
    assert.equal(d.notes[0]!.missing, 'cookies');
    assert.match(d.findings[1]!.title, /sanitized/);
    assert.deepEqual(d.chains[0]!.replay[1]!.cookies.actual, undefined, 'what the browser sent is unknown, not "nothing"');
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
    try {
      const file = join(dir, 'sanitized.har');
      writeFileSync(file, fixture('chrome-sanitized.har'));
      const run = await runCli(['doctor', '--har', file]);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /har-incomplete/);
      assert.match(run.stdout, /cookies sent: not recorded|#1 GET https:\/\/app\.example\.com\/dashboard → 401/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a program's recorded traffic: X-Api-Key sent on to another origin is a leak; Authorization dropped on the same origin is named", async () => {
    const har = fixture('client-leak.har');
    const d = diagnosed(har);
    assert.equal(d.source.client, 'other');
    assert.equal(d.chains.length, 2);
    const leak = d.findings.find((f) => f.code === 'secret-sent-cross-origin')!;
    assert.equal(leak.severity, 'error');
    assert.match(leak.title, /^Your client sent X-Api-Key to another origin at hop 1 \(a leak\): api\.example\.com → downloads\.example-cdn\.net$/);
    assert.equal(leak.facts.chain, 0);
    const dropped = d.findings.find((f) => f.code === 'credential-dropped-same-origin')!;
    assert.match(dropped.title, /^Your client dropped Authorization on a same-origin hop \(hop 1, https:\/\/api\.example\.com\)/);
    assert.equal(dropped.facts.chain, 1);
    // Authorization did not follow to the CDN: the live doctor's own finding (another site: info).
    assert.ok(d.findings.some((f) => f.code === 'credential-stripped-cross-origin' && f.facts.header === 'authorization' && f.severity === 'info'));
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
    try {
      const file = join(dir, 'leak.har');
      writeFileSync(file, har);
      const run = await runCli(['doctor', '--json', '--har', file]);
      assert.equal(run.code, 1);
      assert.ok(!run.stdout.includes('example-key-not-a-secret') && !run.stdout.includes('example-token-not-a-secret'), 'no secret value in the output');
      assert.match(run.stdout, /"x-api-key": "‹redacted›"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a 401 after a leak', () => {
  test('a header the program sent on to the 401 is not named as one that did not travel to it', () => {
    const entry = (url: string, headers: [string, string][], status: number, resHeaders: [string, string][], redirectURL = '') => ({
      startedDateTime: '2026-01-01T00:00:00.000Z',
      time: 1,
      request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers: headers.map(([name, value]) => ({ name, value })), cookies: [], queryString: [], headersSize: -1, bodySize: 0 },
      response: {
        status,
        statusText: '',
        httpVersion: 'HTTP/1.1',
        headers: resHeaders.map(([name, value]) => ({ name, value })),
        cookies: [],
        content: { size: 0, mimeType: 'text/plain' },
        redirectURL,
        headersSize: -1,
        bodySize: 0,
      },
      cache: {},
      timings: { send: 0, wait: 1, receive: 0 },
    });
    const har = {
      log: {
        version: '1.2',
        creator: { name: 'curl', version: '' },
        entries: [
          entry('https://api.example.com/start', [['X-Api-Key', 'k3y']], 302, [['location', 'https://cdn.example.com/resource']], 'https://cdn.example.com/resource'),
          entry('https://cdn.example.com/resource', [['X-Api-Key', 'k3y']], 401, [['www-authenticate', 'Bearer realm="cdn"']]),
        ],
      },
    };
    const d = diagnosed(har);
    assert.ok(d.findings.some((f) => f.code === 'secret-sent-cross-origin'));
    const f = d.findings.find((x) => x.code === 'unauthorized-after-redirect')!;
    assert.ok(f, JSON.stringify(d.findings));
    assert.doesNotMatch(f.title, /x-api-key did not travel/);
    assert.deepEqual(f.facts.strippedBefore, []);
    assert.match(f.title, /^https:\/\/cdn\.example\.com\/resource answered 401 after a redirect \(it asks for Bearer\): x-api-key was sent, but no Authorization$/);
  });
});

describe("a program's cookies against the rules", () => {
  /** A recorder's HAR of one program: each exchange as [method, url, request headers, status, response headers]. */
  const recording = (rows: Array<[string, string, Array<[string, string]>, number, Array<[string, string]>]>): unknown => ({
    log: {
      version: '1.2',
      creator: { name: 'recorder', version: '1' },
      entries: rows.map(([method, url, req, status, res], i) => ({
        startedDateTime: new Date(Date.UTC(2026, 10, 30, 10, 0, 0, i * 10)).toISOString(),
        time: 5,
        request: { method, url, httpVersion: 'HTTP/1.1', headers: req.map(([name, value]) => ({ name, value })), cookies: [], queryString: [], headersSize: -1, bodySize: 0 },
        response: {
          status,
          statusText: '',
          httpVersion: 'HTTP/1.1',
          headers: res.map(([name, value]) => ({ name, value })),
          cookies: [],
          content: { size: 0, mimeType: 'text/plain' },
          redirectURL: '',
          headersSize: -1,
          bodySize: 0,
        },
        cache: {},
        timings: { send: 0, wait: 5, receive: 0 },
      })),
    },
  });

  test('a client without a cookie jar: the session cookie set on the 302 is not sent to /dashboard, and the doctor says the rules send it', () => {
    const d = diagnosed(
      recording([
        [
          'POST',
          'https://app.example.com/login',
          [['content-type', 'application/x-www-form-urlencoded']],
          302,
          [
            ['location', '/dashboard'],
            ['set-cookie', 'sid=s3cr3t-value; Path=/; HttpOnly'],
          ],
        ],
        ['GET', 'https://app.example.com/dashboard', [], 401, []],
      ]),
    );
    const f = d.findings.find((x) => x.code === 'cookie-not-sent')!;
    assert.ok(f, JSON.stringify(codes(d)));
    assert.equal(f.hop, 1);
    assert.match(f.title, /^Your client did not send sid at hop 1 \(\/dashboard on app\.example\.com\), though the cookie rules send it there$/);
    assert.match(f.fix.client, /requests\.Session\(\)/);
    assert.ok(!JSON.stringify(d).includes('s3cr3t-value'), 'the cookie value stays out of the result');
  });

  test('a client that sends a Path=/app cookie to /dashboard breaks the rules, and no "withheld" finding claims otherwise', () => {
    const d = diagnosed(
      recording([
        [
          'GET',
          'https://app.example.com/login',
          [],
          302,
          [
            ['location', '/dashboard'],
            ['set-cookie', 'sid=abc; Path=/app'],
          ],
        ],
        ['GET', 'https://app.example.com/dashboard', [['cookie', 'sid=abc']], 200, []],
      ]),
    );
    assert.deepEqual(codes(d), ['cookie-sent-against-rules']);
    assert.match(d.findings[0]!.title, /sent sid at hop 1 although the cookie rules withhold it there: cookie Path=\/app does not cover request path \/dashboard/);
  });

  test('in a browser HAR, a SameSite=None cookie without Secure is ignored when set, and that is the cause named', () => {
    const har = recording([
      [
        'GET',
        'https://app.example.com/login',
        [
          ['sec-fetch-dest', 'document'],
          ['sec-fetch-site', 'none'],
        ],
        302,
        [
          ['location', '/home'],
          ['set-cookie', 'sid=abc; Path=/; SameSite=None'],
        ],
      ],
      [
        'GET',
        'https://app.example.com/home',
        [
          ['sec-fetch-dest', 'document'],
          ['sec-fetch-site', 'same-origin'],
        ],
        401,
        [],
      ],
    ]) as { log: { creator: { name: string } } };
    har.log.creator.name = 'WebInspector';
    const d = diagnosed(har);
    assert.equal(d.source.client, 'chromium');
    assert.deepEqual(codes(d), ['set-cookie-rejected-samesite-none', 'unauthorized-after-redirect']);
    assert.match(d.findings[0]!.title, /^The browser ignored cookie sid set at hop 0: SameSite=None without Secure$/);
    // hopwise as a client stores it (with a note): the same chain from a program is clean of it
    har.log.creator.name = 'recorder';
    assert.ok(!codes(diagnosed(har)).includes('set-cookie-rejected-samesite-none'));
  });

  test('a cookie of the same name set before the recording is not taken for the one the rules withhold', () => {
    const d = diagnosed(
      recording([
        [
          'GET',
          'https://app.example.com/login',
          [['cookie', 'sid=older']],
          302,
          [
            ['location', '/dashboard'],
            ['set-cookie', 'sid=newer; Path=/app'],
          ],
        ],
        ['GET', 'https://app.example.com/dashboard', [['cookie', 'sid=older']], 401, []],
      ]),
    );
    assert.deepEqual(codes(d).sort(), ['cookie-withheld-path', 'unauthorized-after-redirect']);
    assert.deepEqual(d.chains[0]!.replay[0]!.cookies.unknown, ['sid']);
  });
});

describe("hopwise's own HAR", () => {
  let lab: Lab;
  let dir: string;
  before(async () => {
    lab = await startLab();
    dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
  });
  after(async () => {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [id, name] of [
    ['cookie-path', 'path-app'],
    ['cross-origin-auth', 'raw-header'],
  ] as const) {
    test(`doctor --har on hopwise's HAR of ${id} gives the findings the live doctor gave`, async () => {
      const c = lab.scenarios.find((s) => s.id === id)!.expect.cases.find((x) => x.name === name)!;
      const file = join(dir, `${id}.har`);
      const live = await runCli(['doctor', '--json', '--har', file, ...caseArgv(c, lab)]);
      const replay = await runCli(['doctor', '--json', '--har', file]);
      assert.equal(replay.code, live.code, replay.stderr);
      const liveOut = JSON.parse(live.stdout) as { findings: Array<{ code: string; title: string }> };
      const harOut = JSON.parse(replay.stdout) as HarDiagnosis;
      assert.equal(harOut.source.client, 'hopwise');
      assert.deepEqual(
        harOut.findings.map((f) => [f.code, f.title]),
        liveOut.findings.map((f) => [f.code, f.title]),
      );
    });
  }
});

describe('input that is not a HAR', () => {
  test('diagnoseHar throws ERR_INVALID_HAR for what is not a HAR log', () => {
    for (const bad of ['not json', {}, { log: {} }, { log: { entries: [{ request: { url: 'data:text/plain,x' } }] } }]) {
      assert.throws(
        () => diagnoseHar(bad),
        (e: { code?: string; message?: string }) => e.code === 'ERR_INVALID_HAR' && /Export the HAR again/.test(e.message ?? ''),
      );
    }
  });

  test('doctor --har exits 2 for a missing file and for a file that is not a HAR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
    try {
      const missing = await runCli(['doctor', '--har', join(dir, 'nope.har')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read the HAR .*ENOENT/);
      const file = join(dir, 'x.har');
      writeFileSync(file, '{"hello": 1}');
      const bad = await runCli(['doctor', '--har', file]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /ERR_INVALID_HAR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('browser SameSite rules (RFC 6265bis §5.2, §5.8.3)', () => {
  const app = new URL('https://app.example.com/cb');
  const idp = new URL('https://login.idp.example/authorize');
  const cookie = (sameSite: Cookie['sameSite'], creation = 0): Cookie => ({
    name: 'sid',
    value: 'v',
    domain: 'app.example.com',
    path: '/',
    hostOnly: true,
    secure: true,
    httpOnly: true,
    expires: null,
    creation,
    lastAccess: creation,
    ...(sameSite ? { sameSite } : {}),
  });
  const ctx = (sameSite: boolean, method = 'GET', extra: Partial<BrowserSameSite> = {}): BrowserSameSite => ({
    sameSite,
    topLevel: true,
    method,
    laxByDefault: true,
    laxAllowingUnsafeMs: 0,
    ...extra,
  });

  test('a navigation is same-site when nothing cross-site started it; the redirect chain counts only where the browser counts it', () => {
    assert.equal(isSameSiteNavigation({ url: app, method: 'GET', initiator: null, redirects: [], topLevel: true, countRedirects: true }), true);
    assert.equal(isSameSiteNavigation({ url: app, method: 'GET', initiator: idp, redirects: [], topLevel: true, countRedirects: false }), false);
    assert.equal(isSameSiteNavigation({ url: app, method: 'GET', initiator: null, redirects: [idp], topLevel: true, countRedirects: true }), false);
    assert.equal(isSameSiteNavigation({ url: app, method: 'GET', initiator: null, redirects: [idp], topLevel: true, countRedirects: false }), true, 'Chromium');
    // schemeful: http://app.example.com is another site than https://app.example.com
    assert.equal(isSameSiteNavigation({ url: app, method: 'GET', initiator: new URL('http://app.example.com/'), redirects: [], topLevel: true, countRedirects: false }), false);
  });

  test('Strict needs same-site; Lax goes on a cross-site top-level GET, not a POST; Lax by default has the two-minute POST window', () => {
    assert.equal(sameSiteReason(cookie('strict'), ctx(true), 0), 'match');
    assert.equal(sameSiteReason(cookie('strict'), ctx(false), 0), 'samesite-strict');
    assert.equal(sameSiteReason(cookie('lax'), ctx(false, 'GET'), 0), 'match');
    assert.equal(sameSiteReason(cookie('lax'), ctx(false, 'POST'), 0), 'samesite-lax');
    assert.equal(sameSiteReason(cookie('lax'), ctx(false, 'GET', { topLevel: false }), 0), 'samesite-lax');
    assert.equal(sameSiteReason(cookie('none'), ctx(false, 'POST'), 0), 'match');
    assert.equal(sameSiteReason(cookie(undefined, 0), ctx(false, 'POST', { laxAllowingUnsafeMs: 120_000 }), 60_000), 'match', 'fresh default cookie');
    assert.equal(sameSiteReason(cookie(undefined, 0), ctx(false, 'POST', { laxAllowingUnsafeMs: 120_000 }), 180_000), 'samesite-lax');
    assert.equal(sameSiteReason(cookie('lax', 0), ctx(false, 'POST', { laxAllowingUnsafeMs: 120_000 }), 1), 'samesite-lax', 'explicit Lax has no window');
    assert.equal(sameSiteReason(cookie(undefined), ctx(false, 'POST', { laxByDefault: false }), 0), 'match', 'Firefox: no attribute is None');
  });

  test('the jar withholds for SameSite only when a replay asks for browser rules; hopwise as a client sends the cookie', () => {
    const jar = new CookieJar();
    jar.setCookie('sid=v; Path=/; Secure; SameSite=Strict', 'https://app.example.com/start');
    const plain = jar.evaluate(new URL('https://app.example.com/cb'), { initiator: idp });
    assert.equal(plain.header, 'sid=v');
    const browser = jar.evaluate(new URL('https://app.example.com/cb'), { browser: ctx(false) });
    assert.equal(browser.header, '');
    assert.deepEqual(
      browser.verdicts.map((v) => [v.cookie.name, v.sent, v.reason]),
      [['sid', false, 'samesite-strict']],
    );
    assert.match(browser.verdicts[0]!.detail, /SameSite=Strict cookie not sent on a cross-site request to app\.example\.com/);
  });
});
