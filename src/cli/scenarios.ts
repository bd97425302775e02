/**
 * Running the lab's scenario cases: as CLI arguments (for the end-to-end test), as Session options
 * (for `hopwise demo`), and the check of an outcome against the lab's expectations (the outcome,
 * what the lab received, and the doctor finding codes the case lists in `findings`).
 */
import type { ExpectCase, ReceivedRequest, ScenarioInfo } from '../lab/index.js';
import { bearer, header as headerProvider, type Hop, type SessionOptions } from '../index.js';
import { argvForOption, flagForOption } from './args.js';

export interface LabAccess {
  connectTo: readonly string[];
  caPath: string;
  ca: string;
}

/**
 * The `hopwise trace|doctor` arguments (after the command) that run one case: the request as -X,
 * -H and --data-raw, and every Session option of the case (`options`, `auth`, the lab's connectTo
 * and CA) as the flags the flag table links to it (`argvForOption`).
 */
export function caseArgv(c: ExpectCase, lab: Pick<LabAccess, 'connectTo' | 'caPath'>): string[] {
  const argv: string[] = [];
  const method = c.request.method.toUpperCase();
  if (method !== 'GET' || c.request.body !== undefined) argv.push('-X', method);
  // raw request headers are what -H sets (the CLI's `headers` option)
  if (c.request.headers) argv.push(...argvForOption('headers', c.request.headers));
  if (c.request.body !== undefined) argv.push('--data-raw', c.request.body);
  for (const [k, v] of Object.entries(c.options ?? {})) argv.push(...argvForOption(k, v));
  if (c.auth) argv.push(...argvForOption('auth', c.auth));
  argv.push(...argvForOption('connectTo', lab.connectTo));
  argv.push(flagForOption('ca'), lab.caPath);
  argv.push(c.request.url);
  return argv;
}

/** Session options (library) for one case. */
export function caseSessionOptions(c: ExpectCase, lab: Pick<LabAccess, 'connectTo' | 'ca'>): SessionOptions {
  const options: SessionOptions = { ...(c.options as SessionOptions | undefined), connectTo: [...lab.connectTo], ca: lab.ca };
  if (c.auth) {
    const scope = c.auth.scope ? { scope: c.auth.scope } : undefined;
    options.auth = c.auth.kind === 'bearer' ? bearer(c.auth.token, scope) : headerProvider(c.auth.name, c.auth.value, scope);
  }
  return options;
}

/** What a run of one case ended with, from the library or from the CLI's JSON. */
export interface CaseRun {
  hops: Hop[];
  error?: { code: string; message: string };
  response?: { status: number; url: string; headers: Record<string, string>; body?: string };
}

function cookieNames(h: Record<string, string>): string[] {
  return (h.cookie ?? '')
    .split(';')
    .map((s) => s.trim().split('=')[0]!)
    .filter(Boolean);
}

/** Everything in `run` and `received` that differs from the lab's expectations for the case. */
export function checkCase(c: ExpectCase, run: CaseRun, received: readonly ReceivedRequest[]): string[] {
  const problems: string[] = [];
  const o = c.outcome;
  if (o.error !== undefined) {
    if (run.error?.code !== o.error) problems.push(`expected ${o.error}, got ${run.error ? run.error.code : `a ${run.response?.status} response`}`);
  } else if (run.error) {
    problems.push(`expected a response, got ${run.error.code}: ${run.error.message}`);
  } else if (run.response) {
    const r = run.response;
    if (o.status !== undefined && r.status !== o.status) problems.push(`status ${r.status}, expected ${o.status}`);
    if (o.url !== undefined && r.url !== o.url) problems.push(`final URL ${r.url}, expected ${o.url}`);
    if (o.bodyIncludes !== undefined && r.body !== undefined && !r.body.includes(o.bodyIncludes)) problems.push(`body lacks ${JSON.stringify(o.bodyIncludes)}`);
    for (const [k, v] of Object.entries(o.headers ?? {})) if (r.headers[k] !== v) problems.push(`response header ${k}: ${r.headers[k]}, expected ${v}`);
    if (o.redirects !== undefined && run.hops.length - 1 !== o.redirects) problems.push(`${run.hops.length - 1} redirects, expected ${o.redirects}`);
  }
  for (const want of c.reached ?? []) {
    const got = received.filter((q) => q.url === want.url && (want.method === undefined || q.method === want.method));
    if (got.length === 0) {
      problems.push(`the lab never received ${want.method ?? ''} ${want.url}`.replace('  ', ' '));
      continue;
    }
    const q = got[got.length - 1]!;
    if (want.bodySize !== undefined && q.bodySize !== want.bodySize) problems.push(`${want.url} received ${q.bodySize} body bytes, expected ${want.bodySize}`);
    for (const h of want.headers?.present ?? []) if (q.headers[h] === undefined) problems.push(`${want.url} did not receive ${h}`);
    for (const h of want.headers?.absent ?? []) if (q.headers[h] !== undefined) problems.push(`${want.url} received ${h}`);
    const names = cookieNames(q.headers);
    for (const n of want.cookies?.present ?? []) if (!names.includes(n)) problems.push(`${want.url} did not receive cookie ${n}`);
    for (const n of want.cookies?.absent ?? []) if (names.includes(n)) problems.push(`${want.url} received cookie ${n}`);
  }
  for (const url of c.notReached ?? []) if (received.some((q) => q.url === url)) problems.push(`the lab received ${url}, which it should never see`);
  return problems;
}

/** Compares finding codes with the case's `findings` (as sets); returns a problem or undefined. */
export function checkFindings(c: Pick<ExpectCase, 'findings'>, codes: readonly string[]): string | undefined {
  const want = c.findings;
  const got = [...new Set(codes)].sort();
  const exp = [...new Set(want)].sort();
  if (got.join(',') === exp.join(',')) return undefined;
  return `doctor said [${got.join(', ') || 'nothing'}], expected [${exp.join(', ') || 'nothing'}]`;
}

export function caseKey(s: Pick<ScenarioInfo, 'id'>, c: Pick<ExpectCase, 'name'>): string {
  return `${s.id}/${c.name}`;
}
