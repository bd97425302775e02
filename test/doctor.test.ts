// The doctor's rules over hand-written traces: each rule fires on the decisions the session records
// and stays silent otherwise. Every code in FINDINGS is produced by at least one test here. The
// decisions are made with the builders the session uses (trace/decisions.ts), with the facts the
// phases give them, so a test cannot feed the doctor a fact the session never records.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { siteInfo } from '../src/cookies/domain.js';
import type { Cookie, CookieSendReason, SetCookieRejectReason } from '../src/cookies/types.js';
import { originPair } from '../src/credentials/origin.js';
import { diagnose, FINDINGS, hasProblems, trustPatternFor, type Finding } from '../src/doctor/index.js';
import { RULES } from '../src/doctor/rules.js';
import { REPLAY_EMITS } from '../src/doctor/replay-rules.js';
import * as decide from '../src/trace/decisions.js';
import type { Decision, Hop } from '../src/trace/types.js';

const produced = new Set<string>();

function run(hops: Hop[], error?: { code: string; message: string; hops?: Hop[] }): Finding[] {
  const findings = diagnose(hops, error);
  for (const f of findings) {
    produced.add(f.code);
    assert.ok(f.code in FINDINGS, `${f.code} is in FINDINGS`);
    assert.ok(['error', 'warning', 'info'].includes(f.severity));
    assert.ok(f.title.length > 10, 'a title');
    assert.ok(f.fix.client.length > 10 && f.fix.server.length > 10, `${f.code} has both fixes`);
    assert.equal(typeof f.hop, 'number');
    assert.doesNotThrow(() => JSON.stringify(f));
  }
  return findings;
}
const codes = (fs: Finding[]) => fs.map((f) => f.code);

let start = 1_700_000_000_000;
function hop(index: number, method: string, url: string, status: number, decisions: Decision[] = [], extra: Partial<Hop> = {}): Hop {
  start += 10;
  return {
    index,
    url,
    method,
    requestHeaders: {},
    status,
    statusText: '',
    responseHeaders: {},
    newConnection: index === 0,
    timings: { start, firstByte: 3, end: 4 },
    decisions,
    ...extra,
  };
}

// ---- decisions, as the phases make them ----

/** The origin pair the header policy records for a hop from `from` to `to` (the jar's PSL). */
const pair = (from: string, to: string) => originPair(new URL(from), new URL(to));
/** redirect/plan: a followed redirect from `from` to the URL `to`. */
const followed = (status: number, from: string, to: string): Decision => decide.redirect.followed(status, new URL(from).origin, new URL(to), new URL(to).origin);
/** credentials/policy: a sensitive caller header not forwarded to another origin. */
const stripped = (name: string, from: string, to: string): Decision => decide.header.crossOrigin(name, pair(from, to));

type CookieAttrs = Partial<Pick<Cookie, 'value' | 'domain' | 'path' | 'hostOnly' | 'secure'>>;
/** A cookie as the jar stores it (host-only for app.example.com, Path=/ unless told). */
function jarCookie(name: string, a: CookieAttrs = {}): Cookie {
  const t = 1_700_000_000_000;
  return {
    name,
    value: a.value ?? 'v1',
    domain: a.domain ?? 'app.example.com',
    path: a.path ?? '/',
    hostOnly: a.hostOnly ?? true,
    secure: a.secure ?? false,
    httpOnly: true,
    expires: null,
    creation: t,
    lastAccess: t,
  };
}
/** hop/prepare: a jar cookie sent with this hop's request. */
const sentCookie = (name: string, a?: CookieAttrs): Decision => decide.cookie.verdict({ cookie: jarCookie(name, a), sent: true, reason: 'match', detail: `${name} matches` });
/** hop/prepare: a jar cookie withheld; `url` is the request, whose site the session records for a domain verdict. */
const withheldCookie = (name: string, reason: CookieSendReason, url: string, a?: CookieAttrs): Decision =>
  decide.cookie.verdict({ cookie: jarCookie(name, a), sent: false, reason, detail: `${name} withheld: ${reason}` }, siteInfo(new URL(url).hostname).site);
/**
 * hop/absorb: a Set-Cookie the jar stored. `sentValue`: the value of the cookie of that name this
 * very request carried, if any (absorb compares it with the stored value).
 */
const stored = (name: string, reason: 'stored' | 'replaced' = 'stored', a: CookieAttrs & { sentValue?: string } = {}): Decision =>
  decide.setCookie.result({ stored: true, cookie: jarCookie(name, a), reason, detail: reason }, a.sentValue);
/** hop/absorb: a Set-Cookie the jar refused. */
const rejected = (name: string, reason: SetCookieRejectReason): Decision => decide.setCookie.result({ stored: false, reason, detail: `${name} rejected: ${reason}`, name }, undefined);

after(() => {
  // The replay's own codes are covered by the HAR tests (doctor-har-fixtures.test.ts checks them all).
  const missing = Object.keys(FINDINGS).filter((c) => !produced.has(c) && !(REPLAY_EMITS as readonly string[]).includes(c));
  assert.deepEqual(missing, [], 'every finding code is covered by a test');
});

describe('FINDINGS', () => {
  test('every code has a severity and a meaning', () => {
    for (const [code, f] of Object.entries(FINDINGS)) {
      assert.match(code, /^[a-z0-9-]+$/);
      assert.ok(['error', 'warning', 'info'].includes(f.severity), code);
      assert.ok(f.meaning.length > 20, code);
    }
  });
});

describe('clean traces', () => {
  test('a same-origin redirect that kept everything is clean', () => {
    const hops = [
      hop(0, 'GET', 'https://api.example.com/a', 302, [decide.header.first('authorization', 'https://api.example.com'), followed(302, 'https://api.example.com/a', 'https://api.example.com/b')]),
      hop(1, 'GET', 'https://api.example.com/b', 200, [decide.header.kept('authorization', 'same-origin', pair('https://api.example.com/a', 'https://api.example.com/b'))]),
    ];
    assert.deepEqual(run(hops), []);
    assert.equal(hasProblems([]), false);
  });
  test('a trace with no hops and no error is clean', () => {
    assert.deepEqual(run([]), []);
  });
});

describe('credentials and secret headers', () => {
  test('Authorization stripped on a same-site cross-origin hop is a warning', () => {
    const hops = [
      hop(0, 'GET', 'https://api.example.com/a', 302, [followed(302, 'https://api.example.com/a', 'https://cdn.example.com/b')]),
      hop(1, 'GET', 'https://cdn.example.com/b', 200, [stripped('authorization', 'https://api.example.com', 'https://cdn.example.com')]),
    ];
    const fs = run(hops);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin']);
    assert.equal(fs[0]!.severity, 'warning');
    assert.equal(fs[0]!.hop, 1);
    assert.equal(fs[0]!.facts.to, 'https://cdn.example.com');
    assert.deepEqual(fs[0]!.fix.cli, ['--trust', 'cdn.example.com']);
  });
  test('Authorization kept from another site is an info note', () => {
    const hops = [hop(0, 'GET', 'https://api.example.com/a', 302), hop(1, 'GET', 'https://evil.test/collect', 200, [stripped('authorization', 'https://api.example.com', 'https://evil.test')])];
    const fs = run(hops);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin']);
    assert.equal(fs[0]!.severity, 'info');
    assert.equal(hasProblems(fs), false);
  });
  test('the CLI fix for a provider out of scope names every origin (a lone --auth-scope would drop the first), and never another site', () => {
    const provider = { name: 'authorization', kind: 'bearer', scope: "https://api.example.com (the first request's origin) and its https upgrade" };
    const sameSite = decide.auth.outOfScope({ ...provider, to: 'https://cdn.example.com', pair: pair('https://api.example.com/', 'https://cdn.example.com/') });
    const fs = run([hop(0, 'GET', 'https://api.example.com/a', 302), hop(1, 'GET', 'https://cdn.example.com/b', 200, [sameSite])]);
    assert.deepEqual(fs[0]!.fix.cli, ['--auth-scope', 'api.example.com', '--auth-scope', 'cdn.example.com']);
    const otherSite = decide.auth.outOfScope({ ...provider, to: 'https://evil.test', pair: pair('https://api.example.com/', 'https://evil.test/') });
    const info = run([hop(0, 'GET', 'https://api.example.com/a', 302), hop(1, 'GET', 'https://evil.test/b', 200, [otherSite])]);
    assert.equal(info[0]!.severity, 'info');
    assert.equal(info[0]!.fix.cli, undefined);
  });
  test('a credential stripped on an allowed https → http hop gets no command that would send it in cleartext', () => {
    const hops = [
      hop(0, 'GET', 'https://app.example.com/a', 302),
      hop(1, 'GET', 'http://app.example.com/b', 200, [
        stripped('authorization', 'https://app.example.com', 'http://app.example.com'),
        stripped('x-api-key', 'https://app.example.com', 'http://app.example.com'),
      ]),
    ];
    const fs = run(hops);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin', 'secret-header-stripped']);
    assert.deepEqual(
      fs.map((f) => f.fix.cli),
      [undefined, undefined],
    );
    assert.match(fs[0]!.fix.client, /cleartext/);
  });
  test('a later stripped-earlier decision is not reported again', () => {
    const hops = [
      hop(0, 'GET', 'https://a.example.com/', 302),
      hop(1, 'GET', 'https://b.example.com/', 302, [stripped('authorization', 'https://a.example.com', 'https://b.example.com')]),
      hop(2, 'GET', 'https://a.example.com/x', 200, [decide.header.strippedEarlier('authorization')]),
    ];
    assert.deepEqual(codes(run(hops)), ['credential-stripped-cross-origin']);
  });
  test('an auth provider out of scope after a redirect is a stripped credential; on the first hop it is not', () => {
    // what credentials/policy records: the hop's origin, and the pair only after the first request
    const provider = { name: 'authorization', kind: 'bearer', scope: 'api.example.com' };
    const afterRedirect = decide.auth.outOfScope({ ...provider, to: 'https://evil.test', pair: pair('https://api.example.com/', 'https://evil.test/') });
    const fs = run([hop(0, 'GET', 'https://api.example.com/', 302), hop(1, 'GET', 'https://evil.test/', 200, [afterRedirect])]);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin']);
    assert.equal(fs[0]!.facts.to, 'https://evil.test');
    assert.equal(fs[0]!.facts.provider, true);
    const firstRequest = decide.auth.outOfScope({ ...provider, to: 'https://other.example.com', pair: undefined });
    assert.deepEqual(run([hop(0, 'GET', 'https://other.example.com/', 200, [firstRequest])]), []);
  });
  test("same site is the jar's answer recorded with the decision: github.io hosts are other sites", () => {
    // the jar counts private suffixes (github.io) as public: alice.github.io and bob.github.io are two sites
    const fs = run([hop(0, 'GET', 'https://alice.github.io/', 302), hop(1, 'GET', 'https://bob.github.io/', 200, [stripped('authorization', 'https://alice.github.io', 'https://bob.github.io')])]);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin']);
    assert.equal(fs[0]!.facts.sameSite, false);
    assert.equal(fs[0]!.severity, 'info');
  });
  test('a secret-looking custom header stripped is secret-header-stripped', () => {
    const hops = [hop(0, 'GET', 'https://api.example.com/', 302), hop(1, 'GET', 'https://cdn.example.com/', 200, [stripped('x-api-key', 'https://api.example.com', 'https://cdn.example.com')])];
    const fs = run(hops);
    assert.deepEqual(codes(fs), ['secret-header-stripped']);
    assert.match(fs[0]!.title, /X-Api-Key/);
  });
  test('401 after a redirect names what did not travel', () => {
    const hops = [
      hop(0, 'GET', 'https://api.example.com/', 302),
      hop(1, 'GET', 'https://cdn.example.com/', 401, [stripped('authorization', 'https://api.example.com', 'https://cdn.example.com')], { responseHeaders: { 'www-authenticate': 'Bearer' } }),
    ];
    const fs = run(hops);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin', 'unauthorized-after-redirect']);
    const u = fs[1]!;
    assert.equal(u.severity, 'error');
    assert.deepEqual(u.facts.strippedBefore, ['authorization']);
    assert.equal(u.facts.challenge, 'Bearer');
  });
  test('401 on the first hop is not "after a redirect"', () => {
    assert.deepEqual(run([hop(0, 'GET', 'https://api.example.com/', 401)]), []);
  });
  test('401 although the session cookie was sent says the server refused its own session', () => {
    const fs = run([hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid')]), hop(1, 'GET', 'https://app.example.com/home', 401, [sentCookie('sid')])]);
    assert.deepEqual(codes(fs), ['unauthorized-after-redirect']);
    assert.deepEqual(fs[0]!.facts.cookiesSent, ['sid']);
  });
});

describe('downgrade', () => {
  test('refused, from the decision', () => {
    const d = decide.redirect.downgradeRefused(302, 'https://a.example.com', 'http://a.example.com');
    const hops = [hop(0, 'GET', 'https://a.example.com/', 302, [d], { location: 'http://a.example.com/x' })];
    const fs = run(hops, { code: 'ERR_INSECURE_REDIRECT', message: 'refused' });
    assert.deepEqual(codes(fs), ['downgrade-refused']);
    assert.equal(fs[0]!.severity, 'error');
  });
  test('refused, from the error alone', () => {
    const hops = [hop(0, 'GET', 'https://a.example.com/', 302, [], { location: 'http://a.example.com/x' })];
    assert.deepEqual(codes(run([], { code: 'ERR_INSECURE_REDIRECT', message: 'refused', hops })), ['downgrade-refused']);
  });
  test('followed with allowDowngrade', () => {
    const d = decide.redirect.downgradeAllowed(302, 'https://a.example.com', 'http://a.example.com');
    const hops = [hop(0, 'GET', 'https://a.example.com/', 302, [d]), hop(1, 'GET', 'http://a.example.com/x', 200)];
    assert.deepEqual(codes(run(hops)), ['downgrade-followed']);
  });
});

describe('cookies withheld', () => {
  const cases: [CookieSendReason, string, CookieAttrs][] = [
    ['path-mismatch', 'cookie-withheld-path', { path: '/app', domain: 'app.example.com', hostOnly: true }],
    ['domain-mismatch', 'cookie-withheld-domain', { path: '/', domain: 'other.example.com', hostOnly: false }],
    ['host-only', 'cookie-withheld-host-only', { path: '/', domain: 'app.example.com', hostOnly: true }],
    ['secure-only', 'cookie-withheld-secure', { path: '/', domain: 'app.example.com', secure: true }],
    ['expired', 'cookie-withheld-expired', { path: '/', domain: 'app.example.com' }],
  ];
  for (const [reason, code, attrs] of cases) {
    test(`${reason} → ${code}`, () => {
      const url = 'https://app.example.com/dashboard';
      const fs = run([hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid')]), hop(1, 'GET', url, 200, [withheldCookie('sid', reason, url, attrs)])]);
      assert.deepEqual(codes(fs), [code]);
      assert.equal(fs[0]!.facts.cookie, 'sid');
      assert.equal(fs[0]!.hop, 1);
    });
  }
  test('domain-mismatch of a host-only cookie (as the jar records it) is the host-only story', () => {
    const url = 'https://api.example.com/me';
    const d = withheldCookie('sid', 'domain-mismatch', url, { domain: 'app.example.com', path: '/', hostOnly: true, secure: false });
    const fs = run([hop(0, 'GET', 'https://app.example.com/', 302), hop(1, 'GET', url, 200, [d])]);
    assert.deepEqual(codes(fs), ['cookie-withheld-host-only']);
    assert.match(fs[0]!.fix.server, /Domain=example\.com/);
  });
  test('the same cookie withheld at several hops is one finding listing the hops', () => {
    const d = (url: string): Decision => withheldCookie('sid', 'path-mismatch', url, { domain: 'a.example.com', path: '/app' });
    const fs = run([
      hop(0, 'GET', 'https://a.example.com/', 302),
      hop(1, 'GET', 'https://a.example.com/x', 302, [d('https://a.example.com/x')]),
      hop(2, 'GET', 'https://a.example.com/y', 200, [d('https://a.example.com/y')]),
    ]);
    assert.deepEqual(codes(fs), ['cookie-withheld-path']);
    assert.deepEqual(fs[0]!.facts.hops, [1, 2]);
  });
});

describe('Set-Cookie rejected', () => {
  const cases: [SetCookieRejectReason, string][] = [
    ['secure-from-insecure', 'set-cookie-rejected-secure-from-insecure'],
    ['invalid-domain', 'set-cookie-rejected-invalid-domain'],
    ['public-suffix', 'set-cookie-rejected-public-suffix'],
    ['prefix-secure', 'set-cookie-rejected-prefix'],
    ['prefix-host', 'set-cookie-rejected-prefix'],
    ['overwrite-secure', 'set-cookie-rejected-overwrite-secure'],
    ['syntax', 'set-cookie-rejected-syntax'],
    ['control-char', 'set-cookie-rejected-syntax'],
    ['too-large', 'set-cookie-rejected-too-large'],
  ];
  for (const [reason, code] of cases) {
    test(`${reason} → ${code}`, () => {
      const fs = run([hop(0, 'GET', 'http://app.example.com/login', 200, [rejected('__Host-sid', reason)])]);
      assert.deepEqual(codes(fs), [code]);
      assert.equal(fs[0]!.facts.reason, reason);
    });
  }
  test('cookies disabled is not a server problem', () => {
    assert.deepEqual(run([hop(0, 'GET', 'https://a.example.com/', 200, [decide.setCookie.disabled()])]), []);
  });
  test('a 401 after a rejected Set-Cookie points at it', () => {
    const fs = run([hop(0, 'GET', 'http://app.example.com/login', 302, [rejected('sid', 'secure-from-insecure')]), hop(1, 'GET', 'https://app.example.com/page', 401)]);
    assert.deepEqual(codes(fs), ['set-cookie-rejected-secure-from-insecure', 'unauthorized-after-redirect']);
    assert.deepEqual(fs[1]!.facts.setCookieRejectedBefore, ['sid']);
  });
});

describe('session replaced', () => {
  // hop 1 sent sid=v1 (issued at hop 0) and its response set sid=v2 over it
  const replacedSent = (a: CookieAttrs = {}) => stored('sid', 'replaced', { value: 'v2', sentValue: 'v1', ...a });
  test('issued at hop 0, sent and replaced at hop 1', () => {
    const fs = run([
      hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid'), followed(302, 'https://app.example.com/login', 'https://app.example.com/dashboard')]),
      hop(1, 'GET', 'https://app.example.com/dashboard', 401, [sentCookie('sid'), replacedSent()]),
    ]);
    assert.deepEqual(codes(fs), ['session-cookie-replaced', 'unauthorized-after-redirect']);
    assert.equal(fs[0]!.facts.issuedAtHop, 0);
    assert.equal(fs[0]!.facts.replacedAtHop, 1);
    assert.match(fs[0]!.fix.server, /shared session store/);
  });
  test('not when the cookie was not sent back', () => {
    // absorb had no sent value to compare: sentOnThisHop false, no valueChanged
    const fs = run([hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid')]), hop(1, 'GET', 'https://app.example.com/x', 200, [stored('sid', 'replaced', { value: 'v2' })])]);
    assert.deepEqual(fs, []);
  });
  test('not when the cookie was issued two hops earlier', () => {
    const fs = run([
      hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid')]),
      hop(1, 'GET', 'https://app.example.com/a', 302, [sentCookie('sid')]),
      hop(2, 'GET', 'https://app.example.com/b', 200, [sentCookie('sid'), replacedSent()]),
    ]);
    assert.deepEqual(fs, []);
  });
  test('not when the session records that the value did not change', () => {
    const same = stored('sid', 'replaced', { value: 'v1', sentValue: 'v1' });
    const fs = run([hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid')]), hop(1, 'GET', 'https://app.example.com/x', 200, [sentCookie('sid'), same])]);
    assert.deepEqual(fs, []);
  });
  test('not when the replaced cookie is another one than the previous hop stored (another path)', () => {
    const fs = run([
      hop(0, 'GET', 'https://app.example.com/login', 302, [stored('sid', 'stored', { path: '/login' })]),
      hop(1, 'GET', 'https://app.example.com/dashboard', 401, [sentCookie('sid'), replacedSent()]),
    ]);
    assert.deepEqual(codes(fs), ['unauthorized-after-redirect']);
  });
});

describe('every way a session cookie disappears', () => {
  const login = 'https://app.example.com/login';
  const dash = 'https://app.example.com/dashboard';
  /** hop/absorb: a Set-Cookie that deleted a stored cookie (the jar's result carries the deleted cookie). */
  const deleted = (name: string, sent: boolean): Decision =>
    decide.setCookie.result(
      {
        stored: false,
        reason: 'deleted',
        detail: 'Max-Age<=0: the stored cookie for app.example.com Path=/ was deleted',
        name,
        deleted: { name, domain: 'app.example.com', path: '/', hostOnly: true, secure: false },
      },
      sent ? 'v1' : undefined,
    );
  const evicted = (name: string, by: string, sent: boolean): Decision => decide.setCookie.evicted({ name, domain: 'app.example.com', path: '/', hostOnly: true, secure: false }, by, sent);

  test('a response that deletes the session cookie it was sent is a warning naming the hop', () => {
    const fs = run([
      hop(0, 'POST', login, 302, [stored('sid'), followed(302, login, dash)]),
      hop(1, 'GET', dash, 302, [sentCookie('sid'), deleted('sid', true), followed(302, dash, 'https://app.example.com/home')]),
      hop(2, 'GET', 'https://app.example.com/home', 200),
    ]);
    assert.deepEqual(codes(fs), ['session-cookie-deleted']);
    assert.equal(fs[0]!.severity, 'warning');
    assert.equal(fs[0]!.hop, 1);
    assert.equal(fs[0]!.facts.sentOnThisHop, true);
    assert.match(fs[0]!.title, /deleted cookie sid, which this request carried/);
  });
  test('a deletion at a logout URL is an info note', () => {
    const fs = run([hop(0, 'GET', 'https://app.example.com/logout', 302, [sentCookie('sid'), deleted('sid', true)])]);
    assert.deepEqual(codes(fs), ['session-cookie-deleted']);
    assert.equal(fs[0]!.severity, 'info');
  });
  test('deleting a cookie this chain never had is not a finding', () => {
    assert.deepEqual(run([hop(0, 'GET', dash, 200, [deleted('tmp', false)])]), []);
  });
  test('an eviction of the session cookie stored earlier in the chain is named, with the cookie that took its place', () => {
    const fs = run([hop(0, 'GET', login, 302, [stored('sid'), followed(302, login, dash)]), hop(1, 'GET', dash, 200, [sentCookie('sid'), stored('pref42'), evicted('sid', 'pref42', true)])]);
    assert.deepEqual(codes(fs), ['session-cookie-evicted']);
    assert.equal(fs[0]!.facts.evictedBy, 'pref42');
    assert.equal(fs[0]!.facts.heldSinceHop, 0);
  });
  test('an eviction of a cookie the chain never used is not a finding', () => {
    assert.deepEqual(run([hop(0, 'GET', dash, 200, [stored('pref42'), evicted('old', 'pref42', false)])]), []);
  });
  test('a chain sent back to the login page after a login is a lost session even when it ends 200', () => {
    const fs = run([
      hop(0, 'POST', login, 302, [stored('sid'), decide.method.rewritten(302, 'POST'), followed(302, login, dash)], { requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' } }),
      hop(1, 'GET', dash, 302, [sentCookie('sid'), followed(302, dash, login)], { backend: { headers: { 'x-backend': 'b' } } }),
      hop(2, 'GET', login, 200, [sentCookie('sid')], { backend: { headers: { 'x-backend': 'b' } } }),
    ]);
    assert.deepEqual(codes(fs), ['post-became-get', 'session-lost-to-login']);
    assert.equal(fs[0]!.severity, 'info');
    const lost = fs[1]!;
    assert.equal(lost.severity, 'warning');
    assert.equal(lost.hop, 2);
    assert.equal(lost.facts.loginHop, 0);
    assert.deepEqual(lost.facts.cookiesSentAfter, ['sid']);
    assert.match(lost.title, /went back to the login page \/login, although sid was sent/);
    assert.match(lost.title, /the chain still ends 200/);
    assert.equal(hasProblems(fs), true);
  });
  test('two backends named when their fingerprints differ between the hops of a lost session', () => {
    const fs = run([
      hop(0, 'POST', login, 302, [stored('sid'), followed(302, login, dash)], { backend: { headers: { 'x-backend': 'a', server: 'nginx' }, affinityCookies: ['SERVERID'] } }),
      hop(1, 'GET', dash, 302, [sentCookie('sid'), followed(302, dash, login)], { backend: { headers: { 'x-backend': 'b', server: 'nginx' } } }),
      hop(2, 'GET', login, 200, [], { backend: { headers: { 'x-backend': 'b', server: 'nginx' } } }),
    ]);
    const lost = fs.find((f) => f.code === 'session-lost-to-login')!;
    assert.match(lost.title, /two backends answered this chain \(x-backend: a \(hop 0\), x-backend: b \(hops 1, 2\)\)/);
    assert.deepEqual(lost.facts.backends, ['x-backend: a (hop 0)', 'x-backend: b (hops 1, 2)', 'affinity cookie SERVERID']);
    assert.match(lost.fix.server, /affinity cookie SERVERID/);
  });
  test('a login whose session cookie the jar rejected, then back to the login page: the rejection is the cause', () => {
    const fs = run([
      hop(0, 'POST', 'http://app.example.com/login', 302, [rejected('sid', 'secure-from-insecure'), followed(302, 'http://app.example.com/login', 'http://app.example.com/dashboard')]),
      hop(1, 'GET', 'http://app.example.com/dashboard', 302, [followed(302, 'http://app.example.com/dashboard', 'http://app.example.com/login')]),
      hop(2, 'GET', 'http://app.example.com/login', 200),
    ]);
    assert.deepEqual(codes(fs), ['set-cookie-rejected-secure-from-insecure', 'session-lost-to-login']);
    assert.match(fs[1]!.title, /Set-Cookie sid of the login was rejected/);
    assert.deepEqual(fs[1]!.facts.cookiesRejected, ['sid']);
  });
  test('a login redirected straight back to its form is a failed login, not a lost session', () => {
    const fs = run([hop(0, 'POST', login, 302, [stored('flash'), followed(302, login, login)]), hop(1, 'GET', login, 200)]);
    assert.ok(!codes(fs).includes('session-lost-to-login'));
  });
  test('a visit that is sent to the login page before any login is not a lost session', () => {
    const fs = run([hop(0, 'GET', dash, 302, [stored('sid'), followed(302, dash, login)]), hop(1, 'GET', 'https://app.example.com/x', 302), hop(2, 'GET', login, 200)]);
    assert.deepEqual(fs, []);
  });
});

describe('client-side redirects', () => {
  const html = { 'content-type': 'text/html; charset=utf-8' };
  test('meta refresh not followed (the session decision) is a warning', () => {
    const d = decide.redirect.clientNotFollowed({ kind: 'meta-refresh', target: '/next', delaySeconds: 0 });
    const fs = run([hop(0, 'GET', 'https://app.example.com/start', 200, [d], { responseHeaders: html })]);
    assert.deepEqual(codes(fs), ['client-side-redirect']);
    assert.equal(fs[0]!.severity, 'warning');
    assert.equal(fs[0]!.facts.target, 'https://app.example.com/next');
    assert.deepEqual(fs[0]!.fix.cli, ['--follow-meta-refresh']);
  });
  test('meta refresh followed is an info note', () => {
    const d = decide.redirect.clientFollowed({ kind: 'meta-refresh', target: 'https://app.example.com/next', delaySeconds: 0 });
    const fs = run([hop(0, 'GET', 'https://app.example.com/start', 200, [d], { responseHeaders: html }), hop(1, 'GET', 'https://app.example.com/next', 200)]);
    assert.deepEqual(codes(fs), ['client-side-redirect']);
    assert.equal(fs[0]!.severity, 'info');
  });
  test('a script redirect', () => {
    const d = decide.redirect.clientNotFollowed({ kind: 'script', target: '/next', delaySeconds: 0 });
    const fs = run([hop(0, 'GET', 'https://app.example.com/s', 200, [d], { responseHeaders: html })]);
    assert.deepEqual(codes(fs), ['client-side-redirect']);
    assert.equal(fs[0]!.facts.kind, 'script');
  });
});

describe('method and body', () => {
  for (const status of [301, 302] as const) {
    test(`POST answered ${status} became GET`, () => {
      const d = decide.method.rewritten(status, 'POST');
      const fs = run([hop(0, 'POST', 'https://a.example.com/form', status, [d], { location: 'https://a.example.com/done' }), hop(1, 'GET', 'https://a.example.com/done', 200)]);
      assert.deepEqual(codes(fs), ['post-became-get']);
      assert.equal(fs[0]!.facts.status, status);
      assert.equal(fs[0]!.hop, 0);
      assert.match(fs[0]!.fix.server, status === 301 ? /308/ : /307/);
    });
  }
  test('a form login answered 302 is Post/Redirect/Get: an info note that says nothing was lost', () => {
    const form = { requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' }, location: 'https://a.example.com/dashboard' };
    const d = decide.method.rewritten(302, 'POST');
    const fs = run([
      hop(
        0,
        'POST',
        'https://a.example.com/login',
        302,
        [stored('sid', 'stored', { domain: 'a.example.com' }), d, followed(302, 'https://a.example.com/login', 'https://a.example.com/dashboard')],
        form,
      ),
      hop(1, 'GET', 'https://a.example.com/dashboard', 200, [sentCookie('sid', { domain: 'a.example.com' })]),
    ]);
    assert.deepEqual(codes(fs), ['post-became-get']);
    assert.equal(fs[0]!.severity, 'info');
    assert.equal(fs[0]!.facts.login, true);
    assert.match(fs[0]!.title, /Post\/Redirect\/Get/);
    assert.doesNotMatch(fs[0]!.fix.client, /send the POST/);
    assert.equal(hasProblems(fs), false);
  });
  test('a login that is not a form (a JSON body) but sets the session on its 302 is Post/Redirect/Get too', () => {
    const d = decide.method.rewritten(302, 'POST');
    const fs = run([
      hop(0, 'POST', 'https://a.example.com/session', 302, [stored('sid'), d], { requestHeaders: { 'content-type': 'application/json' } }),
      hop(1, 'GET', 'https://a.example.com/home', 200),
    ]);
    assert.equal(fs[0]!.severity, 'info');
  });
  test('an API POST (JSON body, no cookie) answered 302 still warns: the body was likely needed', () => {
    const d = decide.method.rewritten(302, 'POST');
    const fs = run([hop(0, 'POST', 'https://a.example.com/v1/items', 302, [d], { requestHeaders: { 'content-type': 'application/json' } }), hop(1, 'GET', 'https://a.example.com/v2/items', 200)]);
    assert.equal(fs[0]!.severity, 'warning');
    assert.match(fs[0]!.title, /not a form/);
  });
  test('a form POST answered 302 to an HTML page is Post/Redirect/Get; to a JSON endpoint it warns', () => {
    const d = decide.method.rewritten(302, 'POST');
    const form = { requestHeaders: { 'content-type': 'multipart/form-data; boundary=x' } };
    const thanks = run([hop(0, 'POST', 'https://a.example.com/contact', 302, [d], form), hop(1, 'GET', 'https://a.example.com/thanks', 200, [], { responseHeaders: { 'content-type': 'text/html' } })]);
    assert.equal(thanks[0]!.severity, 'info');
    const api = run([hop(0, 'POST', 'https://a.example.com/items', 302, [d], form), hop(1, 'GET', 'https://a.example.com/echo', 200, [], { responseHeaders: { 'content-type': 'application/json' } })]);
    assert.equal(api[0]!.severity, 'warning');
    assert.match(api[0]!.title, /other than a page/);
  });
  test('a form POST answered 302 whose target refuses the GET (405) warns', () => {
    const d = decide.method.rewritten(302, 'POST');
    const form = { requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' } };
    const fs = run([hop(0, 'POST', 'https://a.example.com/form', 302, [d], form), hop(1, 'GET', 'https://a.example.com/form/', 405)]);
    assert.equal(fs[0]!.severity, 'warning');
    assert.match(fs[0]!.title, /answered 405/);
  });
  test('a form POST answered 301 warns: the resource moved, the POST belongs at the new URL', () => {
    const d = decide.method.rewritten(301, 'POST');
    const form = { requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' } };
    const fs = run([hop(0, 'POST', 'https://a.example.com/form', 301, [stored('sid'), d], form), hop(1, 'GET', 'https://a.example.com/form/', 200)]);
    assert.equal(fs[0]!.severity, 'warning');
  });
  test('303 turning POST into GET is what the server asked: no finding', () => {
    const d = decide.method.rewritten(303, 'POST');
    assert.deepEqual(run([hop(0, 'POST', 'https://a.example.com/form', 303, [d]), hop(1, 'GET', 'https://a.example.com/done', 200)]), []);
  });
  test('cross-origin body refused, from the decision and from the error', () => {
    const d = decide.body.crossOriginRefused(307, 'https://s3.example.com', 'https://eu.s3.example.com');
    const hops = [hop(0, 'PUT', 'https://s3.example.com/k', 307, [d], { location: 'https://eu.s3.example.com/k' })];
    assert.deepEqual(codes(run(hops, { code: 'ERR_CROSS_ORIGIN_BODY', message: 'x' })), ['cross-origin-body-refused']);
    const bare = [hop(0, 'PUT', 'https://s3.example.com/k', 307, [], { location: 'https://eu.s3.example.com/k' })];
    const fs = run(bare, { code: 'ERR_CROSS_ORIGIN_BODY', message: 'x' });
    assert.deepEqual(codes(fs), ['cross-origin-body-refused']);
    assert.deepEqual(fs[0]!.fix.cli, ['--trust', 'eu.s3.example.com']);
  });
  test('cross-origin body sent with crossOriginBody: send', () => {
    const d = decide.body.crossOriginSent('https://s3.example.com', 'https://eu.s3.example.com');
    const fs = run([hop(0, 'PUT', 'https://s3.example.com/k', 307, [d]), hop(1, 'PUT', 'https://eu.s3.example.com/k', 200)]);
    assert.deepEqual(codes(fs), ['cross-origin-body-sent']);
    assert.equal(fs[0]!.severity, 'info');
  });
  test('body not replayable', () => {
    const d = decide.body.notReplayable(307);
    assert.deepEqual(codes(run([hop(0, 'PUT', 'https://a.example.com/', 307, [d])], { code: 'ERR_BODY_NOT_REPLAYABLE', message: 'x' })), ['body-not-replayable']);
  });
  test('userinfo in a Location', () => {
    const d = decide.location.userinfoDropped();
    assert.deepEqual(codes(run([hop(0, 'GET', 'https://a.example.com/', 302, [d]), hop(1, 'GET', 'https://b.example.com/', 200)])), ['userinfo-in-location']);
  });
});

describe('how the chain ended', () => {
  test('loop, from the decision and the error', () => {
    const d = decide.redirect.loop('GET', new URL('https://a.example.com/a'));
    const hops = [
      hop(0, 'GET', 'https://a.example.com/a', 302, [], { location: 'https://a.example.com/b' }),
      hop(1, 'GET', 'https://a.example.com/b', 302, [d], { location: 'https://a.example.com/a' }),
    ];
    const fs = run([], { code: 'ERR_REDIRECT_LOOP', message: 'loop', hops });
    assert.deepEqual(codes(fs), ['redirect-loop']);
    assert.equal(fs[0]!.hop, 1);
    assert.deepEqual(fs[0]!.facts.cycle, ['https://a.example.com/a', 'https://a.example.com/b']);
    const bare = [hop(0, 'GET', 'https://a.example.com/a', 302, [], { location: 'https://a.example.com/a' })];
    assert.deepEqual(codes(run(bare, { code: 'ERR_REDIRECT_LOOP', message: 'loop' })), ['redirect-loop']);
  });
  test('too many redirects', () => {
    const hops = Array.from({ length: 21 }, (_, i) => hop(i, 'GET', `https://a.example.com/${i}`, 302, i === 20 ? [decide.redirect.limit(21, 20)] : []));
    const fs = run(hops, { code: 'ERR_TOO_MANY_REDIRECTS', message: 'x' });
    assert.deepEqual(codes(fs), ['too-many-redirects']);
    assert.equal(fs[0]!.facts.redirectsFollowed, 20);
    assert.equal(fs[0]!.facts.maxRedirects, 20);
    assert.equal(fs[0]!.fix.cli?.[0], '--max-redirs');
  });
  test('unsafe scheme and invalid Location', () => {
    const unsafe = decide.redirect.unsafeScheme(302, new URL('file:///etc/passwd'));
    const fs = run([hop(0, 'GET', 'https://a.example.com/', 302, [unsafe], { location: 'file:///etc/passwd' })], { code: 'ERR_UNSAFE_REDIRECT', message: 'x' });
    assert.deepEqual(codes(fs), ['unsafe-redirect']);
    // the refused URL is the one the planner recorded (facts.url)
    assert.equal(fs[0]!.facts.location, 'file:///etc/passwd');
    const invalid = decide.location.invalid(302);
    assert.deepEqual(codes(run([hop(0, 'GET', 'https://a.example.com/', 302, [invalid], { responseHeaders: { location: 'http://[' } })], { code: 'ERR_INVALID_REDIRECT', message: 'x' })), [
      'invalid-location',
    ]);
  });
  test('a 300/304 or a redirect without Location ends the chain: an info note', () => {
    const d = decide.redirect.noLocation(302);
    const fs = run([hop(0, 'GET', 'https://a.example.com/', 302, [d])]);
    assert.deepEqual(codes(fs), ['redirect-not-followed']);
    assert.equal(hasProblems(fs), false);
  });
  test('any other error is request-failed, at the hop that failed', () => {
    const hops = [hop(0, 'GET', 'https://a.example.com/', 302), hop(1, 'GET', 'https://b.example.com/', 0, [], { error: { code: 'ERR_TLS', message: 'self-signed certificate' } })];
    const fs = run(hops, { code: 'ERR_TLS', message: 'self-signed certificate' });
    assert.deepEqual(codes(fs), ['request-failed']);
    assert.equal(fs[0]!.hop, 1);
    assert.match(fs[0]!.fix.client, /--cacert/);
  });
});

describe('auth challenges', () => {
  const digestFacts = { name: 'authorization', kind: 'digest', scope: "https://a.example.com (the first request's origin) and its https upgrade", to: 'https://a.example.com', pair: undefined };
  test('a challenge no provider answers names the scheme the server asked for', () => {
    const fs = run([hop(0, 'GET', 'https://a.example.com/', 401, [decide.auth.unanswered('https://a.example.com', [{ scheme: 'digest', realm: 'r' }], [])])]);
    assert.deepEqual(codes(fs), ['challenge-unanswered']);
    assert.match(fs[0]!.title, /asked for Digest authentication \(realm "r"\); no provider in scope answers it/);
    assert.deepEqual(fs[0]!.fix.cli, ['--digest', '-u', '$USERNAME:$PASSWORD']);
  });
  test('a second 401 after an answered challenge is credential-rejected, not a redirect problem', () => {
    const fs = run([
      hop(0, 'GET', 'https://a.example.com/', 401, [decide.auth.answered(digestFacts, { scheme: 'digest', realm: 'r' }, false)]),
      hop(1, 'GET', 'https://a.example.com/', 401, [decide.auth.rejected(digestFacts, { scheme: 'digest', realm: 'r' })], { requestHeaders: { authorization: 'Digest ‹redacted›' } }),
    ]);
    assert.deepEqual(codes(fs), ['credential-rejected']);
  });
});

describe('the rule table', () => {
  test('every finding code is emitted by a rule of the table, and every rule emits known codes', () => {
    const emitted = new Set([...RULES.flatMap((r) => r.emits), ...REPLAY_EMITS]);
    assert.deepEqual(
      Object.keys(FINDINGS).filter((c) => !emitted.has(c as keyof typeof FINDINGS)),
      [],
    );
    for (const r of RULES) for (const c of r.emits) assert.ok(c in FINDINGS, c);
  });
  test('decision rules read decisions by subject and reason, as data', () => {
    for (const r of RULES) if (r.on === 'decision') assert.ok(r.reasons.length > 0, `${r.emits.join()} reads some reasons of ${r.subject}`);
  });
});

describe('helpers', () => {
  test('trustPatternFor keeps scheme and port unless https on 443', () => {
    assert.equal(trustPatternFor('https://cdn.example.com'), 'cdn.example.com');
    assert.equal(trustPatternFor('https://cdn.example.com:8443/x'), 'https://cdn.example.com:8443');
    assert.equal(trustPatternFor('http://api.example.com:8080'), 'http://api.example.com:8080');
  });
  test('findings come in hop order, causes before consequences', () => {
    const fs = run([hop(0, 'GET', 'https://api.example.com/', 302), hop(1, 'GET', 'https://cdn.example.com/', 401, [stripped('authorization', 'https://api.example.com', 'https://cdn.example.com')])]);
    assert.deepEqual(codes(fs), ['credential-stripped-cross-origin', 'unauthorized-after-redirect']);
  });
});

describe('proxies and private networks', () => {
  const viaProxy = decide.route.decided({ kind: 'proxy', reason: 'proxy-env', route: 'via http://proxy.test:3128', proxy: 'http://proxy.test:3128', mode: 'tunnel', variable: 'https_proxy' });

  test('names the proxy that answered 407 and says how to give it credentials when none went', () => {
    const h = hop(0, 'GET', 'https://api.example.com/', 0, [viaProxy], { error: { code: 'ERR_PROXY_AUTH', message: 'proxy 407' } });
    const fs = run([h], { code: 'ERR_PROXY_AUTH', message: 'proxy 407', hops: [h] });
    assert.deepEqual(codes(fs), ['proxy-auth-required']);
    assert.equal(fs[0]!.facts.proxy, 'http://proxy.test:3128');
    assert.match(fs[0]!.fix.client, /https_proxy/);
  });

  test('says the proxy refused the credential it got, naming where it came from', () => {
    const h = hop(0, 'GET', 'https://api.example.com/', 0, [viaProxy, decide.proxyAuth.sent('proxyAuth', 'via http://proxy.test:3128')], { error: { code: 'ERR_PROXY_AUTH', message: 'proxy 407' } });
    const fs = run([h], { code: 'ERR_PROXY_AUTH', message: 'proxy 407', hops: [h] });
    assert.match(fs[0]!.fix.client, /refused the credential from proxyAuth/);
  });

  test('names an unreachable proxy and the tunnel target', () => {
    const h = hop(0, 'GET', 'https://api.example.com:8443/', 0, [viaProxy], { error: { code: 'ERR_PROXY', message: 'refused' } });
    const fs = run([h], { code: 'ERR_PROXY', message: 'refused', hops: [h] });
    assert.deepEqual(codes(fs), ['proxy-unreachable']);
    assert.equal(fs[0]!.facts.target, 'api.example.com:8443');
  });

  test('notes, as info, a proxy credential a route change left behind', () => {
    const fs = run([
      hop(0, 'GET', 'http://a.example.com/', 302, [viaProxy]),
      hop(1, 'GET', 'http://b.example.com/', 200, [
        decide.route.decided({ kind: 'direct', reason: 'no-proxy-match', route: 'direct', noProxy: 'b.example.com', previous: 'via http://proxy.test:3128' }),
        decide.proxyAuth.routeChanged('proxy-url', 'direct', 'via http://proxy.test:3128'),
      ]),
    ]);
    assert.deepEqual(codes(fs), ['proxy-credential-dropped']);
    assert.equal(fs[0]!.severity, 'info');
  });

  test('explains a refused private address once, from the decision rather than the error', () => {
    const refused = decide.address.refused({ host: 'metadata.test', address: '169.254.169.254', refuse: 'redirects', fromClass: 'public', customList: false });
    const h1 = hop(1, 'GET', 'http://metadata.test/latest', 0, [refused], { error: { code: 'ERR_PRIVATE_ADDRESS', message: 'refused' } });
    const hops = [hop(0, 'GET', 'https://public.example.com/', 302, [], { remoteAddress: '93.184.216.34' }), h1];
    const fs = run(hops, { code: 'ERR_PRIVATE_ADDRESS', message: 'refused', hops });
    assert.deepEqual(codes(fs), ['private-address-refused']);
    assert.equal(fs[0]!.hop, 1);
    assert.match(fs[0]!.title, /public address led to metadata\.test at 169\.254\.169\.254/);
  });
});
