// Another build of hopwise beside the current one, in the same run (before/after figures for a
// change): HOPWISE_BASELINE=/path/to/its/entry.js (say, main's dist/index.js built in a scratch
// directory). Without it this client is left out. Same options as the hopwise client.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import current from './hopwise.mjs';

const entry = process.env.HOPWISE_BASELINE;
let session;
export default {
  ...current,
  name: 'hopwise (baseline build)',
  order: 91,
  enabled: entry !== undefined,
  async setup(_base, { workload, proxy, ca } = {}) {
    const { Session } = await import(pathToFileURL(path.resolve(entry)).href);
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
