// undici.request + a hand-written redirect loop: the floor for /redirect/3.
import { Agent } from 'undici';
import { handLoop } from './_loop.mjs';

let agent;
export default {
  name: 'undici.request loop',
  order: 1,
  floorFor: ['redirect3'],
  workloads: ['redirect3'],
  na: { ok: 'same code as undici.request for one hop', cookie3: 'no cookie jar; see the + tough-cookie row' },
  async setup() {
    agent = new Agent();
  },
  run({ url }) {
    return handLoop(agent, url, null);
  },
  async teardown() {
    await agent.close();
  },
};
