/**
 * Argument parsing for the `hopwise` CLI, with no dependency. Pure: it reads no file and touches no
 * network; files named by flags (`--data-binary @file`, `-b file`) are read when the command runs.
 *
 * curl-compatible where curl has the flag (`-X -H -d --data-binary -u --oauth2-bearer -b -c
 * --connect-to --cacert --max-redirs -I -L -s -v --max-time --connect-timeout`); `-k` is refused
 * with an explanation. hopwise's own: `--auth-scope --trust --sensitive-header --allow-downgrade
 * --follow-meta-refresh --cross-origin-body --json --har --show-secrets`.
 *
 * `FLAGS` is the one table of flags: names, value, help, the commands they apply to, how a value is
 * parsed (`apply`), and, for a flag that sets a Session option, which option and how (`option`).
 * The CLI's Session options (`optionsFromArgs`) and the arguments for a lab case (`argvForOption`)
 * are both derived from the `option` links, so a flag for a new option is one entry here.
 */
import { isToken } from '../syntax.js';
import { closest } from '../suggest.js';
import type { basic, bearer, CookieJar, SessionOptions } from '../index.js';

export type CommandName = 'trace' | 'doctor' | 'lab' | 'demo';
export const COMMANDS: readonly CommandName[] = ['trace', 'doctor', 'lab', 'demo'];

/** One `-d` / `--data*` argument as given; `@file` is resolved when the command runs. */
export interface DataPart {
  /** `ascii`: -d/--data (`@file` read with CR/LF removed); `binary`: --data-binary (`@file` raw); `raw`: --data-raw (no `@`). */
  mode: 'ascii' | 'binary' | 'raw';
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
  connectTimeout?: number;
  trust: string[];
  sensitiveHeaders: string[];
  allowDowngrade: boolean;
  followMetaRefresh: boolean;
  crossOriginBody?: 'error' | 'send';
  json: boolean;
  har?: string;
  showSecrets: boolean;
  /** -v / --verbose: print request and response headers of every hop. */
  verbose: boolean;
  /** -x / --proxy URL ('' = no proxy, the environment ignored), --proxy-user USER:PASSWORD, --noproxy LIST. */
  proxy?: string;
  proxyUser?: string;
  noproxy?: string;
}

export type ParsedArgs =
  | { command: 'trace' | 'doctor'; request: RequestArgs }
  | { command: 'lab'; host?: string; json: boolean }
  | { command: 'demo'; json: boolean; only: string[] }
  | { command: 'help'; topic?: CommandName }
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
export type AuthArgs =
  | { kind: 'bearer'; token: string; scope?: string[] }
  | { kind: 'basic'; user: string; password: string; scope?: string[] };

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
const authScope = (r: RequestArgs) => (r.authScope.length ? { scope: r.authScope } : undefined);
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
      if (!pair.includes('=')) throw new ArgError(`-b '${s}': '${pair}' is not name=value`, '-b');
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
}

const REQ: readonly CommandName[] = ['trace', 'doctor'];

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
    apply: (st, v, f) => {
      if (!isToken(v)) throw new ArgError(`${f} needs an HTTP method such as POST, got '${v}'`, f, st.command);
      st.req.method = v;
    },
  },
  {
    names: ['-H', '--header'],
    value: "'NAME: VALUE'",
    help: 'add a request header (repeatable)',
    commands: REQ,
    apply: (st, v, f) => {
      const colon = v.indexOf(':');
      if (colon <= 0) throw new ArgError(`${f} needs 'Name: value', got '${v}'`, f, st.command);
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
    apply: (st, v) => st.req.data.push({ mode: 'ascii', value: v }),
  },
  {
    names: ['--data-binary'],
    value: 'DATA|@FILE',
    help: 'request body as is; @FILE reads the file byte for byte',
    commands: REQ,
    apply: (st, v) => st.req.data.push({ mode: 'binary', value: v }),
  },
  {
    names: ['--data-raw'],
    value: 'DATA',
    help: 'request body; a leading @ is not special',
    commands: REQ,
    apply: (st, v) => st.req.data.push({ mode: 'raw', value: v }),
  },
  {
    names: ['-u', '--user'],
    value: 'USER:PASSWORD',
    help: 'basic auth, applied to the first origin (and its https upgrade) only',
    commands: REQ,
    apply: (st, v, f) => {
      const colon = v.indexOf(':');
      if (colon < 0) throw new ArgError(`${f} needs USER:PASSWORD; hopwise does not prompt for a password`, f, st.command);
      st.req.user = { name: v.slice(0, colon), password: v.slice(colon + 1) };
    },
    option: link({
      option: 'auth',
      toOption: (r, ctx) => (r.user ? [ctx.basic(r.user.name, r.user.password, authScope(r))] : undefined),
      toArgv: (v, f) => {
        const a = authArgs(v, 'basic');
        return a?.kind === 'basic' ? [f, `${a.user}:${a.password}`, ...scopeArgv(a)] : undefined;
      },
    }),
  },
  {
    names: ['--oauth2-bearer'],
    value: 'TOKEN',
    help: 'bearer token, applied to the first origin (and its https upgrade) only',
    commands: REQ,
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
    value: "'NAME=VALUE'|FILE",
    help: 'cookies for the first URL (a name=value string, stored as host-only cookies), or a cookie file to load (repeatable)',
    commands: REQ,
    apply: (st, v) => st.req.cookies.push(v),
    // always a jar (empty without -b), which -c writes after the run
    option: link({ option: 'cookies', toOption: cookieJar }),
  },
  {
    names: ['-c', '--cookie-jar'],
    value: 'FILE',
    help: 'write the cookie jar to FILE (Netscape format) after the run',
    commands: REQ,
    apply: (st, v) => (st.req.cookieJar = v),
  },
  {
    names: ['--connect-to'],
    value: 'HOST1:PORT1:HOST2:PORT2',
    help: 'connect to HOST2:PORT2 for requests to HOST1:PORT1, keeping Host, SNI and certificate checks (repeatable; empty HOST1 = any host)',
    commands: REQ,
    apply: (st, v, f) => {
      if (v.split(':').length < 4) throw new ArgError(`${f} needs HOST1:PORT1:HOST2:PORT2 (HOST1 may be empty), got '${v}'`, f, st.command);
      st.req.connectTo.push(v);
    },
    option: link({ option: 'connectTo', toOption: (r) => r.connectTo, toArgv: repeated }),
  },
  {
    names: ['--proxy', '-x'],
    value: 'URL',
    help: "use this proxy (http:// or https://; user:pass@ allowed) instead of the environment's http_proxy/https_proxy; '' for none",
    commands: REQ,
    apply: (st, v) => (st.req.proxy = v),
    option: link({ option: 'proxy', toOption: (r) => (r.proxy === undefined ? undefined : r.proxy === '' ? false : r.proxy), toArgv: (v, f) => (typeof v === 'string' ? [f, v] : v === false ? [f, ''] : undefined) }),
  },
  {
    names: ['--proxy-user'],
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
    apply: (st, v, f) => (st.req.maxRedirs = nonNegativeInt(f, v, st.command)),
    option: link({ option: 'maxRedirects', toOption: (r) => r.maxRedirs, toArgv: single }),
  },
  {
    names: ['--max-time', '-m'],
    value: 'SECONDS',
    help: 'time limit for the whole chain',
    commands: REQ,
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
    apply: (st) => (st.req.method = 'HEAD'),
  },
  {
    names: ['-v', '--verbose'],
    help: 'also print request and response headers of every hop (redacted)',
    commands: REQ,
    apply: (st) => (st.req.verbose = true),
  },
  {
    names: ['-L', '--location'],
    help: 'accepted for curl compatibility: hopwise always follows redirects',
    commands: REQ,
    apply: () => {},
  },
  {
    names: ['-s', '--silent', '-S', '--show-error'],
    help: 'accepted for curl compatibility (hopwise prints no progress meter)',
    commands: REQ,
    apply: () => {},
  },
  {
    names: ['-k', '--insecure'],
    help: 'refused: hopwise never turns off certificate checks',
    commands: REQ,
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
  // --- hopwise's own ---
  {
    // sets no option of its own: the -u and --oauth2-bearer links scope their providers with it
    names: [AUTH_SCOPE],
    value: 'PATTERN',
    help: "where -u / --oauth2-bearer are applied, re-applied on every hop in scope: 'api.example.com', '*.example.com' (repeatable; default: the first origin)",
    commands: REQ,
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
    apply: (st) => (st.req.allowDowngrade = true),
    option: link({ option: 'allowDowngrade', toOption: (r) => r.allowDowngrade, toArgv: onOff }),
  },
  {
    names: ['--follow-meta-refresh'],
    help: 'follow <meta http-equiv="refresh"> and Refresh: in 200 HTML pages like a redirect',
    commands: REQ,
    apply: (st) => (st.req.followMetaRefresh = true),
    option: link({ option: 'followMetaRefresh', toOption: (r) => r.followMetaRefresh, toArgv: onOff }),
  },
  {
    names: ['--cross-origin-body'],
    value: 'error|send',
    help: 'what a 307/308 to an untrusted origin does with the request body (default error)',
    commands: REQ,
    apply: (st, v, f) => {
      if (v !== 'error' && v !== 'send') throw new ArgError(`${f} needs 'error' or 'send', got '${v}'`, f, st.command);
      st.req.crossOriginBody = v;
    },
    option: link({ option: 'crossOriginBody', toOption: (r) => r.crossOriginBody, toArgv: single }),
  },
  {
    names: ['--json'],
    help: 'print JSON instead of text',
    commands: ['trace', 'doctor', 'lab', 'demo'],
    apply: (st) => {
      st.req.json = true;
      st.json = true;
    },
  },
  {
    names: ['--har'],
    value: 'FILE',
    help: 'also write the trace as HAR 1.2 to FILE (secrets redacted)',
    commands: REQ,
    apply: (st, v) => (st.req.har = v),
  },
  {
    names: ['--show-secrets'],
    help: 'put unredacted header values in --har / --json output (do not share the result)',
    commands: REQ,
    apply: (st) => (st.req.showSecrets = true),
  },
  {
    names: ['--host'],
    value: 'ADDRESS',
    help: 'address the lab listens on (default 127.0.0.1)',
    commands: ['lab'],
    apply: (st, v) => (st.host = v),
  },
  {
    names: ['--only'],
    value: 'ID[,ID...]',
    help: 'run only these scenarios',
    commands: ['demo'],
    apply: (st, v) => st.only.push(...v.split(',').map((s) => s.trim()).filter(Boolean)),
  },
  {
    names: ['-h', '--help'],
    help: 'show help',
    commands: ['trace', 'doctor', 'lab', 'demo'],
    apply: (st) => (st.help = true),
  },
];

const BY_NAME = new Map<string, FlagSpec>();
for (const f of FLAGS) for (const n of f.names) BY_NAME.set(n, f);

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

function suggest(flag: string, command: CommandName): string {
  const names = FLAGS.filter((f) => f.commands.includes(command)).flatMap((f) => f.names.filter((n) => n.startsWith('--')));
  const best = closest(flag, names, () => 3);
  return best ? ` Did you mean ${best}?` : '';
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
    json: false,
    showSecrets: false,
    verbose: false,
  };
}

/** Parses `process.argv.slice(2)`. Throws `ArgError` naming the flag at fault. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  if (argv.length === 0) return { command: 'help' };
  const [head, ...rest] = argv;
  if (head === '-h' || head === '--help' || head === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { command: 'help' };
    if (!(COMMANDS as readonly string[]).includes(topic)) throw new ArgError(`unknown command '${topic}'; commands: ${COMMANDS.join(', ')}`, topic);
    return { command: 'help', topic: topic as CommandName };
  }
  if (head === '--version' || head === '-V' || head === 'version') return { command: 'version' };
  let command: CommandName;
  let args: readonly string[];
  if ((COMMANDS as readonly string[]).includes(head!)) {
    command = head as CommandName;
    args = rest;
  } else if (/^https?:\/\//i.test(head!)) {
    // `hopwise URL ...` is `hopwise trace URL ...`, as with curl
    command = 'trace';
    args = argv;
  } else if (head!.startsWith('-')) {
    // flags before the command: `hopwise -H x trace URL` is not supported; be explicit
    const cmdAt = argv.findIndex((a) => (COMMANDS as readonly string[]).includes(a));
    if (cmdAt < 0) throw new ArgError(`expected a command (${COMMANDS.join(', ')}) or a URL first, got '${head}'`, head);
    throw new ArgError(`put flags after the command: hopwise ${argv[cmdAt]} ... ${head}`, head);
  } else {
    const close = closest(head!, COMMANDS, () => 2);
    throw new ArgError(`unknown command '${head}'.${close ? ` Did you mean '${close}'?` : ''} Commands: ${COMMANDS.join(', ')}`, head);
  }

  const st: State = { command, req: emptyRequest(), positionals: [], json: false, only: [], help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      st.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      st.positionals.push(arg);
      continue;
    }
    let name = arg;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) [name, inline] = [arg.slice(0, eq), arg.slice(eq + 1)];
    } else if (arg.length > 2) {
      // -XPOST, -H'x: y', or bundled booleans (-sL)
      const short = arg.slice(0, 2);
      const spec = BY_NAME.get(short);
      if (spec?.value) [name, inline] = [short, arg.slice(2)];
      else {
        const expanded = [...arg.slice(1)].map((c) => `-${c}`);
        const firstWithValue = expanded.findIndex((s) => BY_NAME.get(s)?.value);
        if (expanded.every((s) => BY_NAME.has(s)) && (firstWithValue < 0 || firstWithValue === expanded.length - 1)) {
          args = [...args.slice(0, i), ...expanded, ...args.slice(i + 1)];
          i--;
          continue;
        }
      }
    }
    if (name === '--url') {
      const v = inline ?? args[++i];
      if (v === undefined) throw new ArgError(`--url needs a URL`, '--url', command);
      st.positionals.push(v);
      continue;
    }
    const spec = BY_NAME.get(name);
    if (!spec) throw new ArgError(`unknown flag ${name} for '${command}'.${suggest(name, command)}`, name, command);
    if (!spec.commands.includes(command)) throw new ArgError(`${name} does not apply to '${command}'`, name, command);
    let value = '';
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else {
        const next = args[i + 1];
        if (next === undefined) throw new ArgError(`${name} needs a value: ${name} ${spec.value}`, name, command);
        value = next;
        i++;
      }
    } else if (inline !== undefined) {
      throw new ArgError(`${name} takes no value`, name, command);
    }
    spec.apply(st, value, name);
  }

  if (st.help) return { command: 'help', topic: command };
  if (command === 'lab') {
    if (st.positionals.length) throw new ArgError(`'lab' takes no arguments, got '${st.positionals[0]}'`, st.positionals[0], command);
    return { command, json: st.json, ...(st.host ? { host: st.host } : {}) };
  }
  if (command === 'demo') {
    if (st.positionals.length) throw new ArgError(`'demo' takes no arguments, got '${st.positionals[0]}' (use --only ID)`, st.positionals[0], command);
    return { command, json: st.json, only: st.only };
  }
  if (st.positionals.length === 0) throw new ArgError(`'${command}' needs a URL`, 'URL', command);
  if (st.positionals.length > 1) throw new ArgError(`'${command}' takes one URL, got also '${st.positionals[1]}'`, st.positionals[1], command);
  const url = st.positionals[0]!;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ArgError(`'${url}' is not a URL (write it with its scheme, e.g. https://${url})`, 'URL', command);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ArgError(`only http: and https: URLs, got '${parsed.protocol}'`, 'URL', command);
  if (st.req.authScope.length && !st.req.user && !st.req.bearer) {
    throw new ArgError(`--auth-scope applies to -u or --oauth2-bearer; give one of them`, '--auth-scope', command);
  }
  if (st.req.showSecrets && !st.req.har && !st.req.json) {
    throw new ArgError(`--show-secrets only changes --har or --json output; add one of them`, '--show-secrets', command);
  }
  st.req.url = url;
  return { command, request: st.req };
}

/** The request method curl would use: -X, else HEAD for -I, else POST when there is data, else GET. */
export function effectiveMethod(r: RequestArgs): string {
  return r.method ?? (r.data.length > 0 ? 'POST' : 'GET');
}

/**
 * Builds the request body from `-d` / `--data-binary` parts, as curl does: parts joined with `&`;
 * `@file` read through `readFile` (`-d` strips CR and LF from file contents). Returns undefined when
 * there is no data; `contentType` is curl's default for -d.
 */
export async function resolveBody(
  parts: readonly DataPart[],
  readFile: (path: string) => Promise<Buffer>,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ body: Buffer; contentType: string } | undefined> {
  if (parts.length === 0) return undefined;
  const chunks: Buffer[] = [];
  for (const [i, p] of parts.entries()) {
    if (i > 0) chunks.push(Buffer.from('&'));
    if (p.mode !== 'raw' && p.value.startsWith('@')) {
      const file = p.value.slice(1);
      let data: Buffer;
      try {
        data = file === '-' ? await readAll(stdin) : await readFile(file);
      } catch (e) {
        throw new ArgError(`${p.mode === 'binary' ? '--data-binary' : '-d'} @${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, p.mode === 'binary' ? '--data-binary' : '-d');
      }
      chunks.push(p.mode === 'ascii' ? Buffer.from(data.toString('latin1').replace(/[\r\n]/g, ''), 'latin1') : data);
    } else {
      chunks.push(Buffer.from(p.value));
    }
  }
  return { body: Buffer.concat(chunks), contentType: 'application/x-www-form-urlencoded' };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

// --- usage ---------------------------------------------------------------------------------------

const SUMMARY: Record<CommandName, string> = {
  trace: 'follow a URL and explain every hop',
  doctor: 'follow a URL, then name what went wrong and how to fix it',
  lab: 'run the local redirect lab in the foreground',
  demo: 'start the lab and run every scenario (what `npm start` runs)',
};

const EXAMPLES: Record<CommandName, string[]> = {
  trace: [
    'hopwise trace https://example.com/',
    "hopwise trace -H 'Authorization: Bearer $TOKEN' https://api.example.com/v1/me",
    "hopwise trace -X POST -d 'user=ann&pass=x' -c cookies.txt https://app.example.com/login",
    'hopwise trace --json --har trace.har https://example.com/',
    '# against the lab: `hopwise lab` prints the exact --connect-to and --cacert flags',
    'hopwise trace --connect-to :443:127.0.0.1:PORT --cacert /tmp/hopwise-lab-XXXX/ca.pem https://app.hopwise.test/login-session/login',
  ],
  doctor: [
    "hopwise doctor -H 'Authorization: Bearer $TOKEN' https://api.example.com/v1/me",
    "hopwise doctor -d 'user=ann' https://app.example.com/login",
    'hopwise doctor --json https://example.com/ | jq .findings',
    "hopwise doctor --trust '*.example.com' --oauth2-bearer $TOKEN https://api.example.com/v1/me",
  ],
  lab: ['hopwise lab', 'hopwise lab --json > lab.json'],
  demo: ['hopwise demo', 'hopwise demo --only cookie-path', 'hopwise demo --json'],
};

function flagLine(f: FlagSpec): string {
  const names = f.names.join(', ') + (f.value ? ` ${f.value}` : '');
  return `  ${names.padEnd(38)} ${f.help}`;
}

/** One line pointing at the full help, for errors found after parsing (a file that cannot be read). */
export function shortUsage(command?: CommandName): string {
  if (!command) return 'Usage: hopwise <command> [flags]; hopwise --help for the commands.';
  const url = command === 'trace' || command === 'doctor' ? ' URL' : '';
  return `Usage: hopwise ${command}${url} [flags]; hopwise ${command} --help for every flag, with examples.`;
}

export function usage(command?: CommandName): string {
  if (!command) {
    return [
      'hopwise: follow HTTP redirects like a careful engineer, and explain every hop.',
      '',
      'Usage: hopwise <command> [flags]',
      '',
      'Commands:',
      ...COMMANDS.map((c) => `  ${c.padEnd(8)} ${SUMMARY[c]}`),
      '',
      'hopwise URL ... is short for hopwise trace URL ...',
      'hopwise help <command> (or <command> --help) shows its flags and examples.',
      '',
      'Examples:',
      ...['trace', 'doctor', 'lab', 'demo'].map((c) => `  ${EXAMPLES[c as CommandName][0]}`),
      '',
    ].join('\n');
  }
  const flags = FLAGS.filter((f) => f.commands.includes(command));
  const curl = flags.filter((f) => FLAGS.indexOf(f) < FLAGS.findIndex((x) => x.names[0] === '--auth-scope'));
  const ours = flags.filter((f) => !curl.includes(f));
  const lines = [`hopwise ${command}: ${SUMMARY[command]}`, ''];
  if (command === 'trace' || command === 'doctor') {
    lines.push(`Usage: hopwise ${command} URL [flags]`, '');
    lines.push('curl-compatible flags:', ...curl.map(flagLine), '', 'hopwise flags:', ...ours.map(flagLine), '');
    lines.push(
      command === 'trace'
        ? 'Exit status: 0 a final response arrived (any status); 1 the chain stopped with an error (the trace up to it is printed); 2 bad arguments.'
        : 'Exit status: 0 no problem found (info notes only); 1 findings (warnings or errors); 2 bad arguments, or the first request could not be made at all.',
      '',
    );
  } else {
    lines.push(`Usage: hopwise ${command} [flags]`, '', 'Flags:', ...flags.map(flagLine), '');
  }
  lines.push('Examples:', ...EXAMPLES[command].map((e) => `  ${e}`), '');
  return lines.join('\n');
}
