// node-fetch v3 on a keep-alive http.Agent.
import http from 'node:http';
import fetch from 'node-fetch';

let agent;
export default {
  name: 'node-fetch',
  order: 40,
  workloads: ['ok', 'redirect3'],
  na: { cookie3: 'no cookie jar' },
  async setup() {
    agent = new http.Agent({ keepAlive: true });
  },
  async run({ url }) {
    const res = await fetch(url, { agent });
    return { status: res.status, body: await res.json() };
  },
  async teardown() {
    agent.destroy();
  },
};
