import type { MicroCredits } from "./money.ts";

/** Stage 4: credits granted to a tenant with an expiry. */
export interface GrantState {
  id: string;
  /** Not yet spent. */
  remaining: MicroCredits;
  /** Held by reservations in flight. */
  reserved: MicroCredits;
  expiresAtMs: number;
}

export interface GrantPart {
  grantId: string;
  amount: MicroCredits;
}

/** A grant can be spent only before it expires. */
export function grantLive(g: GrantState, nowMs: number): boolean {
  return g.expiresAtMs > nowMs;
}

/**
 * Takes up to `amount` from the live grants, the one expiring first first (ties by id), each no further
 * than what its reservations leave. Returns the parts taken and what is still to pay.
 */
export function takeFromGrants(grants: readonly GrantState[], amount: MicroCredits, nowMs: number): { parts: GrantPart[]; rest: MicroCredits } {
  const live = grants.filter((g) => grantLive(g, nowMs)).sort((a, b) => a.expiresAtMs - b.expiresAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const parts: GrantPart[] = [];
  let rest = amount;
  for (const g of live) {
    if (rest === 0) break;
    const available = g.remaining - g.reserved;
    if (available <= 0) continue;
    const take = Math.min(available, rest);
    parts.push({ grantId: g.id, amount: take });
    rest -= take;
  }
  return { parts, rest };
}

/** What the live grants hold beyond their reservations. */
export function grantsAvailable(grants: readonly GrantState[], nowMs: number): MicroCredits {
  return grants.filter((g) => grantLive(g, nowMs)).reduce((sum, g) => sum + Math.max(0, g.remaining - g.reserved), 0);
}
