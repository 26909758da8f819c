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

/**
 * A delta frame as the session host writes it (`encodeNotification` member order, ids without escapes):
 * `{"method":…,"params":{<ids>,"delta":"` — the head — then the delta text's JSON body, then the rest of
 * the params (an index) and the members after them.
 */
const HOST_HEAD = /^\{"method":"[^"\\]+","params":\{(?:"[A-Za-z]+":(?:"[^"\\]*"|\d+),)*"delta":"$/;
const HOST_TAIL = /^((?:,"[A-Za-z]+":\d+)*)\}(,"emittedAtMs":\d+,"seq":\d+,"epoch":\d+)(,"firstSeq":\d+)?\}$/;
const DELTA_MEMBER = '"delta":"';

/** A delta frame read without parsing it: its text as the JSON string body it is written as. */
interface RawDelta {
  readonly raw: true;
  readonly head: string;
  /** `}` closing the params, then the members after them but `firstSeq`, without the frame's closing `}`. */
  readonly rest: string;
  /** `,"firstSeq":…` of a frame that joined deltas already; "" for one delta. */
  readonly firstSeq: string;
}

/** The whole notification, parsed: `{method, params, emittedAtMs, seq, …}`. */
type ParsedNote = Record<string, unknown> & { params: Record<string, unknown> };

/** A delta frame, parsed. */
export interface ParsedDelta {
  readonly note: RawDelta | ParsedNote;
  /** What two deltas must share to be merged. */
  readonly key: string;
  /** The delta text: as it is for a parsed note; its JSON string body (escapes kept) for a raw one. */
  readonly delta: string;
}

/** Parses a delta notification frame; null when it does not have the documented shape. */
export function parseDelta(frame: string | Uint8Array): ParsedDelta | null {
  const text = typeof frame === "string" ? frame : TEXT_DECODER.decode(frame);
  return readHostDelta(text) ?? parseNote(text);
}

/**
 * A frame in the host's layout, read as text: the head up to the delta's opening quote, the delta's JSON
 * body up to its closing quote, and the rest. Deltas whose heads and params are the same bytes are of one
 * item, and joining their bodies gives the body of the joined text. Anything else: null (parsed instead;
 * parsed and raw deltas never share a key, so their texts are never joined).
 */
function readHostDelta(text: string): ParsedDelta | null {
  const at = text.indexOf(DELTA_MEMBER);
  if (at < 0) return null;
  const start = at + DELTA_MEMBER.length;
  const head = text.slice(0, start);
  if (!HOST_HEAD.test(head)) return null;
  let end = text.indexOf('"', start);
  for (;;) {
    if (end < 0) return null;
    let slashes = 0;
    while (text.charCodeAt(end - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) break;
    end = text.indexOf('"', end + 1);
  }
  const tail = HOST_TAIL.exec(text.slice(end + 1));
  if (tail === null) return null;
  const note: RawDelta = { raw: true, head, rest: `${tail[1]}}${tail[2]}`, firstSeq: tail[3] ?? "" };
  return { note, key: `${head}${tail[1]}`, delta: text.slice(start, end) };
}

function parseNote(text: string): ParsedDelta | null {
  let note: unknown;
  try {
    note = JSON.parse(text);
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
  return { note: n as ParsedNote, key, delta };
}

/**
 * The frame standing for several consecutive deltas: the last one's members (`emittedAtMs`, `seq`,
 * `epoch`) with the joined text, plus `firstSeq`, the seq of the first delta merged in, so that a
 * client checking for gaps sees the range it covers. `text` is the deltas' texts joined as
 * {@link ParsedDelta.delta} gives them (JSON bodies for a raw note).
 */
export function encodeCoalesced(last: ParsedDelta["note"], text: string, firstSeq: number): string {
  if (isRaw(last)) return `${last.head}${text}"${last.rest}${Number.isFinite(firstSeq) ? `,"firstSeq":${firstSeq}` : last.firstSeq}}`;
  const note: Record<string, unknown> = { ...last, params: { ...last.params, delta: text } };
  if (Number.isFinite(firstSeq)) note.firstSeq = firstSeq;
  return JSON.stringify(note);
}

function isRaw(note: ParsedDelta["note"]): note is RawDelta {
  return (note as Partial<RawDelta>).raw === true;
}
