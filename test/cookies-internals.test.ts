// The jar's bookkeeping, through the public API and on both stores: stored times read back exactly
// whatever the clock does, total-limit eviction picks the least recently used cookie like a plain
// model does, many hosts stay distinct, and churn (deletions, evictions, replacements) leaves the
// stored cookies intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar, FastStore, ReferenceStore, type CookieStorage } from '../src/cookies/index.js';

const STORES: [string, () => CookieStorage][] = [
  ['the fast store', () => new FastStore()],
  ['the reference store', () => new ReferenceStore()],
];

for (const [label, store] of STORES) {
  test(`times read back exactly as the clock gave them, fractional or far apart, on ${label}`, () => {
    const clock = [1_700_000_000_000, 1_700_000_000_000.25, 0.5, 1e-20, 4e15, 3];
    for (let k = 0; k < clock.length; k++) {
      let t = 0;
      const jar = new CookieJar({ now: () => t, store: store() });
      const seen: number[] = [];
      for (let i = 0; i < clock.length; i++) {
        t = clock[(k + i) % clock.length]!;
        seen.push(t);
        jar.setCookie(`c${i}=v; Max-Age=100`, 'http://example.com/');
      }
      const got = jar.cookies();
      for (let i = 0; i < clock.length; i++) {
        const c = got.find((x) => x.name === `c${i}`);
        // A cookie set with an expiry at or before its own "now" was never stored.
        if (c === undefined) continue;
        assert.ok(Object.is(c.creation, seen[i]), `creation of c${i}: ${c.creation} vs ${seen[i]}`);
        assert.ok(Object.is(c.lastAccess, seen[i]), `lastAccess of c${i}`);
        assert.equal(c.expires, Math.min(seen[i]! + 100_000, seen[i]! + 400 * 24 * 3600 * 1000));
      }
    }
  });

  test(`total-limit eviction takes the least recently used cookie, as a model does, on ${label}`, () => {
    let t = 1_000;
    const max = 40;
    const jar = new CookieJar({ now: () => t, maxCookies: max, store: store() });
    const model = new Map<string, number>(); // name@host -> last use
    let use = 0;
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let step = 0; step < 3000; step++) {
      t++;
      const host = `h${rnd(25)}.example`;
      if (rnd(3) === 0) {
        jar.getCookieString(`http://${host}/`);
        for (const k of model.keys()) if (k.endsWith(`@${host}`)) model.set(k, ++use);
      } else {
        const name = `n${rnd(6)}`;
        jar.setCookie(`${name}=${step}`, `http://${host}/`);
        model.set(`${name}@${host}`, ++use);
        while (model.size > max) {
          let victim = '';
          let least = Infinity;
          for (const [k, u] of model) if (u < least) [victim, least] = [k, u];
          model.delete(victim);
        }
      }
      if (step % 100 === 0 || step === 2999) {
        const have = jar
          .cookies()
          .map((c) => `${c.name}@${c.domain}`)
          .sort();
        assert.deepEqual(have, [...model.keys()].sort(), `step ${step}`);
      }
    }
  });

  test(`hosts read from URL strings stay distinct however many there are, on ${label}`, () => {
    // 20,000 hosts on the fast store; the reference store answers by scans, so it gets fewer.
    const n = label === 'the fast store' ? 20_000 : 1_000;
    const jar = new CookieJar({ store: store() });
    for (let i = 0; i < n; i++) jar.setCookie(`a=${i}`, `http://h${i}.example.com/`);
    for (let i = 0; i < n; i += 97) assert.equal(jar.getCookieString(`http://h${i}.example.com/x`), `a=${i}`);
  });

  test(`stored cookies stay intact through churn: deletions, evictions, replacements, on ${label}`, () => {
    // Thousands of distinct names and paths come and go (deleted, evicted, replaced), so domains and
    // sites empty and fill again and the use lists are relinked; a plain model says what the jar must
    // hold after each round.
    const jar = new CookieJar({ maxCookies: 700, maxCookiesPerDomain: 40, store: store() });
    const model = new Map<string, string>(); // "host name path" -> value
    const key = (h: number, n: string, p: string) => `h${h}.example.com ${n} ${p}`;
    let serial = 0;
    // The reference store answers every question by a scan: three rounds on it (still past both limits), six on the fast one.
    const rounds = label === 'the fast store' ? 6 : 3;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < 600; i++) {
        const h = (i * 7 + round) % 30;
        const name = `n${round}_${i}`;
        const path = `/p${i % 50}_${round}`;
        const value = `v${serial++}`;
        const r = jar.setCookie(`${name}=${value}; Path=${path}`, `http://h${h}.example.com${path}/x`);
        assert.equal(r.stored, true);
        model.set(key(h, name, path), value);
        if (i % 5 === 0) {
          jar.setCookie(`${name}=; Path=${path}; Max-Age=0`, `http://h${h}.example.com${path}/x`);
          model.delete(key(h, name, path));
        }
      }
      // Whatever the limits evicted is gone from the model too; the rest must match exactly.
      const got = jar.cookies();
      assert.ok(got.length <= 700);
      for (const c of got) {
        assert.equal(model.get(`${c.domain} ${c.name} ${c.path}`), c.value, `${c.domain} ${c.name} ${c.path}`);
        assert.equal(c.hostOnly, true);
      }
      const live = new Set(got.map((c) => `${c.domain} ${c.name} ${c.path}`));
      for (const k of [...model.keys()]) if (!live.has(k)) model.delete(k);
      // Lookups agree with the snapshot, and replacement still finds the stored cookie.
      const one = got[got.length - 1]!;
      const header = jar.getCookieString(`http://${one.domain}${one.path}/x`);
      assert.ok(header.split('; ').includes(`${one.name}=${one.value}`), header);
      const r = jar.setCookie(`${one.name}=again; Path=${one.path}`, `http://${one.domain}${one.path}/x`);
      assert.equal(r.stored && r.reason, 'replaced');
      model.set(`${one.domain} ${one.name} ${one.path}`, 'again');
    }
    const all = jar.cookies();
    assert.equal(all.length, model.size);
    for (const c of all) assert.equal(model.get(`${c.domain} ${c.name} ${c.path}`), c.value);
  });
}
