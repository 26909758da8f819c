import type { Plan } from "./plan.ts";

/**
 * Stage 2: turns running at once, per tenant and per user.
 *
 * A running turn holds one slot, keyed by its turn id and stored next to the credits, so every router
 * and host sees the same count. A slot is a lease: it carries an expiry that the host renews while the
 * turn runs (each model round's admission renews it, and so does {@link SLOT_RENEW_INTERVAL_MS}-periodic
 * `renewSlot` while a round or a tool runs), and the turn's end deletes it. When the host running the
 * turn dies, the slot is not leaked either way: the host adopting the thread and continuing the turn
 * renews the same key (the slot follows the turn), and a turn nobody continues stops being renewed, so
 * its slot lapses at most {@link DEFAULT_SLOT_TTL_MS} later. Expired slots do not count and are deleted
 * by the next admission of the tenant.
 */
export const DEFAULT_SLOT_TTL_MS = 120_000;
/** How often a host renews the slots of its running turns (well within the lease). */
export const SLOT_RENEW_INTERVAL_MS = 30_000;

/** Slots held now (expired ones not counted), excluding the turn asking. */
export interface ConcurrencyState {
  tenantActive: number;
  userActive: number;
}

export type ConcurrencyLimit = { scope: "tenant" | "user"; limit: number };

/** The limit a new turn would break, or null when it may start. */
export function concurrencyExceeded(plan: Plan, state: ConcurrencyState): ConcurrencyLimit | null {
  if (state.tenantActive >= plan.maxTurnsPerTenant) return { scope: "tenant", limit: plan.maxTurnsPerTenant };
  if (state.userActive >= plan.maxTurnsPerUser) return { scope: "user", limit: plan.maxTurnsPerUser };
  return null;
}

/** `retryAfterMs` suggested when a concurrency limit refuses: turns end at no predictable time. */
export const CONCURRENCY_RETRY_AFTER_MS = 1_000;
