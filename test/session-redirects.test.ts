import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Session, type HopwiseError } from '../src/index.ts';
import { r, router, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());

const session = (extra: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...extra });

async function run(url: string, init: Parameters<Session['fetch']>[1] = {}, opts: ConstructorParameters<typeof Session>[0] = {}) {
  const s = session(opts);
  const before = srv.received.length;
  try {
    const res = await s.fetch(url, init);
    await res.arrayBuffer();
    return { res, got: srv.received.slice(before) };
  } finally {
    await s.close();
  }
}

async function fails(url: string, code: string, init: Parameters<Session['fetch']>[1] = {}, opts: ConstructorParameters<typeof Session>[0] = {}) {
  const s = session(opts);
  const before = srv.received.length;
  let error: HopwiseError | undefined;
  try {
    await s.fetch(url, init);
  } catch (err) {
    error = err as HopwiseError;
  } finally {
    await s.close();
  }
  assert.ok(error, `expected ${code}, but the fetch succeeded`);
  assert.equal(error.code, code, error.message);
  return { error, got: srv.received.slice(before) };
}

describe('method and body per redirect status', () => {
  // RFC 9110 §15.4 and Fetch "HTTP-redirect fetch" step 12.
  const expected: Record<number, Record<string, string>> = {
    301: { GET: 'GET', POST: 'GET', PUT: 'PUT', HEAD: 'HEAD' },
    302: { GET: 'GET', POST: 'GET', PUT: 'PUT', HEAD: 'HEAD' },
    303: { GET: 'GET', POST: 'GET', PUT: 'GET', HEAD: 'HEAD' },
    307: { GET: 'GET', POST: 'POST', PUT: 'PUT', HEAD: 'HEAD' },
    308: { GET: 'GET', POST: 'POST', PUT: 'PUT', HEAD: 'HEAD' },
  };
  for (const status of [301, 302, 303, 307, 308]) {
    for (const method of ['GET', 'POST', 'PUT', 'HEAD']) {
      const to = expected[status]![method]!;
      const hasBody = method === 'POST' || method === 'PUT';
      it(`follows ${status} to ${method} with ${to}${hasBody ? (to === method ? ', resending the body' : ', dropping the body and its headers') : ''}`, async () => {
        const init = hasBody ? { method, body: 'payload=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Language': 'en' } } : { method };
        const { got, res } = await run(r('https://a.test', status, '/echo'), init);
        assert.equal(got.length, 2);
        assert.equal(got[1]!.method, to);
        if (hasBody && to === method) {
          assert.equal(got[1]!.body.toString(), 'payload=1');
          assert.equal(got[1]!.headers['content-type'], 'application/x-www-form-urlencoded');
        } else {
          assert.equal(got[1]!.body.length, 0);
          assert.equal(got[1]!.headers['content-type'], undefined);
          assert.equal(got[1]!.headers['content-language'], undefined);
          assert.equal(got[1]!.headers['content-length'], undefined);
        }
        if (to !== method) {
          const d = res.hops[0]!.decisions.find((x) => x.subject === 'method')!;
          assert.equal(d.reason, `method-rewrite-${status}`);
          assert.equal(res.hops[0]!.decisions.find((x) => x.subject === 'body')?.reason, 'body-dropped-method-change');
        }
      });
    }
  }
});

describe('request bodies', () => {
  it('replays a small stream body on a 307', async () => {
    const { got, res } = await run(r('https://a.test', 307, '/echo'), { method: 'POST', body: Readable.from([Buffer.from('chunk-1,'), Buffer.from('chunk-2')]) });
    assert.deepEqual(
      got.map((g) => g.body.toString()),
      ['chunk-1,chunk-2', 'chunk-1,chunk-2'],
    );
    assert.equal(res.hops[0]!.decisions.find((d) => d.subject === 'body')!.reason, 'body-replayed');
  });

  it('replays a web ReadableStream body on a 308', async () => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('web-stream'));
        c.close();
      },
    });
    const { got } = await run(r('https://a.test', 308, '/echo'), { method: 'PUT', body: stream });
    assert.deepEqual(
      got.map((g) => g.body.toString()),
      ['web-stream', 'web-stream'],
    );
  });

  it('fails with ERR_BODY_NOT_REPLAYABLE naming the hop when a stream outgrew the replay buffer', async () => {
    const big = Readable.from([Buffer.alloc(3000, 1), Buffer.alloc(3000, 2)]);
    const { error, got } = await fails(r('https://a.test', 307, '/echo'), 'ERR_BODY_NOT_REPLAYABLE', { method: 'POST', body: big }, { replayBufferSize: 4096 });
    assert.match(error.message, /Hop 0 answered 307/);
    assert.equal(error.hops.length, 1);
    assert.equal(got.length, 1, 'the redirect target never received an empty body');
  });

  it('sends URLSearchParams, Blob, Uint8Array and FormData bodies with their content types', async () => {
    const form = new FormData();
    form.set('field', 'value');
    const cases: [unknown, RegExp, string][] = [
      [new URLSearchParams({ a: '1', b: 'two' }), /^application\/x-www-form-urlencoded/, 'a=1&b=two'],
      [new Blob(['blob!'], { type: 'text/x-blob' }), /^text\/x-blob$/, 'blob!'],
      [new Uint8Array([104, 105]), /^$/, 'hi'],
      [form, /^multipart\/form-data; boundary=/, 'value'],
    ];
    for (const [body, ct, text] of cases) {
      const { got } = await run('https://a.test/echo', { method: 'POST', body });
      assert.match(String(got[0]!.headers['content-type'] ?? ''), ct);
      assert.ok(got[0]!.body.toString().includes(text));
    }
  });

  it('refuses a body on GET with ERR_INVALID_BODY', async () => {
    await fails('https://a.test/echo', 'ERR_INVALID_BODY', { body: 'x' });
  });

  it('refuses to resend a body to another origin on a 307 with ERR_CROSS_ORIGIN_BODY', async () => {
    const { error, got } = await fails(r('https://a.test', 307, 'https://b.test/echo'), 'ERR_CROSS_ORIGIN_BODY', { method: 'PUT', body: 'upload' });
    assert.deepEqual(
      got.map((g) => g.host),
      ['a.test'],
    );
    assert.equal(error!.hops[0]!.decisions.find((d) => d.subject === 'body')?.reason, 'cross-origin-body-refused');
  });

  it('resends the body to another origin on a 307 when crossOriginBody is "send", without credentials', async () => {
    const { got } = await run(r('https://a.test', 307, 'https://b.test/echo'), { method: 'PUT', body: 'upload', headers: { authorization: 'Bearer t' } }, { crossOriginBody: 'send' });
    assert.equal(got[1]!.body.toString(), 'upload');
    assert.equal(got[1]!.headers.authorization, undefined);
  });

  it('resends the body to a trusted origin on a 307', async () => {
    const { got } = await run(r('https://a.test', 307, 'https://api.example.com/echo'), { method: 'POST', body: 'upload' }, { trust: ['api.example.com'] });
    assert.equal(got[1]!.body.toString(), 'upload');
  });
});

describe('which redirects are followed', () => {
  for (const scheme of ['file:///etc/passwd', 'data:text/plain,hi', 'ftp://a.test/x', 'javascript:alert(1)']) {
    it(`refuses a redirect to ${scheme.split(':')[0]}: with ERR_UNSAFE_REDIRECT`, async () => {
      const { error, got } = await fails(r('https://a.test', 302, scheme), 'ERR_UNSAFE_REDIRECT');
      assert.equal(got.length, 1);
      assert.equal(error!.hops[0]!.decisions.at(-1)?.reason, 'unsafe-scheme');
    });
  }

  for (const status of [300, 304]) {
    it(`returns a ${status} as it is, without following its Location`, async () => {
      const { res, got } = await run(`https://a.test/status?s=${status}&u=/echo`);
      assert.equal(res.status, status);
      assert.equal(got.length, 1);
    });
  }

  it('returns a 302 without Location as it is', async () => {
    const { res } = await run('https://a.test/status?s=302');
    assert.equal(res.status, 302);
    assert.equal(res.hops[0]!.decisions.at(-1)!.reason, 'no-location');
  });

  it('returns the 3xx with redirect: "manual" and resolves its Location in the trace', async () => {
    const { res, got } = await run(r('https://a.test', 302, '/echo'), { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(got.length, 1);
    assert.equal(res.hops[0]!.location, 'https://a.test/echo');
    assert.equal(res.headers.get('location'), '/echo');
  });

  it('fails on any redirect with redirect: "error"', async () => {
    await fails(r('https://a.test', 301, '/echo'), 'ERR_REDIRECT', { redirect: 'error' });
  });

  it('fails with ERR_TOO_MANY_REDIRECTS after maxRedirects, with the partial trace', async () => {
    const { error, got } = await fails('https://a.test/chain/25', 'ERR_TOO_MANY_REDIRECTS');
    assert.equal(got.length, 21);
    assert.equal(error.hops.length, 21);
    assert.equal(error!.hops.at(-1)!.decisions.at(-1)?.reason, 'limit');
    const small = await fails('https://a.test/chain/3', 'ERR_TOO_MANY_REDIRECTS', {}, { maxRedirects: 2 });
    assert.equal(small.got.length, 3);
  });

  it('follows exactly maxRedirects redirects', async () => {
    const { res } = await run('https://a.test/chain/3', {}, { maxRedirects: 3 });
    assert.equal(res.status, 200);
    assert.equal(res.hops.length, 4);
  });

  it('fails with ERR_REDIRECT_LOOP on a self-redirect before repeating the request', async () => {
    const { error, got } = await fails('https://a.test/loop', 'ERR_REDIRECT_LOOP');
    assert.equal(got.length, 1);
    assert.equal(error.hops.length, 1);
    assert.equal(error!.hops[0]!.decisions.at(-1)?.reason, 'loop');
  });

  it('detects a two-step loop a → b → a', async () => {
    const { error, got } = await fails('https://a.test/pingpong', 'ERR_REDIRECT_LOOP');
    assert.deepEqual(
      got.map((g) => g.host),
      ['a.test', 'b.test'],
    );
    assert.equal(error.hops.length, 2);
  });

  it('does not call it a loop when the cookies changed (a login bounce)', async () => {
    const back = 'https://a.test/r?s=302&u=%2Fecho';
    // first visit: no cookie, set one and come back to the same URL; second visit has the cookie.
    const url = r('https://a.test', 302, back, 'seen=1; Path=/');
    const { res } = await run(url);
    assert.equal(res.status, 200);
  });
});

describe('Location resolution', () => {
  it('resolves a relative Location against the current URL', async () => {
    const { got } = await run(r('https://a.test', 302, 'echo?x=1'));
    assert.equal(got[1]!.path, '/echo?x=1');
  });

  it('resolves a scheme-relative Location with the current scheme', async () => {
    const { got } = await run(r('https://a.test', 302, '//b.test/echo'));
    assert.equal(got[1]!.host, 'b.test');
    assert.equal(got[1]!.scheme, 'https');
  });

  it('carries the request fragment to a Location without one (Fetch)', async () => {
    const { res } = await run(r('https://a.test', 302, '/echo') + '#section');
    assert.equal(res.hops[1]!.url, 'https://a.test/echo#section');
    assert.equal(res.url, 'https://a.test/echo');
    assert.equal(res.hops[0]!.decisions.find((d) => d.reason === 'fragment-inherited')?.subject, 'location');
  });

  it("keeps the Location's own fragment over the request's", async () => {
    const { res } = await run(r('https://a.test', 302, '/echo#own') + '#section');
    assert.equal(res.hops[1]!.url, 'https://a.test/echo#own');
  });

  it('drops userinfo from a Location and never sends it as a credential', async () => {
    const { got, res } = await run(r('https://a.test', 302, 'https://user:pw@b.test/echo'));
    assert.equal(got[1]!.headers.authorization, undefined);
    assert.equal(res.hops[1]!.url, 'https://b.test/echo');
    assert.equal(res.hops[0]!.decisions.find((d) => d.reason === 'userinfo-dropped')?.action, 'dropped');
  });

  it('fails with ERR_INVALID_REDIRECT on a Location that is not a URL', async () => {
    const { error } = await fails(r('https://a.test', 302, 'http://exa mple:99999/'), 'ERR_INVALID_REDIRECT');
    assert.equal(error.hops.length, 1);
  });
});

describe('the beforeRedirect hook', () => {
  it('sees the proposed next request and can add a header, recorded as hook-added', async () => {
    const { got, res } = await run(
      r('https://a.test', 302, 'https://b.test/echo'),
      {},
      {
        hooks: {
          beforeRedirect(state) {
            assert.equal(state.next.url, 'https://b.test/echo');
            assert.equal(state.hop.status, 302);
            state.next.headers['x-signed'] = 'yes';
          },
        },
      },
    );
    assert.equal(got[1]!.headers['x-signed'], 'yes');
    assert.equal(res.hops[1]!.decisions.find((d) => d.reason === 'hook-added')?.name, 'x-signed');
  });

  it('records a header the hook only adds as hook-added, not also as hook-removed', async () => {
    const { got, res } = await run(r('https://a.test', 302, 'https://b.test/echo'), {}, { hooks: { beforeRedirect: (s) => void (s.next.headers['x-signed'] = 'yes') } });
    assert.equal(got[1]!.headers['x-signed'], 'yes');
    const hookDecisions = res.hops[1]!.decisions.filter((d) => d.reason === 'hook-added' || d.reason === 'hook-removed');
    assert.deepEqual(
      hookDecisions.map((d) => [d.reason, d.subject === 'header' ? d.name : '']),
      [['hook-added', 'x-signed']],
    );
  });

  it('records a header the hook changes as hook-added only, and sends the new value alone', async () => {
    const { got, res } = await run(r('https://a.test', 302, '/echo'), { headers: { 'x-trace-id': 'abc' } }, { hooks: { beforeRedirect: (s) => void (s.next.headers['x-trace-id'] = 'def') } });
    assert.equal(got[1]!.headers['x-trace-id'], 'def');
    const hookDecisions = res.hops[1]!.decisions.filter((d) => d.reason === 'hook-added' || d.reason === 'hook-removed');
    assert.deepEqual(
      hookDecisions.map((d) => [d.reason, d.subject === 'header' ? d.name : '']),
      [['hook-added', 'x-trace-id']],
    );
  });

  it('records a header the hook deletes as hook-removed, and does not send it', async () => {
    const { got, res } = await run(r('https://a.test', 302, '/echo'), { headers: { 'x-trace-id': 'abc' } }, { hooks: { beforeRedirect: (s) => void delete s.next.headers['x-trace-id'] } });
    assert.equal(got[0]!.headers['x-trace-id'], 'abc');
    assert.equal(got[1]!.headers['x-trace-id'], undefined);
    const hookDecisions = res.hops[1]!.decisions.filter((d) => d.reason === 'hook-added' || d.reason === 'hook-removed');
    assert.deepEqual(
      hookDecisions.map((d) => [d.reason, d.subject === 'header' ? d.name : '']),
      [['hook-removed', 'x-trace-id']],
    );
  });

  it("sends only the hook's Authorization when the hook moves the chain back to the origin that keeps the caller's", async () => {
    const hooks = { beforeRedirect: (s: { next: { url: string; headers: Record<string, string> } }) => void ((s.next.url = 'https://a.test/echo'), (s.next.headers.authorization = 'Bearer hook')) };
    const { got } = await run(r('https://a.test', 302, 'https://b.test/echo'), {}, { headers: { authorization: 'Bearer t' }, hooks });
    assert.equal(got[1]!.host, 'a.test');
    assert.equal(got[1]!.headers.authorization, 'Bearer hook');
  });

  it('runs the policy again when the hook changes the URL: an unsafe scheme is refused', async () => {
    await fails(r('https://a.test', 302, '/echo'), 'ERR_UNSAFE_REDIRECT', {}, { hooks: { beforeRedirect: (s) => void (s.next.url = 'file:///etc/passwd') } });
  });

  it('runs the policy again when the hook moves the chain to another origin: credentials are stripped', async () => {
    const { got } = await run(r('https://a.test', 302, '/echo'), {}, { headers: { authorization: 'Bearer t' }, hooks: { beforeRedirect: (s) => void (s.next.url = 'https://b.test/echo') } });
    assert.equal(got[1]!.host, 'b.test');
    assert.equal(got[1]!.headers.authorization, undefined);
  });
});
