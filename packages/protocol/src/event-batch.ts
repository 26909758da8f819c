/**
 * Event batches (kind `b`): consecutive notification frames of one thread joined by `\n`. JSON text
 * never contains a raw newline, so splitting on the byte is exact; the parts are views, not copies.
 */
const NEWLINE = 0x0a;
const QUOTE = 0x22;
/** Every notification frame starts with `{"method":"` (see `encodeNotification`). */
const METHOD_PREFIX = '{"method":"';

export function splitEventBatch(data: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const end = data.indexOf(NEWLINE, start);
    if (end < 0) break;
    frames.push(data.subarray(start, end));
    start = end + 1;
  }
  frames.push(data.subarray(start));
  return frames;
}

/** The `method` of a serialised notification frame, read from its bytes; "" when it does not start with it. */
export function frameMethod(frame: Uint8Array): string {
  const n = METHOD_PREFIX.length;
  for (let i = 0; i < n; i++) if (frame[i] !== METHOD_PREFIX.charCodeAt(i)) return "";
  const end = frame.indexOf(QUOTE, n);
  if (end < 0) return "";
  let s = "";
  for (let i = n; i < end; i++) s += String.fromCharCode(frame[i]!);
  return s;
}
