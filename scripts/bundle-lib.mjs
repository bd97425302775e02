// The library as npm serves it: `import 'hopwise'`, `hopwise/lab`, `hopwise/html` and `hopwise/redis` load one bundled file
// each (dist/bundle/), not tsc's ~60 modules. Why: resolving, reading and linking each ES module
// costs more than its code, and made `import('hopwise')` cost ~1.2x `import('undici')` (bench/
// startup.mjs); one file loads in a fraction of that. Shared code would go to a chunk beside them,
// so the entries never hold two copies of a class. The dependencies stay external (resolved from
// node_modules); tsc's modules stay in dist/ for the type declarations beside them.
// dist/bundle/ is as deep as dist/trace/, so a `../../package.json` read at runtime still resolves.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: { index: 'dist/index.js', lab: 'dist/lab/index.js', html: 'dist/render/html.js', redis: 'dist/redis/index.js' },
  outdir: 'dist/bundle',
  chunkNames: 'shared-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // redis is an optional peer, imported lazily by hopwise/redis: never bundled.
  external: ['undici', 'node-forge', 'tldts', 'redis'],
  legalComments: 'none',
  logLevel: 'warning',
});
