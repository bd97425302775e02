/**
 * Argument parsing for the `hopwise` CLI, with no dependency. Pure: it reads no file and touches no
 * network; files named by flags (`--data-binary @file`, `-b file`, `-F name=@file`) are read when the
 * command runs. Tokenized by `node:util` `parseArgs` (tokens mode): flags before or after the URL,
 * short flags combined (`-sSL`, `-XPOST`, `-sSofile`), `--name=value`, `--` ends the flags.
 *
 * `hopwise [flags] URL` is the `fetch` command: curl -L (the final body on stdout, nothing else
 * unless asked). `trace` and `doctor` take the same request flags and print their views. curl's
 * flags keep curl's meaning; `-k` is refused with an explanation; a curl flag hopwise does not have
 * is named as such (`UNSUPPORTED_CURL`), never answered with an unrelated suggestion.
 *
 * `--json` is the one name with two meanings: in `hopwise URL` it is curl's `--json DATA` (a JSON
 * body); in `trace`/`doctor`/`lab`/`demo` it selects JSON output, as it always has (scripts rely on
 * `hopwise doctor --json`). Two entries in the table, one per meaning, each for its commands.
 *
 * `FLAGS` is the one table of flags: names, value, help, the commands they apply to, how a value is
 * parsed (`apply`), and, for a flag that sets a Session option, which option and how (`option`).
 * The CLI's Session options (`optionsFromArgs`) and the arguments for a lab case (`argvForOption`)
 * are both derived from the `option` links, so a flag for a new option is one entry here.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { isToken } from '../syntax.js';
import { closest } from '../suggest.js';
import { readAll } from './io.js';
import type { basic, bearer, CookieJar, digest, HstsStore, SessionOptions } from '../index.js';

/** `fetch` is `hopwise [flags] URL` (no subcommand): curl -L. */
export type CommandName = 'fetch' | 'trace' | 'doctor' | 'lab' | 'demo' | 'record';
/** The subcommands a person types. */
export const COMMANDS: readonly Exclude<CommandName, 'fetch'>[] = ['trace', 'doctor', 'lab', 'demo', 'record'];

/** One `-d` / `--data*` / `--json` argument as given; `@file` is resolved when the command runs. */
export interface DataPart {
  /**
   * `ascii`: -d/--data (`@file` read with CR/LF removed); `binary`: --data-binary (`@file` raw);
   * `raw`: --data-raw (no `@`); `urlencode`: --data-urlencode (curl's `content`, `=content`,
   * `name=content`, `@file`, `name@file`); `json`: --json (as --data-binary, JSON headers).
   */
  mode: 'ascii' | 'binary' | 'raw' | 'urlencode' | 'json';
  value: string;
}

export interface RequestArgs {
  url: string;
  /** -X / --request; -I / --head sets HEAD. Absent: GET, or POST when there is data (as curl). */
  method?: string;
  /** -H 'Name: value', in order. */
  headers: [string, string][];
  data: DataPart[];
  /** -u user:password (basic auth, scoped to the first request's origin). */
  user?: { name: string; password: string };
  /** --http2: offer HTTP/2 by ALPN on https connections. */
  http2: boolean;
  /** --hsts FILE: the HSTS cache read before the run (if the file exists) and written after it (curl's format). */
  hsts?: string;
  /** -n / --netrc (true: $NETRC or ~/.netrc), --netrc-file FILE. */
  netrc?: true | string;
  /** --digest: -u answers a Digest challenge (RFC 7616) instead of sending Basic. */
  digest: boolean;
  /** --oauth2-bearer TOKEN (bearer auth, scoped to the first request's origin unless --auth-scope). */
  bearer?: string;
  /** --auth-scope PATTERN: where -u / --oauth2-bearer apply (default: the first request's origin). */
  authScope: string[];
  /** -b / --cookie: each a `name=value; n2=v2` string, or a file (Netscape or the jar's format). */
  cookies: string[];
  /** -c / --cookie-jar FILE: write the jar in Netscape format after the run. */
  cookieJar?: string;
  connectTo: string[];
  cacert: string[];
  maxRedirs?: number;
  /** --max-time SECONDS (the whole chain) and --connect-timeout SECONDS. */
  maxTime?: number;
  /** --retry N (retries per chain, 0 = none) and --retry-max-time SECONDS (no retry starts later). */
  retry?: number;
  retryMaxTime?: number;
  connectTimeout?: number;
  trust: string[];
  sensitiveHeaders: string[];
  allowDowngrade: boolean;
  followMetaRefresh: boolean;
  crossOriginBody?: 'error' | 'send';
  json: boolean;
  har?: string;
  /** `hopwise doctor --har FILE` with no URL: FILE is the recording to diagnose (`har` is then unset). */
  harInput?: string;
  /** --html FILE (trace, doctor): the chain and the findings as one self-contained HTML page. */
  html?: string;
  showSecrets: boolean;
  /** -v / --verbose: print request and response headers of every hop (fetch: the trace, on stderr). */
  verbose: boolean;
  /** -F / --form NAME=VALUE | NAME=@FILE[;type=T][;filename=F] | NAME=<FILE: multipart/form-data. */
  form: string[];
  /** -G / --get: the data goes into the query string of a GET. */
  get: boolean;
  /** --resolve HOST:PORT:ADDR, kept as connectTo rules HOST:PORT:ADDR:PORT. */
  resolve: string[];
  /** -4 / -6: resolve names to IPv4 / IPv6 addresses only. */
  family?: 4 | 6;
  /** --location-trusted: credentials also on other ports and schemes of the first URL's host (never other hosts). */
  locationTrusted: boolean;
  // --- output of `hopwise URL` (fetch) ---
  /** -i / --include: response headers before the body on stdout. */
  include: boolean;
  /** -o / --output FILE ('-' = stdout). */
  output?: string;
  /** -O / --remote-name: the body to a file named like the URL's last path segment. */
  remoteName: boolean;
  /** -D / --dump-header FILE ('-' = stdout). */
  dumpHeader?: string;
  /** -w / --write-out FORMAT (@FILE reads it from a file). */
  writeOut?: string;
  /** -s / --silent: no error messages (unless -S). */
  silent: boolean;
  /** -S / --show-error: error messages even with -s. */
  showError: boolean;
  /** --fail: exit 22 and no body on a final status >= 400; --fail-with-body: the body too. */
  fail?: 'fail' | 'with-body';
  /** --compressed: accepted (hopwise asks for and decodes compressed bodies itself). */
  compressed: boolean;
  /** -x / --proxy URL ('' = no proxy, the environment ignored), --proxy-user USER:PASSWORD, --noproxy LIST. */
  proxy?: string;
  proxyUser?: string;
  noproxy?: string;
}

export type ParsedArgs =
  | { command: 'fetch' | 'trace' | 'doctor'; request: RequestArgs; warnings: string[] }
  | { command: 'lab'; host?: string; json: boolean }
  | { command: 'demo'; json: boolean; only: string[] }
  /** `hopwise record [flags] -- CMD [ARGS...]`: `program` is CMD and its arguments, as given. */
  | { command: 'record'; program: string[]; json: boolean; har?: string; cacert: string[]; connectTo: string[] }
  /** `topic`: a command, or a flag (`hopwise help -F`, `hopwise help --fail`). */
  | { command: 'help'; topic?: CommandName; flag?: string }
  | { command: 'version' };

export class ArgError extends Error {
  /** The flag (or argument) at fault, as written. */
  readonly flag: string | undefined;
  readonly command: CommandName | undefined;
  constructor(message: string, flag?: string, command?: CommandName) {
    super(message);
    this.name = 'ArgError';
    this.flag = flag;
    this.command = command;
  }
}

export interface FlagSpec {
  /** The first name is the one written when arguments are generated (`argvForOption`). */
  names: string[];
  /** Name of the value in usage, when the flag takes one. */
  value?: string;
  help: string;
  commands: readonly CommandName[];
  /** The task the flag is listed under in help (default: by its commands). */
  group?: Group;
  /** Parses one occurrence into the parse state (`RequestArgs`); throws ArgError for a bad value. */
  apply: (st: State, value: string, flag: string) => void;
  /** The Session option this flag sets, and how; absent for flags that set none (output, request, no-ops). */
  option?: OptionLink;
}

/**
 * What turning flags into options may need: reading files (`--cacert`), and the library's
 * constructors, passed in so that parsing arguments loads no library code.
 */
export interface OptionContext {
  read(path: string): Promise<Buffer>;
  basic: typeof basic;
  bearer: typeof bearer;
  /** Needed only for --digest. */
  digest?: typeof digest;
  /** Needed only for --hsts. */
  HstsStore?: typeof HstsStore;
  CookieJar: typeof CookieJar;
}

export type OptionName = keyof SessionOptions;

/** How one flag maps onto one `SessionOptions` field, both ways. */
export interface OptionLink<K extends OptionName = OptionName> {
  /**
   * The field. Several flags may share one; their values are merged in table order (arrays joined,
   * plain objects merged: `--max-time` and `--connect-timeout` both set `timeout`).
   */
  option: K;
  /** The field's value from the parsed flags; undefined leaves the field unset. */
  toOption(r: RequestArgs, ctx: OptionContext): SessionOptions[K] | undefined | Promise<SessionOptions[K] | undefined>;
  /**
   * The inverse: this flag's arguments for a plain value of the field (as in a lab case's `options`),
   * or undefined when this flag cannot express that value. Absent: this flag is never generated.
   */
  toArgv?(value: unknown, flag: string): string[] | undefined;
}

/** A plain description of an auth provider, as the inverse of `-u` / `--oauth2-bearer` takes it (a lab case's `auth`). */
export type AuthArgs = { kind: 'bearer'; token: string; scope?: string[] } | { kind: 'basic'; user: string; password: string; scope?: string[] };

const link = <K extends OptionName>(l: OptionLink<K>): OptionLink<K> => l;

/** Inverse of a repeatable flag whose values make the field's array. */
const repeated = (v: unknown, flag: string): string[] | undefined => (Array.isArray(v) ? v.flatMap((x) => [flag, String(x)]) : undefined);
/** Inverse of a flag without a value that sets a boolean field (false: nothing to say). */
const onOff = (v: unknown, flag: string): string[] | undefined => (typeof v === 'boolean' ? (v ? [flag] : []) : undefined);
/** Inverse of a flag with one value. */
const single = (v: unknown, flag: string): string[] | undefined => (typeof v === 'number' || typeof v === 'string' ? [flag, String(v)] : undefined);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

const AUTH_SCOPE = '--auth-scope';
/**
 * What --location-trusted trusts: the first URL's host on any port, over its scheme and (from http:)
 * its https upgrade. Never another host: curl would send the credentials to every host the chain
 * reaches, which is the leak hopwise exists to prevent.
 */
export function locationTrustedPatterns(url: string): string[] {
  const u = new URL(url);
  const schemes = u.protocol === 'http:' ? ['http:', 'https:'] : [u.protocol];
  return schemes.map((s) => `${s}//${u.hostname}:*`);
}
const authScope = (r: RequestArgs) => {
  const scope = [...r.authScope, ...(r.locationTrusted ? locationTrustedPatterns(r.url) : [])];
  return scope.length ? { scope } : undefined;
};
const scopeArgv = (a: { scope?: readonly string[] }) => (a.scope ?? []).flatMap((s) => [AUTH_SCOPE, s]);
function authArgs(v: unknown, kind: AuthArgs['kind']): AuthArgs | undefined {
  return isPlainObject(v) && v.kind === kind ? (v as AuthArgs) : undefined;
}

/** Reads a file named by a flag, or throws an ArgError naming the flag. */
async function readFor(flag: string, file: string, read: (p: string) => Promise<Buffer>): Promise<Buffer> {
  try {
    return await read(file);
  } catch (e) {
    throw new ArgError(`${flag} ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, flag);
  }
}

/** The jar for `-b`: at most one cookie file, then the name=value strings as host-only cookies of the first URL. */
async function cookieJar(r: RequestArgs, ctx: OptionContext): Promise<CookieJar> {
  let jar: CookieJar | undefined;
  const cookieStrings: string[] = [];
  for (const b of r.cookies) {
    if (b.includes('=')) {
      cookieStrings.push(b);
      continue;
    }
    if (jar) throw new ArgError(`-b ${b}: only one cookie file can be loaded (give the others as name=value strings)`, '-b');
    try {
      jar = await ctx.CookieJar.loadFromFile(b);
    } catch (e) {
      throw new ArgError(`-b ${b}: not a name=value string and not a readable cookie file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '-b');
    }
  }
  jar ??= new ctx.CookieJar();
  for (const s of cookieStrings) {
    for (const part of s.split(';')) {
      const pair = part.trim();
      if (!pair) continue;
      if (!pair.includes('=')) throw new ArgError(`-b: one of its ${s.split(';').length} parts is not name=value (values are not repeated here: they may be secrets)`, '-b');
      // like a cookie the first host set itself: host-only, Path=/ (it does not follow to other hosts)
      const res = jar.setCookie(`${pair}; Path=/`, r.url);
      if (!res.stored) throw new ArgError(`-b '${pair}': the jar refused it (${res.reason}: ${res.detail})`, '-b');
    }
  }
  return jar;
}

interface State {
  command: CommandName;
  req: RequestArgs;
  positionals: string[];
  host?: string;
  json: boolean;
  only: string[];
  help: boolean;
  /** Loud notes for stderr (--location-trusted). */
  warnings: string[];
}

/** The commands that make a request: `hopwise URL`, trace, doctor. */
const REQ: readonly CommandName[] = ['fetch', 'trace', 'doctor'];
/** Flags that only change what `hopwise URL` writes. */
const FETCH: readonly CommandName[] = ['fetch'];

/** Help groups, by task, in the order help prints them. */
export const GROUPS = {
  send: 'Send a request',
  data: 'Send data',
  auth: 'Authenticate',
  cookies: 'Cookies and sessions',
  output: 'Save and show the answer (hopwise URL)',
  conn: 'Connections, TLS, time limits',
  redirects: 'Redirects and trust',
  trace: 'Trace and diagnose',
  other: 'Other',
} as const;
export type Group = keyof typeof GROUPS;

function nonNegativeInt(flag: string, v: string, cmd: CommandName): number {
  if (!/^\d+$/.test(v)) throw new ArgError(`${flag} needs a whole number >= 0, got '${v}'`, flag, cmd);
  return Number(v);
}

function seconds(flag: string, v: string, cmd: CommandName): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new ArgError(`${flag} needs a positive number of seconds, got '${v}'`, flag, cmd);
  return n;
}

export const FLAGS: readonly FlagSpec[] = [
  // --- curl-compatible ---
  {
    names: ['-X', '--request'],
    value: 'METHOD',
    help: 'request method (default GET, or POST with -d)',
    commands: REQ,
    group: 'send',
    apply: (st, v, f) => {
      if (!isToken(v)) throw new ArgError(`${f} needs an HTTP method such as POST, got '${v}'`, f, st.command);
      st.req.method = v;
    },
  },
  {
    names: ['-H', '--header'],
    value: '"NAME: VALUE"',
    help: 'add a request header (repeatable)',
    commands: REQ,
    group: 'send',
    apply: (st, v, f) => {
      const colon = v.indexOf(':');
      if (colon <= 0) throw new ArgError(`${f} needs 'Name: value'; got ${v.length} characters without a colon after a name (not repeated here: a header value may be a secret)`, f, st.command);
      const name = v.slice(0, colon).trim();
      if (!isToken(name)) throw new ArgError(`${f}: '${name}' is not a valid header name`, f, st.command);
      st.req.headers.push([name, v.slice(colon + 1).trim()]);
    },
    option: link({
      option: 'headers',
      toOption: (r) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of r.headers) {
          const k = name.toLowerCase();
          headers[k] = headers[k] !== undefined ? `${headers[k]}, ${value}` : value;
        }
        return headers;
      },
      toArgv: (v, f) => (isPlainObject(v) ? Object.entries(v).flatMap(([k, x]) => [f, `${k}: ${String(x)}`]) : undefined),
    }),
  },
  {
    names: ['-d', '--data', '--data-ascii'],
    value: 'DATA|@FILE',
    help: 'request body, form-encoded (repeatable, joined with &); @FILE reads a file without newlines',
    commands: REQ,
    group: 'data',
    apply: (st, v) => st.req.data.push({ mode: 'ascii', value: v }),
  },
  {
    names: ['--data-binary'],
    value: 'DATA|@FILE',
    help: 'request body as is; @FILE reads the file byte for byte',
    commands: REQ,
    group: 'data',
    apply: (st, v) => st.req.data.push({ mode: 'binary', value: v }),
  },
  {
    names: ['--data-raw'],
    value: 'DATA',
    help: 'request body; a leading @ is not special',
    commands: REQ,
    group: 'data',
    apply: (st, v) => st.req.data.push({ mode: 'raw', value: v }),
  },
  {
    names: ['-u', '--user'],
    value: 'USER:PASSWORD',
    help: 'basic auth, applied to the first origin (and its https upgrade) only',
    commands: REQ,
    group: 'auth',
    apply: (st, v, f) => {
      const colon = v.indexOf(':');
      if (colon < 0) throw new ArgError(`${f} needs USER:PASSWORD; hopwise does not prompt for a password`, f, st.command);
      st.req.user = { name: v.slice(0, colon), password: v.slice(colon + 1) };
    },
    option: link({
      option: 'auth',
      toOption: (r, ctx) => (r.user && !r.digest ? [ctx.basic(r.user.name, r.user.password, authScope(r))] : undefined),
      toArgv: (v, f) => {
        const a = authArgs(v, 'basic');
        return a?.kind === 'basic' ? [f, `${a.user}:${a.password}`, ...scopeArgv(a)] : undefined;
      },
    }),
  },
  {
    names: ['--digest'],
    help: '-u answers a Digest challenge (RFC 7616) instead of sending Basic; nothing is sent before the server asks',
    commands: REQ,
    group: 'auth',
    apply: (st) => (st.req.digest = true),
    option: link({
      option: 'auth',
      toOption: (r, ctx) => {
        if (!r.digest) return undefined;
        if (!r.user) throw new ArgError('--digest needs -u USER:PASSWORD', '--digest');
        if (!ctx.digest) throw new ArgError('--digest is not available here', '--digest');
        return [ctx.digest(r.user.name, r.user.password, authScope(r))];
      },
    }),
  },
  {
    names: ['-n', '--netrc'],
    help: 'Basic credentials from $NETRC or ~/.netrc, each sent only to its exact machine; -u, --oauth2-bearer or -H Authorization win',
    commands: REQ,
    group: 'auth',
    apply: (st) => (st.req.netrc ??= true),
    option: link({ option: 'netrc', toOption: (r) => (r.netrc === true ? true : undefined), toArgv: (v, f) => (v === true ? [f] : undefined) }),
  },
  {
    names: ['--netrc-file'],
    value: 'FILE',
    help: 'like --netrc, from FILE (refused if other users can read it)',
    commands: REQ,
    group: 'auth',
    apply: (st, v, f) => {
      if (!v) throw new ArgError(`${f} needs a file`, f, st.command);
      st.req.netrc = v;
    },
    option: link({ option: 'netrc', toOption: (r) => (typeof r.netrc === 'string' ? r.netrc : undefined), toArgv: (v, f) => (typeof v === 'string' ? [f, v] : undefined) }),
  },
  {
    names: ['--oauth2-bearer'],
    value: 'TOKEN',
    help: 'bearer token, applied to the first origin (and its https upgrade) only',
    commands: REQ,
    group: 'auth',
    apply: (st, v, f) => {
      if (!v) throw new ArgError(`${f} needs a token`, f, st.command);
      st.req.bearer = v;
    },
    option: link({
      option: 'auth',
      toOption: (r, ctx) => (r.bearer ? [ctx.bearer(r.bearer, authScope(r))] : undefined),
      toArgv: (v, f) => {
        const a = authArgs(v, 'bearer');
        return a?.kind === 'bearer' ? [f, a.token, ...scopeArgv(a)] : undefined;
      },
    }),
  },
  {
    names: ['-b', '--cookie'],
    value: '"NAME=VALUE"|FILE',
    help: 'cookies for the first URL (a name=value string, stored as host-only cookies), or a cookie file to load (repeatable)',
    commands: REQ,
    group: 'cookies',
    apply: (st, v) => st.req.cookies.push(v),
    // always a jar (empty without -b), which -c writes after the run
    option: link({ option: 'cookies', toOption: cookieJar }),
  },
  {
    names: ['-c', '--cookie-jar'],
    value: 'FILE',
    help: 'write the cookie jar to FILE (Netscape format) after the run',
    commands: REQ,
    group: 'cookies',
    apply: (st, v) => (st.req.cookieJar = v),
  },
  {
    names: ['--connect-to'],
    value: 'HOST1:PORT1:HOST2:PORT2',
    help: 'connect to HOST2:PORT2 for requests to HOST1:PORT1, keeping Host, SNI and certificate checks (repeatable; empty HOST1 = any host)',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => {
      if (v.split(':').length < 4) throw new ArgError(`${f} needs HOST1:PORT1:HOST2:PORT2 (HOST1 may be empty), got '${v}'`, f, st.command);
      st.req.connectTo.push(v);
    },
    option: link({ option: 'connectTo', toOption: (r) => r.connectTo, toArgv: repeated }),
  },
  {
    names: ['--proxy', '-x'],
    group: 'conn',
    value: 'URL',
    help: "use this proxy (http:// or https://; user:pass@ allowed) instead of the environment's http_proxy/https_proxy; '' for none",
    commands: REQ,
    apply: (st, v) => (st.req.proxy = v),
    option: link({
      option: 'proxy',
      toOption: (r) => (r.proxy === undefined ? undefined : r.proxy === '' ? false : r.proxy),
      toArgv: (v, f) => (typeof v === 'string' ? [f, v] : v === false ? [f, ''] : undefined),
    }),
  },
  {
    names: ['--proxy-user'],
    group: 'conn',
    value: 'USER:PASSWORD',
    help: 'proxy credentials (Basic), sent to the proxy only, never to an origin',
    commands: REQ,
    apply: (st, v, f) => {
      if (!v.includes(':')) throw new ArgError(`${f} needs USER:PASSWORD, got no colon`, f, st.command);
      st.req.proxyUser = v;
    },
    option: link({ option: 'proxyAuth', toOption: (r) => r.proxyUser, toArgv: (v, f) => (typeof v === 'string' ? [f, v] : undefined) }),
  },
  {
    names: ['--noproxy'],
    group: 'conn',
    value: 'LIST',
    help: "hosts that go direct, comma-separated (no_proxy syntax: 'localhost,.internal.example,10.0.0.0/8', '*' for all); replaces NO_PROXY",
    commands: REQ,
    apply: (st, v) => (st.req.noproxy = v),
    option: link({ option: 'noProxy', toOption: (r) => r.noproxy, toArgv: (v, f) => (typeof v === 'string' ? [f, v] : Array.isArray(v) ? [f, v.join(',')] : undefined) }),
  },
  {
    names: ['--cacert'],
    value: 'FILE',
    help: 'also trust the CA certificate(s) in this PEM file (repeatable)',
    commands: REQ,
    group: 'conn',
    apply: (st, v) => st.req.cacert.push(v),
    // no inverse: the option holds PEM text, the flag a file name
    option: link({
      option: 'ca',
      toOption: async (r, ctx) => {
        const ca: string[] = [];
        for (const file of r.cacert) ca.push((await readFor('--cacert', file, ctx.read)).toString('utf8'));
        return ca.length ? ca : undefined;
      },
    }),
  },
  {
    names: ['--max-redirs'],
    value: 'N',
    help: 'follow at most N redirects (default 20)',
    commands: REQ,
    group: 'redirects',
    apply: (st, v, f) => (st.req.maxRedirs = nonNegativeInt(f, v, st.command)),
    option: link({ option: 'maxRedirects', toOption: (r) => r.maxRedirs, toArgv: single }),
  },
  {
    names: ['--retry'],
    value: 'N',
    help: 'retries after 408, 429, 500, 502, 503, 504 or a connection reset, idempotent methods only (default 2; 0 for none)',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => {
      if (!/^\d+$/.test(v)) throw new ArgError(`${f} needs a whole number of retries, got '${v}'`, f, st.command);
      st.req.retry = Number(v);
    },
    option: link({
      option: 'retry',
      toOption: (r) => (r.retry !== undefined ? { limit: r.retry } : undefined),
      toArgv: (v, f) => (typeof v === 'number' ? [f, String(v)] : v === false ? [f, '0'] : isPlainObject(v) ? (typeof v.limit === 'number' ? [f, String(v.limit)] : []) : undefined),
    }),
  },
  {
    names: ['--retry-max-time'],
    value: 'SECONDS',
    help: 'no retry starts later than this after the first request',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => (st.req.retryMaxTime = seconds(f, v, st.command)),
    option: link({
      option: 'retry',
      toOption: (r) => (r.retryMaxTime !== undefined ? { maxTime: Math.round(r.retryMaxTime * 1000) } : undefined),
      toArgv: (v, f) => (isPlainObject(v) ? (typeof v.maxTime === 'number' ? [f, String(v.maxTime / 1000)] : []) : typeof v === 'number' || v === false ? [] : undefined),
    }),
  },
  {
    names: ['--http2'],
    help: 'offer HTTP/2 (ALPN) on https connections; each hop records the protocol it used',
    commands: REQ,
    group: 'conn',
    apply: (st) => (st.req.http2 = true),
    option: link({ option: 'http2', toOption: (r) => (r.http2 ? true : undefined), toArgv: onOff }),
  },
  {
    names: ['--hsts'],
    value: 'FILE',
    help: "HSTS cache in curl's format: read before the run (if it exists), written after it; http: requests to known hosts go over https",
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => {
      if (!v) throw new ArgError(`${f} needs a file`, f, st.command);
      st.req.hsts = v;
    },
    option: link({
      option: 'hsts',
      toOption: async (r, ctx) => {
        if (r.hsts === undefined) return undefined;
        if (!ctx.HstsStore) throw new ArgError('--hsts is not available here', '--hsts');
        let text = '';
        try {
          text = (await ctx.read(r.hsts)).toString('utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ArgError(`--hsts ${r.hsts}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '--hsts');
        }
        return ctx.HstsStore.parse(text);
      },
    }),
  },
  {
    names: ['--max-time', '-m'],
    value: 'SECONDS',
    help: 'time limit for the whole chain',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => (st.req.maxTime = seconds(f, v, st.command)),
    option: link({
      option: 'timeout',
      toOption: (r) => (r.maxTime !== undefined ? { total: Math.round(r.maxTime * 1000) } : undefined),
      toArgv: (v, f) => (isPlainObject(v) ? (typeof v.total === 'number' ? [f, String(v.total / 1000)] : []) : undefined),
    }),
  },
  {
    names: ['--connect-timeout'],
    value: 'SECONDS',
    help: 'time limit for each connection',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => (st.req.connectTimeout = seconds(f, v, st.command)),
    option: link({
      option: 'timeout',
      toOption: (r) => (r.connectTimeout !== undefined ? { connect: Math.round(r.connectTimeout * 1000) } : undefined),
      toArgv: (v, f) => (isPlainObject(v) ? (typeof v.connect === 'number' ? [f, String(v.connect / 1000)] : []) : undefined),
    }),
  },
  {
    names: ['-I', '--head'],
    help: 'send HEAD',
    commands: REQ,
    group: 'send',
    apply: (st) => (st.req.method = 'HEAD'),
  },
  {
    names: ['-A', '--user-agent'],
    value: 'NAME',
    help: 'User-Agent header (same as -H "User-Agent: NAME")',
    commands: REQ,
    group: 'send',
    apply: (st, v) => st.req.headers.push(['User-Agent', v]),
  },
  {
    names: ['-e', '--referer'],
    value: 'URL',
    help: 'Referer header (same as -H "Referer: URL")',
    commands: REQ,
    group: 'send',
    apply: (st, v) => st.req.headers.push(['Referer', v]),
  },
  {
    names: ['-F', '--form'],
    value: 'NAME=VALUE|NAME=@FILE',
    help: 'multipart/form-data field (repeatable): NAME=@FILE uploads a file (;type=T ;filename=F), NAME=<FILE sends its text as the value',
    commands: REQ,
    group: 'data',
    apply: (st, v, f) => {
      if (!/^[^=]+=/.test(v)) throw new ArgError(`${f} needs NAME=VALUE or NAME=@FILE; got ${v.length} characters without NAME= (not repeated here: a field may be a secret)`, f, st.command);
      st.req.form.push(v);
    },
  },
  {
    names: ['-G', '--get'],
    help: 'put the -d / --data-urlencode data in the query string of a GET instead of a POST body',
    commands: REQ,
    group: 'data',
    apply: (st) => (st.req.get = true),
  },
  {
    names: ['--data-urlencode'],
    value: 'DATA',
    help: "form field, URL-encoded: 'NAME=VALUE', '=VALUE', 'NAME@FILE', '@FILE' (repeatable, joined with &)",
    commands: REQ,
    group: 'data',
    apply: (st, v) => st.req.data.push({ mode: 'urlencode', value: v }),
  },
  {
    names: ['-v', '--verbose'],
    help: 'hopwise URL: print the trace of every hop to stderr; trace: also print request and response headers (redacted)',
    commands: REQ,
    group: 'trace',
    apply: (st) => (st.req.verbose = true),
  },
  {
    names: ['-L', '--location'],
    help: 'accepted: hopwise always follows redirects (as curl -L), deciding on every hop what may follow',
    commands: REQ,
    group: 'redirects',
    apply: () => {},
  },
  {
    names: ['-s', '--silent'],
    help: 'no error messages (hopwise prints no progress meter anyway)',
    commands: REQ,
    group: 'output',
    apply: (st) => (st.req.silent = true),
  },
  {
    names: ['-S', '--show-error'],
    help: 'with -s: still print error messages',
    commands: REQ,
    group: 'output',
    apply: (st) => (st.req.showError = true),
  },
  {
    names: ['-k', '--insecure'],
    help: 'refused: hopwise never turns off certificate checks',
    commands: REQ,
    group: 'conn',
    apply: (st, _v, f) => {
      throw new ArgError(
        `${f} is refused: hopwise never turns off certificate verification, because a trace made without it shows ` +
          `credentials and cookies going to a server nobody authenticated. Trust the server's CA instead: --cacert FILE ` +
          `(for the lab: the CA path that \`hopwise lab\` prints).`,
        f,
        st.command,
      );
    },
  },
  {
    names: ['--resolve'],
    value: 'HOST:PORT:ADDR',
    help: 'connect to ADDR for HOST:PORT (a --connect-to rule HOST:PORT:ADDR:PORT; repeatable)',
    commands: REQ,
    group: 'conn',
    apply: (st, v, f) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d+):(.+)$/.exec(v);
      if (!m || m[3]!.includes(',')) throw new ArgError(`${f} needs HOST:PORT:ADDRESS (one address), got '${v}'`, f, st.command);
      const addr = m[3]!.replace(/^\[(.*)\]$/, '$1');
      // curl's '*' host is any host: an empty HOST1 in a connectTo rule
      st.req.resolve.push(`${m[1] === '*' ? '' : m[1]}:${m[2]}:${addr.includes(':') ? `[${addr}]` : addr}:${m[2]}`);
    },
    // the inverse is --connect-to's: a rule given to the Session is written back as --connect-to
    option: link({ option: 'connectTo', toOption: (r) => (r.resolve.length ? r.resolve : undefined) }),
  },
  {
    names: ['-4', '--ipv4'],
    help: 'resolve host names to IPv4 addresses only',
    commands: REQ,
    group: 'conn',
    apply: (st) => (st.req.family = 4),
  },
  {
    names: ['-6', '--ipv6'],
    help: 'resolve host names to IPv6 addresses only',
    commands: REQ,
    group: 'conn',
    apply: (st) => (st.req.family = 6),
  },
  {
    names: ['--compressed'],
    help: "accepted for curl compatibility: compression is the session's business (what it asks for and decodes), not a flag's",
    commands: REQ,
    group: 'send',
    apply: (st) => (st.req.compressed = true),
  },
  {
    names: ['--location-trusted'],
    help: "WARNING, narrowed: -u / --oauth2-bearer / sensitive -H also go to other ports and schemes of the first URL's host, never to other hosts (curl's sends them everywhere)",
    commands: REQ,
    group: 'redirects',
    apply: (st, _v, f) => {
      st.req.locationTrusted = true;
      st.warnings.push(
        `warning: ${f}: curl would send your credentials to every host the redirects reach. hopwise sends them only to the first URL's host ` +
          `(any port, and its https upgrade), never to another host. To let them reach more hosts, name them: --trust 'api.example.com' --auth-scope 'api.example.com'.`,
      );
    },
    // -u / --oauth2-bearer read it through authScope(); sensitive -H headers through this trust link
    option: link({ option: 'trust', toOption: (r) => (r.locationTrusted ? locationTrustedPatterns(r.url) : undefined) }),
  },
  // --- what `hopwise URL` writes ---
  {
    names: ['-i', '--include'],
    help: 'write the final response status line and headers before the body',
    commands: FETCH,
    group: 'output',
    apply: (st) => (st.req.include = true),
  },
  {
    names: ['-o', '--output'],
    value: 'FILE',
    help: "write the body to FILE instead of stdout ('-' is stdout)",
    commands: FETCH,
    group: 'output',
    apply: (st, v) => (st.req.output = v),
  },
  {
    names: ['-O', '--remote-name'],
    help: "write the body to a file named like the URL's last path segment, in the current directory",
    commands: FETCH,
    group: 'output',
    apply: (st) => (st.req.remoteName = true),
  },
  {
    names: ['-D', '--dump-header'],
    value: 'FILE',
    help: "write the final response's status line and headers to FILE ('-' is stdout)",
    commands: FETCH,
    group: 'output',
    apply: (st, v) => (st.req.dumpHeader = v),
  },
  {
    names: ['-w', '--write-out'],
    value: 'FORMAT|@FILE',
    help: 'write FORMAT after the body: %{http_code} %{url_effective} %{num_redirects} %{time_total} %{content_type} %{size_download} %{method} %{exitcode} %{errormsg} %header{NAME}, \\n \\t',
    commands: FETCH,
    group: 'output',
    apply: (st, v) => (st.req.writeOut = v),
  },
  {
    names: ['-f', '--fail'],
    help: 'a final status >= 400 writes no body and exits 22',
    commands: FETCH,
    group: 'output',
    apply: (st) => (st.req.fail = 'fail'),
  },
  {
    names: ['--fail-with-body'],
    help: 'a final status >= 400 exits 22, after writing the body',
    commands: FETCH,
    group: 'output',
    apply: (st) => (st.req.fail = 'with-body'),
  },
  // --- hopwise's own ---
  {
    // sets no option of its own: the -u and --oauth2-bearer links scope their providers with it
    names: [AUTH_SCOPE],
    value: 'PATTERN',
    help: "where -u / --oauth2-bearer are applied, re-applied on every hop in scope: 'api.example.com', '*.example.com' (repeatable; default: the first origin)",
    commands: REQ,
    group: 'auth',
    apply: (st, v, f) => {
      if (!v || /\s/.test(v)) throw new ArgError(`${f} needs a host pattern such as api.example.com, got '${v}'`, f, st.command);
      st.req.authScope.push(v);
    },
  },
  {
    names: ['--trust'],
    value: 'PATTERN',
    help: "let sensitive headers follow into origins matching PATTERN: 'api.example.com', '*.example.com', 'http://x.test:8080' (repeatable)",
    commands: REQ,
    group: 'redirects',
    apply: (st, v, f) => {
      if (!v || /\s/.test(v)) throw new ArgError(`${f} needs a host pattern such as api.example.com or *.example.com, got '${v}'`, f, st.command);
      st.req.trust.push(v);
    },
    option: link({ option: 'trust', toOption: (r) => r.trust, toArgv: repeated }),
  },
  {
    names: ['--sensitive-header'],
    value: 'NAME',
    help: 'treat header NAME like Authorization: never forwarded to another origin (repeatable)',
    commands: REQ,
    group: 'redirects',
    apply: (st, v, f) => {
      if (!isToken(v)) throw new ArgError(`${f} needs a header name, got '${v}'`, f, st.command);
      st.req.sensitiveHeaders.push(v.toLowerCase());
    },
    option: link({ option: 'sensitiveHeaders', toOption: (r) => r.sensitiveHeaders, toArgv: repeated }),
  },
  {
    names: ['--allow-downgrade'],
    help: 'follow https: to http: redirects (credentials and Secure cookies stay behind)',
    commands: REQ,
    group: 'redirects',
    apply: (st) => (st.req.allowDowngrade = true),
    option: link({ option: 'allowDowngrade', toOption: (r) => r.allowDowngrade, toArgv: onOff }),
  },
  {
    names: ['--follow-meta-refresh'],
    help: 'follow <meta http-equiv="refresh"> and Refresh: in 200 HTML pages like a redirect',
    commands: REQ,
    group: 'redirects',
    apply: (st) => (st.req.followMetaRefresh = true),
    option: link({ option: 'followMetaRefresh', toOption: (r) => r.followMetaRefresh, toArgv: onOff }),
  },
  {
    names: ['--cross-origin-body'],
    value: 'error|send',
    help: 'what a 307/308 to an untrusted origin does with the request body (default error)',
    commands: REQ,
    group: 'redirects',
    apply: (st, v, f) => {
      if (v !== 'error' && v !== 'send') throw new ArgError(`${f} needs 'error' or 'send', got '${v}'`, f, st.command);
      st.req.crossOriginBody = v;
    },
    option: link({ option: 'crossOriginBody', toOption: (r) => r.crossOriginBody, toArgv: single }),
  },
  {
    // curl's --json; the output switch of the other commands is the next entry
    names: ['--json'],
    value: 'JSON|@FILE',
    help: "JSON body, as curl's --json: sent as is (repeatable, concatenated) with Content-Type and Accept: application/json; POST",
    commands: FETCH,
    group: 'data',
    apply: (st, v) => st.req.data.push({ mode: 'json', value: v }),
  },
  {
    names: ['--json'],
    help: "print JSON instead of text (in hopwise URL, --json DATA is curl's JSON body)",
    commands: ['trace', 'doctor', 'lab', 'demo', 'record'],
    group: 'trace',
    apply: (st) => {
      st.req.json = true;
      st.json = true;
    },
  },
  {
    names: ['--har'],
    value: 'FILE',
    help: 'also write the trace as HAR 1.2 to FILE (secrets redacted); doctor with no URL: diagnose the HAR in FILE (a browser export, a recording)',
    commands: REQ,
    group: 'trace',
    apply: (st, v) => (st.req.har = v),
  },
  {
    names: ['--html'],
    value: 'FILE',
    help: 'also write the chain and the findings as one self-contained HTML page to FILE (secrets redacted)',
    commands: ['trace', 'doctor'],
    group: 'trace',
    apply: (st, v) => (st.req.html = v),
  },
  {
    names: ['--show-secrets'],
    help: 'put unredacted header values in --har / --json output (do not share the result)',
    commands: REQ,
    group: 'trace',
    apply: (st) => (st.req.showSecrets = true),
  },
  {
    names: ['--host'],
    value: 'ADDRESS',
    help: 'address the lab listens on (default 127.0.0.1)',
    commands: ['lab'],
    group: 'other',
    apply: (st, v) => (st.host = v),
  },
  {
    names: ['--only'],
    value: 'ID[,ID...]',
    help: 'run only these scenarios',
    commands: ['demo'],
    group: 'other',
    apply: (st, v) =>
      st.only.push(
        ...v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  },
  // --- hopwise record: the same names, about the recording and the recorder's upstream connections ---
  {
    names: ['--har'],
    value: 'FILE',
    help: "write what the program did as HAR 1.2 to FILE (secrets redacted), the doctor's findings in it",
    commands: ['record'],
    group: 'trace',
    apply: (st, v) => (st.req.har = v),
  },
  {
    names: ['--cacert'],
    value: 'FILE',
    help: "the recorder's upstream connections also trust the CA certificate(s) in this PEM file (repeatable)",
    commands: ['record'],
    group: 'conn',
    apply: (st, v) => st.req.cacert.push(v),
  },
  {
    names: ['--connect-to'],
    value: 'HOST1:PORT1:HOST2:PORT2',
    help: "the recorder connects to HOST2:PORT2 for the program's requests to HOST1:PORT1, keeping Host, SNI and certificate checks (repeatable)",
    commands: ['record'],
    group: 'conn',
    apply: (st, v, f) => {
      if (v.split(':').length < 4) throw new ArgError(`${f} needs HOST1:PORT1:HOST2:PORT2 (HOST1 may be empty), got '${v}'`, f, st.command);
      st.req.connectTo.push(v);
    },
  },
  {
    names: ['-h', '--help'],
    help: 'show help',
    commands: ['trace', 'doctor', 'lab', 'demo', 'record'],
    group: 'other',
    apply: (st) => (st.help = true),
  },
];

/** The entry for flag `name` in `command`: the one for that command, else any (to say it does not apply). */
/** The flag `name` as `command` reads it (a flag some commands read differently), else any flag of that name. */
export function specFor(name: string, command: CommandName): FlagSpec | undefined {
  let any: FlagSpec | undefined;
  for (const f of FLAGS) {
    if (!f.names.includes(name)) continue;
    if (f.commands.includes(command)) return f;
    any ??= f;
  }
  return any;
}

/** Session options from the parsed flags: every flag's `option` link, in table order. */
export async function optionsFromArgs(r: RequestArgs, ctx: OptionContext): Promise<SessionOptions> {
  const out: Record<string, unknown> = {};
  for (const f of FLAGS) {
    if (!f.option) continue;
    const v: unknown = await f.option.toOption(r, ctx);
    if (v === undefined) continue;
    const key = f.option.option;
    const prev = out[key];
    if (Array.isArray(prev) && Array.isArray(v)) out[key] = [...prev, ...v];
    else if (isPlainObject(prev) && isPlainObject(v)) out[key] = { ...prev, ...v };
    else out[key] = v;
  }
  return out as SessionOptions;
}

/**
 * The arguments that give Session option `option` a plain `value` (a lab case's `options` or
 * `auth`), from every flag linked to the option, in table order. Throws when no flag can say it.
 */
export function argvForOption(option: string, value: unknown): string[] {
  const argv: string[] = [];
  let said = false;
  for (const f of FLAGS) {
    if (f.option?.option !== option || !f.option.toArgv) continue;
    const a = f.option.toArgv(value, f.names[0]!);
    if (a === undefined) continue;
    argv.push(...a);
    said = true;
  }
  if (!said) throw new Error(`no CLI flag sets the Session option '${option}' to this value`);
  return argv;
}

/** The flag (first name) that sets Session option `option`. */
export function flagForOption(option: OptionName): string {
  const f = FLAGS.find((x) => x.option?.option === option);
  if (!f) throw new Error(`no CLI flag sets the Session option '${option}'`);
  return f.names[0]!;
}

/**
 * curl flags hopwise does not have. An unknown flag on this list is answered plainly ("--ntlm is not
 * supported by hopwise") instead of with a suggestion that only looks alike. A flag added to FLAGS
 * (the proxy flags, say) wins over this list.
 */
export const UNSUPPORTED_CURL: ReadonlySet<string> = new Set([
  '--proxy-negotiate',
  '--negotiate',
  '--ntlm',
  '--ntlm-wb',
  '--anyauth',
  '--basic',
  '--delegation',
  '--sasl-ir',
  '-E',
  '--cert',
  '--cert-type',
  '--key',
  '--key-type',
  '--pass',
  '--capath',
  '--crlfile',
  '--pinnedpubkey',
  '--ciphers',
  '--curves',
  '-1',
  '--tlsv1',
  '--tlsv1.0',
  '--tlsv1.1',
  '--tlsv1.2',
  '--tlsv1.3',
  '--tls-max',
  '-2',
  '--sslv2',
  '-3',
  '--sslv3',
  '--ssl',
  '--ssl-reqd',
  '--ssl-no-revoke',
  '-0',
  '--http1.0',
  '--http1.1',
  '--http2-prior-knowledge',
  '--http3',
  '--http3-only',
  '-U',
  '--proxy-basic',
  '--proxy-digest',
  '--proxy-ntlm',
  '--proxy-anyauth',
  '--proxy-insecure',
  '--proxy-cacert',
  '--preproxy',
  '--socks4',
  '--socks4a',
  '--socks5',
  '--socks5-hostname',
  '-p',
  '--proxytunnel',
  '--retry-delay',
  '--retry-all-errors',
  '--retry-connrefused',
  '-T',
  '--upload-file',
  '-r',
  '--range',
  '-C',
  '--continue-at',
  '-Z',
  '--parallel',
  '--parallel-max',
  '-K',
  '--config',
  '-q',
  '--disable',
  '--trace',
  '--trace-ascii',
  '--trace-time',
  '--libcurl',
  '--stderr',
  '-#',
  '--progress-bar',
  '-N',
  '--no-buffer',
  '--limit-rate',
  '-Y',
  '--speed-limit',
  '-y',
  '--speed-time',
  '-j',
  '--junk-session-cookies',
  '-J',
  '--remote-header-name',
  '-R',
  '--remote-time',
  '--create-dirs',
  '--remote-name-all',
  '--netrc-optional',
  '-z',
  '--time-cond',
  '--interface',
  '--local-port',
  '--keepalive-time',
  '--no-keepalive',
  '--tcp-nodelay',
  '--unix-socket',
  '--abstract-unix-socket',
  '--dns-servers',
  '--doh-url',
  '--post301',
  '--post302',
  '--post303',
  '--raw',
  '--tr-encoding',
  '--proto',
  '--proto-redir',
  '--proto-default',
  '--path-as-is',
  '--request-target',
  '--aws-sigv4',
  '--alt-svc',
  '--etag-save',
  '--etag-compare',
  '--url-query',
  '--variable',
  '--expect100-timeout',
  '-M',
  '--manual',
  '-t',
  '--telnet-option',
  '-Q',
  '--quote',
  '-P',
  '--ftp-port',
  '-l',
  '--list-only',
  '-a',
  '--append',
  '-B',
  '--use-ascii',
  '--mail-from',
  '--mail-rcpt',
  '--max-filesize',
  '--happy-eyeballs-timeout-ms',
]);

function unknownFlag(name: string, command: CommandName): ArgError {
  if (UNSUPPORTED_CURL.has(name)) {
    return new ArgError(`${name} is not supported by hopwise (a curl flag hopwise does not have). hopwise help lists what is.`, name, command);
  }
  const names = FLAGS.filter((f) => f.commands.includes(command)).flatMap((f) => f.names);
  // only a plausible typo: a quarter of the name, at least one edit; single-letter flags are never "close"
  const best =
    name.length > 2
      ? closest(
          name,
          names.filter((n) => n.length > 2),
          (c) => Math.max(1, Math.floor(c.length / 4)),
        )
      : undefined;
  const where = command === 'fetch' ? '' : ` for '${command}'`;
  return new ArgError(`unknown flag ${name}${where}.${best ? ` Did you mean ${best}?` : ' hopwise help lists the flags.'}`, name, command);
}

function emptyRequest(): RequestArgs {
  return {
    url: '',
    headers: [],
    data: [],
    authScope: [],
    cookies: [],
    connectTo: [],
    cacert: [],
    trust: [],
    sensitiveHeaders: [],
    allowDowngrade: false,
    followMetaRefresh: false,
    digest: false,
    http2: false,
    json: false,
    showSecrets: false,
    verbose: false,
    form: [],
    get: false,
    resolve: [],
    locationTrusted: false,
    include: false,
    remoteName: false,
    silent: false,
    showError: false,
    compressed: false,
  };
}

type ParseConfig = NonNullable<Parameters<typeof nodeParseArgs>[0]>['options'];

/**
 * The `node:util` parseArgs configuration for a command: every name of every flag (a value-taking
 * flag as 'string'), so the tokens say which name was written and where its value is. Keys are
 * internal; the token's `rawName` is what we look up.
 */
function configFor(command: CommandName): NonNullable<ParseConfig> {
  const config: NonNullable<ParseConfig> = { url: { type: 'string', multiple: true } };
  const seen = new Set<string>(['--url']);
  for (const f of FLAGS) {
    for (const n of f.names) {
      if (seen.has(n)) continue;
      const spec = specFor(n, command)!;
      seen.add(n);
      const type = spec.value ? 'string' : 'boolean';
      if (n.startsWith('--')) config[n.slice(2)] = { type, multiple: true };
      else config[`short${n}`] = { type, short: n.slice(1), multiple: true };
    }
  }
  return config;
}

/** `args` as parseArgs tokens, by the flag table's names for `command` (shared with the doctor's fix lines). */
export function tokenize(args: readonly string[], command: CommandName) {
  // strict: false, so unknown flags come back as tokens and are answered here, in hopwise's words
  return nodeParseArgs({ args: [...args], options: configFor(command), strict: false, allowPositionals: true, tokens: true }).tokens;
}

const looksLikeJson = (v: string) => /^\s*[[{"@]/.test(v);
const looksLikeUrl = (v: string) => /^https?:\/\//i.test(v);

/** `hopwise help X`: X a command, a flag (with or without its dashes), or `exit`. */
function parseHelp(topic: string | undefined): ParsedArgs {
  if (topic === undefined) return { command: 'help' };
  if ((COMMANDS as readonly string[]).includes(topic)) return { command: 'help', topic: topic as CommandName };
  if (topic === 'exit' || topic === 'exit-codes') return { command: 'help', flag: 'exit' };
  const candidates = topic.startsWith('-') ? [topic] : [`--${topic}`, `-${topic}`];
  for (const c of candidates) if (FLAGS.some((f) => f.names.includes(c)) || UNSUPPORTED_CURL.has(c)) return { command: 'help', flag: c };
  const close = closest(topic, [...COMMANDS, ...FLAGS.flatMap((f) => f.names)], (c) => Math.max(1, Math.floor(c.length / 4)));
  throw new ArgError(`no help for '${topic}'.${close ? ` Did you mean '${close}'?` : ''} Try: hopwise help, hopwise help <command>, hopwise help -F, hopwise help exit`, topic);
}

/** Parses `process.argv.slice(2)`. Throws `ArgError` naming the flag at fault. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  if (argv.length === 0) return { command: 'help' };
  const [head, ...rest] = argv;
  if (head === '-h' || head === '--help' || head === 'help') return parseHelp(rest[0]);
  if (head === '--version' || head === '-V' || head === 'version') return { command: 'version' };

  // The command: the first positional, when it names one; otherwise this is `hopwise [flags] URL`.
  let command: CommandName = 'fetch';
  let args: readonly string[] = argv;
  const first = tokenize(argv, 'fetch').find((t) => t.kind === 'positional');
  if (first?.kind === 'positional' && (COMMANDS as readonly string[]).includes(first.value)) {
    command = first.value as CommandName;
    args = [...argv.slice(0, first.index), ...argv.slice(first.index + 1)];
  } else if (first?.kind === 'positional' && !looksLikeUrl(first.value) && !first.value.includes('.') && !first.value.includes('/')) {
    const close = closest(first.value, COMMANDS, () => 2);
    if (close) throw new ArgError(`unknown command '${first.value}'. Did you mean '${close}'? Commands: ${COMMANDS.join(', ')}, or hopwise URL`, first.value);
  }

  const st: State = { command, req: emptyRequest(), positionals: [], json: false, only: [], help: false, warnings: [] };
  let program: string[] | undefined;
  if (command === 'record') {
    // hopwise's flags end at `--` or at the program's name; everything after is the program's, untouched
    const end = tokenize(args, command).find((t) => t.kind === 'option-terminator' || t.kind === 'positional');
    if (end) {
      program = args.slice(end.kind === 'option-terminator' ? end.index + 1 : end.index);
      args = args.slice(0, end.index);
    }
  }
  let previous: string | undefined;
  for (const t of tokenize(args, command)) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (previous === '--json' && command !== 'fetch' && looksLikeJson(t.value)) {
        throw new ArgError(
          `in 'hopwise ${command}', --json selects JSON output and takes no value. To send a JSON body as curl's --json does: ` +
            `hopwise --json '${t.value.length > 40 ? `${t.value.slice(0, 37)}...` : t.value}' URL (add -v for the trace), or here: --data-raw DATA -H "Content-Type: application/json"`,
          '--json',
          command,
        );
      }
      st.positionals.push(t.value);
      previous = undefined;
      continue;
    }
    const name = t.rawName;
    previous = name;
    if (name === '--url') {
      if (t.value === undefined) throw new ArgError(`--url needs a URL`, '--url', command);
      st.positionals.push(t.value);
      continue;
    }
    const spec = specFor(name, command);
    if (!spec) throw unknownFlag(name, command);
    if (!spec.commands.includes(command)) {
      const only = spec.commands.length === 1 && spec.commands[0] === 'fetch' ? ' (it is a flag of hopwise URL, without a command)' : '';
      throw new ArgError(`${name} does not apply to '${command === 'fetch' ? 'hopwise URL' : command}'${only}`, name, command);
    }
    let value = '';
    if (spec.value) {
      if (t.value === undefined) throw new ArgError(`${name} needs a value: ${name} ${spec.value}`, name, command);
      value = t.value;
    } else if (t.value !== undefined) {
      throw new ArgError(`${name} takes no value`, name, command);
    }
    spec.apply(st, value, name);
  }

  if (st.help) return { command: 'help', topic: command };
  if (command === 'lab') {
    if (st.positionals.length) throw new ArgError(`'lab' takes no arguments, got '${st.positionals[0]}'`, st.positionals[0], command);
    return { command, json: st.json, ...(st.host ? { host: st.host } : {}) };
  }
  if (command === 'record') {
    if (!program?.length) throw new ArgError(`'record' needs a program to run: hopwise record [flags] -- CMD [ARGS...]`, 'CMD', command);
    const r = st.req;
    return { command, program, json: st.json, ...(r.har !== undefined ? { har: r.har } : {}), cacert: r.cacert, connectTo: r.connectTo };
  }
  if (command === 'demo') {
    if (st.positionals.length) throw new ArgError(`'demo' takes no arguments, got '${st.positionals[0]}' (use --only ID)`, st.positionals[0], command);
    return { command, json: st.json, only: st.only };
  }
  const r = st.req;
  const self = command === 'fetch' ? 'hopwise URL' : `'${command}'`;
  if (st.positionals.length === 0 && command === 'doctor' && r.har !== undefined) {
    // `hopwise doctor --har FILE`: with no URL the HAR is the input, not an output.
    r.harInput = r.har;
    delete r.har;
    return { command, request: r, warnings: st.warnings };
  }
  if (st.positionals.length === 0) {
    const jsonUrl = r.data.find((d) => d.mode === 'json' && looksLikeUrl(d.value));
    if (jsonUrl)
      throw new ArgError(`in hopwise URL, --json is curl's --json DATA (a JSON body), so it took '${jsonUrl.value}' as the body. For the trace as JSON: hopwise trace --json URL`, '--json', command);
    throw new ArgError(`${self} needs a URL`, 'URL', command);
  }
  if (st.positionals.length > 1) throw new ArgError(`${self} takes one URL, got also '${st.positionals[1]}'`, st.positionals[1], command);
  const url = st.positionals[0]!;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ArgError(`'${url}' is not a URL (write it with its scheme, e.g. https://${url})`, 'URL', command);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ArgError(`only http: and https: URLs, got '${parsed.protocol}'`, 'URL', command);
  if (r.authScope.length && !r.user && !r.bearer) {
    throw new ArgError(`--auth-scope applies to -u or --oauth2-bearer; give one of them`, '--auth-scope', command);
  }
  if (r.showSecrets && !r.har && !r.json) {
    throw new ArgError(`--show-secrets only changes --har or --json output; add one of them`, '--show-secrets', command);
  }
  if (r.form.length && r.data.length) throw new ArgError(`-F (multipart) and -d / --data* / --json (one body each) cannot be combined`, '-F', command);
  if (r.get && r.form.length) throw new ArgError(`-G puts -d data in the query string; -F makes a multipart body: use one of them`, '-G', command);
  const json = r.data.filter((d) => d.mode === 'json');
  if (json.length && json.length !== r.data.length) throw new ArgError(`--json cannot be combined with -d / --data*: give the whole JSON body with --json`, '--json', command);
  if (json.length && r.get) throw new ArgError(`-G puts the data in the query string; --json sends a JSON body: use one of them`, '-G', command);
  if (r.output !== undefined && r.remoteName) throw new ArgError(`-o and -O both name where the body goes: give one of them`, '-O', command);
  if (r.remoteName && !remoteName(url)) throw new ArgError(`-O needs a file name in the URL's path (${url} has none): use -o FILE`, '-O', command);
  r.url = url;
  return { command, request: r, warnings: st.warnings };
}

/** The file name -O writes: the URL's last path segment, decoded; undefined when there is none. */
export function remoteName(url: string): string | undefined {
  const seg = new URL(url).pathname.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(seg);
  } catch {
    name = seg;
  }
  return name && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) ? name : undefined;
}

/** The request method curl would use: -X, else HEAD for -I, else POST when there is data, else GET. */
export function effectiveMethod(r: RequestArgs): string {
  return r.method ?? (r.get ? 'GET' : r.data.length > 0 || r.form.length > 0 ? 'POST' : 'GET');
}

/** curl's URL encoding: everything but A-Z a-z 0-9 - . _ ~ as %XX (a space is %20). */
export function curlEscape(data: Buffer | string): string {
  return encodeURIComponent(typeof data === 'string' ? data : data.toString('utf8')).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const FLAG_OF: Record<DataPart['mode'], string> = { ascii: '-d', binary: '--data-binary', raw: '--data-raw', urlencode: '--data-urlencode', json: '--json' };

/**
 * Builds the request body from `-d` / `--data-binary` / `--data-raw` / `--data-urlencode` / `--json`
 * parts, as curl does: parts joined with `&` (`--json` parts concatenated); `@file` read through
 * `readFile` (`@-` is stdin; `-d` strips CR and LF from file contents). Returns undefined when there
 * is no data; `contentType` is curl's default (form-encoded, or JSON for --json, which also sets
 * `accept`).
 */
export async function resolveBody(
  parts: readonly DataPart[],
  readFile: (path: string) => Promise<Buffer>,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ body: Buffer; contentType: string; accept?: string } | undefined> {
  if (parts.length === 0) return undefined;
  const load = async (p: DataPart, file: string): Promise<Buffer> => {
    try {
      return file === '-' ? await readAll(stdin) : await readFile(file);
    } catch (e) {
      throw new ArgError(`${FLAG_OF[p.mode]} @${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, FLAG_OF[p.mode]);
    }
  };
  const json = parts.every((p) => p.mode === 'json');
  const chunks: Buffer[] = [];
  for (const [i, p] of parts.entries()) {
    if (i > 0 && !json) chunks.push(Buffer.from('&'));
    if (p.mode === 'urlencode') {
      const v = p.value;
      const eq = v.indexOf('=');
      const at = v.indexOf('@');
      if (eq >= 0 && (at < 0 || eq < at)) {
        // 'name=content' or '=content': the name as given, the content encoded
        const name = v.slice(0, eq);
        chunks.push(Buffer.from(`${name}${name ? '=' : ''}${curlEscape(v.slice(eq + 1))}`));
      } else if (at >= 0) {
        // 'name@file' or '@file'
        const name = v.slice(0, at);
        chunks.push(Buffer.from(`${name}${name ? '=' : ''}${curlEscape(await load(p, v.slice(at + 1)))}`));
      } else {
        chunks.push(Buffer.from(curlEscape(v)));
      }
    } else if (p.mode !== 'raw' && p.value.startsWith('@')) {
      const data = await load(p, p.value.slice(1));
      chunks.push(p.mode === 'ascii' ? Buffer.from(data.toString('latin1').replace(/[\r\n]/g, ''), 'latin1') : data);
    } else {
      chunks.push(Buffer.from(p.value));
    }
  }
  if (json) return { body: Buffer.concat(chunks), contentType: 'application/json', accept: 'application/json' };
  return { body: Buffer.concat(chunks), contentType: 'application/x-www-form-urlencoded' };
}

/**
 * The multipart body of `-F` fields, as curl builds it: `name=value`; `name=@file` a file part
 * (`;type=T`, `;filename=F` after the path); `name=<file` the file's text as a plain value.
 */
export async function resolveForm(fields: readonly string[], readFile: (path: string) => Promise<Buffer>, stdin: NodeJS.ReadableStream = process.stdin): Promise<FormData> {
  const form = new FormData();
  for (const field of fields) {
    const eq = field.indexOf('=');
    const name = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (value.startsWith('@') || value.startsWith('<')) {
      const [path = '', ...attrs] = value.slice(1).split(';');
      let type: string | undefined;
      let filename = path === '-' ? '-' : (path.split(/[/\\]/).pop() ?? path);
      for (const a of attrs) {
        const [k, ...rest] = a.split('=');
        const v = rest.join('=').replace(/^"(.*)"$/, '$1');
        if (k?.trim() === 'type') type = v;
        else if (k?.trim() === 'filename') filename = v;
      }
      let data: Buffer;
      try {
        data = path === '-' ? await readAll(stdin) : await readFile(path);
      } catch (e) {
        throw new ArgError(`-F ${field}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '-F');
      }
      if (value.startsWith('<')) form.append(name, data.toString('utf8'));
      else form.append(name, new Blob([new Uint8Array(data)], { type: type ?? 'application/octet-stream' }), filename);
    } else {
      form.append(name, value);
    }
  }
  return form;
}

// --- usage ---------------------------------------------------------------------------------------

const SUMMARY: Record<CommandName, string> = {
  fetch: 'the final body on stdout, like curl -L; -v shows every hop on stderr',
  trace: 'follow a URL and explain every hop',
  doctor: 'follow a URL, then name what went wrong and how to fix it',
  lab: 'run the local redirect lab in the foreground',
  demo: 'start the lab and run every scenario (what `npm start` runs)',
  record: 'run a program (python, curl, node...) through a recording proxy, then name what its redirects did to tokens and cookies',
};

/** Examples a person can copy, by task. Secrets as "$TOKEN", in double quotes so the shell expands them. */
export const TASKS: readonly { task: string; examples: string[] }[] = [
  { task: 'Get a page or an API answer (follows redirects, like curl -L)', examples: ['hopwise https://example.com/', 'hopwise -H "Accept: application/json" https://api.example.com/v1/items'] },
  {
    task: 'Call an API with a token that must survive a redirect',
    examples: [
      'hopwise --oauth2-bearer "$TOKEN" https://api.example.com/v1/me',
      'hopwise -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
      'hopwise -u "ann:$PASSWORD" https://api.example.com/v1/me',
    ],
  },
  {
    task: 'Send JSON, a form, a file',
    examples: [
      'hopwise --json \'{"name": "ann"}\' https://api.example.com/v1/users',
      'hopwise --json @user.json https://api.example.com/v1/users',
      'hopwise -d "user=ann" --data-urlencode "comment=hello world" https://app.example.com/form',
      'hopwise -F "file=@report.pdf;type=application/pdf" -F "note=Q3" https://api.example.com/upload',
      'hopwise -G --data-urlencode "q=red shoes" https://api.example.com/search',
      'hopwise -X PUT --data-binary @photo.jpg -H "Content-Type: image/jpeg" https://api.example.com/photo',
    ],
  },
  {
    task: 'Log in and keep the session',
    examples: ['hopwise -c cookies.txt -d "user=ann" -d "password=$PASSWORD" https://app.example.com/login', 'hopwise -b cookies.txt https://app.example.com/dashboard'],
  },
  {
    task: 'Save the answer, or just its status',
    examples: [
      'hopwise -o report.csv https://example.com/export',
      'hopwise -O https://example.com/files/report.csv',
      'hopwise -sS -o /dev/null -w "%{http_code} %{num_redirects} %{url_effective}\\n" https://example.com/',
      'hopwise -i https://example.com/',
      'hopwise -D headers.txt -o body.html https://example.com/',
      'hopwise --fail -sS https://api.example.com/health || echo "down: $?"',
    ],
  },
  {
    task: 'See why a token or a session got lost',
    examples: [
      'hopwise -v -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
      'hopwise trace -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
      'hopwise doctor -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
      'hopwise doctor --json https://example.com/ | jq .findings',
      'hopwise trace --json --har trace.har https://example.com/',
    ],
  },
  {
    task: 'Reach a server somewhere else (staging, a container, the lab)',
    examples: [
      'hopwise --resolve api.example.com:443:127.0.0.1 --cacert ca.pem https://api.example.com/',
      'hopwise --connect-to ::127.0.0.1:8443 --cacert ca.pem https://app.example.com/',
      'hopwise -4 --connect-timeout 2 -m 10 https://example.com/',
    ],
  },
  {
    task: 'Let credentials follow into hosts you trust',
    examples: [
      'hopwise --oauth2-bearer "$TOKEN" --auth-scope \'*.example.com\' https://api.example.com/v1/me',
      'hopwise -H "Authorization: Bearer $TOKEN" --trust \'*.example.com\' https://api.example.com/v1/me',
    ],
  },
];

const EXAMPLES: Record<CommandName, string[]> = {
  fetch: TASKS.flatMap((t) => t.examples.filter((e) => /^hopwise -|^hopwise https/.test(e))),
  trace: [
    'hopwise trace https://example.com/',
    'hopwise trace -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
    'hopwise trace -X POST -d "user=ann" -d "password=$PASSWORD" -c cookies.txt https://app.example.com/login',
    'hopwise trace --json --har trace.har https://example.com/',
    '# against the lab: `hopwise lab` prints the exact --connect-to and --cacert flags',
    'hopwise trace --connect-to :443:127.0.0.1:PORT --cacert /tmp/hopwise-lab-XXXX/ca.pem https://app.hopwise.test/login-session/login',
  ],
  doctor: [
    'hopwise doctor -H "Authorization: Bearer $TOKEN" https://api.example.com/v1/me',
    'hopwise doctor -d "user=ann" https://app.example.com/login',
    'hopwise doctor --json https://example.com/ | jq .findings',
    'hopwise doctor --trust \'*.example.com\' --oauth2-bearer "$TOKEN" https://api.example.com/v1/me',
    'hopwise doctor --har login.har',
  ],
  lab: ['hopwise lab', 'hopwise lab --json > lab.json'],
  demo: ['hopwise demo', 'hopwise demo --only cookie-path', 'hopwise demo --json'],
  record: ['hopwise record -- python3 script.py', 'hopwise record --har run.har -- curl -sL https://example.com/', 'hopwise record --json -- python3 client.py | jq .findings'],
};

function flagNames(f: FlagSpec): string {
  return f.names.join(', ') + (f.value ? ` ${f.value}` : '');
}

function flagLine(f: FlagSpec): string {
  return `  ${flagNames(f).padEnd(38)} ${f.help}`;
}

function groupedFlags(command: CommandName): string[] {
  const flags = FLAGS.filter((f) => f.commands.includes(command));
  const lines: string[] = [];
  for (const [g, title] of Object.entries(GROUPS)) {
    const inGroup = flags.filter((f) => (f.group ?? 'other') === g);
    if (inGroup.length) lines.push(`${title}:`, ...inGroup.map(flagLine), '');
  }
  return lines;
}

/** One line pointing at the full help, for errors. */
export function shortUsage(command?: CommandName): string {
  if (!command || command === 'fetch') return 'Usage: hopwise [flags] URL; hopwise help for tasks and flags, hopwise help FLAG for one flag.';
  const url = command === 'trace' || command === 'doctor' ? ' URL' : '';
  if (command === 'record') return 'Usage: hopwise record [flags] -- CMD [ARGS...]; hopwise record --help for every flag, with examples.';
  return `Usage: hopwise ${command}${url} [flags]; hopwise ${command} --help for every flag, with examples.`;
}

/** `hopwise help FLAG`: every entry of that name (with its commands), and the examples that use it. */
export function flagHelp(name: string): string {
  if (name === 'exit') return ''; // main prints the exit codes (exit.ts)
  const specs = FLAGS.filter((f) => f.names.includes(name));
  if (specs.length === 0) return `${name} is a curl flag hopwise does not have.\n`;
  const lines: string[] = [];
  for (const f of specs) {
    const cmds = f.commands.map((c) => (c === 'fetch' ? 'hopwise URL' : `hopwise ${c}`)).join(', ');
    lines.push(flagNames(f), `  ${f.help}`, `  in: ${cmds}`, '');
  }
  const words = new RegExp(
    `(^|\\s)(${specs
      .flatMap((f) => f.names)
      .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|')})(\\s|=|$)`,
  );
  const seen = new Set<string>();
  const ex = [...TASKS.flatMap((t) => t.examples), ...Object.values(EXAMPLES).flat()].filter((e) => words.test(e) && !seen.has(e) && seen.add(e));
  if (ex.length) lines.push('Examples:', ...ex.map((e) => `  ${e}`), '');
  return lines.join('\n');
}

export function usage(command?: CommandName): string {
  if (!command || command === 'fetch') {
    const lines = [
      'hopwise: curl -L that explains itself. It follows redirects so that credentials and cookies go exactly as far as they should.',
      '',
      'Usage:',
      `  ${'hopwise [flags] URL'.padEnd(31)} ${SUMMARY.fetch}`,
      ...COMMANDS.map((c) => `  ${`hopwise ${c}${c === 'trace' || c === 'doctor' ? ' URL' : ''} [flags]${c === 'record' ? ' -- CMD' : ''}`.padEnd(31)} ${SUMMARY[c]}`),
      `  ${'hopwise help FLAG|COMMAND|exit'.padEnd(31)} one flag (hopwise help -F), a command's flags and examples, the exit codes`,
      '',
      "Flags go before or after the URL; short flags combine (-sSL, -XPOST). curl's flags keep curl's meaning.",
      '',
    ];
    for (const t of TASKS) lines.push(`${t.task}:`, ...t.examples.map((e) => `  ${e}`), '');
    lines.push('Flags of hopwise URL (trace and doctor take the request flags too):', '', ...groupedFlags('fetch'));
    lines.push("--json: in hopwise URL it is curl's --json DATA (a JSON body); in trace, doctor, lab and demo it selects JSON output.", '');
    lines.push("Exit status: curl's codes (0, 6, 7, 22, 28, 35, 47, 52, 56, ...): hopwise help exit.", '');
    return lines.join('\n');
  }
  const lines = [`hopwise ${command}: ${SUMMARY[command]}`, ''];
  if (command === 'trace' || command === 'doctor') {
    lines.push(
      `Usage: hopwise ${command} URL [flags]${command === 'doctor' ? '\n       hopwise doctor --har FILE [--json]   (diagnose a recorded HAR: a browser export, hopwise record)' : ''}`,
      '',
      ...groupedFlags(command),
    );
    lines.push(
      command === 'trace'
        ? 'Exit status: 0 a final response arrived (any status); 1 the chain stopped with an error (the trace up to it is printed); 2 bad arguments.'
        : 'Exit status: 0 no problem found (info notes only); 1 findings (warnings or errors); 2 bad arguments, or the first request could not be made at all.',
      '',
    );
  } else if (command === 'record') {
    lines.push('Usage: hopwise record [flags] -- CMD [ARGS...]', '', ...groupedFlags(command));
    lines.push(
      "The program runs with HTTP(S)_PROXY and http(s)_proxy set to the recorder, NO_PROXY removed, and the run's CA in SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS; its output passes through (to stderr under --json).",
      "Exit status: 0 no problem found; 1 findings; 2 bad arguments, the program could not start, or it made no HTTP request through the recorder. The program's own status is printed beside the findings.",
      '',
    );
  } else {
    lines.push(`Usage: hopwise ${command} [flags]`, '', 'Flags:', ...FLAGS.filter((f) => f.commands.includes(command)).map(flagLine), '');
  }
  lines.push('Examples:', ...EXAMPLES[command].map((e) => `  ${e}`), '');
  return lines.join('\n');
}
