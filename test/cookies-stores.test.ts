// The two stores behind the same jar give the same answers: a property test drives a jar on the
// plain ReferenceStore and a jar on the FastStore with the same random Set-Cookie lines, requests
// and clock, and requires identical results for everything a caller can see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CookieJar, FastStore, ReferenceStore } from '../src/cookies/index.js';

const T0 = Date.UTC(2025, 0, 1);

// Hosts on a few related domains: subdomains of one site, a private-section public suffix
// (github.io, whose tenants are separate sites), a two-label public suffix (co.uk), an IP, localhost.
const HOSTS = [
  'example.com',
  'www.example.com',
  'api.example.com',
  'a.b.example.com',
  'example.org',
  'github.io',
  'alice.github.io',
  'bob.github.io',
  'shop.example.co.uk',
  'co.uk',
  'localhost',
  'app.localhost',
  '127.0.0.1',
];
const PATHS = ['/', '/app', '/app/', '/app/x', '/apple', '/a/b/c'];
const NAMES = ['a', 'b', 'sid', '', '__Secure-s', '__Host-h', '__secure-x', '__HOST-y'];
const DOMAINS = [
  'example.com',
  '.example.com',
  'EXAMPLE.com',
  'www.example.com',
  'b.example.com',
  'github.io',
  'alice.github.io',
  'com',
  'co.uk',
  'example.co.uk',
  'other.test',
  'localhost',
  '127.0.0.1',
  'example.com.',
];

const url = fc.record({
  scheme: fc.constantFrom('http', 'https'),
  host: fc.constantFrom(...HOSTS),
  path: fc.constantFrom(...PATHS),
});
const toUrl = (u: { scheme: string; host: string; path: string }) => `${u.scheme}://${u.host}${u.path}`;

const attribute = fc.oneof(
  fc.constantFrom(...DOMAINS).map((d) => `Domain=${d}`),
  fc.constantFrom(...PATHS, '', 'app').map((p) => `Path=${p}`),
  fc.constant('Secure'),
  fc.constant('HttpOnly'),
  fc.constantFrom('Strict', 'Lax', 'None', 'bogus').map((s) => `SameSite=${s}`),
  fc.constantFrom('-1', '0', '1', '5', '30', '100000000', 'x').map((m) => `Max-Age=${m}`),
  // Relative to the start of the clock, so some are past and some future as the clock moves.
  fc.integer({ min: -20, max: 60 }).map((s) => `Expires=${new Date(T0 + s * 1000).toUTCString()}`),
);

const line = fc
  .record({
    name: fc.constantFrom(...NAMES),
    value: fc.constantFrom('v1', 'v2', 'x', '', '__Host-v', 'long-value-that-is-sliced'),
    attributes: fc.array(attribute, { maxLength: 4 }),
  })
  .map(({ name, value, attributes }) => [name === '' ? value : `${name}=${value}`, ...attributes].join('; '));

type Command =
  | { kind: 'set'; line: string; url: string }
  | { kind: 'evaluate'; url: string; initiator?: string; method?: string }
  | { kind: 'get'; url: string }
  | { kind: 'explain'; url: string }
  | { kind: 'cookies' }
  | { kind: 'tick'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), line, url: url.map(toUrl) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('evaluate' as const), url: url.map(toUrl), initiator: url.map(toUrl), method: fc.constantFrom('GET', 'post') }, { requiredKeys: ['kind', 'url'] }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), url: url.map(toUrl) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('explain' as const), url: url.map(toUrl) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cookies' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
);

/** What a caller can see of one command's outcome, as plain data. */
function run(jar: CookieJar, c: Command): unknown {
  switch (c.kind) {
    case 'set':
      return { ...jar.setCookie(c.line, c.url), size: jar.size };
    case 'evaluate': {
      const context: { initiator?: string; method?: string } = {};
      if (c.initiator !== undefined) context.initiator = c.initiator;
      if (c.method !== undefined) context.method = c.method;
      return { ...jar.evaluate(new URL(c.url), context), size: jar.size };
    }
    case 'get':
      return { header: jar.getCookieString(c.url), size: jar.size };
    case 'explain':
      return jar.explain(c.url);
    case 'cookies':
      return jar.cookies();
    case 'tick':
      return undefined;
  }
}

/** A sequence of jar commands, and the jars' limits: tiny ones some of the time, so per-domain and jar-wide eviction both happen. */
const commands = fc.array(command, { minLength: 1, maxLength: 80, size: 'max' });
const limits = fc.record({ maxCookiesPerDomain: fc.constantFrom(1, 2, 3, 180), maxCookies: fc.constantFrom(2, 4, 7, 50_000) });

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
  // `evaluate` builds its verdicts on first read, from what it captured: a jar that moved on since
  // (cookies replaced, touched, expired, removed, evicted) must not change them.
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
