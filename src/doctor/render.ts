/** Findings as text for a person (the `hopwise doctor` output). */
import { palette } from '../trace/render-text.js';
import type { Finding, Severity } from './findings.js';

export interface RenderFindingsOptions {
  color?: boolean;
  /**
   * The whole command line that applies a finding's CLI fix (`fix.cli`), ready to paste; `hopwise
   * doctor` passes one built from the command it ran. Without it, no command line is printed: a
   * flag on its own is not something to paste.
   */
  command?: (f: Finding) => string | undefined;
}

const ICON: Record<Severity, string> = { error: '✗', warning: '!', info: 'i' };

function factText(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(none)';
  if (v === null) return '(none)';
  return String(v);
}

export function renderFinding(f: Finding, opts: RenderFindingsOptions = {}): string {
  const p = palette(Boolean(opts.color));
  const paint = f.severity === 'error' ? p.red : f.severity === 'warning' ? p.yellow : p.blue;
  const lines = [`${paint(`${ICON[f.severity]} ${f.severity}`)} ${p.bold(f.code)} ${p.dim(`(hop ${f.hop})`)}`, `  ${f.title}`];
  const facts = Object.entries(f.facts).filter(([k]) => k !== 'detail');
  if (facts.length) lines.push(`  ${p.dim('facts')}   ${facts.map(([k, v]) => `${k}=${factText(v)}`).join(p.dim(' · '))}`);
  lines.push(`  ${p.green('client')}  ${f.fix.client}`);
  const run = opts.command?.(f);
  if (run) lines.push(`  ${p.green('run')}     ${run}`);
  lines.push(`  ${p.cyan('server')}  ${f.fix.server}`);
  return lines.join('\n');
}

export function renderFindings(findings: readonly Finding[], opts: RenderFindingsOptions = {}): string {
  const p = palette(Boolean(opts.color));
  if (findings.length === 0) return `${p.green('✓ no findings')}: every hop went as a careful client would want.\n`;
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const e = count('error');
  const w = count('warning');
  const i = count('info');
  const summary = [e && p.red(`${e} error${e === 1 ? '' : 's'}`), w && p.yellow(`${w} warning${w === 1 ? '' : 's'}`), i && p.blue(`${i} note${i === 1 ? '' : 's'}`)].filter(Boolean).join(', ');
  return findings.map((f) => renderFinding(f, opts)).join('\n\n') + `\n\n${summary}\n`;
}
