// axios (Node http adapter, redirects via follow-redirects) on a keep-alive http.Agent.
import http from 'node:http';
import axios from 'axios';

let agent;
let client;
export default {
  name: 'axios',
  order: 30,
  workloads: ['ok', 'redirect3'],
  na: { cookie3: 'no cookie jar' },
  async setup() {
    agent = new http.Agent({ keepAlive: true });
    client = axios.create({ httpAgent: agent, validateStatus: () => true, responseType: 'json', proxy: false });
  },
  async run({ url }) {
    const res = await client.get(url);
    return { status: res.status, body: res.data };
  },
  async teardown() {
    agent.destroy();
  },
};
