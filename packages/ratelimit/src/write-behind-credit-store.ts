import { decide } from "./decision.ts";
import type { CreditStore, ReconcileReport, Reservation, ReservationParts, ReserveRequest, ReserveResult, SettleRequest, SettleResult, TurnSlot } from "./credit-store.ts";
import type { GrantState } from "./grants.ts";
import type { MicroCredits } from "./money.ts";
import type { Plan } from "./plan.ts";
import { windowStart, type WindowKind, type WindowUsage } from "./plan-windows.ts";
import { costAt } from "./prices.ts";
import { allocate, type FundingState } from "./waterfall.ts";

/** A tenant's credits as the durable store holds them once every queued write has run. */
interface TenantMirror {
  balance: { balance: MicroCredits; reserved: MicroCredits };
  grants: Map<string, GrantState>;
  /** `${kind}@${startMs}` → usage. */
  windows: Map<string, { used: MicroCredits; reserved: MicroCredits }>;
  slots: Map<string, { userId: string; expiresAtMs: number }>;
  /** Held reservations by key. */
  held: Map<string, { amount: MicroCredits; parts: ReservationParts; expiresAtMs: number }>;
  /** Keys settled lately, so that a replayed settlement is not applied to the mirror twice. */
  settled: Set<string>;
}

/** How long reservation writes wait behind the decisions that made them, at most. */
const BEHIND_DELAY_MS = 20;

/** Settled keys remembered per tenant (the store rejects older replays; the mirror then undoes them). */
const SETTLED_KEYS_KEPT = 10_000;

export interface WriteBehindOptions {
  /** Called with a queued write that failed (the mirror of its tenant is dropped and read again). */
  onWriteError?: (err: unknown, op: string) => void;
}

/**
 * The admission decision served from memory, for a process that is the only admitter of its tenants
 * (the embedded topology: one process, SQLite). Each tenant's credits are read once from the durable
 * store into a mirror; `reserve` decides on the mirror (the same `decide` the store runs) and answers at
 * once, while the reservation is written behind it, in order, through one queue. Every write of the
 * tenant goes through that queue in the order the mirror applied it, with the same clock, so the store
 * reaches the same decisions and allocations as the mirror did.
 *
 * Money stays durable: `settle`, `topUp` and `addGrant` wait for their transaction (settlement is the
 * only debit, and it is idempotent in the store). What a crash can lose is reservations not yet written —
 * and with them the turns that held them, since turns die with the process; their reserved amounts only
 * ever guarded the balance, which is untouched. So the invariant holds: reservations are checked
 * against the mirror, which counts every reservation in flight, and the balance never goes below
 * −(reservations in flight).
 */
export class WriteBehindCreditStore implements CreditStore {
  readonly #store: CreditStore;
  readonly #onWriteError: (err: unknown, op: string) => void;
  readonly #mirrors = new Map<string, Promise<TenantMirror>>();
  #tail: Promise<unknown> = Promise.resolve();
  #pendingBehind: Array<{ op: string; tenantId: string; run: () => Promise<unknown> }> = [];
  #behindTimer: NodeJS.Timeout | null = null;

  constructor(store: CreditStore, opts: WriteBehindOptions = {}) {
    this.#store = store;
    this.#onWriteError = opts.onWriteError ?? (() => undefined);
  }

  putPlan(plan: Plan): Promise<void> {
    return this.#store.putPlan(plan);
  }

  getPlan(id: string): Promise<Plan | null> {
    return this.#store.getPlan(id);
  }

  listPlans(): Promise<Plan[]> {
    return this.#store.listPlans();
  }

  async topUp(tenantId: string, amount: MicroCredits, key: string, nowMs: number): Promise<boolean> {
    const added = await this.#write("topUp", tenantId, () => this.#store.topUp(tenantId, amount, key, nowMs));
    if (added) {
      const m = await this.#loaded(tenantId);
      if (m !== null) m.balance.balance += amount;
    }
    return added;
  }

  async addGrant(tenantId: string, grant: { id: string; amount: MicroCredits; expiresAtMs: number }, nowMs: number): Promise<boolean> {
    const added = await this.#write("addGrant", tenantId, () => this.#store.addGrant(tenantId, grant, nowMs));
    if (added) {
      const m = await this.#loaded(tenantId);
      if (m !== null) m.grants.set(grant.id, { id: grant.id, remaining: grant.amount, reserved: 0, expiresAtMs: grant.expiresAtMs });
    }
    return added;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const m = await this.#mirror(req.tenantId, req.plan, req.nowMs);
    const existing = m.held.get(req.key);
    if (existing !== undefined) {
      if (req.takeSlot !== false) m.slots.set(req.turnId, { userId: req.userId, expiresAtMs: req.nowMs + req.slotTtlMs });
      this.#behind("reserve", req.tenantId, () => this.#store.reserve(req));
      const reservation: Reservation = { key: req.key, tenantId: req.tenantId, amount: existing.amount, parts: existing.parts };
      return { decision: { kind: "admit", allocation: { ...existing.parts, shortfall: 0 } }, reservation, state: funding(m, req.plan, req.nowMs) };
    }
    expireHeld(m, req.nowMs);
    let tenantActive = 0;
    let userActive = 0;
    if (req.newTurn) {
      for (const [turnId, slot] of m.slots) {
        if (slot.expiresAtMs <= req.nowMs) {
          m.slots.delete(turnId);
          continue;
        }
        if (turnId === req.turnId) continue;
        tenantActive++;
        if (slot.userId === req.userId) userActive++;
      }
    }
    const state = funding(m, req.plan, req.nowMs);
    const decision = decide({ amount: req.amount, newTurn: req.newTurn, member: req.member, concurrency: { tenantActive, userActive }, funding: state, nowMs: req.nowMs });
    if (decision.kind === "refuse") {
      // The store refuses too, and drops the same expired slots and reservations the mirror just dropped.
      this.#behind("reserve", req.tenantId, () => this.#store.reserve(req));
      return { decision, reservation: null, state };
    }
    const { shortfall: _shortfall, ...parts } = decision.allocation;
    if (req.takeSlot !== false) m.slots.set(req.turnId, { userId: req.userId, expiresAtMs: req.nowMs + req.slotTtlMs });
    m.held.set(req.key, { amount: req.amount, parts, expiresAtMs: req.nowMs + req.reservationTtlMs });
    hold(m, parts, 1);
    this.#behind("reserve", req.tenantId, () => this.#store.reserve(req));
    return { decision, reservation: { key: req.key, tenantId: req.tenantId, amount: req.amount, parts }, state: funding(m, req.plan, req.nowMs) };
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    // One process admits everything from the mirror: budget slices are for hosts sharing a database.
    if (req.slice !== undefined) throw new Error("budget slices are not taken through the in-memory mirror");
    const m = await this.#mirror(req.tenantId, req.plan, req.nowMs);
    // Applied to the mirror now, in queue order, exactly as the store will apply it.
    let applied: { parts: ReservationParts | null; charge: ReturnType<typeof allocate> } | null = null;
    if (!m.settled.has(req.key)) {
      const held = m.held.get(req.key);
      if (held !== undefined) {
        hold(m, held.parts, -1);
        m.held.delete(req.key);
      }
      const charge = allocate(costAt(req.price, req.usage), funding(m, req.plan, req.nowMs), req.nowMs);
      spend(m, charge, 1);
      m.settled.add(req.key);
      if (m.settled.size > SETTLED_KEYS_KEPT) m.settled.delete(m.settled.values().next().value!);
      applied = { parts: held?.parts ?? null, charge };
    }
    const result = await this.#write("settle", req.tenantId, () => this.#store.settle(req));
    if (result.duplicate && applied !== null) {
      // Settled before this mirror existed: undo what the mirror applied.
      spend(m, applied.charge, -1);
    }
    return { ...result, state: funding(m, req.plan, req.nowMs) };
  }

  async release(tenantId: string, key: string): Promise<void> {
    const m = await this.#loaded(tenantId);
    const held = m?.held.get(key);
    if (m !== null && held !== undefined) {
      hold(m, held.parts, -1);
      m.held.delete(key);
    }
    await this.#write("release", tenantId, () => this.#store.release(tenantId, key));
  }

  async renewSlot(tenantId: string, userId: string, turnId: string, nowMs: number, ttlMs: number): Promise<void> {
    const m = await this.#loaded(tenantId);
    m?.slots.set(turnId, { userId, expiresAtMs: nowMs + ttlMs });
    await this.#write("renewSlot", tenantId, () => this.#store.renewSlot(tenantId, userId, turnId, nowMs, ttlMs));
  }

  async endTurn(tenantId: string, turnId: string): Promise<void> {
    const m = await this.#loaded(tenantId);
    m?.slots.delete(turnId);
    await this.#write("endTurn", tenantId, () => this.#store.endTurn(tenantId, turnId));
  }

  async moveSlot(tenantId: string, fromTurnId: string, toTurnId: string, expiresAtMs: number): Promise<boolean> {
    const m = await this.#loaded(tenantId);
    const slot = m?.slots.get(fromTurnId);
    if (m !== null && slot !== undefined) {
      m.slots.delete(fromTurnId);
      m.slots.set(toTurnId, { userId: slot.userId, expiresAtMs });
    }
    return this.#write("moveSlot", tenantId, () => this.#store.moveSlot(tenantId, fromTurnId, toTurnId, expiresAtMs));
  }

  async activeTurns(tenantId: string, nowMs: number): Promise<number> {
    return (await this.slots(tenantId, nowMs)).length;
  }

  async slots(tenantId: string, nowMs: number): Promise<TurnSlot[]> {
    const m = await this.#loaded(tenantId);
    if (m === null) return this.#store.slots(tenantId, nowMs);
    return [...m.slots].filter(([, s]) => s.expiresAtMs > nowMs).map(([turnId, s]) => ({ turnId, userId: s.userId, expiresAtMs: s.expiresAtMs }));
  }

  async heldReservations(tenantId: string): Promise<Array<Reservation & { expiresAtMs: number }>> {
    const m = await this.#loaded(tenantId);
    if (m === null) return this.#store.heldReservations(tenantId);
    return [...m.held].map(([key, h]) => ({ key, tenantId, amount: h.amount, parts: h.parts, expiresAtMs: h.expiresAtMs }));
  }

  async nextRound(tenantId: string, turnId: string): Promise<number> {
    await this.flush();
    return this.#store.nextRound(tenantId, turnId);
  }

  async state(tenantId: string, plan: Plan, nowMs: number): Promise<FundingState> {
    const m = await this.#loaded(tenantId);
    return m === null ? this.#store.state(tenantId, plan, nowMs) : funding(m, plan, nowMs);
  }

  /** Waits for every queued write, then reconciles the durable store. */
  async reconcile(tenantId?: string): Promise<ReconcileReport[]> {
    await this.flush();
    return this.#store.reconcile(tenantId);
  }

  /** Resolves once every write queued so far has run. */
  async flush(): Promise<void> {
    this.#drainBehind();
    await this.#tail.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#store.close();
  }

  /** The tenant's mirror, read from the store (behind every queued write) the first time. */
  #mirror(tenantId: string, plan: Plan, nowMs: number): Promise<TenantMirror> {
    let m = this.#mirrors.get(tenantId);
    if (m === undefined) {
      m = this.#write("load", tenantId, async () => {
        const [state, slots, held] = await Promise.all([this.#store.state(tenantId, plan, nowMs), this.#store.slots(tenantId, nowMs), this.#store.heldReservations(tenantId)]);
        const mirror: TenantMirror = {
          balance: { ...state.balance },
          grants: new Map(state.grants.map((g) => [g.id, { ...g }])),
          windows: new Map(),
          slots: new Map(slots.map((s) => [s.turnId, { userId: s.userId, expiresAtMs: s.expiresAtMs }])),
          held: new Map(held.sort((a, b) => a.expiresAtMs - b.expiresAtMs).map((r) => [r.key, { amount: r.amount, parts: r.parts, expiresAtMs: r.expiresAtMs }])),
          settled: new Set(),
        };
        for (const kind of ["primary", "secondary"] as const) {
          const w = state.windows[kind];
          if (w !== null) mirror.windows.set(`${kind}@${w.startMs}`, { used: w.used, reserved: w.reserved });
        }
        return mirror;
      });
      this.#mirrors.set(tenantId, m);
      m.catch(() => this.#mirrors.delete(tenantId));
    }
    return m;
  }

  async #loaded(tenantId: string): Promise<TenantMirror | null> {
    const m = this.#mirrors.get(tenantId);
    return m === undefined ? null : m.catch(() => null);
  }

  /** Queues a write and waits for it (writes queued behind go first, in order). */
  #write<T>(op: string, tenantId: string, run: () => Promise<T>): Promise<T> {
    this.#drainBehind();
    const p = this.#tail.then(run);
    this.#tail = p.catch((err: unknown) => this.#failed(err, op, tenantId));
    return p;
  }

  /**
   * Queues a write without waiting for it. Such writes (reservations, which the mirror has already
   * counted) are held for up to {@link BEHIND_DELAY_MS} and then run together, or earlier when a write
   * that is waited for (a settlement, a top-up) or a flush needs the queue: a synchronous SQLite write
   * never takes the thread between an admitted turn's decision and its model request.
   */
  #behind(op: string, tenantId: string, run: () => Promise<unknown>): void {
    this.#pendingBehind.push({ op, tenantId, run });
    if (this.#behindTimer === null) {
      this.#behindTimer = setTimeout(() => this.#drainBehind(), BEHIND_DELAY_MS);
      this.#behindTimer.unref();
    }
  }

  /** Moves the writes held behind onto the queue, in the order they were made. */
  #drainBehind(): void {
    if (this.#behindTimer !== null) {
      clearTimeout(this.#behindTimer);
      this.#behindTimer = null;
    }
    const pending = this.#pendingBehind;
    if (pending.length === 0) return;
    this.#pendingBehind = [];
    for (const w of pending) this.#tail = this.#tail.then(w.run).catch((err: unknown) => this.#failed(err, w.op, w.tenantId));
  }

  #failed(err: unknown, op: string, tenantId: string): void {
    // The mirror may now differ from the store: read it again on next use.
    this.#mirrors.delete(tenantId);
    this.#onWriteError(err, op);
  }
}

function funding(m: TenantMirror, plan: Plan, nowMs: number): FundingState {
  const window = (kind: WindowKind, mins: number | undefined): WindowUsage | null => {
    if (mins === undefined) return null;
    const startMs = windowStart(nowMs, mins);
    const w = m.windows.get(`${kind}@${startMs}`);
    return w === undefined ? null : { startMs, used: w.used, reserved: w.reserved };
  };
  return {
    plan,
    windows: { primary: window("primary", plan.primary?.windowMins), secondary: window("secondary", plan.secondary?.windowMins) },
    grants: [...m.grants.values()].filter((g) => g.expiresAtMs > nowMs && g.remaining > 0).map((g) => ({ ...g })),
    balance: { ...m.balance },
  };
}

function addWindow(m: TenantMirror, startMs: number | null, kind: WindowKind, field: "used" | "reserved", amount: number): void {
  if (startMs === null || amount === 0) return;
  const k = `${kind}@${startMs}`;
  const w = m.windows.get(k) ?? { used: 0, reserved: 0 };
  w[field] += amount;
  m.windows.set(k, w);
}

function hold(m: TenantMirror, parts: ReservationParts, sign: 1 | -1): void {
  m.balance.reserved += sign * parts.balance;
  for (const p of parts.grants) {
    const g = m.grants.get(p.grantId);
    if (g !== undefined) g.reserved += sign * p.amount;
  }
  addWindow(m, parts.primaryStartMs, "primary", "reserved", sign * parts.window);
  addWindow(m, parts.secondaryStartMs, "secondary", "reserved", sign * parts.window);
}

function spend(m: TenantMirror, a: ReturnType<typeof allocate>, sign: 1 | -1): void {
  m.balance.balance -= sign * a.balance;
  for (const p of a.grants) {
    const g = m.grants.get(p.grantId);
    if (g !== undefined) g.remaining -= sign * p.amount;
  }
  addWindow(m, a.primaryStartMs, "primary", "used", sign * a.window);
  addWindow(m, a.secondaryStartMs, "secondary", "used", sign * a.window);
}

/** Releases held reservations past their expiry, as the store does on its next admission of the tenant. */
function expireHeld(m: TenantMirror, nowMs: number): void {
  for (const [key, h] of m.held) {
    if (h.expiresAtMs > nowMs) continue;
    hold(m, h.parts, -1);
    m.held.delete(key);
  }
}
