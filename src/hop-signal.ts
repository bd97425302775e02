/**
 * The abort signal handed to undici for one exchange. It follows the chain's signal (the caller's
 * and timeout.total) and can also be aborted for this hop alone: undici restarts its headers timer
 * on every 1xx response, so a server sending 103 Early Hints forever would hold the request; the
 * session aborts the hop itself once timeout.headers has passed since the request was sent.
 * Cheaper than an AbortController per hop: a plain object with the two methods undici calls.
 */
type Listener = () => void;

export class HopSignal {
  #outer: AbortSignal | undefined;
  #listener: Listener | undefined;
  #reason: unknown;
  #own = false;
  constructor(outer: AbortSignal | undefined) {
    this.#outer = outer;
  }
  get aborted(): boolean {
    return this.#own || (this.#outer?.aborted ?? false);
  }
  get reason(): unknown {
    return this.#own ? this.#reason : this.#outer?.reason;
  }
  addEventListener(_type: 'abort', listener: Listener): void {
    this.#listener = listener;
    this.#outer?.addEventListener('abort', listener, { once: true });
  }
  removeEventListener(_type: 'abort', listener: Listener): void {
    if (this.#listener === listener) this.#listener = undefined;
    this.#outer?.removeEventListener('abort', listener);
  }
  /** Abort this hop only. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.#own = true;
    this.#reason = reason;
    const l = this.#listener;
    this.#listener = undefined;
    if (l) {
      this.#outer?.removeEventListener('abort', l);
      l();
    }
  }
}
