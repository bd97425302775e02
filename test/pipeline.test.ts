/**
 * The hop pipeline's seams: the injectable transport (the `dispatcher` option), the `hopwise:hop`
 * diagnostics channel, NODE_DEBUG=hopwise, facts recorded once with the jar's own site rules, and
 * errors recognised across two copies of hopwise. Real servers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Agent, buildConnector, interceptors, type Dispatcher } from 'undici';
import { HopwiseError, HopwiseOptionError, HopwiseRedirectError, Session, type Hop } from '../src/index.ts';
import type { HopMessage } from '../src/session.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

/** An interceptor that notes the origin + path of every exchange it passes on. */
function recorder(seen: string[]): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    seen.push(`${String(opts.origin)}${opts.path}`);
    return dispatch(opts, handler);
  };
}

describe('the dispatcher option', () => {
  it('composes a caller interceptor onto hopwise agent and the interceptor sees every hop', async () => {
    const seen: string[] = [];
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, dispatcher: (agent) => agent.compose(recorder(seen)) });
    const start = srv.received.length;
    const res = await s.fetch(r('https://a.test', 302, r('https://b.test', 307, 'https://b.test/echo')));
    await res.text();
    await s.close();
    assert.equal(res.hops.length, 3);
    assert.deepEqual(
      seen.map((u) => new URL(u).host),
      ['a.test', 'b.test', 'b.test'],
    );
    assert.deepEqual(
      srv.received.slice(start).map((x) => x.host),
      ['a.test', 'b.test', 'b.test'],
    );
  });

  it('sends every hop through a dispatcher the caller hands in, and leaves it open on close', async () => {
    const port = Number(srv.connectTo[0]!.split(':').at(-1));
    // The caller's own Agent connects every host to the test server: proof that it, not hopwise's agent, connected.
    const base = buildConnector({});
    const agent = new Agent({ connect: (opts, cb) => base({ ...opts, hostname: '127.0.0.1', port: String(port) }, cb) });
    const s = new Session({ dispatcher: agent });
    const start = srv.received.length;
    const res = await s.fetch(r('http://a.test', 302, 'http://b.test/echo'));
    assert.equal(res.status, 200);
    await res.text();
    await s.close();
    assert.deepEqual(
      srv.received.slice(start).map((x) => x.path.split('?')[0]),
      ['/r', '/echo'],
    );
    // Still usable: session.close() did not close the caller's dispatcher.
    const again = await agent.request({ origin: `http://127.0.0.1:${port}`, path: '/echo', method: 'GET' });
    assert.equal(again.statusCode, 200);
    await again.body.dump();
  });

  it('keeps a redirect interceptor in the caller dispatcher from following: hopwise plans every hop', async () => {
    const seen: string[] = [];
    const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, dispatcher: (agent) => agent.compose(recorder(seen), interceptors.redirect({ maxRedirections: 5 })) });
    const res = await s.fetch(r('https://a.test', 302, 'https://a.test/echo'));
    await res.text();
    await s.close();
    assert.equal(res.hops.length, 2, 'both hops are hopwise hops, each with its decisions');
    assert.equal(res.hops[0]!.status, 302);
    assert.equal(seen.length, 2);
  });

  it('refuses a dispatcher together with connectTo or ca, which only configure hopwise agent', () => {
    const agent = new Agent();
    assert.throws(
      () => new Session({ dispatcher: agent, connectTo: [':443:127.0.0.1:1'] }),
      (err: HopwiseError) => err.code === 'ERR_INVALID_OPTION' && /agent\.compose/.test(err.message),
    );
    assert.throws(() => new Session({ dispatcher: {} as never }), /dispatcher must be an undici Dispatcher/);
    void agent.close();
  });
});

describe('observability', () => {
  it('publishes each finished hop with its decisions on the hopwise:hop diagnostics channel', async () => {
    const got: HopMessage[] = [];
    const listener = (m: unknown): void => void got.push(m as HopMessage);
    diagnostics.subscribe('hopwise:hop', listener);
    try {
      const s = new Session({ connectTo: srv.connectTo, ca: srv.ca, headers: { authorization: 'Bearer t0ken' } });
      const res = await s.fetch(r('https://a.test', 302, 'https://b.test/echo'));
      await res.text();
      await s.close();
    } finally {
      diagnostics.unsubscribe('hopwise:hop', listener);
    }
    assert.deepEqual(
      got.map((m) => m.hop.index),
      [0, 1],
    );
    assert.equal(got[0]!.hop.status, 302);
    const stripped = got[1]!.hop.decisions.find((d) => d.subject === 'header' && d.name === 'authorization');
    assert.equal(stripped?.action, 'stripped');
    assert.ok(!JSON.stringify(got.map((m) => m.hop)).includes('t0ken'), 'no secret in what listeners get');
  });

  it('prints each hop trace to stderr under NODE_DEBUG=hopwise, secrets redacted', async () => {
    const script = `
      import { Session } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
      const s = new Session({ connectTo: ${JSON.stringify(srv.connectTo)}, ca: ${JSON.stringify(srv.ca)}, headers: { authorization: 'Bearer t0ken' } });
      const res = await s.fetch(${JSON.stringify(r('https://a.test', 302, 'https://b.test/echo'))});
      await res.text();
      await s.close();`;
    // Asynchronous on purpose: the test servers live in this process and must keep answering.
    const out = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_DEBUG: 'hopwise' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.match(out.stderr, /HOPWISE \d+: #0 GET https:\/\/a\.test\/r/);
    assert.match(out.stderr, /#1 GET https:\/\/b\.test\/echo/);
    assert.match(out.stderr, /authorization.*different origin/);
    assert.doesNotMatch(out.stderr, /t0ken/);
  });
});

describe('facts recorded when the decision is made', () => {
  it('records same site with the jar rules, where github.io is a public suffix', async () => {
    const s = new Session({ connectTo: srv.connectTo, headers: { 'x-api-key': 'k' } });
    const hopsFor = async (from: string, to: string): Promise<Hop[]> => {
      const res = await s.fetch(r(from, 302, `${to}/echo`));
      await res.text();
      return res.hops;
    };
    const site = (hops: Hop[]) => {
      const d = hops[1]!.decisions.find((x) => x.subject === 'header' && x.name === 'x-api-key');
      return d?.subject === 'header' ? d.facts?.sameSite : undefined;
    };
    assert.equal(site(await hopsFor('http://alice.github.io', 'http://bob.github.io')), false);
    assert.equal(site(await hopsFor('http://app.example.com', 'http://api.example.com')), true);
    await s.close();
  });

  it('records whether a replaced cookie changed value, never the values', async () => {
    const s = new Session({ connectTo: srv.connectTo });
    await (await s.fetch(r('http://a.test', 302, 'http://a.test/echo', 'sid=one; Path=/'))).text();
    const res = await s.fetch(r('http://a.test', 302, 'http://a.test/echo', 'sid=two; Path=/'));
    await res.text();
    await s.close();
    const stored = res.hops[0]!.decisions.find((d) => d.subject === 'set-cookie');
    assert.equal(stored?.reason, 'replaced');
    assert.deepEqual(stored?.facts, { domain: 'a.test', path: '/', hostOnly: true, secure: false, sentOnThisHop: true, valueChanged: true });
  });
});

describe('errors across copies of hopwise', () => {
  it('recognises an error thrown by another copy of hopwise with instanceof', async () => {
    const copy = (await import('../src/errors.ts?copy=2' as string)) as typeof import('../src/errors.ts');
    assert.notEqual(copy.HopwiseError, HopwiseError, 'a second module instance');
    const foreign = new copy.HopwiseRedirectError('ERR_REDIRECT_LOOP', 'loop');
    assert.ok(foreign instanceof HopwiseError);
    assert.ok(foreign instanceof HopwiseRedirectError);
    assert.ok(!(foreign instanceof HopwiseOptionError));
    assert.ok(new HopwiseOptionError('ERR_INVALID_OPTION', 'x') instanceof copy.HopwiseError);
    assert.ok(!(new Error('plain') instanceof HopwiseError));
    assert.ok(!({ code: 'ERR_TIMEOUT' } instanceof HopwiseError));
  });
});
