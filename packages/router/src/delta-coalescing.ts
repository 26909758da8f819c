import { TEXT_DECODER } from "@threadmesh/protocol";

/**
 * Streaming deltas whose `params.delta` text may be concatenated: consecutive ones of one item (same
 * thread, turn, item and, for reasoning, the same summary or content index) carry exactly what one
 * frame with the joined text carries.
 */
const COALESCIBLE = new Set([
  "item/agentMessage/delta",
  "item/plan/delta",
  "item/reasoning/summaryTextDelta",
  "item/reasoning/textDelta",
  "item/commandExecution/outputDelta",
  "item/fileChange/outputDelta",
]);

export function isCoalescibleDelta(method: string): boolean {
  return COALESCIBLE.has(method);
}

/** A delta frame, parsed. */
export interface ParsedDelta {
  /** The whole notification: `{method, params, emittedAtMs, seq, …}`. */
  readonly note: Record<string, unknown> & { params: Record<string, unknown> };
  /** What two deltas must share to be merged. */
  readonly key: string;
  readonly delta: string;
}

/** Parses a delta notification frame; null when it does not have the documented shape. */
export function parseDelta(frame: string | Uint8Array): ParsedDelta | null {
  let note: unknown;
  try {
    note = JSON.parse(typeof frame === "string" ? frame : TEXT_DECODER.decode(frame));
  } catch {
    return null;
  }
  if (typeof note !== "object" || note === null) return null;
  const n = note as Record<string, unknown>;
  const p = n.params;
  if (typeof p !== "object" || p === null) return null;
  const params = p as Record<string, unknown>;
  const { delta, itemId, threadId, turnId } = params;
  if (typeof delta !== "string" || typeof itemId !== "string" || typeof n.method !== "string") return null;
  const index = params.summaryIndex ?? params.contentIndex;
  const key = `${n.method}\u0000${String(threadId)}\u0000${String(turnId)}\u0000${itemId}\u0000${String(index)}`;
  return { note: n as ParsedDelta["note"], key, delta };
}

/**
 * The frame standing for several consecutive deltas: the last one's members (`emittedAtMs`, `seq`,
 * `epoch`) with the joined text, plus `firstSeq`, the seq of the first delta merged in, so that a
 * client checking for gaps sees the range it covers.
 */
export function encodeCoalesced(last: ParsedDelta["note"], text: string, firstSeq: number): string {
  const note: Record<string, unknown> = { ...last, params: { ...last.params, delta: text } };
  if (Number.isFinite(firstSeq)) note.firstSeq = firstSeq;
  return JSON.stringify(note);
}
