// undici.request + the hand loop + a tough-cookie jar (sync API): the floor for /cookie-chain/3.
import { Agent } from 'undici';
import { CookieJar } from 'tough-cookie';
import { handLoop } from './_loop.mjs';

let agent;
let jar;
export default {
  name: 'undici.request loop + tough-cookie',
  order: 2,
  floorFor: ['cookie3'],
  workloads: ['cookie3'],
  na: { ok: 'floor rows are per workload', redirect3: 'floor rows are per workload' },
  async setup() {
    agent = new Agent();
    jar = new CookieJar();
  },
  run({ url }) {
    return handLoop(agent, url, jar);
  },
  async teardown() {
    await agent.close();
  },
};
