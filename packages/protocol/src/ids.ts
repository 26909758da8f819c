import { v7 as uuidv7, validate as uuidValidate } from "uuid";

/** A new UUIDv7 string: time-ordered ids for threads, turns, items and requests. */
export function newId(): string {
  return uuidv7();
}

/** True when `s` parses as a UUID (any version), as Codex requires for thread ids. */
export function isUuid(s: string): boolean {
  return uuidValidate(s.startsWith("urn:uuid:") ? s.slice(9) : s);
}

/** Unix seconds, the unit of `createdAt`, `updatedAt`, `startedAt`, `completedAt`. */
export function nowSeconds(now: number = Date.now()): number {
  return Math.floor(now / 1000);
}
