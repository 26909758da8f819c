import type { MicroCredits } from "./money.ts";

/** Stage 5: the tenant's purchased credits. */
export interface BalanceState {
  /** Settled balance. */
  balance: MicroCredits;
  /** Held by reservations in flight. */
  reserved: MicroCredits;
}

/** What the balance holds beyond its reservations (never negative). */
export function balanceAvailable(b: BalanceState): MicroCredits {
  return Math.max(0, b.balance - b.reserved);
}

/** Takes up to `amount` from the balance; returns the part taken and what is still to pay. */
export function takeFromBalance(b: BalanceState, amount: MicroCredits): { part: MicroCredits; rest: MicroCredits } {
  const part = Math.min(balanceAvailable(b), amount);
  return { part, rest: amount - part };
}
