/**
 * The random jar commands of the cookie store property tests (test/cookies-stores.test.ts, and
 * test/redis-store.test.ts, which runs them against a RedisCookieStore): Set-Cookie lines on a few
 * related hosts, lookups, clock ticks, and the jars' limits. `cookieCommands(T0)` makes them for a
 * clock that starts at T0 (the Expires dates are relative to it).
 */
import fc from 'fast-check';
import type { CookieJar } from '../../src/cookies/index.js';

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

export type Command =
  | { kind: 'set'; line: string; url: string }
  | { kind: 'evaluate'; url: string; initiator?: string; method?: string }
  | { kind: 'get'; url: string }
  | { kind: 'explain'; url: string }
  | { kind: 'cookies' }
  | { kind: 'tick'; ms: number };

/** What a caller can see of one command's outcome, as plain data. */
export function run(jar: CookieJar, c: Command): unknown {
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

/** The generators, for a clock that starts at `T0` (ms since the epoch, a whole second). */
export function cookieCommands(T0: number) {
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

  /** A sequence of jar commands, and the jars' limits: tiny ones some of the time, so per-domain and jar-wide eviction both happen. */
  const commands = fc.array(command, { minLength: 1, maxLength: 80, size: 'max' });
  const limits = fc.record({ maxCookiesPerDomain: fc.constantFrom(1, 2, 3, 180), maxCookies: fc.constantFrom(2, 4, 7, 50_000) });

  return { url, line, command, commands, limits };
}
