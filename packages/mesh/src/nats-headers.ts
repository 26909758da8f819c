import { MsgHdrsImpl, headers as createMsgHdrs } from "@nats-io/transport-node";
import type { BusHeaders } from "./bus.ts";

/** Keys already found valid header names; a closed set in practice, bounded anyway. */
const VALID_KEYS = new Set<string>();
const MAX_VALID_KEYS = 1_024;

/**
 * Headers whose wire bytes are built in one pass. `MsgHdrs.set` validates and canonicalises its key
 * and searches the keys already set on every call, which costs more than the rest of a small publish
 * (a streamed delta carries six headers). The bytes are what nats.js would encode for the same headers
 * set in the same order (`NATS/1.0`, then `key: value` lines with values trimmed); publishing reads
 * nothing else of them.
 */
class EncodedHeaders extends MsgHdrsImpl {
  readonly #text: string;

  constructor(text: string) {
    super();
    this.#text = text;
  }

  override encode(): Uint8Array {
    return Buffer.from(this.#text, "utf8");
  }

  override toString(): string {
    return this.#text;
  }
}

/** `headers` as nats.js headers: encoded at once, or through nats.js (which throws) when a key or value is invalid. */
export function toMsgHdrs(headers: BusHeaders): MsgHdrsImpl {
  let text = "NATS/1.0";
  let keys = 0;
  for (const key in headers) {
    const value = headers[key];
    if (typeof value !== "string" || !validKey(key) || value.includes("\r") || value.includes("\n")) return slowMsgHdrs(headers);
    text += `\r\n${key}: ${value.trim()}`;
    keys++;
  }
  // nats.js encodes an empty header set as no bytes at all.
  if (keys === 0) return slowMsgHdrs(headers);
  return new EncodedHeaders(`${text}\r\n\r\n`);
}

/** Through nats.js's own checks: the same bytes, or its error for an invalid key or value. */
export function slowMsgHdrs(headers: BusHeaders): MsgHdrsImpl {
  const h = createMsgHdrs() as MsgHdrsImpl;
  for (const key of Object.keys(headers)) h.set(key, headers[key] as string);
  return h;
}

/** A key nats.js takes as it is: printable ASCII without a colon. */
function validKey(key: string): boolean {
  if (VALID_KEYS.has(key)) return true;
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 58 || c < 33 || c > 126) return false;
  }
  if (VALID_KEYS.size < MAX_VALID_KEYS) VALID_KEYS.add(key);
  return true;
}

/**
 * The header block of a received message (`NATS/1.0` and `key: value` lines) as {@link BusHeaders}: the
 * first value of each key, values trimmed — what reading nats.js's decoded `MsgHdrs` gives, without its
 * per-key validation and lookups. Null when the block is anything else (a status line, a key nats.js
 * would reject): the caller decodes those through nats.js. No keys: undefined.
 */
export function decodeHeaderBytes(bytes: Uint8Array): BusHeaders | undefined | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.startsWith(HEADER_LINE)) return null;
  let at = HEADER_LINE.length;
  // `NATS/1.0` alone on its line; a code or description after it is a status block.
  if (at < text.length && !text.startsWith("\r\n", at)) return null;
  let out: BusHeaders | undefined;
  while (at < text.length) {
    const start = at + 2;
    let end = text.indexOf("\r\n", start);
    if (end < 0) end = text.length;
    at = end;
    if (end === start) continue;
    const colon = text.indexOf(":", start);
    if (colon < 0 || colon > end) continue;
    if (colon === start) return null;
    const key = text.slice(start, colon);
    if (!validKey(key)) return null;
    out ??= {};
    if (out[key] === undefined) out[key] = text.slice(colon + 1, end).trim();
  }
  return out;
}

const HEADER_LINE = "NATS/1.0";
