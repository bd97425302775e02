/**
 * settle-cookies: the Set-Cookie lines of one chain given to a shared store's batch
 * (`CookieStore.batch`, `RedisCookieStore`), made final before the response is delivered. Each line
 * was decided at once against the store's cache (the chain's next hops sent what it stored) and
 * written with the others in one round trip by `flush()`. When another process had written first,
 * the store decided the lines again against what Redis holds: the trace then records those final
 * decisions (built by absorb, the same code as the first ones), and says so where a later hop of the
 * chain sent a cookie Redis did not keep. Pure over the hop records.
 */
import type { CookieBatch, SetCookieResult } from '../cookies/types.js';
import type { Hop, SetCookieDecision } from '../trace/types.js';
import { absorb, type RawHeaders } from './absorb.js';

/** One hop whose response's Set-Cookie lines went to the batch: what absorb needs to decide its decisions again. */
export interface WrittenHop {
  hop: Hop;
  url: URL;
  raw: RawHeaders;
  sentCookies: ReadonlyMap<string, string> | undefined;
  /** The decisions absorb made from the first results (in `hop.decisions`, one block). */
  decisions: SetCookieDecision[];
  /** Its lines in the batch: from, count. */
  from: number;
  count: number;
}

/** A chain's writes to a shared store. */
export interface ChainWrites {
  batch: CookieBatch;
  hops: WrittenHop[];
  lines: number;
  /** flush() was asked (it is asked once: a failure is the chain's ERR_STORE). */
  flushed: boolean;
}

/** What flush() answers per line. */
export type Final = { result: SetCookieResult; first?: SetCookieResult };

/**
 * Put the final decisions in the trace: a hop with a line decided again gets its set-cookie
 * decisions (and the evictions they caused) rebuilt from the final results, each such line saying
 * what the chain went on with; a later hop that sent the cookie a line first stored, which Redis
 * then did not keep, says so on its `cookie` decision.
 */
export function settleDecisions(writes: ChainWrites, finals: readonly Final[], hops: readonly Hop[]): void {
  for (const w of writes.hops) {
    const mine = finals.slice(w.from, w.from + w.count);
    if (!mine.some((f) => f.first !== undefined)) continue;
    const results = mine.map((f) => (f.first === undefined ? f.result : { ...f.result, detail: `${f.result.detail}; ${againNote(f.first)}` }));
    const again = absorb(w.url, w.raw, undefined, w.sentCookies, results).decisions;
    const at = w.hop.decisions.indexOf(w.decisions[0]!);
    if (at >= 0) w.hop.decisions.splice(at, w.decisions.length, ...again);
    w.decisions = again;
    for (const f of mine) {
      const first = f.first;
      if (!first?.stored || (f.result.stored && f.result.cookie.value === first.cookie.value)) continue;
      const c = first.cookie;
      for (const later of hops) {
        if (later.index <= w.hop.index) continue;
        for (const d of later.decisions) {
          if (d.subject !== 'cookie' || d.action !== 'sent' || d.name !== c.name || d.facts?.domain !== c.domain || d.facts.path !== c.path) continue;
          d.detail += `; sent as this chain stored it on hop ${w.hop.index}, which Redis did not keep: ${c.name} had changed in Redis first, by another worker (or lost in a failover) (hop ${w.hop.index} has what Redis holds)`;
        }
      }
    }
  }
}

/** The note on a line decided again: the decision the chain's next hops went by. */
function againNote(first: SetCookieResult): string {
  const what = first.stored ? `${first.reason} ${first.cookie.name}` : first.reason === 'deleted' ? 'deleted' : `rejected (${first.reason})`;
  return `decided again when this chain's cookies were written to the shared store, because the namespace had changed in Redis since they were decided (another worker wrote first, or a failover lost writes); the chain's next hops went by the first decision (${what})`;
}

/** Say on each set-cookie decision of the batch that the shared store never confirmed it (the chain failed before it could). */
export function unconfirmedDecisions(writes: ChainWrites, why: string): void {
  for (const w of writes.hops) {
    for (const d of w.decisions) {
      // A write (stored, deleted, evicted), or a refusal that depended on what the store held.
      if (d.action !== 'rejected' || d.reason === 'overwrite-secure' || d.reason === 'expired') d.detail += `; not confirmed by the shared store: ${why}`;
    }
  }
}
