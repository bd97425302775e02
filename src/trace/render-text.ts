/**
 * The trace as text for a person: one block per hop (method, URL, status, timing), then the hop's
 * decisions grouped as sent / stripped / withheld / stored / rejected / next, each with its reason
 * in the plain words of REASONS and the detail the session recorded. Colour is opt-in (`color`);
 * `shouldColor(stream)` gives the usual rule: a TTY and `NO_COLOR` unset or empty.
 */
import { REASONS } from './reasons.js';
import { redirectsIn, type Decision, type DecisionAction, type Hop } from './types.js';

export interface RenderTextOptions {
  /** ANSI colours. Default false. */
  color?: boolean;
  /** Print request and response headers of every hop (redacted as recorded). Default false. */
  headers?: boolean;
  /** Print the `detail` line under each decision. Default true. */
  details?: boolean;
}

/** Colour when `stream` is a TTY and `NO_COLOR` is unset or empty (https://no-color.org). */
export function shouldColor(stream: { isTTY?: boolean } | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream?.isTTY);
}

export type Paint = (s: string) => string;
export interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  blue: Paint;
  magenta: Paint;
  cyan: Paint;
}

const sgr =
  (open: number, close: number): Paint =>
  (s) =>
    `\u001b[${open}m${s}\u001b[${close}m`;
const plain: Paint = (s) => s;

export function palette(color: boolean): Palette {
  if (!color) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, blue: plain, magenta: plain, cyan: plain };
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    magenta: sgr(35, 39),
    cyan: sgr(36, 39),
  };
}

export type DecisionGroup = 'sent' | 'stripped' | 'withheld' | 'stored' | 'rejected' | 'next';

export const GROUP_ORDER: readonly DecisionGroup[] = ['sent', 'stripped', 'withheld', 'stored', 'rejected', 'next'];

const GROUP_OF: Record<DecisionAction, DecisionGroup> = {
  sent: 'sent',
  're-applied': 'sent',
  refreshed: 'sent',
  stripped: 'stripped',
  dropped: 'stripped',
  withheld: 'withheld',
  stored: 'stored',
  rejected: 'rejected',
  rewritten: 'next',
  kept: 'next',
  followed: 'next',
  stopped: 'next',
  retried: 'next',
  direct: 'next',
  proxied: 'next',
  refused: 'rejected',
};

export function groupOf(d: Decision): DecisionGroup {
  return GROUP_OF[d.action];
}

/** The plain words for a decision's reason: every reason a Decision carries is a code of REASONS. */
export function reasonWords(d: Decision): string {
  return REASONS[d.reason];
}

export function subjectLabel(d: Decision): string {
  switch (d.subject) {
    case 'header':
      return d.name;
    case 'auth':
      return `${d.name} (auth provider)`;
    case 'cookie':
      return `cookie ${d.name}`.trim();
    case 'set-cookie':
      // a Set-Cookie line without a usable name records none
      return `set-cookie ${d.name ?? ''}`.trim();
    case 'method':
      return `method ${d.facts.from} → ${d.facts.to}`;
    case 'redirect':
      return d.name ? `${d.subject} ${d.name}` : d.subject;
    default:
      return d.subject;
  }
}

function statusPaint(p: Palette, status: number): Paint {
  if (status === 0) return p.red;
  if (status >= 500) return p.red;
  if (status >= 400) return p.red;
  if (status >= 300) return p.yellow;
  return p.green;
}

function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '?';
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`;
}

function timing(h: Hop): string {
  const t = h.timings ?? ({} as Hop['timings']);
  const total = t.end ?? t.firstByte;
  const parts = [total === undefined ? 'no timing' : ms(total)];
  if (t.firstByte !== undefined && t.end !== undefined && ms(t.end) !== ms(t.firstByte)) parts.push(`first byte ${ms(t.firstByte)}`);
  if (h.newConnection) {
    const c: string[] = [];
    if (t.connect !== undefined) c.push(`tcp ${ms(t.connect)}`);
    if (t.tls !== undefined) c.push(`tls ${ms(t.tls)}`);
    parts.push(c.length ? `new connection (${c.join(', ')})` : 'new connection');
  } else if (t.firstByte !== undefined) {
    parts.push('reused connection'); // a hop that got no response may never have had a connection
  }
  if (h.protocol === 'h2') parts.push('HTTP/2');
  return parts.join(' · ');
}

const GROUP_PAINT: Record<DecisionGroup, keyof Palette> = {
  sent: 'green',
  stripped: 'yellow',
  withheld: 'yellow',
  stored: 'cyan',
  rejected: 'red',
  next: 'blue',
};

const MARK: Record<DecisionGroup, string> = { sent: '✓', stripped: '✗', withheld: '✗', stored: '+', rejected: '!', next: '→' };

/** One hop as a block of lines (no trailing newline). */
export function renderHop(h: Hop, opts: RenderTextOptions = {}): string {
  const p = palette(Boolean(opts.color));
  const lines: string[] = [];
  const status = h.status === 0 ? 'no response' : `${h.status} ${h.statusText ?? ''}`.trim();
  lines.push(`${p.bold(`#${h.index}`)} ${p.bold(h.method)} ${h.url}`);
  lines.push(`   ${statusPaint(p, h.status)(status)} ${p.dim(`· ${timing(h)}`)}`);
  if (h.location) lines.push(`   ${p.dim('location')} ${h.location}`);
  if (h.requestBodySize !== undefined) lines.push(`   ${p.dim('request body')} ${h.requestBodySize} bytes`);
  if (opts.headers) {
    lines.push(`   ${p.dim('request headers')}`);
    for (const [k, v] of Object.entries(h.requestHeaders ?? {})) lines.push(`     ${p.dim('>')} ${k}: ${v}`);
    lines.push(`   ${p.dim('response headers')}`);
    for (const [k, v] of Object.entries(h.responseHeaders ?? {})) {
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`     ${p.dim('<')} ${k}: ${one}`);
    }
  }
  const groups = new Map<DecisionGroup, Decision[]>();
  for (const d of h.decisions ?? []) {
    const g = groupOf(d);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(d);
  }
  for (const g of GROUP_ORDER) {
    const list = groups.get(g);
    if (!list) continue;
    const paint = p[GROUP_PAINT[g]];
    lines.push(`   ${paint(g)}`);
    for (const d of list) {
      const action = d.action === g ? '' : p.dim(` [${d.action}]`);
      lines.push(`     ${paint(MARK[g])} ${p.bold(subjectLabel(d))}${action} ${p.dim('—')} ${reasonWords(d)}`);
      if (opts.details !== false && d.detail && d.detail !== reasonWords(d)) lines.push(`       ${p.dim(d.detail)}`);
    }
  }
  if (h.error) lines.push(`   ${p.red(`error ${h.error.code}`)}: ${h.error.message}`);
  return lines.join('\n');
}

export interface TraceEnd {
  /** The error the chain stopped with, if any. */
  error?: { code: string; message: string };
}

/** The whole trace: hop blocks separated by blank lines, then a one-line summary. Ends with a newline. */
export function renderTrace(hops: readonly Hop[], opts: RenderTextOptions & TraceEnd = {}): string {
  const p = palette(Boolean(opts.color));
  const blocks = hops.map((h) => renderHop(h, opts));
  blocks.push(summaryLine(hops, opts.error, p));
  return blocks.join('\n\n') + '\n';
}

function summaryLine(hops: readonly Hop[], error: TraceEnd['error'], p: Palette): string {
  const last = hops[hops.length - 1];
  const redirects = redirectsIn(hops);
  const start = hops[0]?.timings?.start;
  const endT = last ? (last.timings?.start ?? 0) + (last.timings?.end ?? last.timings?.firstByte ?? 0) : undefined;
  const total = start !== undefined && endT !== undefined ? ` in ${ms(endT - start)}` : '';
  const hopWord = `${hops.length} hop${hops.length === 1 ? '' : 's'}, ${redirects} redirect${redirects === 1 ? '' : 's'}`;
  if (error) return `${p.red(p.bold('stopped'))} ${p.red(error.code)}: ${error.message} ${p.dim(`(${hopWord}${total})`)}`;
  if (!last) return p.dim('no hops');
  return `${p.bold('done')} ${statusPaint(p, last.status)(`${last.status} ${last.statusText ?? ''}`.trim())} ${last.url} ${p.dim(`(${hopWord}${total})`)}`;
}
