// renderHtml() over traces a real session recorded (a server on 127.0.0.1) and over hand-made hops:
// the page is one document with nothing to load, every string escaped, secrets as every output
// shows them, the findings (with their command lines) before the hops, every decision marked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from '../src/index.js';
import { diagnose } from '../src/doctor/index.js';
import { renderHtml } from '../src/render/html.js';
import type { Hop } from '../src/trace/types.js';

let server: http.Server;
let base: string;
before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/login') {
      res.writeHead(302, { location: '/dashboard?api_key=k-in-location', 'set-cookie': 'sid=s3ss10n-value; Path=/app; HttpOnly', 'x-backend': 'a' });
      res.end();
    } else {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="<x>"', 'x-backend': 'b' });
      res.end('no session');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

describe('renderHtml', () => {
  test('a recorded chain: findings with commands on top, every hop and decision, no secret, nothing to load', async () => {
    const session = new Session({ headers: { authorization: 'Bearer t0p-s3cret', 'x-api-key': 'k3y-s3cret' } });
    const res = await session.fetch(`${base}/login`);
    const findings = diagnose(res.hops);
    assert.deepEqual(
      findings.map((f) => f.code),
      ['cookie-withheld-path', 'unauthorized-after-redirect'],
    );
    const page = renderHtml(res.hops, findings, { command: (f) => (f.code === 'cookie-withheld-path' ? `hopwise doctor ${base}/login --x '<y>'` : undefined) });
    for (const secret of ['t0p-s3cret', 'k3y-s3cret', 's3ss10n-value', 'k-in-location']) assert.ok(!page.includes(secret), secret);
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
    assert.doesNotMatch(page, /<script|<link|<img|src=|@import|url\(/i);
    for (const m of page.matchAll(/href="([^"]*)"/g)) assert.ok(m[1]!.startsWith('#'), m[1]);
    // the findings come first, in the doctor's order, and link to their hop
    assert.ok(page.indexOf('id="findings"') < page.indexOf('id="hops"'));
    assert.match(page, /data-finding="cookie-withheld-path" data-hop="1"[\s\S]*<a href="#hop-1">hop 1<\/a>/);
    assert.match(page, /<pre class="run"><b>run<\/b> hopwise doctor http:\/\/127\.0\.0\.1:\d+\/login --x &#39;&lt;y&gt;&#39;<\/pre>/);
    // each hop, its request and response, each decision with a mark and its reason
    assert.equal(page.match(/<li class="hop"/g)?.length, 2);
    assert.match(page, /<th>authorization<\/th><td>Bearer ‹redacted›<\/td>/);
    assert.match(page, /<th>set-cookie<\/th><td>sid=‹redacted›; Path=\/app; HttpOnly<\/td>/);
    assert.match(page, /<th>www-authenticate<\/th><td>Bearer realm=&quot;&lt;x&gt;&quot;<\/td>/);
    assert.match(page, /data-mark="stored"><span class="mark">stored<\/span> <b>set-cookie sid<\/b>/);
    assert.match(page, /data-mark="withheld"><span class="mark">withheld<\/span> <b>cookie sid<\/b> — the request path is not under the cookie&#39;s Path/);
    assert.match(page, /x-backend: a/);
  });

  test('a hop recorded elsewhere with a secret left in: the page redacts it again, and escapes every string', () => {
    const hop: Hop = {
      index: 0,
      url: 'https://a.example/<script>alert(1)</script>?token=abc123',
      method: 'GET',
      requestHeaders: { authorization: 'Basic dXNlcjpwYXNz', 'x-auth-token': 'raw-token-value', cookie: 'sid=rawcookie' },
      status: 200,
      statusText: 'OK',
      responseHeaders: { 'set-cookie': ['sid=rawset; Path=/'], location: '/next?access_token=zzz' },
      newConnection: true,
      timings: { start: 0 },
      decisions: [],
    };
    const page = renderHtml([hop]);
    for (const secret of ['dXNlcjpwYXNz', 'raw-token-value', 'rawcookie', 'rawset', 'abc123', 'zzz']) assert.ok(!page.includes(secret), secret);
    assert.doesNotMatch(page, /<script>/);
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(page, /No findings/);
    assert.match(page, /<title>hopwise trace — /);
  });

  test('a chain that stopped: the error is on the page; no hops at all is still a page', () => {
    const page = renderHtml([], [], { error: { code: 'ERR_CONNECT', message: 'connect ECONNREFUSED <addr>' } });
    assert.match(page, /<b>stopped<\/b> ERR_CONNECT: connect ECONNREFUSED &lt;addr&gt;/);
    assert.match(page, /0 hops, 0 redirects/);
  });
});
