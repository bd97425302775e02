// `hopwise doctor --har` on HARs recorded by a real browser: Debian's Chromium drives every lab
// scenario (one browser for the file, a fresh browser context per scenario), the HAR is built from
// its DevTools Network events (test/helpers/chromium.ts), and the doctor must name the cause. The
// replay must agree with Chromium itself: the cookies it says a browser sends are the ones Chromium
// sent, and the cookies it withholds for SameSite are the ones Chromium reports as blocked for SameSite.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, LAB_API_KEY, LAB_TOKEN, type Lab, type ReceivedRequest } from '../src/lab/index.ts';
import { diagnoseHar, type FindingCode, type HarDiagnosis } from '../src/index.ts';
import { chromiumSkip, launchChromium, type ChromiumBrowser, type ChromiumHar } from './helpers/chromium.ts';
import { runCli } from './helpers/cli.ts';
import { redirect, startServers, type TestServers } from './helpers/servers.ts';

/**
 * What the doctor names for each scenario as a browser plays it: a top-level navigation to the
 * scenario's entry, except the header stories, played as a page's fetch() with an Authorization or
 * X-Api-Key header (FETCHED), and `post-redirects` and `upload-307`, played as a form POST (POSTED).
 * In upload-307 Chromium resends the form's body through the 307 to eu.s3 (another origin); in
 * api-key-header the page on app.hopwise.test calls the API (the lab answers the CORS preflights
 * of a request with an Origin) and Chromium, after a second preflight at the CDN, sends X-Api-Key
 * on to cdn.hopwise.test: the leak the doctor names.
 */
const EXPECT: Record<string, FindingCode[]> = {
  'same-origin-auth': [],
  'cross-origin-auth': ['credential-stripped-cross-origin', 'unauthorized-after-redirect'],
  'open-redirect': ['credential-stripped-cross-origin'],
  'post-redirects': ['post-became-get'],
  'login-session': [],
  'cookie-path': ['cookie-withheld-path', 'unauthorized-after-redirect'],
  'meta-refresh': ['client-side-redirect'],
  'subdomain-cookie': ['cookie-withheld-host-only', 'unauthorized-after-redirect'],
  'https-upgrade': [],
  'https-downgrade': ['downgrade-followed', 'cookie-withheld-secure'],
  'round-robin': ['session-cookie-replaced', 'unauthorized-after-redirect'],
  'redirect-loop': ['redirect-loop'],
  'long-chain': ['too-many-redirects'],
  'upload-307': ['cross-origin-body-sent'],
  'api-key-header': ['secret-sent-cross-origin'],
  'samesite-strict-idp': ['client-side-redirect', 'cookie-withheld-samesite', 'unauthorized-after-redirect'],
  'samesite-lax-form-post': ['cookie-withheld-samesite', 'unauthorized-after-redirect'],
};

/** Scenarios played as `fetch(entry, { headers })` from a page of the entry's origin (or PAGE), with these headers. */
const BEARER_HEADERS = { Authorization: `Bearer ${LAB_TOKEN}` };
const FETCHED: Record<string, Record<string, string>> = {
  'same-origin-auth': BEARER_HEADERS,
  'cross-origin-auth': BEARER_HEADERS,
  'open-redirect': BEARER_HEADERS,
  'api-key-header': { 'X-Api-Key': LAB_API_KEY },
};
/** The page whose script calls the API, when it is not on the entry's origin (a web app calling another origin's API). */
const PAGE: Record<string, string> = { 'api-key-header': 'https://app.hopwise.test/api-key-header/page' };
/** Scenarios played as a form that posts itself from a data: page (another origin) to a path of the scenario. */
const POSTED: Record<string, { path: string | undefined; body: string }> = {
  'post-redirects': { path: '/302', body: 'alice' },
  'upload-307': { path: undefined, body: 'x'.repeat(1024) },
};

/** How many scenarios play at once (each a browser context with its own renderer, on a 2-core machine). */
const SIDE_BY_SIDE = 6;

/** Findings that would mean the replay and the browser disagree (unless EXPECT names them: a browser's real leak). */
const DISAGREE: FindingCode[] = ['cookie-not-sent', 'cookie-sent-against-rules', 'secret-sent-cross-origin', 'credential-dropped-same-origin'];

/** What the lab received from Chromium, and what the doctor says of it, where the story is the browser's own doing. */
const SEEN: Record<string, (received: ReceivedRequest[], d: HarDiagnosis) => void> = {
  'upload-307': (received, d) => {
    // Chromium resent the form's body through the 307, to the other origin.
    assert.deepEqual(
      received.map((r) => `${r.method} ${r.host} ${r.bodySize}`),
      ['POST s3.hopwise.test 1029', 'POST eu.s3.hopwise.test 1029'],
    );
    const f = d.findings.find((x) => x.code === 'cross-origin-body-sent')!;
    assert.equal(f.hop, 0);
    assert.equal(f.title, 'The browser resent the request body (1029 bytes) to eu.s3.hopwise.test at hop 1: a 307 keeps method and body, and the redirect crossed to another origin');
  },
  'api-key-header': (received, d) => {
    // A preflight at each origin (the second with the tainted Origin: null), and the key at both.
    assert.deepEqual(
      received.filter((r) => !r.url.endsWith('/page')).map((r) => `${r.method} ${r.host} ${r.headers['origin']} ${r.headers['access-control-request-headers'] ?? r.headers['x-api-key'] ?? '-'}`),
      [
        'OPTIONS api.hopwise.test https://app.hopwise.test x-api-key',
        `GET api.hopwise.test https://app.hopwise.test ${LAB_API_KEY}`,
        'OPTIONS cdn.hopwise.test null x-api-key',
        `GET cdn.hopwise.test null ${LAB_API_KEY}`,
      ],
    );
    const f = d.findings.find((x) => x.code === 'secret-sent-cross-origin')!;
    assert.equal(f.hop, 1);
    assert.equal(f.facts.header, 'x-api-key');
    assert.equal(f.title, 'The browser sent X-Api-Key to another origin at hop 1 (a leak): api.hopwise.test → cdn.hopwise.test');
    assert.doesNotMatch(JSON.stringify(d), new RegExp(LAB_API_KEY), 'the key itself is redacted');
  },
};

describe('Chromium HARs of the lab scenarios', { skip: chromiumSkip() }, () => {
  let lab: Lab;
  let servers: TestServers;
  let browser: ChromiumBrowser;
  let dir: string;
  const hars = new Map<string, ChromiumHar>();

  before(async () => {
    lab = await startLab();
    dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
    // Every lab host on its logical port goes to the lab's real port.
    const hostRules = lab.hosts.flatMap((h) => [`MAP ${h}:443 127.0.0.1:${lab.ports.https}`, `MAP ${h}:80 127.0.0.1:${lab.ports.http}`, `MAP ${h}:8080 127.0.0.1:${lab.ports.alt}`]);
    // A server of our own for the cookie-storage rules: /login sets one cookie of each kind.
    servers = await startServers((req, res) => {
      if (req.url === '/login') {
        return redirect(res, 302, '/home', {
          'set-cookie': [
            '__Host-ok=1; Path=/; Secure',
            '__Host-domain=1; Path=/; Secure; Domain=example.com',
            '__Secure-plain=1; Path=/',
            'none-insecure=1; Path=/; SameSite=None',
            'none-secure=1; Path=/; SameSite=None; Secure',
            'plain=1; Path=/',
          ],
        });
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('home');
    });
    const tls = servers.connectTo
      .find((c) => c.startsWith(':443:'))!
      .split(':')
      .pop();
    hostRules.push(`MAP app.example.com:443 127.0.0.1:${tls}`);
    browser = await launchChromium({ hostRules });
  });
  after(async () => {
    await browser?.close();
    await lab?.close();
    await servers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The scenario played in a fresh browser context; its HAR, kept for the CLI checks. */
  async function record(id: string, url: string, fetchUrl?: string, headers: Record<string, string> = BEARER_HEADERS): Promise<ChromiumHar> {
    const page = await browser.newPage();
    try {
      await page.goto(url, { timeoutMs: 15_000 });
      if (fetchUrl !== undefined) {
        // The page's script calls the API with its token; a CORS failure at the end is fine (the
        // requests were made and recorded).
        await page.evaluate(`fetch(${JSON.stringify(fetchUrl)}, { headers: ${JSON.stringify(headers)} }).then((r) => r.text().then(() => r.status), (e) => String(e))`);
        await page.waitForQuiet();
      }
      const har = page.har();
      hars.set(id, har);
      return har;
    } finally {
      await page.close();
    }
  }

  /** Every SameSite block Chromium reported, as `hop entry url → names`, and the replay's own. */
  function sameSiteBlocks(har: ChromiumHar, d: HarDiagnosis): { chromium: string[]; replay: string[] } {
    const chromium = har.log.entries.flatMap((e) =>
      e._resourceType !== 'document' ? [] : e._chromium.blockedRequestCookies.filter((b) => b.reasons.some((r) => /SameSite/.test(r))).map((b) => `${e.request.url} ${b.name}`),
    );
    const replay = d.chains.flatMap((c) =>
      c.hops.flatMap((h) => h.decisions.flatMap((x) => (x.subject === 'cookie' && (x.reason === 'samesite-strict' || x.reason === 'samesite-lax') ? [`${h.url} ${x.name}`] : []))),
    );
    return { chromium: chromium.sort(), replay: replay.sort() };
  }

  // Each scenario has its own lab log and server-side state and plays in its own browser context, so
  // they play side by side: most of a scenario's time is waiting (a context starting, the network
  // going quiet), not work. The cookie-storage check has a server of its own. The SameSite fixes
  // below replay two of these scenarios, so they come after.
  describe('every lab scenario, each in its own browser context', { concurrency: SIDE_BY_SIDE }, () => {
    for (const [id, want] of Object.entries(EXPECT)) {
      test(`the doctor names the cause in Chromium's HAR of ${id}`, async () => {
        let url = lab.url(id);
        const posted = POSTED[id];
        if (posted) {
          // A form that posts itself (a page on another origin, as a login form on a landing page or an upload form).
          const action = posted.path === undefined ? lab.url(id) : lab.url(id, posted.path);
          const form = `<form method="post" action="${action}"><input name="user" value="${posted.body}"></form><script>document.forms[0].submit()</script>`;
          url = `data:text/html,${encodeURIComponent(form)}`;
        }
        const headers = FETCHED[id];
        const fetched = headers !== undefined;
        // a page on the entry's origin (the lab answers 404 there), whose script makes the call
        if (fetched) url = PAGE[id] ?? lab.url(id, '/page');
        const har = await record(id, url, fetched ? lab.url(id) : undefined, headers);
        const d = diagnoseHar(har);
        assert.equal(d.source.client, 'chromium');
        const codes = [...new Set(d.findings.map((f) => f.code))].filter((c) => c !== 'har-incomplete');
        assert.deepEqual(
          codes.sort(),
          [...want].sort(),
          JSON.stringify(
            d.findings.map((f) => [f.code, f.hop, f.title]),
            null,
            1,
          ),
        );
        for (const code of DISAGREE.filter((c) => !want.includes(c))) assert.ok(!(codes as string[]).includes(code), `${id}: the replay disagrees with Chromium (${code})`);
        // The chain is what the lab saw, in order (a loop or the limit stops the replay early).
        const chain = fetched ? d.chains.find((c) => c.kind === 'fetch')! : d.chains[0]!;
        assert.ok(chain, 'the chain is found');
        const seen = lab
          .received(id)
          // a CORS preflight is the browser's question before a hop, not a hop
          .filter((r) => r.method !== 'OPTIONS')
          .map((r) => `${r.method} ${r.url}`)
          .filter((r) => !fetched || !r.endsWith('/page'));
        assert.deepEqual(
          chain.hops.map((h) => `${h.method} ${h.url}`),
          seen.filter((s) => !s.endsWith('/favicon.ico')).slice(0, chain.hops.length),
        );
        const blocks = sameSiteBlocks(har, d);
        assert.deepEqual(blocks.replay, blocks.chromium, 'the cookies the replay withholds for SameSite are the ones Chromium blocked for SameSite');
        SEEN[id]?.(lab.received(id), d);
      });
    }

    test('prefixes, Secure and SameSite=None: the replay stores and sends exactly the cookies Chromium stored and sent', async () => {
      const har = await record('cookie-rules', 'https://app.example.com/login');
      const d = diagnoseHar(har);
      const home = d.chains[0]!.replay[1]!;
      assert.deepEqual([...home.cookies.actual!].sort(), ['__Host-ok', 'none-secure', 'plain']);
      assert.deepEqual([...home.cookies.expected].sort(), ['__Host-ok', 'none-secure', 'plain']);
      assert.deepEqual(
        servers
          .at('app.example.com')
          .at(-1)!
          .headers.cookie?.split('; ')
          .map((c) => c.split('=')[0])
          .sort(),
        ['__Host-ok', 'none-secure', 'plain'],
      );
      const rejected = d.chains[0]!.hops[0]!.decisions.flatMap((x) => (x.subject === 'set-cookie' && x.action === 'rejected' ? [`${x.name} ${x.reason}`] : []));
      assert.deepEqual(rejected.sort(), ['__Host-domain prefix-host', '__Secure-plain prefix-secure', 'none-insecure samesite-none-insecure']);
      // Chromium blocked the same three lines.
      const blocked = har.log.entries[0]!._chromium.blockedResponseCookies.map((b) => b.line.split('=')[0]).sort();
      assert.deepEqual(blocked, ['__Host-domain', '__Secure-plain', 'none-insecure']);
      assert.deepEqual([...new Set(d.findings.map((f) => f.code))].sort(), ['set-cookie-rejected-prefix', 'set-cookie-rejected-samesite-none']);
    });
  });

  test('the SameSite fixes are clean in Chromium: Lax through the identity provider, None; Secure on the form_post', async () => {
    const fixes = [
      ['samesite-strict-idp', '/start-lax'],
      ['samesite-lax-form-post', '/start-none'],
    ] as const;
    // two scenarios, two browser contexts: played side by side
    const hars = await Promise.all(fixes.map(([id, path]) => record(`${id}-fixed`, lab.url(id, path))));
    fixes.forEach(([id, path], i) => {
      const d = diagnoseHar(hars[i]!);
      const last = d.chains[0]!.hops.at(-1)!;
      assert.equal(last.status, 200, `${id}${path}: the callback got the session`);
      assert.deepEqual(
        d.findings.filter((f) => f.severity !== 'info').map((f) => f.code),
        [],
      );
    });
  });

  test('`hopwise doctor --har FILE` prints the SameSite cause and exits 1; --json carries the chains and findings', async () => {
    const har = hars.get('samesite-lax-form-post') ?? (await record('samesite-lax-form-post', lab.url('samesite-lax-form-post')));
    const file = join(dir, 'lax.har');
    writeFileSync(file, JSON.stringify(har));
    const text = await runCli(['doctor', '--har', file]);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /#2 POST https:\/\/app\.hopwise\.test\/samesite-lax-form-post\/callback \(form posted by the previous page\) → 401/);
    assert.match(text.stdout, /cookie-withheld-samesite \(hop 2\)/);
    assert.match(text.stdout, /The browser did not send sid at hop 2: it has SameSite=Lax and POST \/samesite-lax-form-post\/callback is a cross-site POST from login\.hopwise-idp\.test/);
    assert.doesNotMatch(text.stdout, /sid=[0-9a-f]{24}/, 'no cookie value in the output');
    const json = await runCli(['doctor', '--json', '--har', file]);
    assert.equal(json.code, 1);
    const out = JSON.parse(json.stdout) as HarDiagnosis;
    assert.equal(out.chains.length, 1);
    assert.deepEqual(
      out.chains[0]!.replay.map((r) => r.link.kind),
      ['start', 'redirect', 'form-post'],
    );
    assert.deepEqual(out.chains[0]!.replay[2]!.site, { sameSite: false, initiator: 'https://login.hopwise-idp.test', method: 'POST', through: [] });
    assert.ok(out.findings.some((f) => f.code === 'cookie-withheld-samesite' && f.facts.cookie === 'sid' && f.facts.sameSite === 'lax'));
    assert.doesNotMatch(json.stdout, /sid=[0-9a-f]{24}/, 'no cookie value in the JSON');
    // --html: the chain as one page, which Chromium renders without errors.
    const html = join(dir, 'lax.html');
    const page = await runCli(['doctor', '--har', file, '--html', html]);
    assert.equal(page.code, 1);
    assert.match(page.stderr, /HTML written to .*lax\.html \(chain 0 of 1: 3 hops, 2 findings, secrets redacted\)/);
    const tab = await browser.newPage();
    try {
      await tab.goto(`file://${html}`);
      const text = await tab.evaluate<string>('document.body.innerText');
      assert.match(text, /cookie-withheld-samesite/);
      assert.match(text, /samesite-lax-form-post\/callback/);
      assert.deepEqual(tab.consoleErrors(), []);
    } finally {
      await tab.close();
    }
  });
});
