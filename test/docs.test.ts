import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CODES, REASONS } from '../src/index.ts';
import { labScenarios } from '../src/lab/index.ts';
import { FLAGS, parseArgs, TASKS } from '../src/cli/args.ts';
import { EXIT_CODES } from '../src/cli/exit.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

it('documents every reason code in the README', () => {
  for (const code of Object.keys(REASONS)) assert.ok(readme.includes(`\`${code}\``), `README lacks reason ${code}`);
});

it('documents every error code in the README', () => {
  for (const code of Object.keys(ERROR_CODES)) assert.ok(readme.includes(code), `README lacks error ${code}`);
});

it('opens with the two commands', () => {
  const head = readme.slice(0, 2000);
  assert.ok(head.includes('npm install && npm start') && head.includes('npm test'));
});

/** Rows of the README's table of lab cases: `| # | \`id\` | case | setup | findings |`. */
function scenarioTableRows(): { item: number; id: string; name: string; setup: string; findings: string[] }[] {
  const start = readme.indexOf('### Each lab scenario and what the doctor says');
  assert.ok(start > 0, 'README has the table of lab scenarios and findings');
  const lines = readme.slice(start).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  const rows = table.slice(0, table.findIndex((l) => !l.startsWith('|'))).slice(2);
  return rows.map((l) => {
    const [item, id, name, setup, findings] = l.slice(1, -1).split(' | ').map((c) => c.trim());
    return {
      item: Number(item),
      id: id!.replace(/`/g, ''),
      name: name!,
      setup: setup!,
      findings: findings === 'clean' ? [] : findings!.split(', ').map((f) => f.replace(/`/g, '')),
    };
  });
}

it("lists every lab case in the README's table of findings with the findings the case records", () => {
  const want = labScenarios().flatMap((s) =>
    s.expect.cases.map((c) => ({ item: s.item, id: s.id, name: c.name, setup: c.setup, findings: [...new Set(c.findings)].sort() })),
  );
  const got = scenarioTableRows().map((r) => ({ ...r, findings: [...new Set(r.findings)].sort() }));
  assert.deepEqual(got, want);
});

it("shows in the README's demo excerpt the findings each case records", () => {
  const start = readme.indexOf('#   scenario   ');
  assert.ok(start > 0, 'README has the demo table');
  const rows = readme.slice(start).split('\n').slice(1);
  const table = rows.slice(0, rows.findIndex((l) => !/^\d+ /.test(l)));
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

const cliSection = readme.slice(readme.indexOf('<!-- cli:start -->'), readme.indexOf('<!-- cli:end -->'));

it("documents every flag of the CLI's flag table in the README's CLI section", () => {
  const missing = FLAGS.flatMap((f) => f.names).filter((n) => !new RegExp(`(?<![\\w-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(cliSection));
  assert.deepEqual(missing, []);
});

it('documents exactly the exit codes of hopwise URL, in the README and in hopwise help exit', () => {
  const start = cliSection.indexOf('### Exit status');
  const rows = cliSection.slice(start, cliSection.indexOf('| command |', start)).split('\n').filter((l) => /^\| \d+ \|/.test(l));
  assert.deepEqual(rows.map((l) => Number(l.split('|')[1])), EXIT_CODES.map((e) => e.code));
  for (const e of EXIT_CODES) {
    const row = rows.find((l) => Number(l.split('|')[1]) === e.code)!;
    // the same words as `hopwise help exit`, with the README's code formatting
    assert.equal(row.split('|')[2]!.trim().replace(/`/g, ''), e.meaning, `exit ${e.code}`);
  }
  for (const code of [0, 6, 7, 22, 28, 35, 47, 52, 56]) assert.ok(EXIT_CODES.some((e) => e.code === code), `curl's ${code}`);
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

it('every hopwise example in the README and in the help parses', () => {
  // commands in ```sh blocks, and `$ hopwise ...` lines of the sample runs
  const blocks = cliSection.split('```').filter((_, i) => i % 2 === 1);
  const fromReadme = blocks.flatMap((b) => b.split('\n').filter((l) => (b.startsWith('sh\n') && /^hopwise /.test(l)) || /^\$ hopwise /.test(l)));
  const lines = [...fromReadme, ...TASKS.flatMap((t) => t.examples)];
  assert.ok(lines.length > 20);
  const bad: string[] = [];
  for (const line of lines) {
    const argv = shellWords(line.replace(/^\$ /, '')).slice(1).filter((w) => w !== '$LAB');
    try {
      parseArgs(argv);
    } catch (e) {
      bad.push(`${line}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(bad, []);
});
