// The HTML report in a real browser: every lab case through `hopwise doctor --json --html FILE`
// (in-process, against one lab), then the page opened from file:// in Debian's Chromium (over the
// DevTools protocol, test/helpers/chromium.ts). Each page must render without a console error or a
// request of any kind, show every hop and every finding the doctor returned (visible, not just in
// the DOM), mark the decisions, and hold no secret: not the lab's token or API key, and not one of
// the session cookie values the lab's servers issued. Plus `hopwise trace --html`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLab, LAB_API_KEY, LAB_TOKEN, type Lab } from '../src/lab/index.js';
import { caseArgv, caseKey } from '../src/cli/scenarios.js';
import type { Finding } from '../src/doctor/index.js';
import { runCli } from './helpers/cli.ts';
import { chromiumSkip, launchChromium, type ChromiumBrowser, type ChromiumPage } from './helpers/chromium.ts';

interface PageFacts {
  hops: { hop: string; visible: boolean; text: string }[];
  findings: { code: string; hop: string; visible: boolean }[];
  marks: string[];
  html: string;
  scripts: number;
  links: string[];
}

/** What the page shows, read in the page (`offsetParent` and a non-empty box: laid out and visible). */
const READ = `(() => {
  const visible = (e) => e.offsetParent !== null && e.getBoundingClientRect().height > 0;
  return {
    hops: [...document.querySelectorAll('li.hop')].map((e) => ({ hop: e.dataset.hop, visible: visible(e), text: e.querySelector('h3').textContent })),
    findings: [...document.querySelectorAll('article.finding')].map((e) => ({ code: e.dataset.finding, hop: e.dataset.hop, visible: visible(e) })),
    marks: [...document.querySelectorAll('li.decision')].map((e) => e.dataset.mark),
    html: document.documentElement.outerHTML,
    scripts: document.scripts.length,
    links: [...document.querySelectorAll('[href],[src]')].map((e) => e.getAttribute('href') ?? e.getAttribute('src')),
  };
})()`;

/** How many lab scenarios are played at once, each in a tab of its own. */
const TABS = 4;

describe('the HTML report in Chromium', { skip: chromiumSkip() }, () => {
  let lab: Lab;
  let browser: ChromiumBrowser;
  let page: ChromiumPage;
  let dir: string;
  before(async () => {
    lab = await startLab();
    browser = await launchChromium();
    page = await browser.newPage();
    dir = mkdtempSync(join(tmpdir(), 'hopwise-html-'));
  });
  after(async () => {
    await page?.close();
    await browser?.close();
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every lab case: no console error, no request, each hop and finding visible, no secret in the DOM', async () => {
    const problems: string[] = [];
    const marks = new Set<string>();
    // A scenario's cases share its lab log (reset before each case), so they go one after another;
    // scenarios go side by side, each worker with a tab of its own (its own console and HAR).
    const queue = [...lab.scenarios];
    const worker = async (): Promise<void> => {
      const page = await browser.newPage();
      try {
        for (let s = queue.shift(); s; s = queue.shift()) await playScenario(s, page);
      } finally {
        await page.close();
      }
    };
    const playScenario = async (s: Lab['scenarios'][number], page: ChromiumPage): Promise<void> => {
      for (const c of s.expect.cases) {
        const key = caseKey(s, c);
        lab.reset(s.id);
        const file = join(dir, `${s.id}-${c.name}.html`);
        const res = await runCli(['doctor', '--json', '--html', file, ...caseArgv(c, lab)]);
        const out = JSON.parse(res.stdout) as { findings: Finding[]; hops: { index: number }[] };
        // what the servers of this case issued and received: every cookie value is a secret
        const secrets = [LAB_TOKEN, LAB_API_KEY];
        for (const r of lab.received(s.id)) {
          for (const pair of (r.headers.cookie ?? '').split(';')) {
            const v = pair.slice(pair.indexOf('=') + 1).trim();
            if (v.length >= 8) secrets.push(v);
          }
        }
        page.clearHar();
        const before = page.consoleErrors().length;
        await page.goto(pathToFileURL(file).href, { quietMs: 30 });
        const got = await page.evaluate<PageFacts>(READ);
        const errors = page.consoleErrors().slice(before);
        if (errors.length) problems.push(`${key}: console errors ${JSON.stringify(errors)}`);
        const requests = page
          .har()
          .log.entries.map((e) => e.request.url)
          .filter((u) => !u.startsWith('file:'));
        if (requests.length) problems.push(`${key}: the page made requests ${requests.join(', ')}`);
        if (got.scripts !== 0) problems.push(`${key}: ${got.scripts} scripts`);
        for (const l of got.links) if (!l.startsWith('#')) problems.push(`${key}: a link or source out of the page: ${l}`);
        const hopIds = got.hops.filter((h) => h.visible).map((h) => Number(h.hop));
        if (JSON.stringify(hopIds) !== JSON.stringify(out.hops.map((h) => h.index))) problems.push(`${key}: hops shown ${JSON.stringify(hopIds)}, trace ${out.hops.length}`);
        const shown = got.findings.filter((f) => f.visible).map((f) => `${f.code}@${f.hop}`);
        const want = out.findings.map((f) => `${f.code}@${f.hop}`);
        if (JSON.stringify(shown) !== JSON.stringify(want)) problems.push(`${key}: findings shown ${shown.join(', ')}; doctor said ${want.join(', ')}`);
        for (const secret of secrets) if (got.html.includes(secret)) problems.push(`${key}: a secret is in the DOM (${secret.slice(0, 4)}…)`);
        for (const m of got.marks) marks.add(m);
      }
    };
    await Promise.all(Array.from({ length: TABS }, worker));
    assert.deepEqual(problems, []);
    // the decisions are marked with the words of the trace: what was sent, stripped, withheld, stored, rejected, followed
    for (const m of ['sent', 'stripped', 'withheld', 'stored', 'rejected', 'followed', 'replayed']) assert.ok(marks.has(m), `some page marks a decision "${m}" (${[...marks].join(', ')})`);
  });

  test('`hopwise trace --html` writes the same page for a chain, with the findings on top', async () => {
    const s = lab.scenarios.find((x) => x.id === 'cookie-path')!;
    const c = s.expect.cases.find((x) => x.name === 'path-app')!;
    lab.reset(s.id);
    const file = join(dir, 'trace.html');
    const res = await runCli(['trace', '--html', file, ...caseArgv(c, lab)]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /HTML written to .*trace\.html \(2 hops, 2 findings, secrets redacted\)/);
    await page.goto(pathToFileURL(file).href, { quietMs: 30 });
    const got = await page.evaluate<PageFacts>(READ);
    assert.deepEqual(
      got.findings.map((f) => f.code),
      ['cookie-withheld-path', 'unauthorized-after-redirect'],
    );
    assert.match(got.hops[1]!.text, /#1 GET https:\/\/app\.hopwise\.test\/cookie-path\/dashboard 401 Unauthorized/);
    assert.ok(got.marks.includes('withheld'));
    const title = await page.evaluate<string>('document.title');
    assert.equal(title, 'hopwise trace — https://app.hopwise.test/cookie-path/login');
  });
});
