/**
 * Proxies, through real proxies: TooTallNate's `proxy` package always, and Debian's tinyproxy when it
 * is installed. A recording TCP tap sits in front of each proxy, so the tests assert on the bytes
 * hopwise sent to the proxy (absolute-form request lines, CONNECT targets, Proxy-Authorization) and
 * on what the origin servers received (never a Proxy-Authorization).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createProxy } from 'proxy';
import { parseArgs, optionsFromArgs } from '../src/cli/args.ts';
import { basic, bearer, CookieJar, diagnose, HopwiseError, Session } from '../src/index.ts';
import type { Decision, DecisionOf, Hop } from '../src/trace/types.ts';
import { chooseRoute, matchNoProxy, parseNoProxy, proxyFromEnv } from '../src/transport/proxy.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

// ---------------------------------------------------------------------------------------------
// Proxies under test
// ---------------------------------------------------------------------------------------------

interface Tap {
  port: number;
  /** Everything clients sent to the proxy, one string per connection (latin1). */
  connections: string[];
  text(): string;
  reset(): void;
  close(): Promise<void>;
}

/** A TCP forwarder in front of a proxy that records what the client sent it. */
async function tap(upstreamPort: number): Promise<Tap> {
  const connections: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const i = connections.push('') - 1;
    const up = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('data', (c: Buffer) => (connections[i] += c.toString('latin1')));
    client.pipe(up).pipe(client);
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    text: () => connections.join('\n'),
    reset: () => void connections.splice(0),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((res) => server.close(() => res()));
    },
  };
}

interface ProxyUnderTest {
  name: string;
  /** The tap's URL: what hopwise is told the proxy is. */
  url: string;
  tap: Tap;
  close(): Promise<void>;
}

const USER = 'proxyuser';
const PASS = 'proxy-secret-42';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;

async function npmProxy(auth: boolean): Promise<ProxyUnderTest> {
  const server = createProxy(http.createServer());
  if (auth) server.authenticate = (req) => req.headers['proxy-authorization'] === BASIC;
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const t = await tap((server.address() as AddressInfo).port);
  return {
    name: `proxy (npm)${auth ? ' with Basic auth' : ''}`,
    url: `http://127.0.0.1:${t.port}`,
    tap: t,
    close: async () => {
      await t.close();
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

function findTinyproxy(): string | undefined {
  if (existsSync('/usr/sbin/tinyproxy')) return '/usr/sbin/tinyproxy';
  if (existsSync('/usr/bin/tinyproxy')) return '/usr/bin/tinyproxy';
  const which = spawnSync('which', ['tinyproxy'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`tinyproxy exited (${child.exitCode}): ${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), res(true)));
      c.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('tinyproxy did not start listening');
}

/** tinyproxy on a free port with a generated config in a temp dir (foreground, -d). */
async function tinyproxy(bin: string, auth: boolean): Promise<ProxyUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-tinyproxy-'));
  chmodSync(dir, 0o777); // tinyproxy drops to nobody when started as root
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const conf = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    `LogFile "${log}"`,
    'LogLevel Info',
    'MaxClients 50',
    // No ConnectPort lines: CONNECT to any port (the test servers listen on ephemeral ports).
    ...(process.getuid?.() === 0 ? ['User nobody', 'Group nogroup'] : []),
    ...(auth ? [`BasicAuth ${USER} ${PASS}`] : []),
  ].join('\n');
  const confFile = join(dir, 'tinyproxy.conf');
  writeFileSync(confFile, `${conf}\n`);
  chmodSync(confFile, 0o644);
  const child = spawn(bin, ['-d', '-c', confFile], { stdio: 'ignore' });
  await waitForPort(port, child, log);
  const t = await tap(port);
  return {
    name: `tinyproxy${auth ? ' with BasicAuth' : ''}`,
    url: `http://127.0.0.1:${t.port}`,
    tap: t,
    close: async () => {
      await t.close();
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((res) => child.once('exit', res));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TINYPROXY = findTinyproxy();

const decisions = <S extends Decision['subject']>(hop: Hop | undefined, subject: S): DecisionOf<S>[] => (hop?.decisions.filter((d) => d.subject === subject) ?? []) as DecisionOf<S>[];
const routeOf = (hop: Hop | undefined) => decisions(hop, 'route')[0];

async function failure(p: Promise<unknown>): Promise<HopwiseError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HopwiseError, String(err));
    return err;
  }
  assert.fail('expected the fetch to fail');
}

// ---------------------------------------------------------------------------------------------
// Pure parts: the environment, no_proxy, the route
// ---------------------------------------------------------------------------------------------

describe('reading proxies from the environment', () => {
  it('prefers the lower-case variable, counts an empty value as unset, and falls back to all_proxy', () => {
    const s = proxyFromEnv({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2', https_proxy: '', HTTPS_PROXY: 'http://secure:3', ALL_PROXY: 'http://all:4' });
    assert.equal(s.kind, 'env');
    if (s.kind !== 'env') return;
    assert.equal(s.http?.url.origin, 'http://lower:1');
    assert.equal(s.http?.variable, 'http_proxy');
    assert.equal(s.https?.url.origin, 'http://secure:3');
    assert.equal(proxyFromEnv({ all_proxy: 'http://all:4' }).kind, 'env');
    const onlyAll = proxyFromEnv({ all_proxy: 'proxy.example:3128' });
    assert.equal(onlyAll.kind === 'env' && onlyAll.https?.url.href, 'http://proxy.example:3128/', 'a bare host:port is http:// (curl)');
  });

  it('ignores upper-case HTTP_PROXY when REQUEST_METHOD is set (httpoxy), but not https_proxy or lower-case http_proxy', () => {
    const cgi = proxyFromEnv({ REQUEST_METHOD: 'GET', HTTP_PROXY: 'http://attacker:1', HTTPS_PROXY: 'http://corp:3' });
    assert.equal(cgi.kind === 'env' && cgi.http, undefined);
    assert.equal(cgi.kind === 'env' && cgi.https?.url.origin, 'http://corp:3');
    const lower = proxyFromEnv({ REQUEST_METHOD: 'GET', http_proxy: 'http://corp:1' });
    assert.equal(lower.kind === 'env' && lower.http?.url.origin, 'http://corp:1');
  });

  it('keeps userinfo out of the proxy URL and refuses proxy schemes it cannot speak', () => {
    const s = proxyFromEnv({ https_proxy: 'http://us%40er:p%3Ass@corp:3128' });
    assert.ok(s.kind === 'env' && s.https);
    assert.equal(s.https.url.href, 'http://corp:3128/');
    assert.equal(s.https.userinfo, 'us@er:p:ss');
    assert.throws(
      () => proxyFromEnv({ all_proxy: 'socks5://corp:1080' }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION' && /all_proxy/.test(e.message),
    );
  });

  it('matches no_proxy entries the curl/Go way: suffixes, leading dots, IPs, CIDRs, ports and *', () => {
    const rules = parseNoProxy('example.com, .internal.test *.corp.test,10.1.2.3, 192.168.0.0/16 , [::1], api.test:8443', 'no_proxy');
    const m = (u: string) => matchNoProxy(rules, new URL(u))?.source;
    assert.equal(m('http://example.com/'), 'example.com');
    assert.equal(m('http://www.example.com/'), 'example.com');
    assert.equal(m('http://notexample.com/'), undefined);
    assert.equal(m('http://internal.test/'), undefined, '.internal.test is subdomains only');
    assert.equal(m('http://a.internal.test/'), '.internal.test');
    assert.equal(m('http://x.corp.test/'), '*.corp.test');
    assert.equal(m('http://10.1.2.3/'), '10.1.2.3');
    assert.equal(m('http://0xa010203/'), '10.1.2.3', 'IP literals are compared once the URL parser normalised them');
    assert.equal(m('http://192.168.7.7:8080/'), '192.168.0.0/16');
    assert.equal(m('http://[::1]/'), '[::1]');
    assert.equal(m('https://api.test:8443/'), 'api.test:8443');
    assert.equal(m('https://api.test/'), undefined, 'the port must match');
    assert.equal(m('http://127.0.0.1/'), undefined, 'loopback is not exempt unless listed (curl; Go differs)');
    assert.equal(m('http://localhost/'), undefined);
    assert.equal(matchNoProxy(parseNoProxy('*', 'x'), new URL('http://anything.test/'))?.source, '*');
  });

  it('chooses the route per target: the scheme picks the variable, no_proxy sends it direct', () => {
    const s = proxyFromEnv({ http_proxy: 'http://p1:1', https_proxy: 'http://p2:2', no_proxy: 'direct.test' });
    const http1 = chooseRoute(s, new URL('http://a.test/'));
    assert.ok(http1.kind === 'proxy' && http1.proxy.url.origin === 'http://p1:1' && http1.reason === 'proxy-env');
    const https1 = chooseRoute(s, new URL('https://a.test/'));
    assert.ok(https1.kind === 'proxy' && https1.proxy.url.origin === 'http://p2:2');
    assert.deepEqual(chooseRoute(s, new URL('https://direct.test/')), { kind: 'direct', reason: 'no-proxy-match', noProxy: 'direct.test', variable: 'no_proxy' });
  });

  it('validates proxy, proxyAuth and noProxy when the session is created', () => {
    assert.throws(
      () => new Session({ proxy: 'ftp://x' }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
    assert.throws(
      () => new Session({ proxy: 42 as never }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
    assert.throws(
      () => new Session({ proxyAuth: 'no-colon' }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
    assert.throws(
      () => new Session({ proxyAuth: { username: 'a', pasword: 'b' } as never }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION' || e.code === 'ERR_UNKNOWN_OPTION',
    );
    assert.throws(
      () => new Session({ noProxy: 5 as never }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
    assert.throws(
      () => new Session({ proxxy: 'http://x' } as never),
      (e: HopwiseError) => e.code === 'ERR_UNKNOWN_OPTION' && /proxy/.test(e.message),
    );
    assert.throws(
      () =>
        new Session({
          proxy: 'http://p:1',
          dispatcher: new (class {
            request() {}
            dispatch() {}
          })() as never,
        }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION' && /ProxyAgent/.test(e.message),
    );
  });

  it('maps -x, --proxy-user and --noproxy onto the proxy, proxyAuth and noProxy options', async () => {
    const parsed = parseArgs(['trace', 'https://a.test/', '-x', 'http://corp:3128', '--proxy-user', 'u:p', '--noproxy', 'localhost,.internal']);
    assert.equal(parsed.command, 'trace');
    if (parsed.command !== 'trace') return;
    const o = await optionsFromArgs(parsed.request, { read: async () => Buffer.from(''), basic, bearer, CookieJar });
    assert.equal(o.proxy, 'http://corp:3128');
    assert.equal(o.proxyAuth, 'u:p');
    assert.equal(o.noProxy, 'localhost,.internal');
    const none = parseArgs(['trace', 'https://a.test/', '--proxy', '']);
    if (none.command === 'trace') assert.equal((await optionsFromArgs(none.request, { read: async () => Buffer.from(''), basic, bearer, CookieJar })).proxy, false);
  });
});

// ---------------------------------------------------------------------------------------------
// Through real proxies
// ---------------------------------------------------------------------------------------------

const kinds: { name: string; start: (auth: boolean) => Promise<ProxyUnderTest>; skip: string | false }[] = [
  { name: 'the proxy package', start: npmProxy, skip: false },
  { name: 'tinyproxy', start: (auth) => tinyproxy(TINYPROXY!, auth), skip: TINYPROXY ? false : 'tinyproxy not found (/usr/sbin/tinyproxy or PATH): apt-get install -y tinyproxy runs these cases' },
];

for (const kind of kinds) {
  describe(`through ${kind.name}`, { skip: kind.skip }, () => {
    let servers: TestServers;
    let open: ProxyUnderTest;
    let locked: ProxyUnderTest;
    let origin: string; // http://127.0.0.1:<port>: a URL the proxy itself can reach

    before(async () => {
      servers = await startServers(router);
      origin = servers.connectTo[0]!.replace(/^:80:/, 'http://');
      open = await kind.start(false);
      locked = await kind.start(true);
    });
    after(async () => {
      await open?.close();
      await locked?.close();
      await servers?.close();
    });

    /** A session whose https targets tunnel to the test TLS server (connectTo), with its CA. */
    const session = (o: ConstructorParameters<typeof Session>[0] = {}, env: Record<string, string> = {}) => new Session({ ca: servers.ca, connectTo: servers.connectTo, ...o }, env);

    it('sends an http: target to the proxy in absolute form, and the origin gets the request', async () => {
      open.tap.reset();
      const s = session({ proxy: open.url });
      try {
        const res = await s.fetch(`${origin}/echo?x=1`);
        assert.equal(res.status, 200);
        assert.match(open.tap.text(), new RegExp(`^GET ${origin}/echo\\?x=1 HTTP/1\\.1\\r$`, 'm'));
        const at = servers.received.at(-1)!;
        assert.equal(at.path, '/echo?x=1');
        assert.equal(res.hops[0]!.route, `via ${open.url}`);
        const d = routeOf(res.hops[0]);
        assert.equal(d?.reason, 'proxy-option');
        assert.deepEqual(d?.facts, { route: `via ${open.url}`, proxy: open.url, mode: 'absolute-form' });
      } finally {
        await s.close();
      }
    });

    it('tunnels an https: target with CONNECT (to the connectTo address) and checks TLS against the logical name', async () => {
      open.tap.reset();
      const s = session({ proxy: open.url });
      try {
        const res = await s.fetch('https://a.test/echo');
        assert.equal(res.status, 200);
        const tls = servers.connectTo[1]!.replace(/^:443:/, '');
        assert.match(open.tap.text(), new RegExp(`^CONNECT ${tls.replace(/\./g, '\\.')} HTTP/1\\.1\\r$`, 'm'));
        const at = servers.received.at(-1)!;
        assert.equal(at.scheme, 'https');
        assert.equal(at.host, 'a.test');
        assert.equal(routeOf(res.hops[0])?.facts.mode, 'tunnel');
      } finally {
        await s.close();
      }
    });

    it("tunnels an http: target that a connectTo rule reroutes (as curl does), asking the proxy for the rule's address", async () => {
      open.tap.reset();
      const s = session({ proxy: open.url });
      try {
        const res = await s.fetch('http://a.test/echo');
        assert.equal(res.status, 200);
        const plain = servers.connectTo[0]!.replace(/^:80:/, '');
        assert.match(open.tap.text(), new RegExp(`^CONNECT ${plain.replace(/\./g, '\\.')} HTTP/1\\.1\\r$`, 'm'));
        assert.equal(servers.received.at(-1)!.host, 'a.test');
        assert.equal(routeOf(res.hops[0])?.facts.mode, 'tunnel');
      } finally {
        await s.close();
      }
    });

    it('refuses an origin certificate the session does not trust, through the tunnel too', async () => {
      const s = new Session({ proxy: open.url, connectTo: servers.connectTo }, {});
      try {
        const err = await failure(s.fetch('https://a.test/echo'));
        assert.equal(err.code, 'ERR_TLS');
      } finally {
        await s.close();
      }
    });

    it('sends proxyAuth credentials to the proxy only: in the absolute-form request and on CONNECT, never to the origin', async () => {
      locked.tap.reset();
      const s = session({ proxy: locked.url, proxyAuth: `${USER}:${PASS}` });
      try {
        const n = servers.received.length;
        const plain = await s.fetch(`${origin}/echo`);
        assert.equal(plain.status, 200);
        const secure = await s.fetch('https://a.test/echo');
        assert.equal(secure.status, 200);
        const proxied = locked.tap.text();
        assert.ok(proxied.toLowerCase().includes(`proxy-authorization: ${BASIC.toLowerCase()}`), 'the proxy got the credential');
        assert.match(proxied, /^CONNECT /m);
        for (const got of servers.received.slice(n)) assert.equal(got.headers['proxy-authorization'], undefined, `${got.scheme} origin got no Proxy-Authorization`);
        assert.equal(plain.hops[0]!.requestHeaders['proxy-authorization'], undefined, 'not among the origin request headers');
        const sent = decisions(plain.hops[0], 'proxy-auth')[0];
        assert.equal(sent?.reason, 'proxy-credentials');
        assert.deepEqual(sent?.facts, { source: 'proxyAuth', route: `via ${locked.url}` });
      } finally {
        await s.close();
      }
    });

    it("takes proxy credentials from the proxy URL's userinfo, and keeps them out of the trace", async () => {
      const withUser = locked.url.replace('http://', `http://${USER}:${encodeURIComponent(PASS)}@`);
      const s = session({ proxy: withUser });
      try {
        const res = await s.fetch(`${origin}/echo`);
        assert.equal(res.status, 200);
        assert.equal(res.hops[0]!.route, `via ${locked.url}`);
        assert.ok(!JSON.stringify(res.hops).includes(PASS), 'no secret in the trace');
        assert.equal(decisions(res.hops[0], 'proxy-auth')[0]?.facts.source, 'proxy-url');
      } finally {
        await s.close();
      }
    });

    it('fails a 407 with ERR_PROXY_AUTH and the trace, for absolute-form and tunnelled targets', async () => {
      const s = session({ proxy: locked.url });
      try {
        for (const url of [`${origin}/echo`, 'https://a.test/echo']) {
          const err = await failure(s.fetch(url));
          assert.equal(err.code, 'ERR_PROXY_AUTH', url);
          assert.match(err.message, /407/);
          assert.equal(err.hops.length, 1);
          assert.equal(err.hops[0]!.error?.code, 'ERR_PROXY_AUTH');
          assert.equal(err.hops[0]!.route, `via ${locked.url}`);
          const findings = diagnose(err.hops, err);
          assert.deepEqual(
            findings.map((f) => f.code),
            ['proxy-auth-required'],
            url,
          );
          assert.match(findings[0]!.fix.client, /proxyAuth/);
        }
      } finally {
        await s.close();
      }
    });

    it('sends a caller-set Proxy-Authorization to the proxy of the first route only, and drops it when a redirect goes direct (no_proxy)', async () => {
      locked.tap.reset();
      const s = session({ proxy: locked.url, noProxy: 'a.test' });
      try {
        const n = servers.received.length;
        const res = await s.fetch(r(origin, 302, 'http://a.test/echo'), { headers: { 'proxy-authorization': BASIC } });
        assert.equal(res.status, 200);
        assert.ok(locked.tap.text().toLowerCase().includes(`proxy-authorization: ${BASIC.toLowerCase()}`));
        const got = servers.received.slice(n);
        assert.equal(got.length, 2);
        for (const g of got) assert.equal(g.headers['proxy-authorization'], undefined, `${g.host}${g.path} got no Proxy-Authorization`);
        assert.equal(got[1]!.host, 'a.test');
        assert.equal(res.hops[1]!.route, 'direct');
        const route1 = routeOf(res.hops[1]);
        assert.equal(route1?.reason, 'no-proxy-match');
        assert.equal(route1?.facts.noProxy, 'a.test');
        assert.equal(route1?.facts.previous, `via ${locked.url}`);
        const dropped = decisions(res.hops[1], 'proxy-auth')[0];
        assert.equal(dropped?.action, 'dropped');
        assert.equal(dropped?.reason, 'route-changed');
        assert.deepEqual(dropped?.facts, { source: 'caller-header', route: 'direct', previous: `via ${locked.url}` });
        assert.ok(diagnose(res.hops).some((f) => f.code === 'proxy-credential-dropped' && f.severity === 'info' && f.hop === 1));
      } finally {
        await s.close();
      }
    });

    it('never sends a caller-set Proxy-Authorization on a direct first hop', async () => {
      const s = session({ proxy: false });
      try {
        const n = servers.received.length;
        const res = await s.fetch('http://a.test/echo', { headers: { 'Proxy-Authorization': BASIC } });
        assert.equal(res.status, 200);
        assert.equal(servers.received[n]!.headers['proxy-authorization'], undefined);
        assert.equal(routeOf(res.hops[0])?.reason, 'proxy-disabled');
        assert.equal(decisions(res.hops[0], 'proxy-auth')[0]?.reason, 'direct-route');
      } finally {
        await s.close();
      }
    });

    it('never lets a beforeRedirect hook put Proxy-Authorization on a direct hop to an origin', async () => {
      const s = session({ proxy: false, hooks: { beforeRedirect: (st) => void (st.next.headers['proxy-authorization'] = BASIC) } });
      try {
        const n = servers.received.length;
        const res = await s.fetch(r('http://a.test', 302, 'http://b.test/echo'));
        assert.equal(res.status, 200);
        for (const g of servers.received.slice(n)) assert.equal(g.headers['proxy-authorization'], undefined);
        assert.equal(decisions(res.hops[1], 'proxy-auth')[0]?.reason, 'direct-route');
      } finally {
        await s.close();
      }
    });

    it('fails with ERR_PROXY when the proxy will not open the tunnel (the origin is unreachable from it)', async () => {
      const closedPort = await freePort();
      const s = session({ proxy: open.url, connectTo: [`a.test:443:127.0.0.1:${closedPort}`] });
      try {
        const err = await failure(s.fetch('https://a.test/echo'));
        assert.equal(err.code, 'ERR_PROXY');
        assert.match(err.message, /tunnel to a\.test/);
        assert.match(open.tap.text(), new RegExp(`^CONNECT 127\\.0\\.0\\.1:${closedPort} `, 'm'));
        assert.deepEqual(
          diagnose(err.hops, err).map((f) => f.code),
          ['proxy-unreachable'],
        );
      } finally {
        await s.close();
      }
    });

    it('reads the proxy from the injected environment once; loopback is proxied unless NO_PROXY lists it', async () => {
      open.tap.reset();
      const s = session({}, { http_proxy: open.url });
      try {
        const res = await s.fetch(`${origin}/echo`);
        assert.equal(res.status, 200);
        assert.equal(routeOf(res.hops[0])?.reason, 'proxy-env');
        assert.equal(routeOf(res.hops[0])?.facts.variable, 'http_proxy');
        assert.match(open.tap.text(), /^GET http:\/\/127\.0\.0\.1:/m);
      } finally {
        await s.close();
      }
      const direct = session({}, { HTTP_PROXY: open.url, NO_PROXY: '127.0.0.1' });
      try {
        const res = await direct.fetch(`${origin}/echo`);
        assert.equal(routeOf(res.hops[0])?.reason, 'no-proxy-match');
        assert.equal(routeOf(res.hops[0])?.facts.variable, 'NO_PROXY');
      } finally {
        await direct.close();
      }
    });

    it('fails with ERR_PROXY naming the proxy when it cannot be reached', async () => {
      const closedPort = await freePort();
      const s = session({}, { http_proxy: `http://127.0.0.1:${closedPort}` });
      try {
        const err = await failure(s.fetch(`${origin}/echo`));
        assert.equal(err.code, 'ERR_PROXY');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}`));
        assert.match(err.message, /http_proxy/);
        assert.equal(err.hops[0]!.error?.code, 'ERR_PROXY');
      } finally {
        await s.close();
      }
    });

    it('refuses a redirect through the proxy to a private IP literal, before anything is sent', async () => {
      open.tap.reset();
      const s = session({ proxy: open.url, privateNetworks: { refuse: 'redirects', internal: ['127.0.0.2/32'] } });
      try {
        const err = await failure(s.fetch(r(origin, 302, 'http://127.0.0.2:9/secret')));
        assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
        assert.doesNotMatch(open.tap.text(), /^(GET http:\/\/127\.0\.0\.2|CONNECT 127\.0\.0\.2)/m, 'the proxy was not asked for it');
        assert.equal(err.hops[0]!.addressClass, 'public');
      } finally {
        await s.close();
      }
    });
  });
}

describe('a redirect that changes proxies', () => {
  let servers: TestServers;
  let first: ProxyUnderTest;
  let second: ProxyUnderTest;
  let origin: string;
  before(async () => {
    servers = await startServers(router);
    origin = servers.connectTo[0]!.replace(/^:80:/, 'http://');
    first = await npmProxy(true);
    second = await npmProxy(false);
  });
  after(async () => {
    await first.close();
    await second.close();
    await servers.close();
  });

  it("drops the first proxy's credentials at the second proxy, and the trace says so", async () => {
    const withUser = first.url.replace('http://', `http://${USER}:${encodeURIComponent(PASS)}@`);
    // The function routes the /r hop through the first proxy (with credentials) and the rest through the second.
    const s2 = new Session({ connectTo: servers.connectTo, proxy: (url) => (url.pathname.startsWith('/r') ? withUser : second.url) }, {});
    try {
      second.tap.reset();
      const n = servers.received.length;
      const res = await s2.fetch(r(origin, 302, `${origin}/echo`));
      assert.equal(res.status, 200);
      assert.equal(res.hops[1]!.route, `via ${second.url}`);
      assert.ok(!second.tap.text().toLowerCase().includes('proxy-authorization'), 'the second proxy got no credential');
      for (const g of servers.received.slice(n)) assert.equal(g.headers['proxy-authorization'], undefined);
      assert.equal(routeOf(res.hops[1])?.reason, 'proxy-function');
      assert.equal(routeOf(res.hops[1])?.facts.previous, `via ${first.url}`);
      const dropped = decisions(res.hops[1], 'proxy-auth')[0];
      assert.deepEqual(dropped && { action: dropped.action, reason: dropped.reason, facts: dropped.facts }, {
        action: 'dropped',
        reason: 'route-changed',
        facts: { source: 'proxy-url', route: `via ${second.url}`, previous: `via ${first.url}` },
      });
    } finally {
      await s2.close();
    }
  });
});
