// Raw undici.request on a keep-alive Agent: the floor for /ok. It follows nothing, so it only
// runs the workload that needs nothing followed.
import { Agent, request } from 'undici';

let agent;
export default {
  name: 'undici.request',
  order: 0,
  floorFor: ['ok'],
  workloads: ['ok'],
  na: { redirect3: 'follows no redirects; the hand loop is this floor', cookie3: 'no cookie jar; the hand loop + tough-cookie is this floor' },
  async setup() {
    agent = new Agent();
  },
  async run({ url }) {
    const { statusCode, body } = await request(url, { dispatcher: agent });
    return { status: statusCode, body: await body.json() };
  },
  async teardown() {
    await agent.close();
  },
};
