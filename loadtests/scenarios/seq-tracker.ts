/**
 * Checks one thread's event stream across connections: every `seq` once, none missing. A coalesced
 * delta frame covers `firstSeq…seq`. The tracker anchors on the first event it sees (a client that
 * starts a thread does not know what came before), or on the `afterSeq` a resume asked for.
 */
export class SeqTracker {
  /** Highest seq delivered so far; -1 before the first. */
  last = -1;
  gaps = 0;
  repeats = 0;
  /** Server requests received since the last numbered event: each took a seq its JSON-RPC frame does not carry. */
  #unnumbered = 0;

  /** Notes a server request (approval, user input) of this thread: the next seq may skip one. */
  unnumbered(): void {
    this.#unnumbered++;
  }

  /** Expects the next event to be `afterSeq + 1` (what `thread/resume {afterSeq}` promises). */
  anchor(afterSeq: number): void {
    this.last = afterSeq;
  }

  /** Records a frame covering seqs `first…seq`; returns how many of them were new. */
  observe(first: number, seq: number): number {
    if (this.last < 0) {
      this.last = seq;
      return seq - first + 1;
    }
    if (first > this.last + 1) this.gaps += Math.max(0, first - this.last - 1 - this.#unnumbered);
    this.#unnumbered = 0;
    let fresh = seq - first + 1;
    if (first <= this.last) {
      const dup = Math.min(seq, this.last) - first + 1;
      this.repeats += dup;
      fresh -= dup;
    }
    if (seq > this.last) this.last = seq;
    return fresh;
  }
}
