// The hand redirect loop over undici.request on an Agent with allowH2 (ALPN picks h2), trusting the
// bench's throwaway CA: the floor for /redirect/3 over HTTP/2.
import { Agent } from 'undici';
import { handLoop } from './_loop.mjs';

let agent;
export default {
  name: 'undici.request loop, allowH2',
  order: 4,
  floorFor: ['redirect3h2'],
  workloads: ['redirect3h2'],
  na: {},
  async setup(_base, { ca }) {
    agent = new Agent({ allowH2: true, connect: { ca } });
  },
  run({ url }) {
    return handLoop(agent, url, null);
  },
  async teardown() {
    await agent.close();
  },
};
