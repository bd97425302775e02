#!/usr/bin/env node
/**
 * The `hopwise` command: `hopwise [flags] URL` (curl -L), trace, doctor, lab, demo, help. Argument
 * parsing in args.ts, one module per command, each loaded only when it runs (the lab's certificate
 * code and node-forge, the doctor and the demo stay unloaded for `hopwise URL`); this file only
 * dispatches and maps failures to exit codes (2 for bad arguments).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { ArgError, flagHelp, parseArgs, shortUsage, usage } from './args.js';
import { processIO, write, type CliIO } from './io.js';

/** A HopwiseOptionError from any copy of hopwise, by its brand (importing the class would load the library). */
function isOptionError(e: unknown): e is Error {
  const kinds = (e as Record<symbol, unknown> | null)?.[Symbol.for('hopwise.error')];
  return Array.isArray(kinds) && kinds.includes('HopwiseOptionError');
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    write(io.stderr, `hopwise: ${e.message}\n${shortUsage(e.command)}`);
    return 2;
  }
  try {
    switch (parsed.command) {
      case 'help':
        if (parsed.flag === 'exit') {
          const { exitCodesText } = await import('./exit.js');
          write(io.stdout, exitCodesText());
        } else write(io.stdout, parsed.flag ? flagHelp(parsed.flag) : usage(parsed.topic));
        return 0;
      case 'version': {
        const require = createRequire(import.meta.url);
        write(io.stdout, (require('../../package.json') as { version: string }).version);
        return 0;
      }
      case 'fetch': {
        const { fetchCommand } = await import('./fetch.js');
        return await fetchCommand(parsed.request, io, parsed.warnings);
      }
      case 'trace': {
        for (const w of parsed.warnings) write(io.stderr, `hopwise: ${w}`);
        const { traceCommand } = await import('./trace.js');
        return await traceCommand(parsed.request, io);
      }
      case 'doctor': {
        for (const w of parsed.warnings) write(io.stderr, `hopwise: ${w}`);
        const { doctorCommand, doctorHarCommand } = await import('./doctor.js');
        if (parsed.request.harInput !== undefined) return await doctorHarCommand(parsed.request, io);
        return await doctorCommand(parsed.request, io, argv);
      }
      case 'lab': {
        const { labCommand } = await import('./lab.js');
        return await labCommand(parsed, io);
      }
      case 'demo': {
        const { demoCommand } = await import('./demo.js');
        return await demoCommand(parsed, io);
      }
      case 'record': {
        const { recordCommand } = await import('./record.js');
        return await recordCommand(parsed, io);
      }
    }
  } catch (e) {
    if (e instanceof ArgError) {
      const command = e.command ?? (parsed.command === 'fetch' || parsed.command === 'trace' || parsed.command === 'doctor' ? parsed.command : undefined);
      write(io.stderr, `hopwise: ${e.message}\n${shortUsage(command)}`);
      return 2;
    }
    if (isOptionError(e)) {
      write(io.stderr, `hopwise: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  // One short-lived request: undici's HTTP parser is WebAssembly, and V8 compiles it a second time
  // (optimised) on background threads, which the process then waits for at exit: ~0.3 s of idle
  // after the output, and the CPU of a compile that is never used. The baseline compiler alone
  // parses a CLI's few responses as fast. Set before undici first compiles it (on the first request).
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--liftoff-only');
  // `hopwise URL | head`: the reader went away; stop as curl does, with its write-error code
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(23);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hopwise: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
