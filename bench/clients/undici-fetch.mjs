// undici's fetch (the npm package, same major as hopwise's undici) on its own keep-alive Agent.
import { Agent, fetch } from 'undici';

let agent;
export default {
  name: 'undici fetch',
  order: 10,
  workloads: ['ok', 'redirect3'],
  na: { cookie3: 'no cookie jar' },
  async setup() {
    agent = new Agent();
  },
  async run({ url }) {
    const res = await fetch(url, { dispatcher: agent });
    return { status: res.status, body: await res.json() };
  },
  async teardown() {
    await agent.close();
  },
};
