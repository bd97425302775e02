// HSTS (RFC 6797) keeps credentials and cookies off cleartext: a Known HSTS Host is asked over https.
import { Capture } from './helpers/cli.ts';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HstsStore, Session } from '../src/index.ts';
import { parseStrictTransportSecurity } from '../src/hop/hsts.ts';
import { main } from '../src/cli/main.ts';
import { echo, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => {
  srv = await startServers((req, res) => {
    const sts = new URL(req.url!, 'http://x').searchParams.get('sts');
    if (sts) res.setHeader('strict-transport-security', sts);
    echo(req, res);
  });
});
after(() => srv.close());

const session = (o: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...o });
const q = encodeURIComponent;

describe('Strict-Transport-Security parsing (RFC 6797 §6.1)', () => {
  it('reads max-age and includeSubDomains in any case, quoted or not; refuses repeats and a missing max-age', () => {
    assert.deepEqual(parseStrictTransportSecurity('max-age=31536000; includeSubDomains'), { maxAge: 31536000, includeSubDomains: true });
    assert.deepEqual(parseStrictTransportSecurity('MAX-AGE="60"'), { maxAge: 60, includeSubDomains: false });
    assert.equal(parseStrictTransportSecurity('max-age=1; max-age=2'), undefined);
    assert.equal(parseStrictTransportSecurity('includeSubDomains'), undefined);
  });
});

describe('HSTS in the session', () => {
  it('sends a later http: request to a host that sent STS over https, before anything goes over http', async () => {
    const s = session();
    await s.fetch(`https://a.test/echo?sts=${q('max-age=600')}`);
    const before = srv.received.length;
    const res = await s.fetch('http://a.test/echo?after=1');
    const got = srv.received.slice(before);
    assert.deepEqual(
      got.map((r) => r.scheme),
      ['https'],
    );
    assert.equal(res.url, 'https://a.test/echo?after=1');
    const d = res.hops[0]?.decisions.find((x) => x.subject === 'hsts');
    assert.equal(d?.reason, 'hsts-upgrade');
    await s.close();
  });

  it('never learns STS from an http answer', async () => {
    const s = session();
    await s.fetch(`http://b.test/echo?sts=${q('max-age=600')}`);
    const res = await s.fetch('http://b.test/echo');
    assert.equal(new URL(res.url).protocol, 'http:');
    await s.close();
  });

  it('covers subdomains only with includeSubDomains, and forgets with max-age=0', async () => {
    const s = session();
    await s.fetch(`https://example.com/echo?sts=${q('max-age=600; includeSubDomains')}`);
    assert.equal(new URL((await s.fetch('http://api.example.com/echo')).url).protocol, 'https:');
    await s.fetch(`https://example.com/echo?sts=${q('max-age=0')}`);
    assert.equal(new URL((await s.fetch('http://api.example.com/echo')).url).protocol, 'http:');
    await s.close();
  });

  it('is off with hsts: false', async () => {
    const s = session({ hsts: false });
    await s.fetch(`https://a.test/echo?sts=${q('max-age=600')}`);
    assert.equal(new URL((await s.fetch('http://a.test/echo')).url).protocol, 'http:');
    await s.close();
  });

  it("round-trips curl's HSTS file format", () => {
    const store = HstsStore.parse('# comment\n.example.com "20991231 23:59:59"\na.test "unlimited"\nold.test "20000101 00:00:00"\n');
    assert.equal(store.match('api.example.com')?.host, 'example.com');
    assert.equal(store.match('a.test')?.includeSubDomains, false);
    assert.equal(store.match('old.test'), undefined);
    const again = HstsStore.parse(store.toString());
    assert.match(again.toString(), /^\.example\.com "20991231 23:59:59"$/m);
    assert.match(again.toString(), /^a\.test "unlimited"$/m);
  });
});

describe('the CLI', () => {
  it('--hsts FILE reads the cache before the run and writes it after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-hsts-'));
    const file = join(dir, 'hsts.txt');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, srv.ca);
    const conn = srv.connectTo.flatMap((c) => ['--connect-to', c]);
    const run = async (url: string) => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await main(['--hsts', file, '--cacert', ca, ...conn, url], { stdout, stderr, env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(code, 0, stderr.text);
    };
    await run(`https://c.test/echo?sts=${q('max-age=600')}`);
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), /^c\.test "\d{8} \d\d:\d\d:\d\d"$/m);
    const before = srv.received.length;
    await run('http://c.test/echo');
    assert.deepEqual(
      srv.received.slice(before).map((r) => r.scheme),
      ['https'],
    );
  });
});
