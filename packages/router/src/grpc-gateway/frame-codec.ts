/**
 * `threadmesh.gateway.v1.Frame { string json = 1; }` encoded and decoded by hand: the frames the router
 * relays are already serialised JSON (text or bytes), so they are framed as field 1 without a copy
 * through a message object. Unknown fields are skipped, as protobuf requires.
 */

const TAG_JSON = 0x0a; // field 1, wire type 2 (length-delimited)
const EMPTY: Buffer = Buffer.alloc(0);

/** One `Frame` holding `json`. */
export function encodeFrame(json: string | Uint8Array): Buffer {
  const n = typeof json === "string" ? Buffer.byteLength(json) : json.byteLength;
  const head = 1 + varintLength(n);
  const out = Buffer.allocUnsafe(head + n);
  out[0] = TAG_JSON;
  let pos = 1;
  let v = n;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos] = v;
  if (typeof json === "string") out.write(json, head, "utf8");
  else out.set(json, head);
  return out;
}

/**
 * The `json` field of an encoded `Frame` (empty when absent), or the whole input when it is not a
 * well-formed `Frame`: the connection then answers it as it answers any frame that is not JSON-RPC.
 */
export function decodeFrame(buf: Buffer): Buffer {
  let pos = 0;
  let json: Buffer = EMPTY;
  while (pos < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === null) return buf;
    pos = tag.next;
    const wire = tag.value & 7;
    if (wire === 0) {
      const v = readVarint(buf, pos);
      if (v === null) return buf;
      pos = v.next;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint(buf, pos);
      if (len === null || len.next + len.value > buf.length) return buf;
      if (tag.value === TAG_JSON) json = buf.subarray(len.next, len.next + len.value);
      pos = len.next + len.value;
    } else return buf;
  }
  return pos === buf.length ? json : buf;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

/** A varint of at most 32 bits (lengths and tags), or null when truncated or longer. */
function readVarint(buf: Buffer, pos: number): { value: number; next: number } | null {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) return null;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: pos };
  }
  return null;
}
