// PLACEHOLDER until the cookie-jar issue lands: a minimal jar (name=value, host-only, path '/').
import type { Cookie, CookieStore, CookieVerdict, SetCookieResult } from './types.js';

export class CookieJar implements CookieStore {
  #cookies = new Map<string, Cookie>();
  constructor(_options: { now?: () => number } = {}) {}
  setCookie(line: string, url: string | URL): SetCookieResult {
    const u = typeof url === 'string' ? new URL(url) : url;
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? pair.trim() : pair.slice(eq + 1).trim();
    const now = Date.now();
    const cookie: Cookie = { name, value, domain: u.hostname, path: '/', hostOnly: true, secure: false, httpOnly: false, expires: null, creation: now, lastAccess: now };
    this.#cookies.set(`${u.hostname};${name}`, cookie);
    return { stored: true, cookie, reason: 'stored', detail: 'stored' };
  }
  getCookieString(url: string | URL): string {
    return this.evaluate(typeof url === 'string' ? new URL(url) : url).header;
  }
  evaluate(url: URL): { header: string; verdicts: CookieVerdict[] } {
    const verdicts: CookieVerdict[] = [];
    const parts: string[] = [];
    for (const c of this.#cookies.values()) {
      if (c.domain !== url.hostname) continue;
      parts.push(c.name ? `${c.name}=${c.value}` : c.value);
      verdicts.push({ cookie: c, sent: true, reason: 'match', detail: 'match' });
    }
    return { header: parts.join('; '), verdicts };
  }
  explain(url: string | URL): CookieVerdict[] {
    return this.evaluate(typeof url === 'string' ? new URL(url) : url).verdicts;
  }
  cookies(): Cookie[] {
    return [...this.#cookies.values()];
  }
}
