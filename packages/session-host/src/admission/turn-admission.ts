import type { Origin, RateLimitSnapshot } from "@threadmesh/protocol";
import { SLOT_RENEW_INTERVAL_MS, type Admission, type CreditStore, type Refusal, type RoundUsage } from "@threadmesh/ratelimit";
import type { Logger } from "@threadmesh/telemetry";
import { itemJsonBytes } from "../model/item-json.ts";

/** Who pays for a turn: its tenant, the user and API key that started it, and the tenant's plan. */
export interface Payer {
  tenant: string;
  user: string;
  keyId: string;
  planId: string;
  /** The user is a member of the tenant, not the tenant itself (a tenant-wide credential). */
  member: boolean;
}

/** The plan id of a tenant (`default` for a tenant the tenant store does not know). */
export type PlanLookup = (tenant: string) => Promise<string>;

export interface TurnAdmissionOptions {
  admission: Admission;
  /** The store behind `admission`: a continued turn finds its user and next round there. */
  store: CreditStore;
  planOf: PlanLookup;
  /** Output tokens each model request may produce: reserved at admission and sent as `max_output_tokens`. */
  maxOutputTokens: number;
  logger: Logger;
  /** How often the slots of running turns are renewed; default {@link SLOT_RENEW_INTERVAL_MS}. */
  renewIntervalMs?: number;
}

export type RoundAdmission = { admitted: true } | { admitted: false; refusal: Refusal };

/**
 * The credit waterfall as the session host applies it to the turns it runs: `turn/start` takes the
 * turn's concurrency slot and reserves its first model request, `turn/steer` passes the burst stage,
 * each later model request reserves its estimate under the key (turn id, round), the usage the model
 * reports settles that key, and the turn's end frees the slot. A turn continued on another host after a
 * failover keeps its slot and its keys: the new host renews the slot and resumes at the round the dead
 * host left reserved (or after the last one it settled), so nothing is charged twice.
 */
export class TurnAdmission {
  readonly maxOutputTokens: number;
  readonly #admission: Admission;
  readonly #store: CreditStore;
  readonly #planOf: PlanLookup;
  readonly #logger: Logger;
  /** Turns running on this host: their slots are renewed while a round or a tool runs. */
  readonly #running = new Map<string, Payer>();
  readonly #renewTimer: NodeJS.Timeout;

  constructor(opts: TurnAdmissionOptions) {
    this.#admission = opts.admission;
    this.#store = opts.store;
    this.#planOf = opts.planOf;
    this.#logger = opts.logger;
    this.maxOutputTokens = opts.maxOutputTokens;
    this.#renewTimer = setInterval(() => this.#renewAll(), opts.renewIntervalMs ?? SLOT_RENEW_INTERVAL_MS);
    this.#renewTimer.unref();
  }

  /** The payer of a command sent by `origin` for `tenant`. */
  async payer(tenant: string, origin: Pick<Origin, "keyId"> & { user?: string | null }): Promise<Payer> {
    const user = origin.user ?? "";
    return { tenant, user, keyId: origin.keyId ?? user, planId: await this.#planOf(tenant), member: user !== "" };
  }

  /** `turn/start` of a new turn: burst, concurrency and its first model request's estimate. */
  async admitTurn(payer: Payer, turnId: string, model: string, inputTokens: number): Promise<{ refusal: Refusal | null; rateLimits: RateLimitSnapshot | null }> {
    const r = await this.#admission.admit({ ...this.#who(payer), kind: "turnStart", turnId, round: 0, model, inputTokens, maxOutputTokens: this.maxOutputTokens });
    if (!r.admitted) return { refusal: r.refusal, rateLimits: null };
    this.#running.set(turnId, payer);
    return { refusal: null, rateLimits: r.rateLimits };
  }

  /** `turn/steer` (and `turn/start` on a busy thread): the burst stage only; the round that sends the input pays for it. */
  async admitSteer(payer: Payer, turnId: string, model: string): Promise<Refusal | null> {
    const r = await this.#admission.admit({ ...this.#who(payer), kind: "turnSteer", turnId, round: 0, model, inputTokens: 0, maxOutputTokens: 0 });
    return r.admitted ? null : r.refusal;
  }

  /** A later model request of a running turn (renews the turn's slot). */
  async admitRound(payer: Payer, turnId: string, round: number, model: string, inputTokens: number): Promise<RoundAdmission> {
    const r = await this.#admission.admit({ ...this.#who(payer), kind: "round", turnId, round, model, inputTokens, maxOutputTokens: this.maxOutputTokens });
    return r.admitted ? { admitted: true } : { admitted: false, refusal: r.refusal };
  }

  /**
   * Charges a round's reported usage once (key: turn id and round); the snapshot for
   * `account/rateLimits/updated`. With `ahead`, a round admitted from this host's budget slice is
   * answered from the slice's figures and its settlement written in the background (see `Admission.settle`).
   */
  async settle(payer: Payer, turnId: string, round: number, model: string, usage: RoundUsage, opts: { ahead?: boolean } = {}): Promise<RateLimitSnapshot> {
    const r = await this.#admission.settle({ tenantId: payer.tenant, userId: payer.user, planId: payer.planId, turnId, round, model, usage }, opts);
    if (r.uncollected > 0) this.#logger.warn({ tenant: payer.tenant, turnId, round, uncollected: r.uncollected }, "a model round cost more than its reservation and the tenant could not pay the rest");
    return r.rateLimits;
  }

  /** Gives back the reservation of a round whose usage is unknown (the request failed or was interrupted). */
  async release(payer: Payer, turnId: string, round: number): Promise<void> {
    await this.#admission.release(payer.tenant, turnId, round);
  }

  /** The turn ended (completed, interrupted, failed): its slot is free. */
  async endTurn(tenant: string, turnId: string): Promise<void> {
    this.#running.delete(turnId);
    await this.#admission.endTurn(tenant, turnId);
  }

  /** This host stopped running the turn without ending it (handed over, dropped): it no longer renews its slot. */
  forget(turnId: string): void {
    this.#running.delete(turnId);
  }

  /**
   * A turn another host started and this host continues: the slot follows the turn (renewed under the
   * same turn id, for the user who held it) and the next round is the one the dead host left reserved
   * or the one after its last settled round.
   */
  async adopt(tenant: string, turnId: string): Promise<{ payer: Payer; nextRound: number }> {
    const [slots, nextRound, planId] = await Promise.all([this.#store.slots(tenant, Date.now()), this.#store.nextRound(tenant, turnId), this.#planOf(tenant)]);
    const user = slots.find((s) => s.turnId === turnId)?.userId ?? "";
    const payer: Payer = { tenant, user, keyId: user, planId, member: user !== "" };
    await this.#admission.renewSlot(tenant, user, turnId);
    this.#running.set(turnId, payer);
    return { payer, nextRound };
  }

  /**
   * A turn another host left running that this host ends instead of continuing: its slot is freed and
   * the reservations of its rounds given back (their usage never reached this host).
   */
  async abandon(tenant: string, turnId: string): Promise<void> {
    const prefix = `${turnId}:`;
    const held = await this.#store.heldReservations(tenant);
    for (const r of held) {
      if (!r.key.startsWith(prefix)) continue;
      const round = Number(r.key.slice(prefix.length));
      if (Number.isSafeInteger(round)) await this.#admission.release(tenant, turnId, round);
    }
    await this.endTurn(tenant, turnId);
  }

  /** The tenant's snapshot for `account/rateLimits/read`. */
  async rateLimits(tenant: string): Promise<RateLimitSnapshot> {
    return this.#admission.rateLimits(tenant, await this.#planOf(tenant));
  }

  close(): void {
    clearInterval(this.#renewTimer);
  }

  #who(p: Payer) {
    return { tenantId: p.tenant, userId: p.user, keyId: p.keyId, planId: p.planId, member: p.member };
  }

  #renewAll(): void {
    for (const [turnId, p] of this.#running) {
      this.#admission.renewSlot(p.tenant, p.user, turnId).catch((err: unknown) => this.#logger.warn({ err, tenant: p.tenant, turnId }, "renewing a turn's slot failed"));
    }
  }
}

/**
 * A generous count of the input tokens a model request sends: its serialised instructions, input and
 * tools at 3 bytes a token (providers count about 4), plus room for the request's other fields. The
 * reservation is an upper bound, so a settled round rarely costs more than it reserved.
 */
export function estimateInputTokens(request: { instructions: string; input: readonly unknown[]; tools: readonly unknown[] }): number {
  // The size of `[instructions,[...input],[...tools]]`: each part's JSON, the brackets and the commas between parts.
  const commas = Math.max(0, request.input.length - 1) + Math.max(0, request.tools.length - 1);
  let bytes = Buffer.byteLength(JSON.stringify(request.instructions)) + 8 + commas;
  for (const item of request.input) bytes += itemJsonBytes(item);
  for (const tool of request.tools) bytes += itemJsonBytes(tool);
  return Math.ceil(bytes / 3) + 256;
}

