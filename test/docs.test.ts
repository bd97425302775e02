import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CODES, FINDINGS, REASONS } from '../src/index.ts';
import { labScenarios } from '../src/lab/index.ts';
import { FLAGS, parseArgs, TASKS } from '../src/cli/args.ts';
import { EXIT_CODES } from '../src/cli/exit.ts';
import { IGNORED_INIT, KNOWN_INIT } from '../src/options.ts';

// The README is the tour; the reference lives in docs/*.md, which ship with the package. Each check
// reads the page a code or a flag belongs on, so moving a section means moving its check with it.
const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const pages = new Map<string, string>(
  readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md'))
    .map((f) => [f, readFileSync(new URL(`docs/${f}`, root), 'utf8')]),
);
/** One docs page; fails when it is missing. */
function page(name: string): string {
  const text = pages.get(name);
  assert.ok(text !== undefined, `docs/${name} exists`);
  return text;
}
/** The text between `<!-- name:start -->` and `<!-- name:end -->` of a page. */
function marked(text: string, name: string): string {
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  assert.ok(start >= 0 && end > start, `markers ${name}:start / ${name}:end`);
  return text.slice(start, end);
}
/** The first column of a markdown table's rows: `| \`code\` | ...` → code. */
function firstColumnCodes(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\| `[^`]+`/.test(l))
    .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

const trace = page('trace.md');
const errors = page('errors.md');
const session = page('session.md');
const cliPage = page('cli.md');

it('opens the README with the two commands and links every docs page from it', () => {
  const head = readme.slice(0, 2000);
  assert.ok(head.includes('npm install && npm start') && head.includes('npm test'));
  for (const name of pages.keys()) assert.ok(readme.includes(`](docs/${name})`), `README links docs/${name}`);
  assert.ok(readme.split('\n').length < 400, 'README stays a tour: under 400 lines');
});

it('lists every reason code, and only those, in the reason table of docs/trace.md', () => {
  assert.deepEqual(firstColumnCodes(marked(trace, 'reasons')).sort(), Object.keys(REASONS).sort());
});

it('documents every error code in docs/errors.md', () => {
  const table = firstColumnCodes(errors);
  for (const code of Object.keys(ERROR_CODES)) assert.ok(table.includes(code), `docs/errors.md lacks error ${code}`);
  for (const code of table) assert.ok(code in ERROR_CODES, `docs/errors.md lists ${code}, which is no error code`);
});

it("lists every finding code with its severity and meaning in docs/cli.md's findings table", () => {
  const start = cliPage.indexOf('### Findings');
  assert.ok(start > 0, 'docs/cli.md has the findings table');
  const rows = cliPage
    .slice(start)
    .split('\n')
    .filter((l) => /^\| `[a-z-]+` \| (error|warning|info) \|/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  const want = Object.entries(FINDINGS as Record<string, { severity: string; meaning: string }>).map(([code, f]) => [code, f.severity, f.meaning]);
  assert.deepEqual(
    rows.map(([code, severity, meaning]) => [code!.replace(/`/g, ''), severity, meaning]),
    want,
  );
});

it("documents every session option in docs/session.md's option table, and fetch()'s init keys", () => {
  // the option names new Session() accepts, as src/options.ts lists them for its unknown-option check
  const source = readFileSync(new URL('src/options.ts', root), 'utf8');
  const list = (name: string) => [...source.match(new RegExp(`const ${name} = \\[([^\\]]*)\\]`))![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  const options = list('KNOWN');
  assert.ok(options.length > 20, 'found the option list');
  const table = firstColumnCodes(session);
  const missing = options.filter((o) => !table.includes(o) && !table.some((c) => c.startsWith(`${o}.`)));
  assert.deepEqual(missing, [], 'options without a row in docs/session.md');
  for (const k of list('KNOWN_TIMEOUT')) assert.match(session, new RegExp(`\\b${k}\\b`), `timeout.${k}`);
  for (const k of [...KNOWN_INIT, ...IGNORED_INIT]) assert.ok(session.includes(`\`${k}\``) || session.includes(` ${k},`) || session.includes(`{ ${k},`), `fetch() init key ${k}`);
});

it('has relative links and anchors that resolve, in the README and in every docs page', () => {
  const slug = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
  const anchors = (text: string) =>
    new Set(
      text
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => slug(l.replace(/^#+ /, ''))),
    );
  const files = new Map<string, string>([['README.md', readme], ...[...pages].map(([n, t]) => [`docs/${n}`, t] as [string, string])]);
  const bad: string[] = [];
  for (const [file, text] of files) {
    const prose = text
      .split('```')
      .filter((_, i) => i % 2 === 0)
      .join('');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!;
      if (/^[a-z]+:/.test(href)) continue;
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path === '' ? file : new URL(path, new URL(file, root)).pathname.slice(new URL(root).pathname.length);
      if (!existsSync(new URL(target, root))) {
        bad.push(`${file}: ${href} (no file)`);
        continue;
      }
      const targetText = files.get(target);
      if (anchor && targetText && !anchors(targetText).has(anchor)) bad.push(`${file}: ${href} (no heading)`);
    }
  }
  assert.deepEqual(bad, []);
});

it('speaks to users only: no internal words, and no paths into files the package does not ship', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { files: string[] };
  for (const shipped of ['dist', 'docs', 'README.md', 'LICENSE']) assert.ok(pkg.files.includes(shipped), `package.json files has ${shipped}`);
  assert.ok(existsSync(new URL('LICENSE', root)), 'LICENSE exists');
  const bad: string[] = [];
  for (const [file, text] of [['README.md', readme], ...[...pages].map(([n, t]) => [`docs/${n}`, t])] as [string, string][]) {
    for (const m of text.matchAll(/\bseeds?\b|DESIGN\.md|(?<![\w/.-])(?:src|test|bench|scripts)\/[\w./-]+/gi)) bad.push(`${file}: ${m[0]}`);
  }
  assert.deepEqual(bad, []);
});

/** Rows of docs/cli.md's table of lab cases: `| # | \`id\` | case | setup | findings |`. */
function scenarioTableRows(): { item: number; id: string; name: string; setup: string; findings: string[] }[] {
  const start = cliPage.indexOf('### Each lab scenario and what the doctor says');
  assert.ok(start > 0, 'docs/cli.md has the table of lab scenarios and findings');
  const lines = cliPage.slice(start).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  const rows = table
    .slice(
      0,
      table.findIndex((l) => !l.startsWith('|')),
    )
    .slice(2);
  return rows.map((l) => {
    const [item, id, name, setup, findings] = l
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    return {
      item: Number(item),
      id: id!.replace(/`/g, ''),
      name: name!,
      setup: setup!,
      findings: findings === 'clean' ? [] : findings!.split(', ').map((f) => f.replace(/`/g, '')),
    };
  });
}

it("lists every lab case in docs/cli.md's table of findings with the findings the case records", () => {
  const want = labScenarios().flatMap((s) => s.expect.cases.map((c) => ({ item: s.item, id: s.id, name: c.name, setup: c.setup, findings: [...new Set(c.findings)].sort() })));
  const got = scenarioTableRows().map((r) => ({ ...r, findings: [...new Set(r.findings)].sort() }));
  assert.deepEqual(got, want);
});

it("shows in docs/cli.md's demo excerpt the findings each case records", () => {
  const start = cliPage.indexOf('#   scenario   ');
  assert.ok(start > 0, 'docs/cli.md has the demo table');
  const rows = cliPage.slice(start).split('\n').slice(1);
  const table = rows.slice(
    0,
    rows.findIndex((l) => !/^\d+ /.test(l)),
  );
  const byKey = new Map<string, string[]>(labScenarios().flatMap((s) => s.expect.cases.map((c) => [`${s.id}/${c.name}`, [...new Set(c.findings)].sort()] as const)));
  const seen: string[] = [];
  for (const line of table) {
    const [, id, name, , doctor] = line.split(/ {2,}/);
    const key = `${id}/${name}`;
    seen.push(key);
    const codes = doctor === 'clean' ? [] : doctor!.split(', ').map((f) => f.replace(/ \(info\)$/, ''));
    assert.deepEqual([...new Set(codes)].sort(), byKey.get(key), key);
  }
  assert.deepEqual(seen, [...byKey.keys()]);
});

it("names in the doctor's fix texts only flags that the CLI's flag table has", () => {
  const known = new Set(FLAGS.flatMap((f) => f.names));
  const dir = new URL('../src/doctor/', import.meta.url);
  const named = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) named.set(m[0], file);
  }
  assert.ok(named.size > 0, 'the doctor names some flags');
  const unknown = [...named].filter(([flag]) => !known.has(flag)).map(([flag, file]) => `${flag} (src/doctor/${file})`);
  assert.deepEqual(unknown, []);
});

const cliSection = marked(cliPage, 'cli');

it("documents every flag of the CLI's flag table in docs/cli.md's CLI section", () => {
  const missing = FLAGS.flatMap((f) => f.names).filter((n) => !new RegExp(`(?<![\\w-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(cliSection));
  assert.deepEqual(missing, []);
});

it('documents exactly the exit codes of hopwise URL, in docs/cli.md and in hopwise help exit', () => {
  const start = cliSection.indexOf('### Exit status');
  const rows = cliSection
    .slice(start, cliSection.indexOf('| command |', start))
    .split('\n')
    .filter((l) => /^\| \d+ \|/.test(l));
  assert.deepEqual(
    rows.map((l) => Number(l.split('|')[1])),
    EXIT_CODES.map((e) => e.code),
  );
  for (const e of EXIT_CODES) {
    const row = rows.find((l) => Number(l.split('|')[1]) === e.code)!;
    // the same words as `hopwise help exit`, with the README's code formatting
    assert.equal(row.split('|')[2]!.trim().replace(/`/g, ''), e.meaning, `exit ${e.code}`);
  }
  for (const code of [0, 6, 7, 22, 28, 35, 47, 52, 56])
    assert.ok(
      EXIT_CODES.some((e) => e.code === code),
      `curl's ${code}`,
    );
});

/** Shell words of one command line: quotes removed, stops at a pipe, redirection or `||`. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\|\|?|>|<)|([^\s"'|<>]+)/g)) {
    if (m[3]) break;
    words.push(m[1] ?? m[2] ?? m[4]!);
  }
  return words;
}

it('every hopwise example in the README, the docs pages and the help parses', () => {
  // commands in ```sh blocks, and `$ hopwise ...` lines of the sample runs
  const blocks = [readme, ...pages.values()].flatMap((text) => text.split('```').filter((_, i) => i % 2 === 1));
  const fromDocs = blocks.flatMap((b) => b.split('\n').filter((l) => (b.startsWith('sh\n') && /^hopwise /.test(l)) || /^\$ hopwise /.test(l)));
  const lines = [...fromDocs, ...TASKS.flatMap((t) => t.examples)];
  assert.ok(lines.length > 20);
  const bad: string[] = [];
  for (const line of lines) {
    const argv = shellWords(line.replace(/^\$ /, ''))
      .slice(1)
      .filter((w) => w !== '$LAB');
    try {
      parseArgs(argv);
    } catch (e) {
      bad.push(`${line}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(bad, []);
});
