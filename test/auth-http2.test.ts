// HTTP/2 carries the same credential rules: an h2 chain strips Authorization across origins exactly as HTTP/1.1.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Session, bearer } from '../src/index.ts';
import { toHar } from '../src/trace/har.ts';
import { testCertificates } from './helpers/servers.ts';

const certs = await testCertificates();
const received: { host: string; version: string; authorization: string | undefined }[] = [];
let server: http2.Http2SecureServer;
let port = 0;
before(async () => {
  server = http2.createSecureServer({ key: certs.key, cert: certs.cert, allowHTTP1: true }, (req, res) => {
    const host = String(req.headers[':authority'] ?? req.headers.host ?? '').replace(/:\d+$/, '');
    received.push({ host, version: req.httpVersion, authorization: req.headers.authorization });
    if (req.url === '/to-b') {
      res.writeHead(302, { location: `https://b.test:${port}/end` });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const session = (http2Option: boolean) => new Session({ http2: http2Option, ca: certs.caCert, connectTo: [`:${port}:127.0.0.1:${port}`], auth: bearer('tok'), privateNetworks: 'allow' });

describe('http2', () => {
  it('records h2 on every hop and strips the credential at the cross-origin hop, as HTTP/1.1 does', async () => {
    for (const h2 of [true, false]) {
      received.length = 0;
      const s = session(h2);
      const res = await s.fetch(`https://a.test:${port}/to-b`);
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.hops.map((h) => h.protocol),
        h2 ? ['h2', 'h2'] : ['http/1.1', 'http/1.1'],
      );
      assert.deepEqual(
        received.map((r) => [r.host, r.version, r.authorization]),
        [
          ['a.test', h2 ? '2.0' : '1.1', 'Bearer tok'],
          ['b.test', h2 ? '2.0' : '1.1', undefined],
        ],
      );
      if (h2) assert.equal(toHar(res.hops).log.entries[0]?.request.httpVersion, 'HTTP/2');
      await s.close();
    }
  });
});
