// got without a cookie jar, on an explicit keep-alive http.Agent.
import http from 'node:http';
import got from 'got';

let agent;
let client;
export default {
  name: 'got',
  order: 20,
  workloads: ['ok', 'redirect3'],
  na: { cookie3: 'no cookie jar; see got + tough-cookie' },
  async setup() {
    agent = new http.Agent({ keepAlive: true });
    client = got.extend({ agent: { http: agent }, responseType: 'json', throwHttpErrors: false, retry: { limit: 0 } });
  },
  async run({ url }) {
    const res = await client(url);
    return { status: res.statusCode, body: res.body };
  },
  async teardown() {
    agent.destroy();
  },
};
