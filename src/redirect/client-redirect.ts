/**
 * "Redirects" a browser performs that an HTTP client does not: `<meta http-equiv="refresh">`, the
 * `Refresh:` response header (HTML Standard §4.2.5.3 "shared declarative refresh steps"), and the
 * common `location.href = '...'` / `location.replace('...')` script. The third way a session is lost: the
 * server answers 200 and the "redirect" happens in the page, so the session appears lost.
 * Pure: text in, target out.
 */

export interface ClientRedirect {
  kind: 'meta-refresh' | 'refresh-header' | 'script';
  /** The target as written (resolve against the page URL). */
  target: string;
  delaySeconds: number;
}

/** Parse a refresh value: `5; url=/next`, `0;URL='/next'`, `3` (reload, ignored). */
export function parseRefresh(value: string): { delaySeconds: number; target: string } | undefined {
  const m = /^\s*(\d+)(?:\.\d*)?\s*(?:[;,]\s*(?:url\s*=\s*)?(.*))?$/i.exec(value);
  if (!m || m[2] === undefined) return undefined;
  let target = m[2].trim();
  if ((target.startsWith("'") && target.endsWith("'")) || (target.startsWith('"') && target.endsWith('"'))) target = target.slice(1, -1);
  else if (target.startsWith("'") || target.startsWith('"')) target = target.slice(1);
  return target === '' ? undefined : { delaySeconds: Number(m[1]), target };
}

const META = /<meta\b[^>]*>/gi;
const ATTR = (name: string) => new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');
const HTTP_EQUIV = ATTR('http-equiv');
const CONTENT = ATTR('content');
const SCRIPT_LOCATION =
  /<script\b[^>]*>[^<]*?\b(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*(["'])([^"']+)\1|<script\b[^>]*>[^<]*?\blocation\.(?:replace|assign)\(\s*(["'])([^"']+)\3/i;

const decodeEntities = (s: string): string =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

export function findClientRedirect(html: string, refreshHeader?: string): ClientRedirect | undefined {
  if (refreshHeader) {
    const r = parseRefresh(refreshHeader);
    if (r) return { kind: 'refresh-header', ...r };
  }
  for (const tag of html.match(META) ?? []) {
    const equiv = HTTP_EQUIV.exec(tag);
    if (!equiv || (equiv[1] ?? equiv[2] ?? equiv[3] ?? '').toLowerCase() !== 'refresh') continue;
    const content = CONTENT.exec(tag);
    const r = content ? parseRefresh(decodeEntities(content[1] ?? content[2] ?? content[3] ?? '')) : undefined;
    if (r) return { kind: 'meta-refresh', ...r };
  }
  const s = SCRIPT_LOCATION.exec(html);
  if (s) return { kind: 'script', target: decodeEntities(s[2] ?? s[4] ?? ''), delaySeconds: 0 };
  return undefined;
}
