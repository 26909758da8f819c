import { ErrorCode, type RpcErrorShape } from "./errors.ts";
import { scanJsonDepth } from "./json-depth-scan.ts";
import { LimitReason } from "./limits.ts";

/** JSON-RPC id: string or integer. Big integers are kept exact by keeping their source text. */
export type RequestId = string | number;

export interface TraceField {
  traceparent?: string | null;
  tracestate?: string | null;
}

export type InboundMessage =
  | { kind: "request"; id: RequestId; idText: string; method: string; params: unknown; hasParams: boolean; trace: TraceField | null }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: RequestId; idText: string; result: unknown }
  | { kind: "error"; id: RequestId; idText: string; error: RpcErrorShape }
  | { kind: "invalid"; code: number; message: string; idText: string | null; data?: unknown }
  /**
   * Neither a request, a notification nor an answer, and carries no id to answer to (`{}`, `42`, an
   * invalid id): dropped without a reply, as Codex does. An error with `id: null` would not even
   * validate against Codex's `RequestId`; it is kept only for unparsable text and batches.
   */
  | { kind: "ignored"; reason: string };

/** Limits applied while classifying a frame. */
export interface InboundLimits {
  /** Deepest nesting of arrays and objects; deeper frames are refused before they are parsed. */
  maxDepth: number;
  /** Longest string id, in characters; longer ids are not valid ids. */
  maxIdChars: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Classifies one text frame. Never throws. Integer ids beyond 2^53 are echoed exactly: the raw id
 * text is captured from the source and written back verbatim.
 */
export function parseInbound(text: string, limits?: InboundLimits): InboundMessage {
  if (limits !== undefined) {
    const scan = scanJsonDepth(text, limits.maxDepth);
    if (scan.tooDeep) {
      const idText = scan.hasMethod && scan.idRaw !== undefined ? rawIdText(scan.idRaw, limits.maxIdChars) : null;
      return {
        kind: "invalid",
        code: ErrorCode.InvalidRequest,
        message: `Invalid request: JSON nested deeper than ${limits.maxDepth} levels`,
        idText,
        data: { reason: LimitReason.TooDeep, limit: limits.maxDepth },
      };
    }
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { kind: "invalid", code: ErrorCode.ParseError, message: `Parse error: ${(e as Error).message}`, idText: null };
  }
  if (Array.isArray(v)) {
    return { kind: "invalid", code: ErrorCode.InvalidRequest, message: "batch requests are not supported", idText: null };
  }
  if (typeof v !== "object" || v === null) {
    return { kind: "ignored", reason: "expected a JSON object" };
  }
  const o = v as Record<string, unknown>;
  if ("jsonrpc" in o && o.jsonrpc !== "2.0") {
    return { kind: "invalid", code: ErrorCode.InvalidRequest, message: 'Invalid request: "jsonrpc" must be "2.0" when present', idText: idTextOf(o.id, text, limits?.maxIdChars) };
  }
  const hasId = "id" in o;
  if (hasId) {
    const idText = idTextOf(o.id, text, limits?.maxIdChars);
    if (idText === null) {
      // A string or integer id beyond Threadmesh's id limit is refused so its sender is not left waiting;
      // an id of another type is not an id at all (Codex ignores such frames).
      if (typeof o.id === "string" || (typeof o.id === "number" && Number.isInteger(o.id))) {
        return { kind: "invalid", code: ErrorCode.InvalidRequest, message: "Invalid request: id must be a string or an integer", idText: null };
      }
      return { kind: "ignored", reason: "id must be a string or an integer" };
    }
    const id = o.id as RequestId;
    if (typeof o.method === "string") {
      const trace = typeof o.trace === "object" && o.trace !== null ? (o.trace as TraceField) : null;
      return { kind: "request", id, idText, method: o.method, params: o.params, hasParams: "params" in o && o.params !== null, trace };
    }
    if ("result" in o) return { kind: "response", id, idText, result: o.result };
    if (typeof o.error === "object" && o.error !== null) return { kind: "error", id, idText, error: o.error as RpcErrorShape };
    return { kind: "invalid", code: ErrorCode.InvalidRequest, message: "Invalid request: missing field `method`", idText };
  }
  if (typeof o.method === "string") return { kind: "notification", method: o.method, params: o.params };
  return { kind: "ignored", reason: "missing field `method`" };
}

/** The id exactly as it must be echoed, or null when it is not a valid JSON-RPC id. */
function idTextOf(id: unknown, source: string, maxIdChars = Infinity): string | null {
  if (typeof id === "string") return id.length <= maxIdChars ? JSON.stringify(id) : null;
  if (typeof id === "number" && Number.isInteger(id)) {
    if (Number.isSafeInteger(id)) return String(id);
    // Recover the literal digits: JSON.parse rounded them.
    const m = /"id"\s*:\s*(-?\d+)(?=\s*[,}])/.exec(source);
    // Beyond int64's 19 digits (and a sign) an id is not one Codex clients send: invalid.
    if (m && m[1] && m[1].length > 20) return null;
    if (m && m[1] && BigInt(m[1]) > MAX_SAFE) return m[1];
    if (m && m[1] && BigInt(m[1]) < -MAX_SAFE) return m[1];
    return String(id);
  }
  return null;
}

/** The echo text of an id read from source (a string or integer literal), or null when it is not a valid id. */
function rawIdText(raw: string, maxIdChars: number): string | null {
  if (/^-?(?:0|[1-9]\d*)$/.test(raw)) return raw.length <= 20 ? raw : null;
  if (!raw.startsWith('"') || raw.length > maxIdChars * 6 + 2) return null;
  try {
    const id: unknown = JSON.parse(raw);
    return typeof id === "string" && id.length <= maxIdChars ? JSON.stringify(id) : null;
  } catch {
    return null;
  }
}

/** `{"id":…,"result":…}` with the id text as received. */
export function encodeResult(idText: string, result: unknown): string {
  return `{"id":${idText},"result":${JSON.stringify(result ?? {})}}`;
}
export function encodeError(idText: string | null, err: RpcErrorShape): string {
  const e = err.data === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, data: err.data };
  return `{"id":${idText ?? "null"},"error":${JSON.stringify(e)}}`;
}
/** A notification with `emittedAtMs`, and optional extension fields (`seq`, `epoch`). */
export function encodeNotification(method: string, params: unknown, extra?: Record<string, number>): string {
  let s = `{"method":${JSON.stringify(method)},"params":${JSON.stringify(params)},"emittedAtMs":${Date.now()}`;
  if (extra) for (const k in extra) s += `,${JSON.stringify(k)}:${extra[k]}`;
  return s + "}";
}
export function encodeServerRequest(id: number, method: string, paramsJson: string): string {
  return `{"id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`;
}
