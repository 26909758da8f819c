import { TEXT_DECODER } from "@threadmesh/protocol";

/** What `safeParse` of a zod schema gives for a body of type T. */
interface MessageSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ message: string }> } };
}

/** A bus message's JSON body checked against `schema`, or why it is not one ("not JSON", else the first issue). */
export function parseMessage<T>(data: Uint8Array, schema: MessageSchema<T>): { ok: true; value: T } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(TEXT_DECODER.decode(data));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const r = schema.safeParse(parsed);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: r.error.issues[0]?.message ?? "invalid" };
}
