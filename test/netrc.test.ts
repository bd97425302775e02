import { Capture } from './helpers/cli.ts';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Session, bearer, type Hop, type HopwiseError } from '../src/index.ts';
import { parseNetrc } from '../src/credentials/netrc.ts';
import { main } from '../src/cli/main.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

const dir = mkdtempSync(join(tmpdir(), 'hopwise-netrc-'));
function netrcFile(text: string, mode = 0o600): string {
  const f = join(dir, `netrc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}
const basicOf = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const netrcDecisions = (hops: Hop[]) => hops.flatMap((h) => h.decisions.filter((d) => d.subject === 'auth' && (d.reason === 'netrc' || d.reason === 'netrc-overridden')));
const FILE = 'machine a.test login alice password "s3cret pass"\n\nmachine c.test\n  login carol\n  password c-pass\n\ndefault login anon password anon-pass\n';
const session = (o: ConstructorParameters<typeof Session>[0] = {}, env?: Record<string, string>) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...o }, env);

describe('.netrc parsing', () => {
  it('reads machine, login, password and default entries, quoted values, and skips macdef bodies', () => {
    const n = parseNetrc('# comment\nmachine A.test login u password "p \\"q\\""\nmacdef init\ncd /\nmachine evil login x\n\nmachine b.test login v password w\ndefault login d password e\n');
    assert.deepEqual([...n.machines.keys()], ['a.test', 'b.test']);
    assert.equal(n.machines.get('a.test')?.password, 'p "q"');
    assert.equal(n.fallback?.login, 'd');
  });
});

describe('netrc in the session', () => {
  it('sends the entry for host A to A, not to B after a redirect', async () => {
    const s = session({ netrc: netrcFile(FILE) });
    const res = await s.fetch(r('https://a.test', 302, 'https://b.test/echo'));
    assert.equal(srv.at('a.test').at(-1)?.headers.authorization, basicOf('alice', 's3cret pass'));
    assert.equal(srv.at('b.test').at(-1)?.headers.authorization, undefined);
    assert.deepEqual(
      netrcDecisions(res.hops).map((d) => [d.reason, d.subject === 'auth' ? d.facts.scope : '']),
      [['netrc', 'machine a.test']],
    );
    await s.close();
  });

  it("uses the next host's own entry after a redirect", async () => {
    const s = session({ netrc: netrcFile(FILE) });
    await s.fetch(r('https://a.test', 302, 'https://c.test/echo'));
    assert.equal(srv.at('c.test').at(-1)?.headers.authorization, basicOf('carol', 'c-pass'));
    await s.close();
  });

  it('uses the default entry only when opted in', async () => {
    const path = netrcFile(FILE);
    const s1 = session({ netrc: path });
    await s1.fetch('https://b.test/echo');
    assert.equal(srv.at('b.test').at(-1)?.headers.authorization, undefined);
    const s2 = session({ netrc: { path, default: true } });
    await s2.fetch('https://b.test/echo');
    assert.equal(srv.at('b.test').at(-1)?.headers.authorization, basicOf('anon', 'anon-pass'));
    await Promise.all([s1.close(), s2.close()]);
  });

  it("lets an explicit provider or the caller's Authorization win, and says so", async () => {
    const s = session({ netrc: netrcFile(FILE), auth: bearer('tok') });
    const res = await s.fetch('https://a.test/echo');
    assert.equal(srv.at('a.test').at(-1)?.headers.authorization, 'Bearer tok');
    assert.equal(netrcDecisions(res.hops)[0]?.reason, 'netrc-overridden');
    await s.close();
    const s2 = session({ netrc: netrcFile(FILE) });
    await s2.fetch('https://a.test/echo', { headers: { authorization: 'Token mine' } });
    assert.equal(srv.at('a.test').at(-1)?.headers.authorization, 'Token mine');
    await s2.close();
  });

  it('reads $NETRC for netrc: true', async () => {
    const s = session({ netrc: true }, { NETRC: netrcFile(FILE) });
    await s.fetch('https://a.test/echo');
    assert.equal(srv.at('a.test').at(-1)?.headers.authorization, basicOf('alice', 's3cret pass'));
    await s.close();
  });

  it('refuses a file other users can read, with the reason and the fix', { skip: process.platform === 'win32' }, () => {
    const f = netrcFile(FILE, 0o644);
    assert.throws(
      () => session({ netrc: f }),
      (e: HopwiseError) => e.code === 'ERR_NETRC_PERMISSIONS' && /mode 644/.test(e.message) && /chmod 600/.test(e.message),
    );
  });
});

describe('the CLI', () => {
  it('--netrc-file FILE sends the entry to its machine only', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['--netrc-file', netrcFile(FILE), ...srv.connectTo.flatMap((c) => ['--connect-to', c]), r('http://a.test', 302, 'http://b.test/echo')], {
      stdout,
      stderr,
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(code, 0, stderr.text);
    assert.equal(JSON.parse(stdout.text).headers.authorization, undefined);
    assert.equal(srv.at('a.test').at(-1)?.headers.authorization, basicOf('alice', 's3cret pass'));
  });
});
