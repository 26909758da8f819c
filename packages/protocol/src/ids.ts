import { randomFillSync } from "node:crypto";

/** Random bytes drawn at a time: one `randomFillSync` call serves this many ids. */
const RANDOM_POOL_BYTES = 16 * 256;
const pool = new Uint8Array(RANDOM_POOL_BYTES);
let poolAt = RANDOM_POOL_BYTES;
/** The last id's millisecond and its 31-bit sequence, so that ids made within one millisecond still ascend. */
let lastMs = -Infinity;
let seq = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UUID_RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;

/**
 * A new UUIDv7 string (RFC 9562): time-ordered ids for threads, turns, items and requests. Within one
 * millisecond a 31-bit counter seeded at random (in rand_a and the top of rand_b) keeps them ascending.
 */
export function newId(): string {
  if (poolAt + 16 > RANDOM_POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  let ms = Date.now();
  if (ms > lastMs) {
    seq = ((r[6]! & 0x7f) << 24) | (r[7]! << 16) | (r[8]! << 8) | r[9]!;
    lastMs = ms;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
    ms = lastMs;
  }
  const b = [
    (ms / 0x10000000000) & 0xff,
    (ms / 0x100000000) & 0xff,
    (ms / 0x1000000) & 0xff,
    (ms / 0x10000) & 0xff,
    (ms / 0x100) & 0xff,
    ms & 0xff,
    0x70 | ((seq >>> 28) & 0x0f),
    (seq >>> 20) & 0xff,
    0x80 | ((seq >>> 14) & 0x3f),
    (seq >>> 6) & 0xff,
    ((seq << 2) & 0xff) | (r[10]! & 0x03),
    r[11]!,
    r[12]!,
    r[13]!,
    r[14]!,
    r[15]!,
  ];
  const h = (i: number) => HEX[b[i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** True when `s` parses as a UUID (any version), as Codex requires for thread ids. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s.startsWith("urn:uuid:") ? s.slice(9) : s);
}

/** Unix seconds, the unit of `createdAt`, `updatedAt`, `startedAt`, `completedAt`. */
export function nowSeconds(now: number = Date.now()): number {
  return Math.floor(now / 1000);
}
