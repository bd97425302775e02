/**
 * `.netrc` (the format of inetutils' ftp, as curl and requests read it): `machine NAME login USER
 * password PASS`, a `default` entry, `macdef` blocks skipped. An entry is used only for its exact
 * host, per hop, and never when an explicit provider or the caller's Authorization is in scope
 * (curl and requests give those precedence); `default` only when the caller opts in. A file that
 * group or others can read or write is refused, as curl warns about it.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HopwiseOptionError } from '../errors.js';

export interface NetrcEntry {
  /** Lower-case host name; undefined for the `default` entry. */
  machine: string | undefined;
  login: string;
  password: string;
}

export interface Netrc {
  path: string;
  machines: ReadonlyMap<string, NetrcEntry>;
  /** The `default` entry, kept only with the `default: true` opt-in. */
  fallback: NetrcEntry | undefined;
}

/** Tokens: whitespace-separated words, or double-quoted strings with `\` escapes (as curl reads them). */
function tokens(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  let inMacro = false;
  for (const line of lines) {
    if (inMacro) {
      if (line.trim() === '') inMacro = false;
      continue;
    }
    let i = 0;
    const lineTokens: string[] = [];
    while (i < line.length) {
      while (i < line.length && /\s/.test(line[i]!)) i++;
      if (i >= line.length) break;
      if (line[i] === '#' && lineTokens.length === 0) break; // a comment line
      let t = '';
      if (line[i] === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          t += line[i++];
        }
        i++;
      } else {
        while (i < line.length && !/\s/.test(line[i]!)) t += line[i++];
      }
      lineTokens.push(t);
    }
    out.push(...lineTokens);
    // macdef NAME: the macro body runs to the next blank line.
    const m = lineTokens.indexOf('macdef');
    if (m >= 0) inMacro = true;
  }
  return out;
}

export function parseNetrc(text: string): { machines: Map<string, NetrcEntry>; fallback: NetrcEntry | undefined } {
  const t = tokens(text);
  const machines = new Map<string, NetrcEntry>();
  let fallback: NetrcEntry | undefined;
  let cur: NetrcEntry | undefined;
  const flush = (): void => {
    if (!cur) return;
    if (cur.machine === undefined) fallback ??= cur;
    else if (!machines.has(cur.machine)) machines.set(cur.machine, cur); // the first entry for a machine wins (curl)
    cur = undefined;
  };
  for (let i = 0; i < t.length; i++) {
    const k = t[i];
    if (k === 'machine') {
      flush();
      cur = { machine: (t[++i] ?? '').toLowerCase(), login: '', password: '' };
    } else if (k === 'default') {
      flush();
      cur = { machine: undefined, login: '', password: '' };
    } else if (k === 'login' && cur) cur.login = t[++i] ?? '';
    else if (k === 'password' && cur) cur.password = t[++i] ?? '';
    else if (k === 'account' && cur) i++;
    else if (k === 'macdef') {
      flush();
      i++;
    }
  }
  flush();
  return { machines, fallback };
}

/** Read the file the `netrc` option names. `true`: $NETRC, else ~/.netrc (a missing default file is no entries). */
export function loadNetrc(option: boolean | string | { path?: string; default?: boolean }, env: Readonly<Record<string, string | undefined>>): Netrc | undefined {
  if (option === false) return undefined;
  const o = typeof option === 'object' ? option : { path: option === true ? undefined : option };
  const explicit = o.path !== undefined || (env.NETRC !== undefined && env.NETRC !== '');
  const path = o.path ?? (env.NETRC || join(homedir(), '.netrc'));
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return { path, machines: new Map(), fallback: undefined };
    throw new HopwiseOptionError('ERR_INVALID_OPTION', `netrc: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  // curl warns about a .netrc others can read; hopwise refuses it: the passwords in it are not private.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new HopwiseOptionError(
      'ERR_NETRC_PERMISSIONS',
      `netrc: ${path} can be read or written by other users (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); its passwords are not private, so hopwise does not use it. Run: chmod 600 ${path}`,
    );
  }
  const { machines, fallback } = parseNetrc(readFileSync(path, 'utf8'));
  return { path, machines, fallback: o.default === true ? fallback : undefined };
}

/** The entry for this exact host (the `default` one only when opted in). */
export function netrcEntry(netrc: Netrc, url: URL): NetrcEntry | undefined {
  const host = url.hostname.toLowerCase();
  return netrc.machines.get(host) ?? netrc.fallback;
}
