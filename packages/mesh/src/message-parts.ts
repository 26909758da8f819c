import { randomBytes } from "node:crypto";
import type { BusHeaders } from "./bus.ts";

/**
 * A payload larger than the NATS server's `max_payload` (1 MB by default) travels as consecutive parts,
 * each with the message's headers and `tm-part: <id> <index> <count>`; receivers join them back before
 * any handler sees the message, and readers of the event stream do the same. One publisher's parts
 * reach a subscriber in order, other messages possibly between them.
 */
export const PART_HEADER = "tm-part";

/** Room left in each part for headers (NATS counts them against `max_payload`). */
export const PART_HEADER_ROOM = 16 * 1024;

/** Incomplete messages one receiver holds at most, and their bytes; beyond either the oldest is dropped. */
const MAX_ASSEMBLING = 32;
const MAX_ASSEMBLING_BYTES = 256 * 1024 * 1024;

/** The parts of `data` (at most `maxPart` bytes each) with the headers each carries. */
export function splitIntoParts(data: Uint8Array, headers: BusHeaders | undefined, maxPart: number): Array<{ data: Uint8Array; headers: BusHeaders }> {
  const id = randomBytes(8).toString("hex");
  const count = Math.ceil(data.length / maxPart);
  const parts: Array<{ data: Uint8Array; headers: BusHeaders }> = [];
  for (let i = 0; i < count; i++) {
    parts.push({ data: data.subarray(i * maxPart, (i + 1) * maxPart), headers: { ...headers, [PART_HEADER]: `${id} ${i} ${count}` } });
  }
  return parts;
}

interface Assembling {
  readonly count: number;
  readonly chunks: Uint8Array[];
  bytes: number;
}

/** What a completed message is made of. */
export interface Joined {
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
}

/**
 * Joins parts back into messages for one receiver (a subscription, a request inbox, a stream read).
 * Out-of-order or missing parts drop their message: it is lost as a whole, never delivered with a hole.
 */
export class PartAssembler {
  readonly #open = new Map<string, Assembling>();
  #bytes = 0;

  /** The whole message once `headers` carries its last part; null before (and for a dropped message). */
  add(data: Uint8Array, headers: BusHeaders): Joined | null {
    const [id, indexText, countText] = (headers[PART_HEADER] ?? "").split(" ");
    const index = Number(indexText);
    const count = Number(countText);
    if (id === undefined || !Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index >= count) return null;
    let a = this.#open.get(id);
    if (a === undefined) {
      if (index !== 0) return null;
      a = { count, chunks: [], bytes: 0 };
      this.#open.set(id, a);
    }
    if (index !== a.chunks.length || count !== a.count) {
      this.#drop(id);
      return null;
    }
    a.chunks.push(data);
    a.bytes += data.length;
    this.#bytes += data.length;
    if (a.chunks.length < a.count) {
      this.#bound();
      return null;
    }
    this.#drop(id);
    const out = new Uint8Array(a.bytes);
    let at = 0;
    for (const c of a.chunks) {
      out.set(c, at);
      at += c.length;
    }
    const { [PART_HEADER]: _part, ...rest } = headers;
    return { data: out, headers: rest };
  }

  #drop(id: string): void {
    const a = this.#open.get(id);
    if (a === undefined) return;
    this.#bytes -= a.bytes;
    this.#open.delete(id);
  }

  #bound(): void {
    while (this.#open.size > MAX_ASSEMBLING || this.#bytes > MAX_ASSEMBLING_BYTES) {
      const oldest = this.#open.keys().next().value;
      if (oldest === undefined) return;
      this.#drop(oldest);
    }
  }
}

/** Events read from the stream with parted ones joined (parts without their start are left out). */
export function joinParts<T extends { readonly data: Uint8Array; readonly headers: BusHeaders }>(events: readonly T[]): T[] {
  if (!events.some((e) => e.headers[PART_HEADER] !== undefined)) return events as T[];
  const assembler = new PartAssembler();
  const out: T[] = [];
  for (const e of events) {
    if (e.headers[PART_HEADER] === undefined) {
      out.push(e);
      continue;
    }
    const joined = assembler.add(e.data, e.headers);
    if (joined !== null) out.push({ ...e, data: joined.data, headers: joined.headers });
  }
  return out;
}
