/**
 * Secret-looking names: the one list decides both which headers are credentials and which query
 * parameters are secrets. Real API-key header names from public APIs must be caught; ordinary
 * headers must not be.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSecretQueryName, isSensitiveName, redactUrl } from '../src/credentials/sensitive.ts';
import { r, router, startServers, chainRunner, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(async () => (srv = await startServers(router)));
after(() => srv.close());
const { run } = chainRunner(() => srv);

describe('secret-looking names', () => {
  const none = new Set<string>();
  it('treats the API-key header names real services use as credentials', () => {
    for (const name of ['x-mbx-apikey', 'x-cmc_pro_api_key', 'api_key', 'x-apikey', 'authentication', 'x-csrftoken', 'x-session-id', 'x-api-key', 'x-auth-token', 'x-goog-api-key', 'private-token', 'x-hub-signature']) {
      assert.ok(isSensitiveName(name, none), name);
    }
  });

  it('leaves ordinary headers alone', () => {
    for (const name of ['x-request-id', 'x-monkey', 'content-type', 'accept', 'user-agent', 'x-forwarded-for', 'cache-control', 'keyboard']) assert.ok(!isSensitiveName(name, none), name);
  });

  it('uses the same list for query parameters, plus OAuth code and sig', () => {
    for (const name of ['access_token', 'api_key', 'apikey', 'key', 'sig', 'signature', 'code', 'client_secret', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'password', 'session_id']) assert.ok(isSecretQueryName(name), name);
    for (const name of ['page', 'q', 'id', 'next']) assert.ok(!isSecretQueryName(name), name);
    assert.equal(redactUrl('https://a.test/cb?code=abc&state=s&X-Amz-Signature=f00'), 'https://a.test/cb?code=redacted&state=s&X-Amz-Signature=redacted');
  });

  it('strips X-MBX-APIKEY on a cross-origin redirect: the next server never receives it', async () => {
    const { got } = await run(r('https://a.test', 302, 'https://b.test/echo'), { headers: { 'X-MBX-APIKEY': 'k3y' } });
    assert.equal(got[0]!.headers['x-mbx-apikey'], 'k3y');
    assert.equal(got[1]!.headers['x-mbx-apikey'], undefined);
  });
});
