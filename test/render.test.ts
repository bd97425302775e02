// The text renderer (with and without colour) and the HAR export, validated against the HAR 1.2
// JSON schema from har-schema (draft-06) with ajv.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { renderTrace, renderHop, shouldColor, groupOf } from '../src/trace/render-text.js';
import { toHar } from '../src/trace/har.js';
import { REASONS } from '../src/trace/reasons.js';
import { renderFindings } from '../src/doctor/render.js';
import { diagnose } from '../src/doctor/index.js';
import * as decide from '../src/trace/decisions.js';
import { originPair } from '../src/credentials/origin.js';
import type { Cookie } from '../src/cookies/types.js';
import type { Decision, Hop } from '../src/trace/types.js';

const require = createRequire(import.meta.url);

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const API = new URL('https://api.example.com/login?next=%2Fhome');
const CDN = new URL('https://cdn.example.com/home');
// the session cookie the login sets: host-only for api.example.com, Path=/app
const sid: Cookie = { name: 'sid', value: 'v1', domain: 'api.example.com', path: '/app', hostOnly: true, secure: false, httpOnly: true, expires: null, creation: T0, lastAccess: T0 };
// decisions as the phases make them (trace/decisions.ts)
const hops: Hop[] = [
  {
    index: 0,
    url: 'https://api.example.com/login?next=%2Fhome',
    method: 'POST',
    requestHeaders: { authorization: 'Bearer ‹redacted›', 'x-api-key': '‹redacted›', 'content-type': 'application/x-www-form-urlencoded' },
    status: 302,
    statusText: 'Found',
    responseHeaders: { location: 'https://cdn.example.com/home', 'set-cookie': ['sid=‹redacted›; Path=/app; HttpOnly', '__Host-x=‹redacted›; Secure'], 'content-length': '0' },
    location: 'https://cdn.example.com/home',
    requestBodySize: 10,
    newConnection: true,
    timings: { start: T0, connect: 1.2, tls: 4.5, firstByte: 9.1, end: 9.4 },
    decisions: [
      decide.header.first('authorization', API.origin),
      decide.setCookie.result({ stored: true, cookie: sid, reason: 'stored', detail: 'host-only for api.example.com, Path=/app' }, undefined),
      decide.setCookie.result({ stored: false, reason: 'prefix-host', detail: 'no Path=/', name: '__Host-x' }, undefined),
      decide.method.rewritten(302, 'POST'),
      decide.body.dropped('GET'),
      decide.redirect.followed(302, API.origin, CDN, CDN.origin),
    ],
  },
  {
    index: 1,
    url: 'https://cdn.example.com/home',
    method: 'GET',
    requestHeaders: { 'user-agent': 'hopwise/0.1' },
    status: 401,
    statusText: 'Unauthorized',
    responseHeaders: { 'content-type': 'text/plain', 'content-length': '12', 'www-authenticate': 'Bearer' },
    newConnection: false,
    timings: { start: T0 + 12, firstByte: 2.5, end: 3 },
    decisions: [
      decide.header.crossOrigin('authorization', originPair(API, CDN)),
      decide.cookie.verdict({ cookie: sid, sent: false, reason: 'domain-mismatch', detail: 'sid is host-only for api.example.com' }, 'example.com'),
    ],
  },
];

const ESC = /\u001b\[/;

describe('text renderer', () => {
  test('one block per hop with method, URL, status, timing and grouped decisions in plain words', () => {
    const out = renderTrace(hops);
    assert.doesNotMatch(out, ESC, 'no colour by default');
    assert.match(out, /^#0 POST https:\/\/api\.example\.com\/login\?next=%2Fhome$/m);
    assert.match(out, /^ {3}302 Found · 9\.4 ms · first byte 9\.1 ms · new connection \(tcp 1\.2 ms, tls 4\.5 ms\)$/m);
    assert.match(out, /^#1 GET https:\/\/cdn\.example\.com\/home$/m);
    assert.match(out, /401 Unauthorized · 3\.0 ms · first byte 2\.5 ms · reused connection/);
    for (const g of ['sent', 'stripped', 'withheld', 'stored', 'rejected', 'next']) assert.match(out, new RegExp(`^ {3}${g}$`, 'm'), g);
    assert.ok(out.includes(REASONS['cross-origin']), 'reason words from REASONS');
    assert.ok(out.includes(REASONS['prefix-host']));
    assert.ok(out.includes(REASONS['method-rewrite-302']));
    assert.match(out, /method POST → GET/);
    assert.match(out, /^done 401 Unauthorized https:\/\/cdn\.example\.com\/home \(2 hops, 1 redirect in 15 ms\)$/m);
    // the order of groups inside a hop: sent, stripped, withheld, stored, rejected, next
    const block0 = renderHop(hops[0]!);
    const at = (s: string) => block0.indexOf(`   ${s}\n`);
    assert.ok(at('sent') < at('stripped') && at('stripped') < at('stored') && at('stored') < at('rejected') && at('rejected') < at('next'));
  });
  test('with colour: the same text plus ANSI codes', () => {
    const colored = renderTrace(hops, { color: true });
    assert.match(colored, ESC);
    assert.equal(colored.replace(/\u001b\[\d+m/g, ''), renderTrace(hops));
  });
  test('headers with verbose, and the error line', () => {
    const out = renderTrace(hops.slice(0, 1), { headers: true, error: { code: 'ERR_TLS', message: 'bad certificate' } });
    assert.match(out, /> authorization: Bearer ‹redacted›/);
    assert.match(out, /< set-cookie: __Host-x=‹redacted›; Secure/);
    assert.match(out, /^stopped ERR_TLS: bad certificate/m);
  });
  test('shouldColor: a TTY and NO_COLOR unset or empty', () => {
    assert.equal(shouldColor({ isTTY: true }, {}), true);
    assert.equal(shouldColor({ isTTY: true }, { NO_COLOR: '' }), true);
    assert.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(shouldColor({ isTTY: false }, {}), false);
    assert.equal(shouldColor({}, {}), false);
  });
  test('every action has a group', () => {
    // one decision per action, as the phases make them
    const provider = { name: 'authorization', kind: 'bearer', scope: 'api.example.com', to: CDN.origin, pair: originPair(API, CDN) };
    const all: Decision[] = [
      decide.header.first('authorization', API.origin),
      decide.auth.applied(provider),
      decide.auth.refreshed(provider),
      decide.header.crossOrigin('authorization', originPair(API, CDN)),
      decide.header.hookRemoved('x-trace'),
      decide.auth.outOfScope(provider),
      decide.setCookie.result({ stored: true, cookie: sid, reason: 'stored', detail: 'stored' }, undefined),
      decide.setCookie.disabled(),
      decide.method.rewritten(303, 'PUT'),
      decide.method.kept('PUT', 307),
      decide.redirect.followed(302, API.origin, CDN, CDN.origin),
      decide.redirect.noLocation(302),
    ];
    const actions = ['sent', 're-applied', 'refreshed', 'stripped', 'dropped', 'withheld', 'stored', 'rejected', 'rewritten', 'kept', 'followed', 'stopped'];
    assert.deepEqual(
      all.map((d) => d.action),
      actions,
    );
    for (const d of all) assert.ok(groupOf(d), d.action);
  });
  test('findings render with and without colour', () => {
    const fs = diagnose(hops);
    const plain = renderFindings(fs);
    assert.doesNotMatch(plain, ESC);
    assert.match(plain, /credential-stripped-cross-origin \(hop 1\)/);
    assert.match(plain, /client {2}/);
    assert.match(plain, /server {2}/);
    const colored = renderFindings(fs, { color: true });
    assert.equal(colored.replace(/\u001b\[\d+m/g, ''), plain);
    assert.match(renderFindings([]), /no findings/);
  });
});

function harValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  // the formats har-schema uses (ajv 8 ships none)
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat('uri', { validate: (s: string) => URL.canParse(s) });
  ajv.addFormat('ipv4', /^(\d{1,3}\.){3}\d{1,3}$/);
  ajv.addFormat('ipv6', { validate: (s: string) => s.includes(':') });
  const schemas = require('har-schema') as Record<string, { $id: string }>;
  for (const [name, schema] of Object.entries(schemas)) if (name !== 'har') ajv.addSchema(schema);
  return ajv.compile(schemas.har!);
}

describe('HAR export', () => {
  const validate = harValidator();
  test('HAR 1.2, one entry per hop, decisions in _hopwise, valid against har-schema', () => {
    const har = toHar(hops, { error: { code: 'ERR_X', message: 'y' } });
    assert.ok(validate(har), JSON.stringify(validate.errors, null, 2));
    assert.equal(har.log.version, '1.2');
    assert.equal(har.log.creator.name, 'hopwise');
    assert.equal(har.log.entries.length, 2);
    const [e0, e1] = har.log.entries;
    assert.equal(e0!.startedDateTime, '2026-01-02T03:04:05.678Z');
    assert.equal(e0!.request.method, 'POST');
    assert.deepEqual(e0!.request.queryString, [{ name: 'next', value: '/home' }]);
    assert.equal(e0!.request.bodySize, 10);
    assert.equal(e0!.response.redirectURL, 'https://cdn.example.com/home');
    assert.deepEqual(
      e0!.response.cookies.map((c) => c.name),
      ['sid', '__Host-x'],
    );
    assert.equal(e0!.response.cookies[0]!.path, '/app');
    assert.equal(e0!._hopwise.decisions.length, 6);
    assert.equal(e0!.timings.connect, 4.5);
    assert.equal(e0!.timings.ssl, 3.3);
    assert.equal(e1!.timings.connect, -1);
    assert.equal(e1!.response.content.mimeType, 'text/plain');
    assert.equal(e1!.response.content.size, 12);
    assert.equal(e1!._hopwise.decisions[0]!.reason, 'cross-origin');
    assert.deepEqual(har.log._hopwise?.error, { code: 'ERR_X', message: 'y' });
    assert.equal(har.log._hopwise?.secrets, 'redacted');
  });
  test('secrets stay redacted by default; showSecrets without raw values says so', () => {
    const json = JSON.stringify(toHar(hops));
    assert.ok(json.includes('Bearer ‹redacted›'));
    const har = toHar(hops, { showSecrets: true });
    assert.ok(validate(har));
    assert.match(har.log.comment ?? '', /no raw header values/);
    assert.ok(JSON.stringify(har).includes('Bearer ‹redacted›'));
  });
  test('showSecrets with raw values puts them in, and says so', () => {
    const har = toHar(hops, { showSecrets: true, rawRequestHeaders: [{ ...hops[0]!.requestHeaders, authorization: 'Bearer s3cret' }, undefined] });
    assert.ok(validate(har));
    assert.equal(har.log._hopwise?.secrets, 'shown');
    assert.ok(har.log.entries[0]!.request.headers.some((h) => h.value === 'Bearer s3cret'));
    assert.match(har.log.comment ?? '', /do not share/);
  });
  test('a hop that failed before a response is still a valid entry', () => {
    const failed: Hop = {
      index: 0,
      url: 'https://down.example.com/',
      method: 'GET',
      requestHeaders: {},
      status: 0,
      statusText: '',
      responseHeaders: {},
      newConnection: false,
      timings: { start: T0, end: 5 },
      decisions: [],
      error: { code: 'ERR_CONNECT', message: 'refused' },
    };
    const har = toHar([failed]);
    assert.ok(validate(har), JSON.stringify(validate.errors));
    assert.equal(har.log.entries[0]!.response.status, 0);
    assert.equal(har.log.entries[0]!._hopwise.error?.code, 'ERR_CONNECT');
  });
  test('the validator rejects a broken HAR (the schema is really applied)', () => {
    const har = toHar(hops) as unknown as { log: { entries: { request: Record<string, unknown> }[] } };
    delete har.log.entries[0]!.request.method;
    assert.equal(validate(har), false);
  });
});
