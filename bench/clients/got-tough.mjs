// got with a tough-cookie jar (its documented way to keep cookies), on a keep-alive http.Agent.
import http from 'node:http';
import got from 'got';
import { CookieJar } from 'tough-cookie';

let agent;
let client;
export default {
  name: 'got + tough-cookie',
  order: 21,
  workloads: ['cookie3'],
  na: { ok: 'same code path as got without cookies', redirect3: 'same code path as got without cookies' },
  async setup() {
    agent = new http.Agent({ keepAlive: true });
    client = got.extend({
      agent: { http: agent },
      cookieJar: new CookieJar(),
      responseType: 'json',
      throwHttpErrors: false,
      retry: { limit: 0 },
    });
  },
  async run({ url }) {
    const res = await client(url);
    return { status: res.statusCode, body: res.body };
  },
  async teardown() {
    agent.destroy();
  },
};
