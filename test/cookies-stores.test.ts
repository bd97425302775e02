// The two stores behind the same jar give the same answers: a property test drives a jar on the
// plain ReferenceStore and a jar on the FastStore with the same random Set-Cookie lines, requests
// and clock, and requires identical results for everything a caller can see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CookieJar, FastStore, ReferenceStore } from '../src/cookies/index.js';
import { cookieCommands, run } from './helpers/cookie-commands.ts';

const T0 = Date.UTC(2025, 0, 1);
const { commands, limits } = cookieCommands(T0);

/** The same jar twice: on the plain reference store and on the fast store. */
function twoJars(l: { maxCookiesPerDomain: number; maxCookies: number }, now: () => number): { reference: CookieJar; fast: CookieJar } {
  return { reference: new CookieJar({ ...l, now, store: new ReferenceStore() }), fast: new CookieJar({ ...l, now, store: new FastStore() }) };
}

test('a jar on the reference store and a jar on the fast store give identical results for any sequence', () => {
  fc.assert(
    fc.property(commands, limits, (commands, limits) => {
      let t = T0;
      const now = () => t;
      const { reference, fast } = twoJars(limits, now);
      for (const [i, c] of commands.entries()) {
        if (c.kind === 'tick') t += c.ms;
        assert.deepStrictEqual(run(fast, c), run(reference, c), `command ${i}: ${JSON.stringify(c)}`);
      }
      assert.deepStrictEqual(fast.cookies(), reference.cookies());
      assert.deepStrictEqual(fast.toJSON(), reference.toJSON());
    }),
    { numRuns: 200, seed: 6265 },
  );
});

test('the property test reaches every outcome: each reason, evictions, siblings left out, deletions', () => {
  // The same generator, sampled with the same seed: the comparison above is only worth what it
  // exercises, so check the interesting outcomes do occur.
  const seen = new Set<string>();
  const samples = fc.sample(fc.tuple(commands, limits), { numRuns: 200, seed: 6265 });
  for (const [commands, limits] of samples) {
    let t = T0;
    const jar = new CookieJar({ ...limits, now: () => t });
    for (const c of commands) {
      if (c.kind === 'tick') t += c.ms;
      const r = run(jar, c) as { reason?: string; detail?: string; verdicts?: { reason: string }[]; omitted?: number } | undefined;
      if (r?.reason !== undefined) seen.add(`set:${r.reason}`);
      if (r?.detail?.includes('evicted the least recently used cookie of')) seen.add('evicted:domain');
      if (r?.detail?.includes('evicted the least recently used cookie in the jar')) seen.add('evicted:jar');
      for (const v of r?.verdicts ?? []) seen.add(`verdict:${v.reason}`);
    }
  }
  for (const want of [
    'set:stored',
    'set:replaced',
    'set:deleted',
    'set:expired',
    'set:invalid-domain',
    'set:public-suffix',
    'set:secure-from-insecure',
    'set:prefix-secure',
    'set:prefix-host',
    'set:overwrite-secure',
    'evicted:domain',
    'evicted:jar',
    'verdict:match',
    'verdict:domain-mismatch',
    'verdict:host-only',
    'verdict:path-mismatch',
    'verdict:secure-only',
    'verdict:expired',
  ]) {
    assert.ok(seen.has(want), `${want} occurs`);
  }
});

test('both stores pick the same 50 most recently used siblings of a big site and count the rest', () => {
  let t = T0;
  const jars = [new ReferenceStore(), new FastStore()].map((store) => new CookieJar({ now: () => t, store }));
  const results = jars.map((jar) => {
    t = T0;
    for (let i = 0; i < 90; i++) {
      t++;
      jar.setCookie(`k${i % 7}=${i}; Path=/${i % 3 === 0 ? '' : 'p'}`, `http://h${i}.example.com/`);
      if (i % 4 === 0) jar.getCookieString(`http://h${(i * 5) % 90}.example.com/p`);
    }
    return [jar.evaluate(new URL('http://www.example.com/')), jar.evaluate(new URL('http://h3.example.com/p'))];
  });
  assert.equal(results[0]![0]!.verdicts.length, 50);
  assert.equal(results[0]![0]!.omitted, 40);
  assert.deepStrictEqual(results[1], results[0]);
});

test('the two stores give the same verdicts read in full (cookie and detail), even when read after later changes', () => {
  // Verdicts build `cookie` and `detail` when first read; deepStrictEqual compares own fields only,
  // so this compares their JSON (every field), read only at the end, after the jar moved on.
  const json = (x: unknown) => JSON.parse(JSON.stringify(x ?? null)) as unknown;
  fc.assert(
    fc.property(commands, limits, (commands, limits) => {
      let t = T0;
      const now = () => t;
      const { reference, fast } = twoJars(limits, now);
      const late: [unknown, unknown][] = [];
      for (const c of commands) {
        if (c.kind === 'tick') t += c.ms;
        late.push([run(fast, c), json(run(reference, c))]);
      }
      for (const [i, [f, r]] of late.entries()) assert.deepStrictEqual(json(f), r, `command ${i}`);
    }),
    { numRuns: 200, seed: 6265 },
  );
});

test("evaluate's verdicts read long after the request equal the verdicts read at once, on either store", () => {
  // A verdict builds its cookie copy and detail line on first read, from what it captured when the
  // request was judged: a jar that moved on since (cookies replaced, touched, expired, removed,
  // evicted) must not change them.
  const json = (x: unknown) => JSON.parse(JSON.stringify(x ?? null)) as unknown;
  fc.assert(
    fc.property(commands, limits, (commands, limits) => {
      let t = T0;
      const now = () => t;
      for (const store of [() => new FastStore(), () => new ReferenceStore()]) {
        const late = new CookieJar({ ...limits, now, store: store() });
        const early = new CookieJar({ ...limits, now, store: store() });
        const held: [{ verdicts: unknown }, unknown][] = [];
        t = T0;
        for (const c of commands) {
          if (c.kind === 'tick') t += c.ms;
          if (c.kind !== 'evaluate') {
            run(late, c);
            run(early, c);
            continue;
          }
          const context = { ...(c.initiator !== undefined ? { initiator: c.initiator } : {}), ...(c.method !== undefined ? { method: c.method } : {}) };
          held.push([late.evaluate(new URL(c.url), context), json(early.evaluate(new URL(c.url), context).verdicts)]);
        }
        for (const [i, [r, want]] of held.entries()) assert.deepStrictEqual(json(r.verdicts), want, `evaluate ${i}`);
      }
    }),
    { numRuns: 200, seed: 6265 },
  );
});
