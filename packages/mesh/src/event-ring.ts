import type { BusHeaders } from "./bus.ts";
import type { LoggedEvent } from "./event-log.ts";

/** A ring's first segment, in bytes; each next one doubles up to {@link MAX_SEGMENT_BYTES}. */
const MIN_SEGMENT_BYTES = 2 * 1024;
const MAX_SEGMENT_BYTES = 64 * 1024;
/** Bytes of a record before its strings: length, time, last seq, subject length, headers length, data length. */
const FIXED_BYTES = 4 + 8 + 8 + 2 + 4 + 4;
/** Subject length that stands for the ring's own subject (written once, not per record). */
const RING_SUBJECT = 0xffff;

/** One buffer of records laid end to end; `records` counts every record written to it. */
interface Segment {
  readonly buf: Buffer;
  end: number;
  records: number;
  /** Time of its newest record. */
  newestAt: number;
}

/**
 * One thread subject's events, oldest first, encoded into buffers outside the JavaScript heap: the
 * garbage collector sees a few buffers per thread instead of several objects per event, so a window
 * of millions of events costs no marking time. Each record holds the capture time, the last `seq`,
 * the subject (omitted when it is the ring's own), the headers as NATS writes them and the payload.
 */
export class EventRing {
  readonly #segments: Segment[] = [];
  /** Offset of the oldest live record in the first segment, and how many of its records are gone. */
  #head = 0;
  #headDropped = 0;
  #count = 0;
  #bytes = 0;
  #subject: string | null = null;
  /** Headers of the newest record, for the tail. */
  #newestHeaders: BusHeaders | null = null;

  get count(): number {
    return this.#count;
  }

  /** Bytes of the buffers this ring holds. */
  get bytes(): number {
    return this.#bytes;
  }

  get newestHeaders(): BusHeaders | null {
    return this.#count === 0 ? null : this.#newestHeaders;
  }

  push(subject: string, data: Uint8Array, headers: BusHeaders, at: number, last: number): void {
    this.#subject ??= subject;
    const own = subject === this.#subject;
    let text = "";
    for (const k in headers) text += `${k}:${headers[k]}\n`;
    const bound = FIXED_BYTES + (own ? 0 : subject.length * 3) + text.length * 3 + data.length;
    const seg = this.#room(bound);
    const buf = seg.buf;
    const start = seg.end;
    let o = start + 4;
    buf.writeDoubleLE(at, o);
    buf.writeDoubleLE(last, o + 8);
    o += 16;
    if (own) {
      buf.writeUInt16LE(RING_SUBJECT, o);
      o += 2;
    } else {
      const n = buf.write(subject, o + 2, "utf8");
      buf.writeUInt16LE(n, o);
      o += 2 + n;
    }
    const h = buf.write(text, o + 4, "utf8");
    buf.writeUInt32LE(h, o);
    o += 4 + h;
    buf.writeUInt32LE(data.length, o);
    buf.set(data, o + 4);
    o += 4 + data.length;
    buf.writeUInt32LE(o - start, start);
    seg.end = o;
    seg.records++;
    seg.newestAt = at;
    this.#count++;
    this.#newestHeaders = headers;
  }

  /** Drops the oldest records until at most `max` remain. */
  keepNewest(max: number): void {
    while (this.#count > max) {
      const first = this.#segments[0]!;
      const remaining = first.records - this.#headDropped;
      if (this.#count - remaining >= max) this.#dropFirstSegment();
      else this.#dropOne();
    }
  }

  /** Drops the records captured before `cutoff`. */
  expire(cutoff: number): void {
    while (this.#count > 0) {
      const first = this.#segments[0]!;
      if (first.newestAt < cutoff) {
        this.#dropFirstSegment();
        continue;
      }
      if (first.buf.readDoubleLE(this.#head + 4) >= cutoff) return;
      this.#dropOne();
    }
  }

  /** Calls `fn` with each record whose last seq is above `afterSeq`, oldest first. */
  forEachAfter(afterSeq: number, fn: (last: number, event: LoggedEvent) => void): void {
    let offset = this.#head;
    for (const seg of this.#segments) {
      const buf = seg.buf;
      while (offset < seg.end) {
        const len = buf.readUInt32LE(offset);
        const last = buf.readDoubleLE(offset + 12);
        if (last > afterSeq) fn(last, this.#decode(buf, offset));
        offset += len;
      }
      offset = 0;
    }
  }

  #decode(buf: Buffer, start: number): LoggedEvent {
    let o = start + 20;
    const sl = buf.readUInt16LE(o);
    o += 2;
    let subject: string;
    if (sl === RING_SUBJECT) subject = this.#subject!;
    else {
      subject = buf.toString("utf8", o, o + sl);
      o += sl;
    }
    const hl = buf.readUInt32LE(o);
    o += 4;
    const headers: BusHeaders = {};
    for (const line of buf.toString("utf8", o, o + hl).split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 1);
    }
    o += hl;
    const dl = buf.readUInt32LE(o);
    o += 4;
    return { subject, headers, data: new Uint8Array(buf.subarray(o, o + dl)) };
  }

  #room(bound: number): Segment {
    const tail = this.#segments.at(-1);
    if (tail !== undefined && tail.buf.length - tail.end >= bound) return tail;
    const size = Math.max(bound, Math.min(MAX_SEGMENT_BYTES, tail === undefined ? MIN_SEGMENT_BYTES : tail.buf.length * 2));
    // Not from the shared pool: a dropped segment gives its memory back.
    const seg: Segment = { buf: Buffer.allocUnsafeSlow(size), end: 0, records: 0, newestAt: 0 };
    this.#segments.push(seg);
    this.#bytes += size;
    return seg;
  }

  #dropOne(): void {
    const first = this.#segments[0]!;
    this.#head += first.buf.readUInt32LE(this.#head);
    this.#headDropped++;
    this.#count--;
    if (this.#head >= first.end) this.#advance(first);
  }

  #dropFirstSegment(): void {
    const first = this.#segments[0]!;
    this.#count -= first.records - this.#headDropped;
    this.#advance(first);
  }

  /** The first segment holds no live record any more. */
  #advance(first: Segment): void {
    this.#head = 0;
    this.#headDropped = 0;
    if (this.#segments.length > 1) {
      this.#segments.shift();
      this.#bytes -= first.buf.length;
    } else {
      // The only segment is written on from its start again.
      first.end = 0;
      first.records = 0;
    }
  }
}
