// Another build of hopwise beside the current one, in the same run (before/after figures for a
// change): HOPWISE_BASELINE=/path/to/its/entry.js (say, main's dist/index.js built in a scratch
// directory). Without it this client is left out. Same options as the hopwise client.
import path from 'node:path';
import { hopwiseClient } from './hopwise.mjs';

const entry = process.env.HOPWISE_BASELINE;
export default hopwiseClient(entry === undefined ? '' : path.resolve(entry), { name: 'hopwise (baseline build)', order: 91, enabled: entry !== undefined });
