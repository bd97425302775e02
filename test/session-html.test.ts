import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session } from '../src/index.ts';
import { echo, startServers, type TestServers } from './helpers/servers.ts';

const BIG = '<p>' + 'x'.repeat(100_000) + '</p>';
let srv: TestServers;
before(
  async () =>
    (srv = await startServers((req, res) => {
      if (req.url === '/login') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'sid=1; Path=/' });
        return void res.end('<html><head><meta http-equiv="refresh" content="0; url=/dashboard"></head><body>Redirecting…</body></html>');
      }
      if (req.url === '/script') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end("<html><script>window.location.href = '/dashboard';</script></html>");
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('<html><meta http-equiv="refresh" content="0; url=/dashboard">');
        return void res.end(BIG);
      }
      return echo(req, res);
    })),
);
after(() => srv.close());

describe('redirects done inside a 200 HTML page', () => {
  it('stops at a meta refresh by default and records where the page wanted to go', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca });
    const res = await s.fetch('https://a.test/login');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Redirecting/);
    const d = res.hops[0]!.decisions.find((x) => x.subject === 'redirect')!;
    assert.equal(d.reason, 'meta-refresh-not-followed');
    assert.equal(d.facts?.target, '/dashboard');
    await s.close();
  });

  it('follows a meta refresh with followMetaRefresh, carrying the cookie it set', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, followMetaRefresh: true });
    const before = srv.received.length;
    const res = await s.fetch('https://a.test/login');
    await res.text();
    const got = srv.received.slice(before);
    assert.deepEqual(
      got.map((g) => g.path),
      ['/login', '/dashboard'],
    );
    assert.equal(got[1]!.headers.cookie, 'sid=1');
    assert.equal(res.hops[0]!.decisions.find((x) => x.subject === 'redirect')!.reason, 'meta-refresh');
    await s.close();
  });

  it('names a location= script redirect but never follows it', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, followMetaRefresh: true });
    const res = await s.fetch('https://a.test/script');
    await res.text();
    assert.equal(res.hops.length, 1);
    assert.equal(res.hops[0]!.decisions.find((x) => x.subject === 'redirect')!.reason, 'script-redirect-not-followed');
    await s.close();
  });

  it('returns a page larger than the sniff window whole', async () => {
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca });
    const res = await s.fetch('https://a.test/big');
    const text = await res.text();
    assert.ok(text.endsWith(BIG));
    assert.ok(text.startsWith('<html><meta'));
    await s.close();
  });
});
