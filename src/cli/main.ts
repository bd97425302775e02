#!/usr/bin/env node
/**
 * The `hopwise` command: trace, doctor, lab, demo. Argument parsing in args.ts, one module per
 * command; this file only dispatches and maps failures to exit codes (2 for bad arguments).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { HopwiseOptionError } from '../index.js';
import { ArgError, parseArgs, shortUsage, usage } from './args.js';
import { processIO, write, type CliIO } from './io.js';

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    write(io.stderr, `hopwise: ${e.message}\n\n${usage(e.command)}`);
    return 2;
  }
  try {
    switch (parsed.command) {
      case 'help':
        write(io.stdout, usage(parsed.topic));
        return 0;
      case 'version': {
        const require = createRequire(import.meta.url);
        write(io.stdout, (require('../../package.json') as { version: string }).version);
        return 0;
      }
      case 'trace': {
        const { traceCommand } = await import('./trace.js');
        return await traceCommand(parsed.request, io);
      }
      case 'doctor': {
        const { doctorCommand } = await import('./doctor.js');
        return await doctorCommand(parsed.request, io);
      }
      case 'lab': {
        const { labCommand } = await import('./lab.js');
        return await labCommand(parsed, io);
      }
      case 'demo': {
        const { demoCommand } = await import('./demo.js');
        return await demoCommand(parsed, io);
      }
    }
  } catch (e) {
    if (e instanceof ArgError) {
      write(io.stderr, `hopwise: ${e.message}\n${shortUsage(e.command ?? (parsed.command === 'trace' || parsed.command === 'doctor' ? parsed.command : undefined))}`);
      return 2;
    }
    if (e instanceof HopwiseOptionError) {
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
