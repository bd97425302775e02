// hopwise from the built package (dist/index.js, or $HOPWISE_DIST; never src/) with its defaults:
// trace on, in-memory cookie jar; through the bench's proxy (`proxy` option) for /ok via a proxy,
// and with `http2: true` and the bench's CA for /redirect/3 over h2. Optional: while dist/ is
// missing or broken the harness reports it as unavailable (with the reason) instead of failing the run.
import { pathToFileURL } from 'node:url';
import { DIST_INDEX } from '../lib.mjs';

let session;
export default {
  name: 'hopwise',
  order: 90,
  optional: true,
  workloads: ['ok', 'redirect3', 'cookie3', 'okProxy', 'redirect3h2'],
  na: {},
  async setup(_base, { workload, proxy, ca } = {}) {
    const { Session } = await import(pathToFileURL(DIST_INDEX).href);
    if (typeof Session !== 'function') throw new Error('dist/index.js exports no Session');
    session = new Session(workload === 'okProxy' ? { proxy } : workload === 'redirect3h2' ? { http2: true, ca } : undefined);
  },
  async run({ url }) {
    const res = await session.fetch(url);
    return { status: res.status, body: await res.json() };
  },
  async teardown() {
    await session?.close?.();
  },
};
