// The `hopwise` bin as one bundled file (after `tsc`): dist/cli/hopwise.mjs, with the commands it
// loads only when they run (lab, demo, doctor) as chunks beside it. Why: a fresh `hopwise URL`
// otherwise spends a third of its CPU resolving and linking ~40 modules, and Node's ESM import of a
// CommonJS package (tldts) runs its export lexer over 200 KB; one ESM file loads in a fraction of that.
// undici and node-forge stay external (the library's own dependencies, resolved from node_modules).
// Chunks sit in dist/cli/ like the entry, so their `../../package.json` (the version) still resolves.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: { hopwise: 'dist/cli/main.js' },
  outdir: 'dist/cli',
  chunkNames: 'hopwise-[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['undici', 'node-forge'],
  legalComments: 'none',
  logLevel: 'warning',
});
