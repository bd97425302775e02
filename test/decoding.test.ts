import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { HopwiseError, Session } from '../src/index.ts';
import { toHar } from '../src/trace/har.ts';
import { echo, startServers, type TestServers } from './helpers/servers.ts';

const TEXT = 'hello, decoded world '.repeat(50);
const hasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function' && typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
const encode: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  'x-gzip': (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  identity: (b) => b,
};

let srv: TestServers;
before(
  async () =>
    (srv = await startServers((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const ce = url.searchParams.get('ce');
      if (url.pathname === '/enc') {
        // Stacked codings are applied in header order: 'gzip, br' means gzip first, then br.
        const codings = ce!.split(',').map((c) => c.trim());
        let body: Buffer = Buffer.from(TEXT);
        for (const c of codings)
          body = c === 'raw-deflate' ? zlib.deflateRawSync(body) : c === 'zstd' ? (zlib as unknown as { zstdCompressSync(b: Buffer): Buffer }).zstdCompressSync(body) : encode[c]!(body);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': ce!.replace('raw-deflate', 'deflate') });
        return void res.end(body);
      }
      if (url.pathname === '/bomb') {
        // 32 MiB of zeros, about 32 KiB on the wire.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync(Buffer.alloc(32 * 1024 * 1024)));
      }
      if (url.pathname === '/corrupt') {
        const good = zlib.gzipSync(Buffer.from(TEXT));
        const bad = Buffer.concat([good.subarray(0, 10), Buffer.from('this is not deflate data at all, sorry'), good.subarray(10)]);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        return void res.end(bad);
      }
      if (url.pathname === '/page') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync('<html><head><meta http-equiv="refresh" content="0; url=/dashboard"></head></html>'));
      }
      if (url.pathname === '/secret-echo') {
        // A body that quotes the request's credential and cookie back (an echo server, an error page).
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'set-cookie': 'sid=s3ss10nvalue; Path=/' });
        return void res.end(zlib.gzipSync(JSON.stringify({ auth: req.headers.authorization, key: req.headers['x-api-key'], body: req.body.toString() })));
      }
      if (url.pathname === '/binary') {
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(Buffer.from('not really a png'));
      }
      return echo(req, res);
    })),
);
after(() => srv.close());

const session = (opts: ConstructorParameters<typeof Session>[0] = {}) => new Session({ connectTo: srv.connectTo, ca: srv.ca, ...opts });

describe('content decoding', () => {
  it('sends Accept-Encoding for what it can decode unless the caller set one', async () => {
    const s = session();
    const got = (await (await s.fetch('http://a.test/echo')).json()) as { headers: Record<string, string> };
    assert.equal(got.headers['accept-encoding'], hasZstd ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br');
    const own = (await (await s.fetch('http://a.test/echo', { headers: { 'Accept-Encoding': 'identity' } })).json()) as { headers: Record<string, string> };
    assert.equal(own.headers['accept-encoding'], 'identity');
    await s.close();
  });

  for (const ce of ['gzip', 'x-gzip', 'deflate', 'raw-deflate', 'br', 'identity', 'gzip, br', 'deflate, gzip', ...(hasZstd ? ['zstd'] : [])]) {
    it(`decodes Content-Encoding: ${ce} in text(), arrayBuffer() and body`, async () => {
      const s = session();
      const u = `http://a.test/enc?ce=${encodeURIComponent(ce)}`;
      assert.equal(await (await s.fetch(u)).text(), TEXT);
      assert.equal(Buffer.from(await (await s.fetch(u)).arrayBuffer()).toString(), TEXT);
      const chunks: Buffer[] = [];
      for await (const c of (await s.fetch(u)).body! as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
      assert.equal(Buffer.concat(chunks).toString(), TEXT);
      await s.close();
    });
  }

  it('hands the raw bytes and sends no Accept-Encoding with decompress: false (session or per call)', async () => {
    const s = session({ decompress: false });
    const raw = Buffer.from(await (await s.fetch('http://a.test/enc?ce=gzip')).arrayBuffer());
    assert.equal(zlib.gunzipSync(raw).toString(), TEXT);
    const got = (await (await s.fetch('http://a.test/echo')).json()) as { headers: Record<string, string> };
    assert.equal(got.headers['accept-encoding'], undefined);
    await s.close();
    const s2 = session();
    const raw2 = Buffer.from(await (await s2.fetch('http://a.test/enc?ce=gzip', { decompress: false })).arrayBuffer());
    assert.equal(zlib.gunzipSync(raw2).toString(), TEXT);
    const got2 = (await (await s2.fetch('http://a.test/echo', { decompress: false })).json()) as { headers: Record<string, string> };
    assert.equal(got2.headers['accept-encoding'], undefined);
    await s2.close();
  });

  it('ends a compression bomb with ERR_BODY_TOO_LARGE (with hops) instead of filling memory', async () => {
    const s = session({ maxBodySize: 1024 * 1024 });
    const res = await s.fetch('http://a.test/bomb');
    const err = await res.arrayBuffer().then(
      () => assert.fail('expected ERR_BODY_TOO_LARGE'),
      (e: unknown) => e as HopwiseError,
    );
    assert.ok(err instanceof HopwiseError);
    assert.equal(err.code, 'ERR_BODY_TOO_LARGE');
    assert.equal(err.hops.length, 1);
    assert.equal(err.hops[0]!.error?.code, 'ERR_BODY_TOO_LARGE');
    await s.close();
  });

  it('reports a corrupt gzip stream as ERR_DECODE with hops', async () => {
    const s = session();
    for (const read of ['text', 'body'] as const) {
      const res = await s.fetch('http://a.test/corrupt');
      const err = await (
        read === 'text'
          ? res.text()
          : (async () => {
              for await (const _ of res.body! as unknown as AsyncIterable<Uint8Array>);
            })()
      ).then(
        () => assert.fail('expected ERR_DECODE'),
        (e: unknown) => e as HopwiseError,
      );
      assert.ok(err instanceof HopwiseError, read);
      assert.equal(err.code, 'ERR_DECODE');
      assert.match(err.message, /gzip/);
      assert.equal(err.hops.length, 1);
    }
    await s.close();
  });

  it('finds a meta refresh in a gzip-encoded page', async () => {
    const s = session({ followMetaRefresh: true });
    const res = await s.fetch('http://a.test/page');
    assert.equal(res.hops.length, 2);
    assert.equal(new URL(res.url).pathname, '/dashboard');
    await res.text();
    await s.close();
  });
});

describe('bodies in the HAR (recordBodies)', () => {
  it('keeps decoded request and response text with every secret value redacted', async () => {
    const s = session({ recordBodies: true, headers: { authorization: 'Bearer tok-1234567890', 'x-api-key': 'key-abcdefgh' } });
    const res = await s.fetch('http://a.test/secret-echo', { method: 'POST', body: JSON.stringify({ q: 'hi', echo: 'tok-1234567890' }), headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    assert.match(text, /tok-1234567890/); // the caller gets the real body
    const har = toHar(res.hops);
    const entry = har.log.entries[0]!;
    assert.equal(entry.request.postData?.mimeType, 'application/json');
    assert.match(entry.request.postData!.text, /"q":"hi"/);
    assert.doesNotMatch(entry.request.postData!.text, /tok-1234567890/);
    const content = entry.response.content.text!;
    assert.match(content, /‹redacted›/);
    for (const secret of ['tok-1234567890', 'key-abcdefgh']) assert.ok(!content.includes(secret), secret);
    assert.equal(entry.response.content.size, Buffer.byteLength(text));
    await s.close();
  });

  it('caps recorded bodies and keeps none for binary types or without recordBodies', async () => {
    const s = session({ recordBodies: 100 });
    const res = await s.fetch('http://a.test/enc?ce=gzip');
    await res.text();
    assert.equal(res.hops[0]!.responseBody?.length, 100);
    const bin = await s.fetch('http://a.test/binary');
    await bin.arrayBuffer();
    assert.equal(bin.hops[0]!.responseBody, undefined);
    await s.close();
    const plain = session();
    const r2 = await plain.fetch('http://a.test/enc?ce=gzip');
    await r2.text();
    assert.equal(r2.hops[0]!.responseBody, undefined);
    assert.equal(toHar(r2.hops).log.entries[0]!.response.content.text, undefined);
    await plain.close();
  });
});
