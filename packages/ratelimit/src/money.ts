/**
 * Money is counted in integer micro-credits (1 credit = 1,000,000 micro-credits) and never in floats.
 * Amounts stay far below 2^53, so plain numbers hold them exactly; every entry point checks that.
 */
export type MicroCredits = number;

export const MICRO_PER_CREDIT = 1_000_000;

/** Throws unless `v` is a safe integer (and, unless `signed`, not negative). */
export function assertMicro(v: number, what: string, signed = false): MicroCredits {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what} must be an integer number of micro-credits, got ${v}`);
  if (!signed && v < 0) throw new RangeError(`${what} must not be negative, got ${v}`);
  return v;
}

/** Credits as the decimal string `CreditsSnapshot.balance` carries, e.g. 12500000 → "12.5". */
export function formatCredits(micro: MicroCredits): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(micro);
  const whole = Math.floor(abs / MICRO_PER_CREDIT);
  const frac = String(abs % MICRO_PER_CREDIT).padStart(6, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}
