// Every way a session disappears in a chain, with a real session against real servers on 127.0.0.1:
// the session records what happened when it happened (the jar's deletion and eviction, the server
// fingerprints of each response), and the doctor names it from those records. And a correct login
// flow, the case that used to make `hopwise doctor` exit 1, is clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar, Session, type Hop } from '../src/index.js';
import { diagnose, hasProblems } from '../src/doctor/index.js';
import { startServers, type TestServers } from './helpers/servers.ts';

const APP = 'https://app.example.com';

/** Which backend answers each non-login request, round robin, as a balancer with in-memory sessions would. */
let turn = 0;
const sessions = { a: new Set<string>(), b: new Set<string>() };

let servers: TestServers;
before(async () => {
  servers = await startServers((req, res) => {
    const url = new URL(req.url ?? '/', APP);
    const sid = /(?:^|; )sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    switch (url.pathname) {
      // a login that works: the session is set on the 302 (or 303) and the dashboard knows it
      case '/ok/login':
        res.writeHead(req.method === 'POST' && url.searchParams.has('see-other') ? 303 : 302, { location: '/ok/dashboard', 'set-cookie': 'sid=good-session-1; Path=/; HttpOnly' });
        return void res.end();
      case '/ok/dashboard':
        res.writeHead(sid === 'good-session-1' ? 200 : 401, { 'content-type': 'text/html' });
        return void res.end(sid ? '<h1>Hello</h1>' : 'no session');
      // the dashboard ends the session it was sent, and sends the client back to the login form
      case '/deleted/login':
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html' });
          return void res.end('<form method=post>');
        }
        res.writeHead(302, { location: '/deleted/dashboard', 'set-cookie': 'sid=doomed-session-2; Path=/' });
        return void res.end();
      case '/deleted/dashboard':
        res.writeHead(302, { location: '/deleted/login?next=%2Fdeleted%2Fdashboard', 'set-cookie': 'sid=; Path=/; Max-Age=0' });
        return void res.end();
      // two backends, each with its own sessions: B does not know A's, and bounces to /rr/login, which answers 200
      case '/rr/login': {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html', server: 'app/1.0', 'x-served-by': 'web-b' });
          return void res.end('<form method=post>');
        }
        turn = 0;
        sessions.a.add('rr-session-3');
        res.writeHead(302, { location: '/rr/dashboard', 'set-cookie': ['sid=rr-session-3; Path=/', 'SERVERID=web-a; Path=/'], server: 'app/1.0', 'x-served-by': 'web-a' });
        return void res.end();
      }
      case '/rr/dashboard': {
        const backend = turn++ % 2 === 0 ? 'b' : 'a';
        if (sid && sessions[backend].has(sid)) {
          res.writeHead(200, { 'x-served-by': `web-${backend}`, server: 'app/1.0' });
          return void res.end('hello');
        }
        res.writeHead(302, { location: '/rr/login', 'x-served-by': `web-${backend}`, server: 'app/1.0' });
        return void res.end();
      }
      // a page that sets more cookies than the jar keeps for one domain
      case '/full/login':
        res.writeHead(302, { location: '/full/prefs', 'set-cookie': 'sid=evicted-session-4; Path=/' });
        return void res.end();
      case '/full/prefs':
        res.writeHead(200, { 'set-cookie': ['p1=1; Path=/', 'p2=2; Path=/'] });
        return void res.end();
      default:
        res.writeHead(404);
        return void res.end();
    }
  });
});
after(() => servers.close());

const session = (extra: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: servers.connectTo, ca: servers.ca, ...extra });
const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=ann&password=pw' };
const codes = (hops: readonly Hop[]) => diagnose(hops).map((f) => `${f.code}@${f.hop}:${f.severity}`);

describe('a correct login is clean', () => {
  test('POST answered 302 with the session cookie, then a GET of the dashboard: an info note only', async () => {
    const res = await session().fetch(`${APP}/ok/login`, form);
    assert.equal(res.status, 200);
    const findings = diagnose(res.hops);
    assert.deepEqual(codes(res.hops), ['post-became-get@0:info']);
    assert.equal(hasProblems(findings), false);
    assert.doesNotMatch(findings[0]!.fix.client, /send the POST/);
    // what the server got: the session cookie on the GET
    assert.equal(servers.at('app.example.com').at(-1)?.headers.cookie, 'sid=good-session-1');
  });
  test('POST answered 303: no finding at all', async () => {
    const res = await session().fetch(`${APP}/ok/login?see-other`, form);
    assert.equal(res.status, 200);
    assert.deepEqual(diagnose(res.hops), []);
  });
});

describe('a session that disappears', () => {
  test('deleted by the response to the request that carried it, then back to the login form (200)', async () => {
    const res = await session().fetch(`${APP}/deleted/login`, form);
    assert.equal(res.status, 200);
    assert.equal(servers.at('app.example.com').at(-2)?.headers.cookie, 'sid=doomed-session-2');
    assert.equal(servers.at('app.example.com').at(-1)?.headers.cookie, undefined);
    assert.deepEqual(codes(res.hops), ['post-became-get@0:info', 'session-cookie-deleted@1:warning', 'session-lost-to-login@2:warning']);
    const findings = diagnose(res.hops);
    const deleted = findings[1]!;
    assert.equal(deleted.facts.sentOnThisHop, true);
    assert.match(deleted.title, /deleted cookie sid, which this request carried/);
    const lost = findings[2]!;
    assert.deepEqual(lost.facts.cookiesGone, ['sid deleted']);
    assert.match(lost.title, /the chain still ends 200/);
    // the decision the doctor read: recorded by absorb, with the deleted cookie's attributes
    const d = res.hops[1]!.decisions.find((x) => x.subject === 'set-cookie');
    assert.deepEqual(d && { action: d.action, reason: d.reason, facts: d.facts }, {
      action: 'dropped',
      reason: 'deleted',
      facts: { domain: 'app.example.com', path: '/', hostOnly: true, secure: false, sentOnThisHop: true },
    });
  });

  test('two backends: the session sent to the other one, bounced to the login page; the fingerprints say so', async () => {
    const res = await session().fetch(`${APP}/rr/login`, form);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.hops.map((h) => h.backend),
      [
        { headers: { server: 'app/1.0', 'x-served-by': 'web-a' }, affinityCookies: ['SERVERID'] },
        { headers: { server: 'app/1.0', 'x-served-by': 'web-b' } },
        { headers: { server: 'app/1.0', 'x-served-by': 'web-b' } },
      ],
    );
    const lost = diagnose(res.hops).find((f) => f.code === 'session-lost-to-login')!;
    assert.equal(lost.hop, 2);
    // the affinity cookie went back too: the balancer did not honour it
    assert.deepEqual(lost.facts.cookiesSentAfter, ['sid', 'SERVERID']);
    assert.equal(servers.at('app.example.com').at(-2)?.headers.cookie, 'sid=rr-session-3; SERVERID=web-a');
    assert.match(
      lost.title,
      /although sid, SERVERID were sent: the server did not recognise the session; two backends answered this chain \(x-served-by: web-a \(hop 0\), x-served-by: web-b \(hops 1, 2\)\)/,
    );
    assert.match(lost.fix.server, /affinity cookie SERVERID/);
  });

  test("evicted by the jar's limits to make room for other cookies", async () => {
    const jar = new CookieJar({ maxCookiesPerDomain: 2 });
    const res = await session({ cookies: jar }).fetch(`${APP}/full/login`);
    const evicted = res.hops[1]!.decisions.filter((d) => d.subject === 'set-cookie' && d.reason === 'evicted');
    assert.deepEqual(
      evicted.map((d) => [d.name, d.facts && 'evictedBy' in d.facts ? d.facts.evictedBy : undefined]),
      [['sid', 'p2']],
    );
    const f = diagnose(res.hops);
    assert.deepEqual(codes(res.hops), ['session-cookie-evicted@1:warning']);
    assert.equal(f[0]!.title, 'The jar evicted cookie sid (stored at hop 0) to make room for p2 set at hop 1');
    // the jar no longer has it
    assert.equal(jar.getCookieString(`${APP}/`), 'p1=1; p2=2');
  });
});
