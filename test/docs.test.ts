import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CODES, REASONS } from '../src/index.ts';

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
