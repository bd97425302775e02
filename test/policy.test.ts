import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHttpsUpgrade, sameOrigin } from '../src/credentials/origin.ts';
import { matchesPattern, parseHostPattern } from '../src/credentials/patterns.ts';
import { isSensitiveName, redactSetCookie, redactUrl, redactValue } from '../src/credentials/sensitive.ts';
import { planRedirect, type PlanInput } from '../src/redirect/plan.ts';
import { findClientRedirect, parseRefresh } from '../src/redirect/client-redirect.ts';

const u = (s: string) => new URL(s);

describe('origins', () => {
  it('folds default ports and case, and keeps a trailing dot distinct', () => {
    assert.ok(sameOrigin(u('https://EXAMPLE.com:443/a'), u('https://example.com/b')));
    assert.ok(!sameOrigin(u('https://example.com/'), u('https://example.com./')));
    assert.ok(!sameOrigin(u('https://example.com/'), u('http://example.com/')));
  });
  it('calls only same-host http:80 → https:443 an upgrade', () => {
    assert.ok(isHttpsUpgrade(u('http://a.test/'), u('https://a.test/x')));
    assert.ok(!isHttpsUpgrade(u('http://a.test:8080/'), u('https://a.test:8443/')));
    assert.ok(!isHttpsUpgrade(u('http://a.test/'), u('https://b.test/')));
  });
});

describe('host patterns', () => {
  const m = (p: string, url: string) => matchesPattern(parseHostPattern(p), u(url));
  it('matches exact hosts on https and the default port only', () => {
    assert.ok(m('api.example.com', 'https://api.example.com/x'));
    assert.ok(m('API.Example.com', 'https://api.example.com/x'));
    assert.ok(!m('api.example.com', 'http://api.example.com/x'));
    assert.ok(!m('api.example.com', 'https://api.example.com:8443/x'));
    assert.ok(m('https://api.example.com:8443', 'https://api.example.com:8443/x'));
    assert.ok(m('https://api.example.com:*', 'https://api.example.com:9/x'));
  });
  it('never matches by string suffix', () => {
    assert.ok(m('*.example.com', 'https://a.b.example.com/'));
    assert.ok(!m('*.example.com', 'https://evilexample.com/'));
    assert.ok(!m('*.example.com', 'https://example.com/'));
    assert.ok(!m('example.com', 'https://example.com.evil.test/'));
    assert.ok(!m('example.com', 'https://example.com./'));
    assert.ok(!m('*.example.com', 'https://x.example.com.evil.test/'));
  });
  it('rejects patterns it cannot read', () => {
    for (const bad of ['', 'a.*.com', '*example.com', 'https://x/y/z', 'ftp://x.test', 'h:99999', 'a.test@evil.test', 'evil.test\\a.test', 'a.test#x', 'a.test?x', 'a .test'])
      assert.throws(() => parseHostPattern(bad), { code: 'ERR_INVALID_OPTION' }, bad);
  });
});

describe('sensitive headers', () => {
  const none = new Set<string>();
  it('treats credentials and secret-looking names as sensitive', () => {
    for (const n of [
      'authorization',
      'proxy-authorization',
      'cookie',
      'cookie2',
      'www-authenticate',
      'x-api-key',
      'api-key',
      'x-auth-token',
      'x-authorization',
      'x-csrf-token',
      'x-client-secret',
      'x-hub-signature',
      'x-amz-security-token',
      'x-session',
      'private-token',
      'x-goog-api-key',
      // API-key header names real services use
      'x-mbx-apikey',
      'x-cmc_pro_api_key',
      'api_key',
      'x-apikey',
      'authentication',
      'x-csrftoken',
      'x-session-id',
    ]) {
      assert.ok(isSensitiveName(n, none), n);
    }
  });
  it('leaves ordinary headers alone', () => {
    for (const n of ['accept', 'content-type', 'user-agent', 'x-request-id', 'x-keyboard', 'if-none-match', 'x-monkey', 'x-forwarded-for', 'cache-control', 'keyboard'])
      assert.ok(!isSensitiveName(n, none), n);
  });
  it('redacts values but keeps the scheme word and cookie names', () => {
    assert.equal(redactValue('authorization', 'Bearer abc.def'), 'Bearer ‹redacted›');
    assert.equal(redactValue('x-api-key', 'k123'), '‹redacted›');
    assert.equal(redactValue('cookie', 'a=1; b=2'), 'a=‹redacted›; b=‹redacted›');
    assert.equal(redactSetCookie('sid=abc; Path=/; HttpOnly'), 'sid=‹redacted›; Path=/; HttpOnly');
    assert.equal(redactUrl('https://u:p@x.test/a?access_token=t&q=1'), 'https://x.test/a?access_token=redacted&q=1');
  });
});

describe('the redirect planner', () => {
  const base: PlanInput = {
    status: 302,
    location: '/next',
    current: u('https://a.test/start'),
    method: 'GET',
    hasBody: false,
    bodyReplayable: true,
    mode: 'follow',
    redirectCount: 0,
    maxRedirects: 20,
    allowDowngrade: false,
    crossOriginBody: 'error',
    trust: [],
    hopIndex: 0,
  };
  it('follows a redirect status with a Location', () => {
    const p = planRedirect(base);
    assert.equal(p.action, 'follow');
    assert.equal(p.action === 'follow' && p.url.href, 'https://a.test/next');
  });
  it('refuses https → http unless allowed', () => {
    assert.equal(planRedirect({ ...base, location: 'http://a.test/' }).action, 'error');
    assert.equal(planRedirect({ ...base, location: 'http://a.test/', allowDowngrade: true }).action, 'follow');
  });
  it('re-decodes a UTF-8 Location sent as raw bytes', () => {
    const latin1 = Buffer.from('/café', 'utf8').toString('latin1');
    const p = planRedirect({ ...base, location: latin1 });
    assert.equal(p.action === 'follow' && p.url.pathname, '/caf%C3%A9');
  });
});

describe('client-side redirects in HTML', () => {
  it('finds meta refresh, the Refresh header and location scripts', () => {
    assert.deepEqual(findClientRedirect('<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL=/dashboard"></head></html>'), { kind: 'meta-refresh', target: '/dashboard', delaySeconds: 0 });
    assert.deepEqual(findClientRedirect('', '5;url=https://x.test/'), { kind: 'refresh-header', target: 'https://x.test/', delaySeconds: 5 });
    assert.equal(findClientRedirect("<script>window.location.href = '/next';</script>")?.target, '/next');
    assert.equal(findClientRedirect('<script>location.replace("/n2")</script>')?.target, '/n2');
    assert.equal(findClientRedirect('<p>hello</p>'), undefined);
    assert.equal(parseRefresh('3'), undefined);
  });
});
