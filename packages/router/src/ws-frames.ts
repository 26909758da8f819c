/** Frames at least this large are handed to `ws` as they are rather than copied into a batch. */
export const MAX_BATCHED_FRAME_BYTES = 16 * 1024;

/** FIN set, opcode 1 (text). */
const TEXT_FIN = 0x81;

/** Bytes of a server-to-client (unmasked) frame header for a payload of `n` bytes. */
function headerBytes(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

/**
 * Unmasked RFC 6455 text frames, one per payload, written back to back into one buffer: what
 * `WebSocket.send` would write for each (no compression, FIN set), in one piece, so a tick's frames
 * for a connection cost one socket write rather than two per frame. Payloads are UTF-8 text already
 * (strings are encoded here).
 */
export function encodeTextFrames(payloads: ReadonlyArray<string | Uint8Array>, from: number, to: number): Buffer {
  const lengths = new Array<number>(to - from);
  let total = 0;
  for (let i = from; i < to; i++) {
    const p = payloads[i]!;
    const n = typeof p === "string" ? Buffer.byteLength(p) : p.length;
    lengths[i - from] = n;
    total += headerBytes(n) + n;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = from; i < to; i++) {
    const p = payloads[i]!;
    const n = lengths[i - from]!;
    out[at++] = TEXT_FIN;
    if (n < 126) out[at++] = n;
    else if (n < 65_536) {
      out[at++] = 126;
      out.writeUInt16BE(n, at);
      at += 2;
    } else {
      out[at++] = 127;
      out.writeUInt32BE(Math.floor(n / 2 ** 32), at);
      out.writeUInt32BE(n >>> 0, at + 4);
      at += 8;
    }
    if (typeof p === "string") at += out.write(p, at, "utf8");
    else {
      out.set(p, at);
      at += n;
    }
  }
  return out;
}
