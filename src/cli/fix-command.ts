/**
 * The doctor's CLI fixes as whole command lines, ready to paste: the command that made the chain, as
 * the person typed it, plus the flags of the fix (`Finding.fix.cli`). A secret in that command (a
 * credential header, -u's password, --oauth2-bearer's token, cookie values, secret-looking form and
 * query fields, a proxy's password) is never printed: it becomes a shell variable (`"$TOKEN"`), named
 * once in a note, so the line runs as printed in a shell where the variable is set. The same
 * redaction rule as every other output: the names in credentials/sensitive.ts decide what is secret.
 */
import { isSecretQueryName, isSensitiveName } from '../credentials/sensitive.js';
import { specFor, tokenize, type CommandName } from './args.js';

export interface FixCommand {
  /** The command's arguments with every secret replaced by a `$NAME` (argv tokens, unquoted). */
  argv: string[];
  /** The variables used, in order of first use. */
  variables: string[];
}

/** Flags that only name a file this run writes; left out of a fix's command line. */
const OUTPUT_FILES = new Set(['--har', '--html']);

/** A shell variable name for a secret's name: `X-Api-Key` → `X_API_KEY`. */
function variable(name: string, prefix = ''): string {
  const v = (prefix + name)
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[A-Z_]/.test(v) ? v : `V_${v}`;
}

/**
 * The masked arguments of `argv` (the command's own arguments, its name included, as `main` got
 * them). `sensitiveHeaders`: the names the person added with --sensitive-header, also secret here.
 */
export function maskArgv(argv: readonly string[], command: CommandName): FixCommand {
  const variables: string[] = [];
  const use = (v: string): string => {
    if (!variables.includes(v)) variables.push(v);
    return `$${v}`;
  };
  const extra = new Set<string>();
  const out: string[] = [];
  const tokens = tokenize(argv, command);
  for (const t of tokens)
    if (t.kind === 'option' && (t.rawName === '--sensitive-header' || t.rawName === '--sensitive') && t.value) for (const n of t.value.split(',')) extra.add(n.trim().toLowerCase());

  const field = (name: string, value: string): string => (isSecretQueryName(name) && value !== '' ? use(variable(name)) : value);
  /** name=value&name2=value2 (a form body, a query) with the secret-looking values masked. */
  const form = (s: string): string =>
    s
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq < 0 ? pair : `${pair.slice(0, eq)}=${field(decodeURIComponentSafe(pair.slice(0, eq)), pair.slice(eq + 1))}`;
      })
      .join('&');
  /** A JSON body: "secret-looking-name": "value" pairs masked, the rest as written. */
  const json = (s: string): string =>
    s.replace(/"([^"\\]+)"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (m, k: string, sep: string, v: string) => (isSecretQueryName(k) && v !== '' ? `"${k}"${sep}"${use(variable(k))}"` : m));
  const url = (s: string): string => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return s;
    }
    let out = s;
    if (u.password) out = out.replace(`:${u.password}@`, `:${use('PASSWORD')}@`);
    const q = out.indexOf('?');
    if (q >= 0) {
      const hash = out.indexOf('#', q);
      const query = out.slice(q + 1, hash < 0 ? undefined : hash);
      out = out.slice(0, q + 1) + form(query) + (hash < 0 ? '' : out.slice(hash));
    }
    return out;
  };
  const header = (h: string): string => {
    const colon = h.indexOf(':');
    if (colon < 0) return h;
    const name = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (value === '' || !isSensitiveName(lower, extra)) return h;
    if (lower === 'authorization' || lower === 'proxy-authorization') {
      const sp = value.indexOf(' ');
      const scheme = sp > 0 ? value.slice(0, sp) : '';
      const v = lower === 'proxy-authorization' ? 'PROXY_CREDENTIALS' : /^bearer$/i.test(scheme) ? 'TOKEN' : 'CREDENTIALS';
      return `${name}: ${scheme ? `${scheme} ` : ''}${use(v)}`;
    }
    if (lower === 'cookie') return `${name}: ${cookies(value)}`;
    return `${name}: ${use(variable(name))}`;
  };
  const cookies = (s: string): string =>
    s
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const eq = p.indexOf('=');
        return eq < 0 ? p : `${p.slice(0, eq)}=${use(variable(p.slice(0, eq), 'COOKIE_'))}`;
      })
      .join('; ');
  const userPass = (s: string, v: string): string => {
    const colon = s.indexOf(':');
    return colon < 0 ? s : `${s.slice(0, colon)}:${use(v)}`;
  };
  const proxy = (s: string): string => s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, (_m, head: string) => `${head}:${use('PROXY_PASSWORD')}@`);

  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      out.push('--');
      continue;
    }
    if (t.kind === 'positional') {
      out.push(url(t.value));
      continue;
    }
    const name = t.rawName;
    if (name === '--url' && t.value !== undefined) {
      out.push(name, url(t.value));
      continue;
    }
    const spec = specFor(name, command);
    // the files this run wrote: the fix's run does not need to overwrite them
    if (spec && OUTPUT_FILES.has(spec.names[0]!)) continue;
    if (!spec?.value || t.value === undefined) {
      out.push(name);
      continue;
    }
    const v = t.value;
    let masked = v;
    switch (spec.names[0]) {
      case '-H':
        masked = header(v);
        break;
      case '-u':
        masked = userPass(v, 'PASSWORD');
        break;
      case '--proxy-user':
        masked = userPass(v, 'PROXY_PASSWORD');
        break;
      case '--oauth2-bearer':
        masked = use('TOKEN');
        break;
      case '--proxy':
        masked = proxy(v);
        break;
      case '-b':
        masked = v.includes('=') ? cookies(v) : v;
        break;
      case '-F': {
        const eq = v.indexOf('=');
        masked = eq > 0 && !v.slice(eq + 1).startsWith('@') && !v.slice(eq + 1).startsWith('<') ? `${v.slice(0, eq)}=${field(v.slice(0, eq), v.slice(eq + 1))}` : v;
        break;
      }
      default:
        if (/^(-d|--data.*|--json)$/.test(spec.names[0]!) && !v.startsWith('@')) masked = /^\s*[[{]/.test(v) ? json(v) : form(v);
    }
    out.push(name, masked);
  }
  return { argv: out, variables };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;
const VARIABLE = /\$[A-Z_][A-Z0-9_]*/;

/**
 * One argument for a POSIX shell: as is when it is plain, in double quotes when it holds a `$NAME`
 * (so the shell expands it; every other `$`, backtick, backslash and double quote escaped), else in
 * single quotes.
 */
export function shellQuote(arg: string): string {
  if (arg !== '' && PLAIN.test(arg)) return arg;
  if (VARIABLE.test(arg)) return `"${arg.replace(/["\\`]/g, '\\$&').replace(/\$(?![A-Z_][A-Z0-9_]*)/g, '\\$')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The whole command line of a fix: `hopwise`, the masked command, then the fix's flags (before a
 * `--`, if the command has one, so they stay flags).
 */
export function fixLine(base: FixCommand, cli: readonly string[]): string {
  const at = base.argv.indexOf('--');
  const argv = at < 0 ? [...base.argv, ...cli] : [...base.argv.slice(0, at), ...cli, ...base.argv.slice(at)];
  return ['hopwise', ...argv].map(shellQuote).join(' ');
}

/** The variables a set of fix lines uses (the base's, and the fixes' own `$NAME`s), for the note printed with them. */
export function variablesIn(base: FixCommand, clis: readonly (readonly string[])[]): string[] {
  const out = [...base.variables];
  for (const cli of clis) for (const a of cli) for (const m of a.matchAll(/\$([A-Z_][A-Z0-9_]*)/g)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}
