/**
 * Running the lab's scenario cases: as CLI arguments (for the end-to-end test), as Session options
 * (for `hopwise demo`), and the check of an outcome against the lab's expectations (the outcome,
 * what the lab received, and the doctor finding codes the case lists in `findings`).
 */
import type { ExpectCase, ReceivedRequest, ScenarioInfo } from '../lab/index.js';
import { bearer, header as headerProvider, type Hop, type SessionOptions } from '../index.js';

export interface LabAccess {
  connectTo: readonly string[];
  caPath: string;
  ca: string;
}

/** The `hopwise trace|doctor` arguments (after the command) that run one case. */
export function caseArgv(c: ExpectCase, lab: Pick<LabAccess, 'connectTo' | 'caPath'>): string[] {
  const argv: string[] = [];
  const method = c.request.method.toUpperCase();
  if (method !== 'GET' || c.request.body !== undefined) argv.push('-X', method);
  for (const [k, v] of Object.entries(c.request.headers ?? {})) argv.push('-H', `${k}: ${v}`);
  if (c.request.body !== undefined) argv.push('--data-raw', c.request.body);
  for (const [k, v] of Object.entries(c.options ?? {})) {
    switch (k) {
      case 'trust':
        for (const t of v as string[]) argv.push('--trust', t);
        break;
      case 'followMetaRefresh':
        if (v) argv.push('--follow-meta-refresh');
        break;
      case 'allowDowngrade':
        if (v) argv.push('--allow-downgrade');
        break;
      case 'maxRedirects':
        argv.push('--max-redirs', String(v));
        break;
      case 'crossOriginBody':
        argv.push('--cross-origin-body', String(v));
        break;
      case 'sensitiveHeaders':
        for (const h of v as string[]) argv.push('--sensitive-header', h);
        break;
      default:
        throw new Error(`case option '${k}' has no CLI flag`);
    }
  }
  if (c.auth) {
    if (c.auth.kind !== 'bearer') throw new Error(`a scoped '${c.auth.kind}' provider has no CLI flag`);
    argv.push('--oauth2-bearer', c.auth.token);
    for (const s of c.auth.scope ?? []) argv.push('--auth-scope', s);
  }
  for (const rule of lab.connectTo) argv.push('--connect-to', rule);
  argv.push('--cacert', lab.caPath);
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
