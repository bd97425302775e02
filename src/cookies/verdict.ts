/**
 * The verdicts `evaluate` and `explain` hand out, built lazily: a jar of 10,000 cookies gives up to
 * 60 verdicts per request, and building a `Cookie` copy and a detail line for each was most of what
 * a request cost (bench/README.md, "The jar's lookups"). A `Verdict` keeps what the cookie was at
 * the time of the verdict (the stored record can change later: a replace, a touch, a removal) and
 * builds `cookie` and `detail` on first read, the same as the eager ones would have been.
 *
 * `sent`, `reason` and `sameSiteNote` (when there is one) are own data properties; `cookie` and
 * `detail` are getters on the class. `toJSON()` gives the plain record, so `JSON.stringify` shows
 * every field, as it did for the plain objects.
 */
import type { Cookie, CookieSendReason, CookieVerdict, SameSite } from './types.js';
import type { RequestFacts } from './url.js';
import { sendDetail, type RuleCookie } from './rules.js';

export class Verdict implements CookieVerdict {
  sameSiteNote?: string;
  // What the stored record was when judged: its key fields never change; the rest may, so they
  // are copied (one string, one small integer and three numbers, not a `Cookie` and a string).
  readonly #c: RuleCookie;
  readonly #value: string;
  /** secure 1, httpOnly 2, sameSite in bits 2-3 (absent, strict, lax, none). */
  readonly #bits: number;
  readonly #expires: number | null;
  readonly #creation: number;
  readonly #lastAccess: number;
  readonly #req: RequestFacts;
  readonly #now: number;
  #cookie: Cookie | undefined;
  #detail: string | undefined;

  constructor(
    c: RuleCookie,
    readonly sent: boolean,
    readonly reason: 'match' | CookieSendReason,
    req: RequestFacts,
    now: number,
    lastAccess: number,
  ) {
    this.#c = c;
    this.#value = c.value;
    const s = c.sameSite;
    this.#bits = (c.secure ? 1 : 0) | (c.httpOnly ? 2 : 0) | (s === undefined ? 0 : s === 'strict' ? 4 : s === 'lax' ? 8 : 12);
    this.#expires = c.expires;
    this.#creation = c.creation;
    this.#lastAccess = lastAccess;
    this.#req = req;
    this.#now = now;
  }

  get cookie(): Cookie {
    return (this.#cookie ??= this.#snapshot());
  }

  get detail(): string {
    return (this.#detail ??= sendDetail(this.#frozen(), this.reason, this.#req, this.#now));
  }

  toJSON(): CookieVerdict {
    const out: CookieVerdict = { cookie: this.cookie, sent: this.sent, reason: this.reason, detail: this.detail };
    if (this.sameSiteNote !== undefined) out.sameSiteNote = this.sameSiteNote;
    return out;
  }

  /** The cookie as it was judged: the stored record's key, with the copied fields. */
  #frozen(): Readonly<Cookie> {
    const c = this.#c;
    const bits = this.#bits;
    return {
      name: c.name,
      value: this.#value,
      domain: c.domain,
      path: c.path,
      hostOnly: c.hostOnly,
      secure: (bits & 1) !== 0,
      httpOnly: (bits & 2) !== 0,
      expires: this.#expires,
      creation: this.#creation,
      lastAccess: this.#lastAccess,
    };
  }

  #snapshot(): Cookie {
    const out = this.#frozen() as Cookie;
    const s = SAME_SITE[(this.#bits >> 2) & 3];
    if (s !== undefined) out.sameSite = s;
    return out;
  }
}

const SAME_SITE: readonly (SameSite | undefined)[] = [undefined, 'strict', 'lax', 'none'];
