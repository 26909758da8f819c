import { TEXT_ENCODER, frameMethod, splitEventBatch } from "@threadmesh/protocol";
import { encodeCoalesced, isCoalescibleDelta, parseDelta, type ParsedDelta } from "./delta-coalescing.ts";

/** One frame of an event batch as a follower receives it. */
export interface BatchFrame {
  readonly frame: Uint8Array;
  readonly method: string;
  /** Seq of the first event the frame carries. */
  readonly firstSeq: number;
  /** Seq of the last event the frame carries (its `seq`). */
  readonly lastSeq: number;
}

/** An event batch (kind `b`), split once and shared by every follower it is handed to. */
export interface SplitBatch {
  /** Every event of the batch, one frame each, as published. */
  readonly frames: readonly BatchFrame[];
  /**
   * The same events with consecutive deltas of one item joined into one frame (their text
   * concatenated, the last one's members, plus `firstSeq`), for a follower that has seen none of them;
   * the same array as `frames` when nothing was joined.
   */
  readonly merged: readonly BatchFrame[];
}

/** Splits an event batch whose first event has seq `first`, joining its runs of deltas of one item. */
export function splitBatch(data: Uint8Array, first: number): SplitBatch {
  const parts = splitEventBatch(data);
  const frames: BatchFrame[] = new Array(parts.length);
  let mergeable = false;
  let prev = "";
  for (let i = 0; i < parts.length; i++) {
    const method = frameMethod(parts[i]!);
    frames[i] = { frame: parts[i]!, method, firstSeq: first + i, lastSeq: first + i };
    if (method === prev && isCoalescibleDelta(method)) mergeable = true;
    prev = method;
  }
  return { frames, merged: mergeable ? mergeRuns(frames) : frames };
}

function mergeRuns(frames: readonly BatchFrame[]): BatchFrame[] {
  const out: BatchFrame[] = [];
  /** The run being joined: its first frame, the parsed last delta and the texts so far. */
  let runStart: BatchFrame | undefined;
  let runLast: ParsedDelta | undefined;
  let runSeq = NaN;
  let texts: string[] = [];
  const close = (): void => {
    if (runStart === undefined || runLast === undefined) return;
    out.push(
      texts.length === 1
        ? runStart
        : { frame: TEXT_ENCODER.encode(encodeCoalesced(runLast.note, texts.join(""), runStart.firstSeq)), method: runStart.method, firstSeq: runStart.firstSeq, lastSeq: runSeq },
    );
    runStart = undefined;
    runLast = undefined;
    texts = [];
  };
  for (const f of frames) {
    const parsed = isCoalescibleDelta(f.method) ? parseDelta(f.frame) : null;
    if (parsed === null) {
      close();
      out.push(f);
      continue;
    }
    if (runLast !== undefined && parsed.key === runLast.key) {
      texts.push(parsed.delta);
      runLast = parsed;
      runSeq = f.lastSeq;
      continue;
    }
    close();
    runStart = f;
    runLast = parsed;
    runSeq = f.lastSeq;
    texts = [parsed.delta];
  }
  close();
  return out;
}
