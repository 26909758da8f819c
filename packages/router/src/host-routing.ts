import { BusError, ownerLapsed, type Bus, type BusHeaders, type BusMessage, type HostLoad, type HostRegistry, type OwnerEntry, type OwnerLeases } from "@threadmesh/mesh";
import {
  ENVELOPE_VERSION,
  OverloadedError,
  PlacementRefusal,
  decodeEnvelope,
  encodeEnvelope,
  hostSubject,
  placeSubject,
  readRefusal,
  requestDeadline,
  threadCommandSubject,
  type CommandEnvelope,
  type ReplyEnvelope,
} from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";
import { hostBudgetMs, type HostTarget } from "./host-client.ts";
import { pickHost } from "./host-picker.ts";

/** The router's view of the mesh control plane: live hosts and thread owners, both watched in memory. */
export interface MeshView {
  hosts: HostRegistry;
  owners: OwnerLeases;
}

/** Hosts asked for one placement or adoption before the client is told to retry. */
const MAX_ATTEMPTS = 3;
/** Extra wait past a silent owner's lease end, so the adopting host also sees it lapsed. */
const LAPSE_MARGIN_MS = 25;
/** Longest wait for one host's part of a cluster-wide `thread/loaded/list`. */
const LOADED_LIST_HOST_TIMEOUT_MS = 2_000;
/** What the wait for an owner's lease end resolves with. */
const LAPSED = Symbol("lapsed");

interface Send {
  env: CommandEnvelope;
  data: Uint8Array;
  headers: BusHeaders | undefined;
  deadline: number;
}

/**
 * Chooses the host of every command from the watched registry and owner entries, never reading the
 * store per request. New threads go to the less loaded of two random live hosts, which may refuse
 * (full, draining); thread commands go to the owner's command subject, and to a live host that adopts
 * the thread once the owner lapsed or released it. The host queue group remains the path when no
 * host is known.
 */
export class HostRouting {
  readonly #bus: Bus;
  readonly #hosts: HostRegistry;
  readonly #owners: OwnerLeases;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  /** Hosts that refused for capacity, until a newer heartbeat than the one then known arrives. */
  readonly #full = new Map<string, number>();
  /** Placements this router made on a host since the heartbeat it last saw (`at`). */
  readonly #placedSince = new Map<string, { at: number; n: number }>();

  constructor(bus: Bus, view: MeshView, opts: { logger: Logger; timeoutMs: number }) {
    this.#bus = bus;
    this.#hosts = view.hosts;
    this.#owners = view.owners;
    this.#logger = opts.logger;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** Sends a command and resolves with the reply that answers it. Rejects with BusError or OverloadedError. */
  send(env: CommandEnvelope, data: Uint8Array, target: HostTarget, headers: BusHeaders | undefined): Promise<BusMessage> {
    const s: Send = { env, data, headers, deadline: Date.now() + this.#timeoutMs };
    if (target.route === "thread") return this.#thread(s, target.threadId, target.fallback !== false);
    if (env.method === "thread/start" || env.method === "thread/fork") return this.#place(s);
    if (env.method === "thread/loaded/list" && this.#hosts.live().length > 1) return this.#loadedEverywhere(s);
    return this.#request(placeSubject(env.tenant), s);
  }

  /**
   * `thread/loaded/list` over every live host: each answers its own page after the cursor (ids sorted,
   * the cursor is the last id of the previous page), and the merged, sorted ids make the page. A host
   * that does not answer in time is left out rather than failing the listing.
   */
  async #loadedEverywhere(s: Send): Promise<BusMessage> {
    const p = (s.env.params ?? {}) as { limit?: number | null };
    const each: Send = { ...s, deadline: Math.min(s.deadline, Date.now() + LOADED_LIST_HOST_TIMEOUT_MS) };
    const pages = await Promise.all(
      this.#hosts.live().map(async (h) => {
        try {
          const reply = decodeEnvelope<ReplyEnvelope>((await this.#request(hostSubject(s.env.tenant, h.hostId), each)).data);
          return reply.ok ? (reply.result as { data: string[]; nextCursor: string | null }) : null;
        } catch (err) {
          this.#logger.debug({ err, hostId: h.hostId }, "a host did not list its loaded threads");
          return null;
        }
      }),
    );
    const ids = [...new Set(pages.flatMap((page) => page?.data ?? []))].sort();
    const more = pages.some((page) => page?.nextCursor != null);
    const limit = p.limit ?? ids.length;
    const data = ids.slice(0, limit);
    const nextCursor = (ids.length > limit || more) && data.length > 0 ? data[data.length - 1]! : null;
    const reply: ReplyEnvelope = { v: ENVELOPE_VERSION, ok: true, result: { data, nextCursor } };
    return { subject: "", data: encodeEnvelope(reply), headers: undefined, expectsReply: false, respond: () => {} };
  }

  async #place(s: Send): Promise<BusMessage> {
    if (this.#hosts.live().length === 0) return this.#request(placeSubject(s.env.tenant), s);
    const tried = new Set<string>();
    let retryAfterMs: number | undefined;
    let tenantFull = 0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const host = pickHost(this.#candidates(tried, true));
      if (!host) break;
      tried.add(host.hostId);
      const r = await this.#ask(host, s);
      if (r.kind === "answered") {
        this.#countPlacement(host);
        return r.msg;
      }
      if (r.kind === "refused") {
        retryAfterMs = Math.max(retryAfterMs ?? 0, r.retryAfterMs);
        if (r.reason === PlacementRefusal.AtCapacity) this.#full.set(host.hostId, host.at);
        if (r.reason === PlacementRefusal.TenantAtCapacity) tenantFull++;
      }
    }
    if (tenantFull > 0 && tenantFull === tried.size) {
      throw new OverloadedError(retryAfterMs ?? this.#hosts.leaseTtlMs, PlacementRefusal.TenantAtCapacity, "too many loaded threads for this tenant; retry later");
    }
    throw new OverloadedError(retryAfterMs ?? this.#hosts.leaseTtlMs, "noHostCapacity", "no session host can take a new thread; retry later");
  }

  async #thread(s: Send, threadId: string, fallback: boolean): Promise<BusMessage> {
    const tenant = s.env.tenant;
    const owner = this.#owners.cached(tenant, threadId);
    if (owner && ownerLapsed(owner, this.#hosts)) {
      if (!fallback) throw new BusError("noResponders", threadCommandSubject(tenant, threadId));
      return this.#adopt(s);
    }
    let reply: BusMessage | typeof LAPSED;
    try {
      reply = await this.#toOwner(s, threadId, owner);
    } catch (err) {
      if (!fallback || !(err instanceof BusError)) throw err;
      if (err.kind === "noResponders") return this.#unheld(s, threadId);
      const now = this.#owners.cached(tenant, threadId);
      // A paused owner never answers; its lease has run out by now, so another host may adopt the thread.
      if (err.kind === "timeout" && now && ownerLapsed(now, this.#hosts)) return this.#adopt(this.#renewed(s));
      throw err;
    }
    if (reply !== LAPSED) return reply;
    if (!fallback) throw new BusError("timeout", threadCommandSubject(tenant, threadId));
    return this.#adopt(this.#renewed(s));
  }

  /**
   * The send with a new request timeout from now, for the adopting host once the owner's lease ran out:
   * the envelope is sent again with the deadline that goes with it.
   */
  #renewed(s: Send): Send {
    const now = Date.now();
    if (s.env.deadline === undefined) return { ...s, deadline: now + this.#timeoutMs };
    const env: CommandEnvelope = { ...s.env, deadline: requestDeadline(hostBudgetMs(this.#timeoutMs), now) };
    return { ...s, env, data: encodeEnvelope(env), deadline: now + this.#timeoutMs };
  }

  /**
   * Sends on the thread's subject. A request delivered to an owner that died (or paused) is never
   * answered: with a known owner, stop waiting once its lease ends ({@link LAPSED}), when another host
   * may adopt the thread, rather than at the request timeout.
   */
  async #toOwner(s: Send, threadId: string, owner: OwnerEntry | undefined): Promise<BusMessage | typeof LAPSED> {
    const request = this.#request(threadCommandSubject(s.env.tenant, threadId), s);
    if (!owner) return request;
    const lapse = this.#whenLapsed(owner);
    try {
      return await Promise.race([request, lapse.promise]);
    } finally {
      lapse.cancel();
    }
  }

  /** Nobody answered on the thread's subject: its owner is loading it, or gone, or there is none. */
  async #unheld(s: Send, threadId: string): Promise<BusMessage> {
    const owner = this.#owners.cached(s.env.tenant, threadId);
    if (owner && !ownerLapsed(owner, this.#hosts)) {
      try {
        return await this.#request(hostSubject(s.env.tenant, owner.hostId), s);
      } catch (err) {
        if (!(err instanceof BusError) || err.kind !== "noResponders") throw err;
        // The owner is gone but its lease still runs: adopt once it ends, never before.
        await this.#lapse(owner, s.deadline);
      }
    }
    // Without an owner any host serves the thread from the store (or loads it for a resume).
    return this.#adopt(s);
  }

  /** Sends to a live host that serves the thread: adopting it, loading it, or passing it on to its owner. */
  async #adopt(s: Send): Promise<BusMessage> {
    if (this.#hosts.live().length === 0) return this.#request(placeSubject(s.env.tenant), s);
    const tried = new Set<string>();
    let retryAfterMs: number | undefined;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const host = pickHost(this.#candidates(tried, false));
      if (!host) break;
      tried.add(host.hostId);
      const r = await this.#ask(host, s);
      if (r.kind === "answered") return r.msg;
      if (r.kind === "refused") retryAfterMs = Math.max(retryAfterMs ?? 0, r.retryAfterMs);
    }
    throw new OverloadedError(retryAfterMs ?? this.#hosts.leaseTtlMs, "noSessionHost", "no session host available; retry later");
  }

  /** Waits until the owner's lease has ended (a new heartbeat extends the wait); throws a timeout at `deadline`. */
  async #lapse(owner: OwnerEntry, deadline: number): Promise<void> {
    for (;;) {
      if (ownerLapsed(owner, this.#hosts)) return;
      const wait = this.#hosts.expiresAt(owner.hostId) + LAPSE_MARGIN_MS - Date.now();
      if (Date.now() + Math.max(0, wait) >= deadline) throw new BusError("timeout", owner.hostId);
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, wait)));
    }
  }

  /** Resolves with {@link LAPSED} once the owner's lease has ended; renewals push the check back. */
  #whenLapsed(owner: OwnerEntry): { promise: Promise<typeof LAPSED>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const promise = new Promise<typeof LAPSED>((resolve) => {
      const check = () => {
        if (cancelled) return;
        if (ownerLapsed(owner, this.#hosts)) return resolve(LAPSED);
        timer = setTimeout(check, Math.max(1, this.#hosts.expiresAt(owner.hostId) + LAPSE_MARGIN_MS - Date.now()));
        timer.unref();
      };
      check();
    });
    return {
      promise,
      cancel: () => {
        cancelled = true;
        clearTimeout(timer);
      },
    };
  }

  /** Live hosts not asked yet; for placements only those taking new threads, emptier ones first. */
  #candidates(tried: ReadonlySet<string>, placement: boolean): HostLoad[] {
    const live = this.#hosts.live().filter((h) => !tried.has(h.hostId) && !h.draining);
    if (!placement) return live;
    // A heartbeat's load is up to an interval old: add what this router placed since, so a burst of
    // starts does not all land on the host that looked emptiest.
    const current = live.map((h) => {
      const placed = this.#placedSince.get(h.hostId);
      return placed !== undefined && placed.at === h.at ? { ...h, loadedThreads: h.loadedThreads + placed.n } : h;
    });
    const open = current.filter((h) => h.loadedThreads < h.capacity && this.#full.get(h.hostId) !== h.at);
    return open.length > 0 ? open : current;
  }

  #countPlacement(host: HostLoad): void {
    const placed = this.#placedSince.get(host.hostId);
    if (placed !== undefined && placed.at === host.at) placed.n++;
    else this.#placedSince.set(host.hostId, { at: host.at, n: 1 });
  }

  async #ask(host: HostLoad, s: Send): Promise<{ kind: "answered"; msg: BusMessage } | { kind: "refused"; reason: string; retryAfterMs: number } | { kind: "gone" }> {
    let msg: BusMessage;
    try {
      msg = await this.#request(hostSubject(s.env.tenant, host.hostId), s);
    } catch (err) {
      if (err instanceof BusError && err.kind === "noResponders") return { kind: "gone" };
      throw err;
    }
    const refusal = refusalOf(msg);
    if (refusal === undefined) return { kind: "answered", msg };
    this.#logger.debug({ hostId: host.hostId, reason: refusal.reason }, "session host refused");
    return { kind: "refused", ...refusal };
  }

  #request(subject: string, s: Send): Promise<BusMessage> {
    const timeoutMs = Math.max(1, s.deadline - Date.now());
    return this.#bus.request(subject, s.data, s.headers === undefined ? { timeoutMs } : { timeoutMs, headers: s.headers });
  }
}

/** The refusal a host replied with, or undefined for any other reply. */
function refusalOf(msg: BusMessage): { reason: string; retryAfterMs: number } | undefined {
  try {
    return readRefusal(decodeEnvelope<ReplyEnvelope>(msg.data));
  } catch {
    return undefined;
  }
}
