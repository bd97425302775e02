/**
 * `npm test`: every test/*.test.ts through node:test (each file in its own process, under tsx),
 * CONCURRENCY files at a time, the longest files first. `node --test` starts files in alphabetical
 * order, which started the Chromium suites and `record` midway and left them running alone at the
 * end; started first, they run beside the many short files instead. The order changes nothing else:
 * every file runs, in a process of its own, as `node --import tsx --test test/X.test.ts` runs it.
 *
 *   npm test                              # the whole suite
 *   npm test -- test/a.test.ts ...        # these files only
 *   npm test -- --test-name-pattern=RE    # the tests whose name matches (repeatable), as with node --test
 *
 * The report is node's own: spec on a terminal, TAP otherwise (as `node --test` chooses).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

/** Files at once: the machine this is tuned on has 2 cores, and many files mostly wait on sockets and timers. */
const CONCURRENCY = 4;

/** The files that take longest (wall time, most of it Chromium, child processes or timers), longest first. */
const LONGEST_FIRST = [
  'transport-exchange-review',
  'html-chromium',
  'doctor-har',
  'record',
  'doctor-fixes',
  'errors-body',
  'doctor-shared-store',
  'redis-fleet',
  'redis-store',
  'redis-batch',
  'redis-batch-review',
  'fetch-sdks-more',
  'cli-e2e',
  'lab-lifecycle',
  'lab-proxy',
  'session-redirects',
  'session-transport',
  'session-hardening',
  'cookies-internals',
];

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const rank = (f: string): number => {
  const i = LONGEST_FIRST.indexOf(f.slice(0, -'.test.ts'.length));
  return i < 0 ? LONGEST_FIRST.length : i;
};
const args = process.argv.slice(2);
const patterns = args.filter((a) => a.startsWith('--test-name-pattern=')).map((a) => a.slice('--test-name-pattern='.length));
const unknown = args.filter((a) => a.startsWith('-') && !a.startsWith('--test-name-pattern='));
if (unknown.length > 0) {
  process.stderr.write(`test/run.ts: unknown option ${unknown.join(' ')} (it takes test files and --test-name-pattern=RE)\n`);
  process.exit(2);
}
const asked = args.filter((a) => !a.startsWith('-')).map((f) => resolve(f));
const files = asked.length > 0 ? asked : all.sort((a, b) => rank(a) - rank(b)).map((f) => join(dir, f));

const stream = run({ files, concurrency: CONCURRENCY, ...(patterns.length > 0 ? { testNamePatterns: patterns } : {}) });
// a failed test fails the run (a failing todo test does not, as with node --test)
stream.on('test:fail', (t) => {
  if (t.todo === undefined || t.todo === false) process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
