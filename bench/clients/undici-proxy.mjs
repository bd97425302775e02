// undici.request through undici's own ProxyAgent (absolute-form for an http: target, as hopwise sends
// it and curl does): the floor for /ok via a proxy.
import { ProxyAgent, request } from 'undici';

let agent;
export default {
  name: 'undici.request + ProxyAgent',
  order: 3,
  floorFor: ['okProxy'],
  workloads: ['okProxy'],
  na: {},
  async setup(_base, { proxy }) {
    agent = new ProxyAgent({ uri: proxy, proxyTunnel: false });
  },
  async run({ url }) {
    const { statusCode, body } = await request(url, { dispatcher: agent });
    return { status: statusCode, body: await body.json() };
  },
  async teardown() {
    await agent.close();
  },
};
