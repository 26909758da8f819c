import type { Decision } from "./decision.ts";
import type { GrantPart } from "./grants.ts";
import type { MicroCredits } from "./money.ts";
import type { Plan } from "./plan.ts";
import type { ModelPrice, RoundUsage } from "./prices.ts";
import type { FundingState } from "./waterfall.ts";

/** A reservation's key: one per model round of a turn. */
export function reservationKey(turnId: string, round: number): string {
  return `${turnId}:${round}`;
}

/** A running turn's concurrency slot. */
export interface TurnSlot {
  turnId: string;
  userId: string;
  expiresAtMs: number;
}

export interface ReserveRequest {
  /** {@link reservationKey}; reserving a key that is already reserved returns that reservation. */
  key: string;
  tenantId: string;
  userId: string;
  turnId: string;
  plan: Plan;
  /** Estimated cost of the round (an upper bound: see `PriceTable.estimate`). */
  amount: MicroCredits;
  /** A new turn takes a concurrency slot; a later round renews the slot its turn holds. */
  newTurn: boolean;
  member: boolean;
  nowMs: number;
  /** The turn's slot lasts this long unless renewed. */
  slotTtlMs: number;
  /** An unsettled reservation is released this long after it was made (its host died with no adopter). */
  reservationTtlMs: number;
  /**
   * False for a reservation that is no turn's round: a host's budget slice (see `budget-slices.ts`),
   * which takes no concurrency slot. Default true.
   */
  takeSlot?: boolean;
}

/** Where a reservation's amount is held, so that releasing it gives back exactly that. */
export interface ReservationParts {
  window: MicroCredits;
  primaryStartMs: number | null;
  secondaryStartMs: number | null;
  grants: GrantPart[];
  balance: MicroCredits;
}

export interface Reservation {
  key: string;
  tenantId: string;
  amount: MicroCredits;
  parts: ReservationParts;
}

export type ReserveResult = { decision: Decision; reservation: Reservation | null; state: FundingState };

export interface SettleRequest {
  key: string;
  tenantId: string;
  userId: string;
  turnId: string;
  round: number;
  plan: Plan;
  model: string;
  price: ModelPrice;
  usage: RoundUsage;
  nowMs: number;
  /**
   * The key of the budget slice the round was admitted against, when it was admitted from a host's
   * slice instead of a reservation of its own: the slice is given back, the cost charged through the
   * waterfall, and what is left of the slice (its amount less the cost) held again, in one transaction.
   */
  slice?: string;
}

/** What one settlement charged; `duplicate` when the key had already been settled (nothing changed). */
export interface SettleResult {
  duplicate: boolean;
  cost: MicroCredits;
  window: MicroCredits;
  grants: GrantPart[];
  balance: MicroCredits;
  /** Cost none of the sources could pay (only when a round cost more than its reservation and nothing was left). */
  uncollected: MicroCredits;
  state: FundingState;
  /** With {@link SettleRequest.slice}: what the slice holds now (0 when it is no longer held). */
  sliceAmount?: MicroCredits;
}

/** One tenant's reconciliation: every check that failed, and the totals compared. */
export interface ReconcileReport {
  tenantId: string;
  ok: boolean;
  problems: string[];
  totals: {
    usageEvents: number;
    billed: MicroCredits;
    fromWindow: MicroCredits;
    fromGrants: MicroCredits;
    fromBalance: MicroCredits;
    uncollected: MicroCredits;
    balance: MicroCredits;
    /** Held by reservations of model rounds (grants and credits; window parts are not money). */
    reservedInFlight: MicroCredits;
    /** Held by hosts' budget slices (see `budget-slices.ts`); the balance may not go below −(both). */
    slicedInFlight: MicroCredits;
  };
}

/**
 * Durable state of the waterfall: plans, grants, balances, reservations, concurrency slots and the three
 * ledgers (usage events in tokens, billable events priced, balance updates in signed amounts). Each
 * method is one transaction; stages 2–5 are decided inside `reserve` (by `decide`) so that concurrent
 * admissions of a tenant are serialised and never over-commit.
 */
export interface CreditStore {
  putPlan(plan: Plan): Promise<void>;
  getPlan(id: string): Promise<Plan | null>;
  listPlans(): Promise<Plan[]>;

  /** Adds purchased credits (or, negative, takes them back); idempotent by `key`. Returns false for a repeated key. */
  topUp(tenantId: string, amount: MicroCredits, key: string, nowMs: number): Promise<boolean>;
  /** Grants credits that expire at `expiresAtMs`; idempotent by `id`. Returns false for a repeated id. */
  addGrant(tenantId: string, grant: { id: string; amount: MicroCredits; expiresAtMs: number }, nowMs: number): Promise<boolean>;

  /** Stages 2–5 and, when admitted, the reservation, in one transaction. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Charges the round's usage and ends its reservation, in one transaction; a repeated key changes nothing. */
  settle(req: SettleRequest): Promise<SettleResult>;
  /**
   * Optional: settles the round at once from what this process holds for it (a host's budget slice),
   * the store's write following in the background; null when it cannot, and {@link settle} is used.
   */
  settleAhead?(req: SettleRequest): SettleResult | null;
  /** Gives a reservation back unspent (the round never reached the model). */
  release(tenantId: string, key: string): Promise<void>;
  /** Extends the turn's slot lease to `nowMs + ttlMs` (creating it if it lapsed). */
  renewSlot(tenantId: string, userId: string, turnId: string, nowMs: number, ttlMs: number): Promise<void>;
  /** Frees the turn's slot. */
  endTurn(tenantId: string, turnId: string): Promise<void>;
  /**
   * Hands the slot held under `fromTurnId` to `toTurnId` (a host's spare slot taken by a new turn, or a
   * turn's slot kept as a spare), with a new expiry; false when there was no such slot (it lapsed).
   */
  moveSlot(tenantId: string, fromTurnId: string, toTurnId: string, expiresAtMs: number): Promise<boolean>;
  /** Slots held now by the tenant (expired ones not counted). */
  activeTurns(tenantId: string, nowMs: number): Promise<number>;
  /** The tenant's slots that have not expired at `nowMs`. */
  slots(tenantId: string, nowMs: number): Promise<TurnSlot[]>;
  /** The tenant's reservations still held (not settled, released or expired-and-released). */
  heldReservations(tenantId: string): Promise<Array<Reservation & { expiresAtMs: number }>>;

  /**
   * The round a host continuing `turnId` (after its first host died) admits next: a round reserved and
   * never settled (its request died with the host), else the one after the last settled round; 0 when
   * the turn has neither.
   */
  nextRound(tenantId: string, turnId: string): Promise<number>;

  /** The tenant's funding as of `nowMs` (for snapshots). */
  state(tenantId: string, plan: Plan, nowMs: number): Promise<FundingState>;
  /** Proves the ledgers, grants, windows, reservations and balances agree, per tenant (all tenants when omitted). */
  reconcile(tenantId?: string): Promise<ReconcileReport[]>;
  close(): Promise<void>;
}
