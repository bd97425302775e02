// hopwise from the built package (dist/index.js, or $HOPWISE_DIST; never src/) with its defaults:
// trace on, in-memory cookie jar; through the bench's proxy (`proxy` option) for /ok via a proxy,
// and with `http2: true` and the bench's CA for /redirect/3 over h2. Optional: while dist/ is
// missing or broken the harness reports it as unavailable (with the reason) instead of failing the run.
import { pathToFileURL } from 'node:url';
import { DIST_INDEX } from '../lib.mjs';

/** The hopwise client for the build whose entry is `entry` (hopwise-baseline.mjs makes a second one). */
export function hopwiseClient(entry, fields) {
  let session;
  return {
    optional: true,
    workloads: ['ok', 'redirect3', 'cookie3', 'okProxy', 'redirect3h2'],
    na: {},
    ...fields,
    async setup(_base, { workload, proxy, ca } = {}) {
      const { Session } = await import(pathToFileURL(entry).href);
      if (typeof Session !== 'function') throw new Error(`${entry} exports no Session`);
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
}

export default hopwiseClient(DIST_INDEX, { name: 'hopwise', order: 90 });
