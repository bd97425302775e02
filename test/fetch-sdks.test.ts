/**
 * SDKs that take a fetch run on session.fetch end to end: one same-origin redirect that sets a cookie.
 * The server must receive the Authorization header again after the redirect (same origin: kept) and
 * the cookie the redirect set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request as octokitRequest } from '@octokit/request';
import ky from 'ky';
import { createFetch } from 'ofetch';
import { Session } from '../src/index.ts';
import { echo, startServers, type TestServers } from './helpers/servers.ts';

let srv: TestServers;
before(
  async () =>
    (srv = await startServers((req, res) => {
      if (req.url!.startsWith('/start')) {
        res.writeHead(302, { location: '/final', 'set-cookie': 'sid=from-redirect; Path=/' });
        return void res.end();
      }
      return echo(req, res);
    })),
);
after(() => srv.close());

const session = () => new Session({ connectTo: srv.connectTo, ca: srv.ca });

function assertFinalRequest(since: number): void {
  const got = srv.received.slice(since);
  assert.deepEqual(
    got.map((g) => g.path),
    ['/start', '/final'],
  );
  const final = got[1]!;
  assert.equal(final.headers.authorization, 'Bearer sdk-token');
  assert.equal(final.headers.cookie, 'sid=from-redirect');
}

describe('SDKs on session.fetch', () => {
  it('ky follows the redirect with Authorization kept and the cookie sent', async () => {
    const s = session();
    const since = srv.received.length;
    const data = await ky.get('https://a.test/start', { fetch: s.fetch, headers: { authorization: 'Bearer sdk-token' }, retry: 0 }).json<{ url: string }>();
    assert.equal(data.url, '/final');
    assertFinalRequest(since);
    await s.close();
  });

  it('ofetch follows the redirect with Authorization kept and the cookie sent', async () => {
    const s = session();
    const since = srv.received.length;
    const $fetch = createFetch({ fetch: s.fetch, Headers: globalThis.Headers, AbortController: globalThis.AbortController });
    const data = await $fetch<{ url: string }>('https://a.test/start', { headers: { authorization: 'Bearer sdk-token' } });
    assert.equal(data.url, '/final');
    assertFinalRequest(since);
    await s.close();
  });

  it('@octokit/request follows the redirect with Authorization kept and the cookie sent', async () => {
    const s = session();
    const since = srv.received.length;
    const res = await octokitRequest('GET /start', { baseUrl: 'https://a.test', headers: { authorization: 'Bearer sdk-token' }, request: { fetch: s.fetch } });
    assert.equal(res.status, 200);
    assert.equal((res.data as { url: string }).url, '/final');
    assertFinalRequest(since);
    await s.close();
  });
});
