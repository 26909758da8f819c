import type { CreditStore, ReconcileReport, Reservation, ReservationParts, ReserveRequest, ReserveResult, SettleRequest, SettleResult, TurnSlot } from "./credit-store.ts";
import { spent, withParts } from "./funding-arithmetic.ts";
import type { MicroCredits } from "./money.ts";
import type { Plan } from "./plan.ts";
import { costAt } from "./prices.ts";
import type { FundingState } from "./waterfall.ts";
import { covered, allocate } from "./waterfall.ts";

export interface BudgetSliceOptions {
  /** Names this host's slices and spare slots in the store (`slice/<hostId>/<n>`, `spare/<hostId>/<n>`). */
  hostId: string;
  /** A slice covers this many rounds of the estimate that asked for it; default 16. */
  sliceRounds?: number;
  /** At most this share of what the tenant has left goes into one slice; default 1/4. */
  sliceShare?: number;
  /** A slice is topped up (a new one taken) when what is free falls below this share of a slice; default 1/2. */
  lowWater?: number;
  /** A slice's lease in the store: held by a host that died, it comes back this long after it was taken; default 5 min. */
  leaseMs?: number;
  /** A slice admits rounds for this long, then is given back once its rounds are settled; default 30 s. */
  rotateMs?: number;
  /** Slices and spare slots unused for this long are given back; default 2 s. */
  idleMs?: number;
  /** A settlement written ahead (see {@link SlicedCreditStore.settleAhead}) is tried this many times; default 4. */
  settleAttempts?: number;
  /** The first retry of such a settlement waits this long, each next one four times longer; default 25 ms. */
  settleRetryMs?: number;
  clock?: () => number;
  onError?: (err: unknown, op: string) => void;
}

interface Slice {
  key: string;
  /** What the store holds for the slice. */
  held: MicroCredits;
  /** Local reservations of rounds against it, not yet settled or released. */
  outstanding: MicroCredits;
  /** Where the store holds it (as of the last settlement figured here), for the figures of settlements written ahead. */
  parts: ReservationParts | null;
  /** Settlements written ahead against it not yet in the store: the slice is not given back before they are. */
  settling: number;
  takenAtMs: number;
  usedAtMs: number;
  retired: boolean;
}

interface TenantBudget {
  tenantId: string;
  slices: Slice[];
  toppingUp: boolean;
  /** Spare concurrency slots by user: slot rows this host holds under a spare id, taken by that user's next turn. */
  spares: Map<string, Spare[]>;
  /** The funding last read from the store, for snapshots of rounds admitted locally. */
  lastState: FundingState | null;
}

/**
 * A spare slot: the slot row of a turn that ended, kept for its user's next turn on this host. It is
 * one from the moment the turn ends; `ready` settles once the row is stored under the spare's id
 * (false when the turn's row was gone), and whoever moves the row on waits for it.
 */
interface Spare {
  id: string;
  sinceMs: number;
  ready: Promise<boolean>;
}

interface LocalRound {
  tenantId: string;
  slice: Slice;
  amount: MicroCredits;
}

interface TurnInfo {
  userId: string;
  plan: Plan;
}

/**
 * Per-host budget slices over the shared credit store (the distributed topology): a host reserves a
 * chunk of a tenant's budget once — a held reservation under the key `slice/<hostId>/<n>`, taken through
 * the waterfall like any other, with a lease — and admits model rounds against it in memory, without a
 * round trip. The slice is topped up in the background (a new slice) before what is free runs out, and
 * given back when idle, when rotated out, and at shutdown; a host that dies leaves its slices to expire
 * with their lease, and the next admission of the tenant releases them.
 *
 * Settlement stays in the store and idempotent by turn id and round: a round admitted from a slice is
 * settled with the slice's key, and that one transaction gives the slice back, charges the round through
 * the waterfall (grants before credits, never an expired grant) and holds what is left of the slice
 * again. The store's reserved amounts count every slice, so the balance never goes below
 * −(reservations in flight), slices included, and `reconcile` sees them as held reservations.
 *
 * A new turn's concurrency slot is still counted in the store: a turn that ends keeps its slot row as a
 * spare of this host for its user (moved to a spare id) when the plan leaves room for more turns, and
 * that user's next turn on this host takes it (moved back to the turn's id in the background) and its
 * first round from a slice, deciding in memory. Spares are given back after {@link BudgetSliceOptions.idleMs}.
 */
export class SlicedCreditStore implements CreditStore {
  readonly #store: CreditStore;
  readonly #hostId: string;
  readonly #sliceRounds: number;
  readonly #sliceShare: number;
  readonly #lowWater: number;
  readonly #leaseMs: number;
  readonly #rotateMs: number;
  readonly #idleMs: number;
  readonly #clock: () => number;
  readonly #onError: (err: unknown, op: string) => void;
  readonly #settleAttempts: number;
  readonly #settleRetryMs: number;
  /** Settlements written ahead, by reservation key, until the store has them. */
  readonly #settling = new Map<string, Promise<unknown>>();
  readonly #tenants = new Map<string, TenantBudget>();
  readonly #rounds = new Map<string, LocalRound>();
  readonly #turns = new Map<string, TurnInfo>();
  /** Spare slots on their way to the turn that took them: the turn's end waits for the move. */
  readonly #moving = new Map<string, Promise<unknown>>();
  readonly #sweeper: NodeJS.Timeout;
  #seq = 0;
  #closed = false;
  /** Writes running in the background (slices taken and given back, spare slots moved). */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(store: CreditStore, opts: BudgetSliceOptions) {
    this.#store = store;
    this.#hostId = opts.hostId;
    this.#sliceRounds = opts.sliceRounds ?? 16;
    this.#sliceShare = opts.sliceShare ?? 0.25;
    this.#lowWater = opts.lowWater ?? 0.5;
    this.#leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.#rotateMs = opts.rotateMs ?? 30_000;
    this.#idleMs = opts.idleMs ?? 2_000;
    this.#clock = opts.clock ?? Date.now;
    this.#onError = opts.onError ?? (() => undefined);
    this.#settleAttempts = Math.max(1, opts.settleAttempts ?? 4);
    this.#settleRetryMs = opts.settleRetryMs ?? 25;
    this.#sweeper = setInterval(() => this.sweep(), Math.max(100, Math.floor(this.#idleMs / 2)));
    this.#sweeper.unref();
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

  topUp(tenantId: string, amount: MicroCredits, key: string, nowMs: number): Promise<boolean> {
    return this.#store.topUp(tenantId, amount, key, nowMs);
  }

  addGrant(tenantId: string, grant: { id: string; amount: MicroCredits; expiresAtMs: number }, nowMs: number): Promise<boolean> {
    return this.#store.addGrant(tenantId, grant, nowMs);
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    if (req.takeSlot === false) return this.#store.reserve(req);
    const known = this.#rounds.get(req.key);
    if (known !== undefined && known.tenantId === req.tenantId) return this.#admitted(req, known.amount);
    const t = this.#tenant(req.tenantId);
    const slice = this.#sliceFor(t, req.amount, req.nowMs);
    if (slice !== null) {
      if (!req.newTurn) return this.#takeLocally(t, slice, req);
      const spare = this.#spareOf(t, req.userId);
      if (spare !== null) {
        this.#turns.set(req.turnId, { userId: req.userId, plan: req.plan });
        const move = spare.ready
          .then((stored) => stored && this.#store.moveSlot(req.tenantId, spare.id, req.turnId, req.nowMs + req.slotTtlMs))
          // A spare that lapsed in between: the turn takes its slot anew.
          .then((moved) => (moved ? undefined : this.#store.renewSlot(req.tenantId, req.userId, req.turnId, this.#clock(), req.slotTtlMs)))
          .catch((err: unknown) => this.#onError(err, "moveSlot"))
          .finally(() => this.#moving.delete(req.turnId));
        this.#moving.set(req.turnId, move);
        this.#track(move);
        return this.#takeLocally(t, slice, req);
      }
    }
    const r = await this.#store.reserve(req);
    t.lastState = r.state;
    if (r.decision.kind === "admit") {
      if (req.newTurn) this.#turns.set(req.turnId, { userId: req.userId, plan: req.plan });
      this.#topUpIfLow(t, req);
    }
    return r;
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const ahead = this.#settling.get(req.key);
    // Settled ahead and on its way to the store: once there, the store answers the repeat (a duplicate).
    if (ahead !== undefined) await ahead;
    const local = this.#rounds.get(req.key);
    if (local === undefined || local.tenantId !== req.tenantId) {
      const r = await this.#store.settle(req);
      // The figures of the next settlement written ahead start from these.
      const t = this.#tenants.get(req.tenantId);
      if (t !== undefined && !r.duplicate) t.lastState = r.state;
      return r;
    }
    const r = await this.#store.settle({ ...req, slice: local.slice.key });
    // Dropped only once charged: a failed settlement can be tried again against the same slice.
    if (this.#rounds.get(req.key) === local) {
      this.#rounds.delete(req.key);
      local.slice.outstanding -= local.amount;
    }
    local.slice.held = Math.min(local.slice.held, r.sliceAmount ?? 0);
    const t = this.#tenant(req.tenantId);
    t.lastState = r.state;
    if (local.slice.held <= 0) local.slice.retired = true;
    this.#retireIfDone(t, local.slice);
    return r;
  }

  /**
   * Settles a round admitted from this host's slice without waiting for the store: the slice knows what
   * it holds, so the charge and the figures after it come from its arithmetic here (the waterfall over
   * the funding last read, as the store's settlement computes it), and the settlement itself — the same
   * idempotent write as {@link settle}'s, keyed by turn id and round — proceeds in the background,
   * retried, and tracked so that {@link idle} and {@link returnAll} wait for it. The slice is not given
   * back while such a write is pending. A host that dies first leaves the round unsettled (never charged
   * twice) and its slice to expire with its lease, as before.
   *
   * Null (settle through {@link settle} instead) when the round was not admitted from a slice here, when
   * it cost more than its reservation (the store decides what is collected), or nothing was read yet.
   */
  settleAhead(req: SettleRequest): SettleResult | null {
    const local = this.#rounds.get(req.key);
    if (local === undefined || local.tenantId !== req.tenantId || this.#settling.has(req.key)) return null;
    const t = this.#tenants.get(req.tenantId);
    const slice = local.slice;
    const cost = costAt(req.price, req.usage);
    if (t === undefined || t.lastState === null || slice.parts === null || cost > local.amount || cost > slice.held) return null;
    // As `KyselyCreditStore`'s settlement from a slice: the slice given back, the round charged, the rest held again.
    const free = withParts({ ...t.lastState, plan: req.plan }, slice.parts, -1, req.nowMs);
    const a = allocate(cost, free, req.nowMs);
    const charged = spent(free, a);
    const want = Math.max(0, slice.held - cost);
    const { shortfall, ...parts } = allocate(want, charged, req.nowMs);
    const state = withParts(charged, parts, 1, req.nowMs);
    this.#rounds.delete(req.key);
    slice.outstanding -= local.amount;
    slice.held = want - shortfall;
    slice.parts = parts;
    slice.settling++;
    if (slice.held <= 0) slice.retired = true;
    t.lastState = state;
    // Started on the next turn of the event loop: what the caller does with the answer (the turn's end) goes first.
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#settleInStore({ ...req, slice: slice.key }))
      .then((r) => {
        // The store may hold less than figured here (a grant expired, the lease lapsed): it has the last word.
        slice.held = Math.min(slice.held, r.sliceAmount ?? 0);
        if (slice.held <= 0) slice.retired = true;
      })
      .catch((err: unknown) => this.#onError(err, "settle"))
      .finally(() => {
        slice.settling--;
        this.#settling.delete(req.key);
        this.#retireIfDone(t, slice);
      });
    this.#settling.set(req.key, write);
    this.#track(write);
    return { duplicate: false, cost, window: a.window, grants: a.grants, balance: a.balance, uncollected: a.shortfall, state, sliceAmount: slice.held };
  }

  async #settleInStore(req: SettleRequest): Promise<SettleResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#store.settle(req);
      } catch (err) {
        // A settlement is idempotent: a retry after a commit whose answer was lost finds it done.
        if (attempt >= this.#settleAttempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, this.#settleRetryMs * 4 ** (attempt - 1)));
      }
    }
  }

  async release(tenantId: string, key: string): Promise<void> {
    const local = this.#rounds.get(key);
    if (local === undefined || local.tenantId !== tenantId) return this.#store.release(tenantId, key);
    this.#rounds.delete(key);
    local.slice.outstanding -= local.amount;
    this.#retireIfDone(this.#tenant(tenantId), local.slice);
  }

  renewSlot(tenantId: string, userId: string, turnId: string, nowMs: number, ttlMs: number): Promise<void> {
    return this.#store.renewSlot(tenantId, userId, turnId, nowMs, ttlMs);
  }

  /**
   * The turn's slot becomes a spare of this host for its user when its plan leaves room for more turns;
   * else it is freed. The spare is there for the user's next turn at once, before its row is moved in
   * the store (a turn that takes it moves the row on after that): the next `turn/start` does not wait
   * for the store because the last turn's end was still being written.
   */
  async endTurn(tenantId: string, turnId: string): Promise<void> {
    const moving = this.#moving.get(turnId);
    const info = this.#turns.get(turnId);
    this.#turns.delete(turnId);
    const t = this.#tenants.get(tenantId);
    if (info === undefined || t === undefined || !this.#keepsSpare(t, info)) {
      await moving;
      return this.#store.endTurn(tenantId, turnId);
    }
    const id = `spare/${this.#hostId}/${++this.#seq}`;
    const nowMs = this.#clock();
    const ready = Promise.resolve(moving).then(() => this.#store.moveSlot(tenantId, turnId, id, nowMs + this.#leaseMs));
    const spare: Spare = { id, sinceMs: nowMs, ready: ready.catch(() => false) };
    const list = t.spares.get(info.userId) ?? [];
    list.push(spare);
    t.spares.set(info.userId, list);
    this.#track(spare.ready);
    let stored = false;
    try {
      stored = await ready;
    } finally {
      // The turn's row was gone (or the move failed): there is no spare to give.
      if (!stored) this.#dropSpare(t, info.userId, spare);
    }
  }

  #dropSpare(t: TenantBudget, userId: string, spare: Spare): void {
    const list = t.spares.get(userId);
    const i = list?.indexOf(spare) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) t.spares.delete(userId);
  }

  moveSlot(tenantId: string, fromTurnId: string, toTurnId: string, expiresAtMs: number): Promise<boolean> {
    return this.#store.moveSlot(tenantId, fromTurnId, toTurnId, expiresAtMs);
  }

  activeTurns(tenantId: string, nowMs: number): Promise<number> {
    return this.#store.activeTurns(tenantId, nowMs);
  }

  slots(tenantId: string, nowMs: number): Promise<TurnSlot[]> {
    return this.#store.slots(tenantId, nowMs);
  }

  heldReservations(tenantId: string): Promise<Array<Reservation & { expiresAtMs: number }>> {
    return this.#store.heldReservations(tenantId);
  }

  nextRound(tenantId: string, turnId: string): Promise<number> {
    return this.#store.nextRound(tenantId, turnId);
  }

  state(tenantId: string, plan: Plan, nowMs: number): Promise<FundingState> {
    return this.#store.state(tenantId, plan, nowMs);
  }

  reconcile(tenantId?: string): Promise<ReconcileReport[]> {
    return this.#store.reconcile(tenantId);
  }

  /** What this host holds of `tenantId`'s budget in slices, and what of it is free. */
  sliced(tenantId: string): { held: MicroCredits; free: MicroCredits; slices: number; spares: number } {
    const t = this.#tenants.get(tenantId);
    if (t === undefined) return { held: 0, free: 0, slices: 0, spares: 0 };
    let held = 0;
    let free = 0;
    for (const s of t.slices) {
      held += s.held;
      if (!s.retired) free += Math.max(0, s.held - s.outstanding);
    }
    let spares = 0;
    for (const list of t.spares.values()) spares += list.length;
    return { held, free, slices: t.slices.length, spares };
  }

  /** Gives back idle slices and spare slots, and slices past their rotation once their rounds are settled. */
  sweep(): void {
    const nowMs = this.#clock();
    for (const [tenantId, t] of this.#tenants) {
      for (const s of [...t.slices]) {
        if (!s.retired && (nowMs - s.takenAtMs >= this.#rotateMs || nowMs - s.usedAtMs >= this.#idleMs)) s.retired = true;
        this.#retireIfDone(t, s);
      }
      for (const [user, list] of t.spares) {
        const keep = list.filter((s) => nowMs - s.sinceMs < this.#idleMs);
        for (const s of list) if (!keep.includes(s)) this.#background("endTurn", this.#freeSpare(tenantId, s));
        if (keep.length === 0) t.spares.delete(user);
        else t.spares.set(user, keep);
      }
    }
  }

  /** Gives back every slice and spare slot this host holds (at shutdown, after its turns ended or were handed over). */
  async returnAll(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await this.idle();
    const work: Promise<unknown>[] = [];
    for (const [tenantId, t] of this.#tenants) {
      for (const s of t.slices) work.push(this.#store.release(tenantId, s.key));
      t.slices = [];
      for (const list of t.spares.values()) for (const s of list) work.push(this.#freeSpare(tenantId, s));
      t.spares.clear();
    }
    this.#rounds.clear();
    await Promise.allSettled(work);
  }

  async close(): Promise<void> {
    await this.returnAll();
    await this.#store.close();
  }

  #tenant(tenantId: string): TenantBudget {
    let t = this.#tenants.get(tenantId);
    if (t === undefined) {
      t = { tenantId, slices: [], toppingUp: false, spares: new Map(), lastState: null };
      this.#tenants.set(tenantId, t);
    }
    return t;
  }

  /** A live slice with `amount` free, the oldest first (so that newer ones go idle and back). */
  #sliceFor(t: TenantBudget, amount: MicroCredits, nowMs: number): Slice | null {
    for (const s of t.slices) {
      if (s.retired || nowMs - s.takenAtMs >= this.#rotateMs) continue;
      if (s.held - s.outstanding >= amount) return s;
    }
    return null;
  }

  #spareOf(t: TenantBudget, userId: string): Spare | null {
    const list = t.spares.get(userId);
    const spare = list?.shift();
    if (list !== undefined && list.length === 0) t.spares.delete(userId);
    return spare ?? null;
  }

  /** Frees a spare's slot row once it is stored under the spare's id. */
  async #freeSpare(tenantId: string, spare: Spare): Promise<void> {
    if (await spare.ready) await this.#store.endTurn(tenantId, spare.id);
  }

  /** One spare per user, and at most a quarter of the tenant's turn limit per host: other hosts keep room. */
  #keepsSpare(t: TenantBudget, info: TurnInfo): boolean {
    const { plan } = info;
    if (plan.maxTurnsPerUser < 2 || plan.maxTurnsPerTenant < 4) return false;
    if ((t.spares.get(info.userId)?.length ?? 0) >= 1) return false;
    let spares = 0;
    for (const list of t.spares.values()) spares += list.length;
    return spares < Math.floor(plan.maxTurnsPerTenant / 4);
  }

  #takeLocally(t: TenantBudget, slice: Slice, req: ReserveRequest): ReserveResult {
    slice.outstanding += req.amount;
    slice.usedAtMs = req.nowMs;
    this.#rounds.set(req.key, { tenantId: req.tenantId, slice, amount: req.amount });
    this.#topUpIfLow(t, req);
    return this.#admitted(req, req.amount);
  }

  #admitted(req: ReserveRequest, amount: MicroCredits): ReserveResult {
    const parts = { window: 0, primaryStartMs: null, secondaryStartMs: null, grants: [], balance: 0 };
    const state = this.#tenants.get(req.tenantId)?.lastState ?? { plan: req.plan, windows: { primary: null, secondary: null }, grants: [], balance: { balance: 0, reserved: 0 } };
    return { decision: { kind: "admit", allocation: { ...parts, shortfall: 0 } }, reservation: { key: req.key, tenantId: req.tenantId, amount, parts }, state: { ...state, plan: req.plan } };
  }

  /** Takes a new slice in the background when what is free falls below the low-water mark. */
  #topUpIfLow(t: TenantBudget, req: ReserveRequest): void {
    if (t.toppingUp) return;
    const target = req.amount * this.#sliceRounds;
    if (target <= 0) return;
    let free = 0;
    for (const s of t.slices) if (!s.retired && req.nowMs - s.takenAtMs < this.#rotateMs) free += Math.max(0, s.held - s.outstanding);
    if (free >= target * this.#lowWater) return;
    t.toppingUp = true;
    this.#track(
      this.#takeSlice(t, req, target)
        .catch((err: unknown) => this.#onError(err, "takeSlice"))
        .finally(() => {
          t.toppingUp = false;
        }),
    );
  }

  async #takeSlice(t: TenantBudget, req: ReserveRequest, target: MicroCredits): Promise<void> {
    const nowMs = this.#clock();
    const state = await this.#store.state(req.tenantId, req.plan, nowMs);
    t.lastState = state;
    // What the waterfall could still give, of which one slice takes a share: other hosts keep theirs.
    const left = covered(allocate(Number.MAX_SAFE_INTEGER, state, nowMs));
    const amount = Math.min(target, Math.floor(left * this.#sliceShare));
    if (amount < req.amount) return;
    const key = `slice/${this.#hostId}/${++this.#seq}`;
    const r = await this.#store.reserve({
      key,
      tenantId: req.tenantId,
      userId: "",
      turnId: key,
      plan: req.plan,
      amount,
      newTurn: false,
      member: false,
      nowMs,
      slotTtlMs: 0,
      reservationTtlMs: this.#leaseMs,
      takeSlot: false,
    });
    t.lastState = r.state;
    if (r.decision.kind !== "admit") return;
    // Given back at once when the host stopped admitting meanwhile.
    if (this.#closed) return this.#store.release(req.tenantId, key);
    t.slices.push({ key, held: amount, outstanding: 0, parts: r.reservation?.parts ?? null, settling: 0, takenAtMs: nowMs, usedAtMs: nowMs, retired: false });
  }

  /** A retired slice whose rounds are all settled or released goes back to the store. */
  #retireIfDone(t: TenantBudget, s: Slice): void {
    if (!s.retired || s.outstanding > 0 || s.settling > 0) return;
    const i = t.slices.indexOf(s);
    if (i < 0) return;
    t.slices.splice(i, 1);
    if (s.held > 0) this.#background("release", this.#store.release(t.tenantId, s.key));
  }

  #background(op: string, p: Promise<unknown>): void {
    this.#track(p.catch((err: unknown) => this.#onError(err, op)));
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Resolves once the writes running in the background have ended. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
