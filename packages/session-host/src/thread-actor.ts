import { deepFreeze } from "./model/item-json.ts";
import type { BusMessage, Subscription } from "@threadmesh/mesh";
import { RecentEvents } from "./recent-events.ts";
import type { ThreadRecord } from "@threadmesh/persistence";
import {
  LimitReason,
  MeshMethod,
  OverloadedError,
  defaultRateLimits,
  emptyUsage,
  nowSeconds,
  type CommandEnvelope,
  type RateLimitSnapshot,
  type ThreadActiveFlag,
  type ThreadItem,
  type ThreadStatus,
  type ThreadTokenUsage,
} from "@threadmesh/protocol";
import { hostMeshMetrics, type Logger } from "@threadmesh/telemetry";
import { endTurnAdmission } from "./admission/round-admission.ts";
import { deadlineRefusal } from "./command-deadline.ts";
import { replyError, serve } from "./command-outcome.ts";
import { inCommandContext } from "./command-span.ts";
import { hostMetrics, type HostMetrics } from "./host-metrics.ts";
import type { HostServices } from "./host-services.ts";
import { Mailbox } from "./mailbox.ts";
import type { ModelUsage } from "./model/model-client.ts";
import { PendingRequests } from "./pending-requests.ts";
import { sameSettings, settingsSnapshot } from "./settings-change.ts";
import { threadAnswerers, threadAudience } from "./access/thread-access.ts";
import { threadCommand } from "./thread-commands.ts";
import { ThreadEvents } from "./thread-events.ts";
import { ThreadWriter } from "./thread-writer.ts";
import type { ThreadGoal } from "./handlers/goal-handlers.ts";
import type { ActiveTurn } from "./turn/active-turn.ts";
import { turnAbortedEntry } from "./turn/history-items.ts";
import type { TurnContext, TurnEnd } from "./turn/turn-context.ts";
import { addUsage, usageBreakdown } from "./turn/token-usage.ts";

/** A thread's state as loaded from the store (or created), handed to its actor. */
export interface ThreadActorInit {
  services: HostServices;
  tenant: string;
  /** Stored thread; `ownerEpoch` is this owner's epoch. */
  record: ThreadRecord;
  /** Model history entries in order. */
  history: unknown[];
  nextHistoryOrdinal: number;
  nextItemOrdinal: number;
  nextTurnOrdinal: number;
  /** Turn of the last known token usage (replayed on resume). */
  lastTurnId: string | null;
}

const MESH_METHODS = new Set<string>(Object.values(MeshMethod));

type MailItem = { kind: "command"; env: CommandEnvelope; msg: BusMessage } | { kind: "idleCheck" };

/**
 * One loaded thread. Commands run one at a time, in arrival order, through a bounded mailbox; a turn
 * runs as a separate task of the actor, so interrupts, steers and approval answers are served while it
 * streams. The actor owns the thread's events (seq/epoch), pending server requests, fenced writes,
 * subscribers and idle unloading.
 */
export class ThreadActor implements TurnContext {
  readonly services: HostServices;
  readonly tenant: string;
  readonly threadId: string;
  readonly epoch: number;
  readonly events: ThreadEvents;
  readonly pending: PendingRequests;
  readonly writer: ThreadWriter;
  readonly logger: Logger;
  readonly subscribers = new Set<string>();
  readonly sessionApprovals = new Set<string>();
  record: ThreadRecord;
  status: ThreadStatus = { type: "idle" };
  /** Reasoning summary mode chosen by the last turn/start that named one (not persisted). */
  summary: string | null = null;
  /** The thread's goal (`thread/goal/*`); held while the thread is loaded. */
  goal: ThreadGoal | null = null;
  lastTurnId: string | null;
  /** True once the actor stopped taking commands (unloading or unloaded). */
  closed = false;
  #unloading: Promise<void> | null = null;
  #turn: ActiveTurn | null = null;
  #dropped = false;
  #history: unknown[];
  #nextHistoryOrdinal: number;
  #nextItemOrdinal: number;
  #nextTurnOrdinal: number;
  readonly #mailbox: Mailbox<MailItem>;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActiveAt = performance.now();
  #commandSub: Subscription | null = null;
  /**
   * The settings as last handed to the writer: a row update carries them only when they changed, since
   * they hold the instructions (up to megabytes) and every turn end and unload updates the row.
   */
  #storedSettings: ThreadRecord["settings"];

  constructor(init: ThreadActorInit) {
    const s = init.services;
    this.services = s;
    this.tenant = init.tenant;
    this.record = init.record;
    this.#storedSettings = settingsSnapshot(init.record.settings);
    this.threadId = init.record.id;
    this.epoch = init.record.ownerEpoch;
    this.logger = s.logger.child({ tenant: init.tenant, threadId: this.threadId });
    const coalesced = hostMeshMetrics(s.telemetry.metrics).eventsCoalesced;
    this.events = new ThreadEvents({
      bus: s.bus,
      tenant: init.tenant,
      threadId: this.threadId,
      epoch: this.epoch,
      lastSeq: init.record.lastSeq,
      onPublishError: (err) => this.logger.warn({ err }, "event publish failed"),
      onBatch: (frames) => coalesced.inc(frames),
      isCurrent: () => s.leaseValid(),
      audience: () => threadAudience(this.record),
      answerers: () => threadAnswerers(this.record),
      recent: new RecentEvents(s.recentEvents),
      ...(s.deltaLinger !== null ? { linger: s.deltaLinger } : {}),
    });
    this.writer = new ThreadWriter({
      store: s.store,
      tenant: init.tenant,
      threadId: this.threadId,
      epoch: this.epoch,
      logger: this.logger,
      onStaleEpoch: () => {
        this.metrics.mesh.staleEpochRejections.inc();
        this.drop();
      },
    });
    this.pending = new PendingRequests(this.events, `${this.epoch}.`, this.writer);
    this.#history = init.history;
    this.#nextHistoryOrdinal = init.nextHistoryOrdinal;
    this.#nextItemOrdinal = init.nextItemOrdinal;
    this.#nextTurnOrdinal = init.nextTurnOrdinal;
    this.lastTurnId = init.lastTurnId;
    const maxWaitMs = s.config.limitsFor(init.tenant).requestQueueTimeoutMs;
    this.#mailbox = new Mailbox<MailItem>(s.config.mailboxCapacity, (item) => this.#handle(item), (err) => this.logger.error({ err }, "command failed"), {
      maxWaitMs,
      expired: (item) => {
        // Mesh notices (answers to approvals, closed connections) are never dropped: they keep the thread consistent.
        if (item.kind !== "command" || MESH_METHODS.has(item.env.method)) return false;
        replyError(item.msg, new OverloadedError(s.config.overloadRetryAfterMs, LimitReason.QueueTimeout), this.logger);
        return true;
      },
    });
  }

  /** The subscription of the thread's command subject, ended when the actor unloads. */
  attach(sub: Subscription): void {
    this.#commandSub = sub;
  }

  /** The turn running on the thread; its id is stamped on every event published while it runs. */
  get turn(): ActiveTurn | null {
    return this.#turn;
  }

  set turn(turn: ActiveTurn | null) {
    this.#turn = turn;
    this.events.activeTurn = turn?.id ?? null;
  }

  /** Queues a command; a full mailbox answers -32001 right away. */
  enqueue(env: CommandEnvelope, msg: BusMessage): void {
    if (this.#mailbox.offer({ kind: "command", env, msg })) return;
    replyError(msg, new OverloadedError(this.services.config.overloadRetryAfterMs, "threadMailboxFull"), this.logger);
  }

  // --- TurnContext -------------------------------------------------------------------------------

  get model() {
    return this.services.model;
  }
  get admission() {
    return this.services.admission;
  }
  get config() {
    return this.services.config;
  }
  get bwrapPath() {
    return this.services.bwrapPath;
  }
  get metrics(): HostMetrics {
    return hostMetrics(this.services.telemetry.metrics);
  }
  get dynamicTools(): unknown[] {
    return this.record.settings.dynamicTools ?? [];
  }

  history(): readonly unknown[] {
    return this.#history;
  }

  appendHistory(turnId: string, entries: unknown[]): void {
    // Frozen: a model request serialises each entry once and reuses that JSON (`itemJson`).
    const rows = entries.map((entry) => ({ turnId, ordinal: this.#nextHistoryOrdinal++, entry: deepFreeze(entry) }));
    this.#history.push(...entries);
    this.writer.appendHistory(rows);
  }

  recordItem(turnId: string, item: ThreadItem): void {
    this.writer.putItem({ turnId, ordinal: this.#nextItemOrdinal++, item });
  }

  setActiveFlags(flags: ThreadActiveFlag[]): void {
    this.setStatus({ type: "active", activeFlags: flags });
  }

  reportUsage(turn: ActiveTurn, usage: ModelUsage | null, rateLimits: RateLimitSnapshot | null = null): void {
    turn.unreportedUsage = null;
    if (usage) turn.emit("thread/tokenUsage/updated", { threadId: this.threadId, turnId: turn.id, tokenUsage: this.#addUsage(turn, usage) });
    turn.emit("account/rateLimits/updated", { rateLimits: rateLimits ?? defaultRateLimits() });
  }

  /** Adds a request's usage to the thread's token usage; returns the new usage. */
  #addUsage(turn: ActiveTurn, usage: ModelUsage): ThreadTokenUsage {
    const last = usageBreakdown(usage);
    const prev = this.record.tokenUsage?.total ?? emptyUsage();
    const tokenUsage: ThreadTokenUsage = { total: addUsage(prev, last), last, modelContextWindow: this.services.modelConfig.contextWindow };
    this.record.tokenUsage = tokenUsage;
    this.lastTurnId = turn.id;
    return tokenUsage;
  }

  /**
   * What Codex reports when a turn is interrupted or its response superseded (steer): the usage of the
   * turn's last completed request when its tool calls had not reported it yet (a command running or
   * waiting for approval), else the rate limits alone, a response cut short carrying no usage.
   */
  reportCutShort(turn: ActiveTurn): void {
    if (turn.finished) return;
    const u = turn.unreportedUsage;
    this.reportUsage(turn, u?.usage ?? null, u?.rateLimits ?? null);
  }

  async endTurn(turn: ActiveTurn, end: TurnEnd): Promise<void> {
    if (turn.finished) return;
    turn.finished = true;
    turn.abort.abort("interrupt");
    if (this.turn === turn) this.turn = null;
    this.services.turnsActive(-1);
    this.services.turnEnded?.(Date.now() - turn.startedAtMs);
    endTurnAdmission(this.services.admission, this.tenant, turn, this.logger);
    turn.endSpan(end.status, end.status === "failed" ? end.error.message : undefined);
    const completedAtMs = Date.now();
    const view = {
      id: turn.id,
      rootTurnId: turn.id,
      items: end.status === "completed" && turn.finalMessage ? [turn.finalMessage] : [],
      itemsView: end.status === "completed" ? "summary" : "notLoaded",
      status: end.status,
      error: end.status === "failed" ? end.error : null,
      startedAt: turn.startedAt,
      completedAt: nowSeconds(completedAtMs),
      durationMs: completedAtMs - turn.startedAtMs,
    } as const;
    if (end.status === "interrupted") this.appendHistory(turn.id, [turnAbortedEntry()]);
    if (end.status === "failed") {
      // The usage a failed or incomplete response reported counts in the thread's total it announces.
      if (end.usage) this.#addUsage(turn, end.usage);
      if (end.streamStarted) {
        if (this.record.tokenUsage) this.events.notify("thread/tokenUsage/updated", { threadId: this.threadId, turnId: turn.id, tokenUsage: this.record.tokenUsage });
        this.events.notify("account/rateLimits/updated", { rateLimits: defaultRateLimits() });
      }
      this.setStatus({ type: "systemError" });
      this.events.notify("error", { threadId: this.threadId, turnId: turn.id, error: end.error, willRetry: false });
    } else {
      this.setStatus({ type: "idle" });
    }
    this.events.notify("turn/completed", { threadId: this.threadId, turn: view });
    // Lifecycle cleanup resolves pending requests after turn/completed (§5.4).
    this.pending.cancelAll();
    this.writer.putTurn({ ...turn.row(), status: view.status, error: view.error, completedAt: view.completedAt, durationMs: view.durationMs });
    this.persistThread();
    this.touch();
    await this.writer.flush();
  }

  // --- thread state ------------------------------------------------------------------------------

  /** Sets the live status and publishes `thread/status/changed` (broadcast). */
  setStatus(status: ThreadStatus, dropSubscriptions = false): void {
    this.status = status;
    this.events.notify("thread/status/changed", { threadId: this.threadId, status }, dropSubscriptions);
  }

  /** Queues a write of the thread row: status, usage, settings (when they changed) and the last sequence number. */
  persistThread(patch: Partial<ThreadRecord> = {}): void {
    Object.assign(this.record, patch);
    this.record.updatedAt = nowSeconds();
    this.record.lastSeq = this.events.lastSeq;
    const r = this.record;
    const settingsChanged = !sameSettings(r.settings, this.#storedSettings);
    if (settingsChanged) this.#storedSettings = settingsSnapshot(r.settings);
    this.writer.updateThread({
      ...patch,
      status: this.status,
      tokenUsage: r.tokenUsage,
      ...(settingsChanged ? { settings: r.settings } : {}),
      cwd: r.cwd,
      updatedAt: r.updatedAt,
      lastSeq: r.lastSeq,
    });
  }

  nextTurnOrdinal(): number {
    return this.#nextTurnOrdinal++;
  }

  /**
   * Stops the actor: ends a running turn without notifications (stored as interrupted), stops taking
   * commands and stores the thread as not loaded. Intake stops at once (`closed`); the returned promise
   * settles once every write is stored and the host forgot the thread. Commands still queued are served
   * as for an unloaded thread. Notifications announcing the unload are the caller's.
   */
  unload(): Promise<void> {
    if (this.#unloading) return this.#unloading;
    this.closed = true;
    clearTimeout(this.#idleTimer);
    this.#commandSub?.unsubscribe();
    const turn = this.#stopTurn("interrupted");
    if (turn) {
      endTurnAdmission(this.services.admission, this.tenant, turn, this.logger);
      this.appendHistory(turn.id, [turnAbortedEntry()]);
      const now = Date.now();
      this.writer.putTurn({ ...turn.row(), status: "interrupted", completedAt: nowSeconds(now), durationMs: now - turn.startedAtMs });
    }
    this.pending.cancelAll();
    this.status = { type: "notLoaded" };
    this.persistThread();
    this.#unloading = this.writer.flush().then(() => this.#unloaded());
    return this.#unloading;
  }

  /**
   * Lets go of the thread at shutdown the way a lost owner would, so that another host adopts it: a
   * running turn stops here (its model request and commands are aborted) without being ended, and
   * nothing more is published or written for it; the adopting host continues the turn from its last
   * safe point or ends it interrupted. A thread without a running turn unloads as usual. Settles once
   * the writes already issued are stored and the host gave the owner entry back.
   */
  handOver(): Promise<void> {
    if (this.#unloading) return this.#unloading;
    if (!this.turn) return this.unload();
    this.closed = true;
    clearTimeout(this.#idleTimer);
    this.#commandSub?.unsubscribe();
    // Deltas still batched go out first: the event window is what the adopting host continues from.
    this.events.flush();
    this.events.silence();
    // The stream may store those events after the adopter reads its tail: the thread row names the last
    // seq used, so the adopter numbers after it either way (a stale tail repeated seqs clients had).
    this.writer.updateThread({ lastSeq: this.events.lastSeq, updatedAt: nowSeconds() });
    this.writer.stop();
    this.#stopTurn("handedOver");
    this.pending.cancelAll();
    this.#unloading = this.writer.flush().then(() => this.#unloaded());
    return this.#unloading;
  }

  #unloaded(): void | Promise<void> {
    this.events.forgetRecent();
    return this.services.unloaded(this.tenant, this.threadId);
  }

  /** Ends the running turn at once (no `turn/completed`): aborts its work and closes its span. */
  #stopTurn(spanStatus: string): ActiveTurn | null {
    const turn = this.turn;
    if (!turn) return null;
    turn.finished = true;
    turn.abort.abort("interrupt");
    this.turn = null;
    this.services.turnsActive(-1);
    // Handed over or dropped, the turn's slot and reservation stay for the host that adopts it.
    this.services.admission?.forget(turn.id);
    turn.endSpan(spanStatus);
    return turn;
  }

  /**
   * Lets go of a thread another host owns now, or may own (this host's lease lapsed): intake stops, a
   * running turn ends, and nothing more is written or published. Commands still queued get no answer:
   * they reached the new owner too, and it answers them.
   */
  drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.closed = true;
    clearTimeout(this.#idleTimer);
    this.#commandSub?.unsubscribe();
    this.events.silence();
    this.writer.stop();
    this.#stopTurn("dropped");
    this.pending.cancelAll();
    // An unload in progress finishes on its own; its writes are fenced if another host took over.
    if (!this.#unloading) {
      this.#unloading = Promise.resolve();
      this.services.dropped(this.tenant, this.threadId);
    }
    this.logger.warn({ epoch: this.epoch }, "thread dropped: another host owns it");
  }

  /** `performance.now()` of the last activity. */
  get lastActiveAt(): number {
    return this.#lastActiveAt;
  }

  /**
   * Unloads the thread now if nobody uses it (no subscriber, no turn, nothing queued), as the idle
   * timer would: `thread/status/changed {notLoaded}` then `thread/closed`. False when it is in use.
   */
  async evictIfIdle(): Promise<boolean> {
    if (this.closed || this.turn || this.subscribers.size > 0 || this.#mailbox.busy) return false;
    this.setStatus({ type: "notLoaded" });
    this.events.notify("thread/closed", { threadId: this.threadId }, true);
    await this.unload();
    return true;
  }

  /** Records activity and re-evaluates idle unloading: armed while nobody is subscribed and no turn runs. */
  touch(): void {
    this.#lastActiveAt = performance.now();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.closed || this.turn || this.subscribers.size > 0) return;
    this.#idleTimer = setTimeout(() => this.#mailbox.offer({ kind: "idleCheck" }), this.services.config.threadUnloadDelayMs);
    this.#idleTimer.unref();
  }

  async #handle(item: MailItem): Promise<void> {
    if (this.closed) {
      if (item.kind === "command" && !this.#dropped) this.services.redispatch(this.tenant, item.env, item.msg);
      return;
    }
    if (item.kind === "idleCheck") {
      if (this.turn || this.subscribers.size > 0) return;
      this.setStatus({ type: "notLoaded" });
      this.events.notify("thread/closed", { threadId: this.threadId }, true);
      await this.unload();
      return;
    }
    const { env, msg } = item;
    // It waited behind the thread's earlier commands until its sender gave up on it.
    const late = deadlineRefusal(env, this.services.config.overloadRetryAfterMs);
    if (late !== null) {
      replyError(msg, late, this.logger);
      return;
    }
    // A turn's announcement held behind its model request is part of what the next command sees.
    this.events.announceNow();
    await inCommandContext(msg, () => serve(msg, this.logger, () => threadCommand(this, env)));
    this.touch();
  }
}
