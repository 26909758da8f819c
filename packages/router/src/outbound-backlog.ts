import { encodeCoalesced, isCoalescibleDelta, parseDelta, type ParsedDelta } from "./delta-coalescing.ts";

/** Bytes counted for each entry on top of its frame: the entry object and the array slot. */
const ENTRY_OVERHEAD = 64;
/** Bytes counted for each delta text merged into an entry until its pieces are joined. */
const PIECE_OVERHEAD = 24;
/** Merged pieces are joined into one string at this count, so that tiny deltas cost their text only. */
const JOIN_AT = 256;

interface Entry {
  readonly frame: string | Uint8Array;
  /** Notification method; "" for responses, errors and server requests (never merged). */
  readonly method: string;
  readonly threadId: string | undefined;
  /** Seq of the first event in the entry; NaN when it has none. */
  readonly firstSeq: number;
  bytes: number;
  /** The frame parsed, once a merge was tried: null when it is not a well-formed delta. */
  parsed: ParsedDelta | null | undefined;
  /** Texts of the merged deltas, the entry's own first; null until a second one is merged in. */
  pieces: string[] | null;
  /** The newest delta merged in; its members stand for the entry when it is written. */
  last: ParsedDelta["note"] | null;
}

/** What {@link OutboundBacklog.push} did. */
export interface PushResult {
  /** Bytes the backlog grew by. */
  readonly bytes: number;
  /** True when the frame was merged into the entry before it. */
  readonly merged: boolean;
}

/**
 * The frames waiting for one connection that is behind, oldest first. A delta is merged into the
 * entry before it when both are deltas of the same item, so a backlog of a streaming turn grows by the
 * text of its deltas rather than by one frame each. Nothing is reordered or left out.
 */
export class OutboundBacklog {
  #entries: Entry[] = [];
  #head = 0;
  #bytes = 0;

  /** Bytes held, as counted for the connection's cap and the router's total. */
  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#entries.length - this.#head;
  }

  push(frame: string | Uint8Array, method: string, threadId: string | undefined, seq: number): PushResult {
    let parsed: ParsedDelta | null | undefined;
    const tail = this.length > 0 ? this.#entries[this.#entries.length - 1]! : undefined;
    if (tail !== undefined && method !== "" && tail.method === method && tail.threadId === threadId && isCoalescibleDelta(method)) {
      if (tail.parsed === undefined) tail.parsed = parseDelta(tail.frame);
      parsed = parseDelta(frame);
      if (tail.parsed !== null && parsed !== null && parsed.key === tail.parsed.key) {
        const added = this.#merge(tail, parsed);
        return { bytes: added, merged: true };
      }
    }
    const bytes = frame.length + ENTRY_OVERHEAD;
    this.#entries.push({ frame, method, threadId, firstSeq: seq, bytes, parsed, pieces: null, last: null });
    this.#bytes += bytes;
    return { bytes, merged: false };
  }

  /**
   * Removes entries from the front, at least one, until about `maxBytes` are taken; returns their
   * frames in order and the bytes they were counted for.
   */
  take(maxBytes: number): { frames: Array<string | Uint8Array>; bytes: number } {
    const frames: Array<string | Uint8Array> = [];
    let bytes = 0;
    const list = this.#entries;
    while (this.#head < list.length && (frames.length === 0 || bytes < maxBytes)) {
      const e = list[this.#head]!;
      list[this.#head++] = undefined as unknown as Entry;
      bytes += e.bytes;
      frames.push(e.pieces === null || e.last === null ? e.frame : encodeCoalesced(e.last, e.pieces.join(""), e.firstSeq));
    }
    if (this.#head === list.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= list.length) {
      this.#entries = list.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= bytes;
    return { frames, bytes };
  }

  /** The seq of the oldest waiting event of each thread that has one. */
  firstSeqs(): Map<string, number> {
    const out = new Map<string, number>();
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.threadId !== undefined && Number.isFinite(e.firstSeq) && !out.has(e.threadId)) out.set(e.threadId, e.firstSeq);
    }
    return out;
  }

  /** Forgets everything; returns the bytes released. */
  clear(): number {
    const bytes = this.#bytes;
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    return bytes;
  }

  #merge(tail: Entry, next: ParsedDelta): number {
    const first = tail.parsed as ParsedDelta;
    if (tail.pieces === null) tail.pieces = [first.delta];
    tail.pieces.push(next.delta);
    tail.last = next.note;
    let added = next.delta.length + PIECE_OVERHEAD;
    if (tail.pieces.length >= JOIN_AT) {
      const joined = tail.pieces.join("");
      tail.pieces = [joined];
      const before = tail.bytes + added;
      const after = tail.frame.length + ENTRY_OVERHEAD + joined.length + PIECE_OVERHEAD;
      added += after - before;
    }
    tail.bytes += added;
    this.#bytes += added;
    return added;
  }
}
