import { InvalidRequestError, OverloadedError, RpcError, newId, nowSeconds, sandboxPolicyFromMode, type AskForApproval, type CommandEnvelope, type SandboxPolicy, type UserInput } from "@threadmesh/protocol";
import { refusalToRpcError } from "@threadmesh/ratelimit";
import { originUser } from "../access/thread-access.ts";
import { estimateInputTokens } from "../admission/turn-admission.ts";
import { deadlineRefusal } from "../command-deadline.ts";
import type { TurnRecord } from "@threadmesh/persistence";
import type { CommandOutcome } from "../command-outcome.ts";
import type { ThreadActor } from "../thread-actor.ts";
import { normalizeSandboxPolicy } from "../thread-settings.ts";
import { checkTurnPolicy, type CheckedTurnPolicy, type TenantPolicy } from "../policy/thread-policy.ts";
import { turnProfileSandboxMode } from "../policy/permission-profiles.ts";
import { TURN_FIELDS, TURN_PROFILE_FIELDS } from "../policy/policy-caps.ts";
import { builtinToolSpecs, dynamicToolSpecs } from "../tools/tool-specs.ts";
import { ActiveTurn, type QueuedInput, type TurnSettings } from "../turn/active-turn.ts";
import { previewOf, userMessageEntry } from "../turn/history-items.ts";
import { sameSettings, settingsSnapshot } from "../settings-change.ts";
import { threadSettingsView } from "../thread-view.ts";
import { TurnTrace } from "../turn/turn-trace.ts";
import { emitUserItem, runTurn } from "../turn/turn-runner.ts";
import type { TurnInterruptParams, TurnStartParams, TurnSteerParams } from "../params.ts";

/** When a `turn/start` refused by a draining host may be retried: by then its idle thread moved, ms. */
const DRAINING_RETRY_AFTER_MS = 250;

/**
 * `turn/start`: replies `{turn}` first, then `thread/status/changed {active}`, `turn/started` and the
 * user message; the agent loop runs as the actor's turn task. On a busy thread the input joins the
 * active turn like a steer and the active turn is returned.
 */
export function turnStart(actor: ThreadActor, p: TurnStartParams, env?: CommandEnvelope): CommandOutcome | Promise<CommandOutcome> {
  if (actor.services.draining) {
    // With another live host, an idle thread lets go of this one at once, so that the retry finds it
    // adopted there; a running turn's input waits for the turn to be handed over or to end.
    if (actor.turn === null && actor.services.handsOver()) setImmediate(() => void actor.handOver().catch((err: unknown) => actor.logger.warn({ err }, "handing an idle thread over while draining failed")));
    throw new OverloadedError(DRAINING_RETRY_AFTER_MS, "serverShuttingDown", "Server is draining; retry shortly");
  }
  if (actor.turn === null) {
    const overloaded = actor.services.turnCapacity.refusal();
    if (overloaded !== null) throw overloaded;
  }
  if (actor.services.admission !== null) return admitTurnStart(actor, p, env);
  return startTurn(actor, p, env, null, newId());
}

/**
 * `turn/start` through the credit waterfall: a new turn takes its slot and reserves its first model
 * request before the reply (a refusal answers -32001 with `data: {reason, retryAfterMs, rateLimits,
 * codexErrorInfo}` and changes nothing); input joining a running turn passes the burst stage.
 */
async function admitTurnStart(actor: ThreadActor, p: TurnStartParams, env: CommandEnvelope | undefined): Promise<CommandOutcome> {
  const admission = actor.services.admission!;
  const payer = await admission.payer(actor.tenant, env?.origin ?? {});
  const model = p.model ?? actor.record.settings.model;
  const running = actor.turn;
  if (running) {
    const refusal = await admission.admitSteer(payer, running.id, model);
    if (refusal !== null) throw refusalToRpcError(refusal);
    return startTurn(actor, p, env, payer, newId());
  }
  const turnId = newId();
  const instructions = actor.record.settings.baseInstructions ?? actor.services.config.instructions;
  const tools = [...builtinToolSpecs(actor.record.settings.disabledTools ?? []), ...dynamicToolSpecs(actor.dynamicTools)];
  const inputTokens = estimateInputTokens({ instructions, input: [...actor.history(), p.input], tools });
  const { refusal } = await admission.admitTurn(payer, turnId, model, inputTokens);
  if (refusal !== null) throw refusalToRpcError(refusal);
  try {
    return await startTurn(actor, p, env, payer, turnId);
  } catch (err) {
    await admission.abandon(actor.tenant, turnId);
    throw err;
  }
}

function startTurn(actor: ThreadActor, p: TurnStartParams, env: CommandEnvelope | undefined, payer: ActiveTurn["payer"], turnId: string): CommandOutcome | Promise<CommandOutcome> {
  // The last point before the turn (or the input joining one) takes effect: a request whose caller
  // stopped waiting while it queued or was admitted starts nothing.
  const late = env === undefined ? null : deadlineRefusal(env, actor.config.overloadRetryAfterMs);
  if (late !== null) throw late;
  const queued: QueuedInput = { input: p.input as UserInput[], clientId: p.clientUserMessageId ?? null };
  if (actor.turn) {
    actor.turn.steer(queued);
    return { result: { turn: actor.turn.startView() } };
  }
  const before = { settings: settingsSnapshot(actor.record.settings), cwd: actor.record.cwd, summary: actor.summary };
  const settings = applyTurnOverrides(actor, p);
  if (!sameSettings(before.settings, actor.record.settings) || before.cwd !== actor.record.cwd || before.summary !== actor.summary) {
    // Before the reply, as Codex: only when the overrides changed what the thread runs with.
    actor.events.notify("thread/settings/updated", { threadId: actor.threadId, threadSettings: threadSettingsView(actor.record, actor.summary) });
  }
  // Started in the turn/start command's trace context (the thread actor runs commands in it).
  const spans = new TurnTrace(actor.services.telemetry.tracer, { tenant: actor.tenant, threadId: actor.threadId, turnId }, { "gen_ai.request.model": settings.model });
  const turn = new ActiveTurn(turnId, actor.nextTurnOrdinal(), settings, spans, (method, params) => actor.events.notify(method, params));
  turn.startedBy = originUser(env?.origin);
  if (payer !== null) {
    // turn/start reserved the first model request.
    turn.payer = payer;
    turn.heldRound = 0;
  }
  actor.turn = turn;
  actor.services.turnsActive(1);
  const r = actor.record;
  const first = !r.materialized;
  actor.writer.putTurn(turn.row());
  if (first) actor.persistThread({ materialized: true, preview: r.preview || previewOf(queued.input) });
  const outcome: CommandOutcome = {
    result: { turn: turn.startView() },
    afterReply: async () => {
      actor.persistThread();
      // The model request goes out first: the turn's announcement (active status, turn/started and the
      // user message, as one bus message after the status) is held until the request is on its way, and
      // comes out before anything else the thread raises meanwhile.
      actor.events.announce(() => announceTurn(actor, turn, queued));
      const entry = await userMessageEntry(queued.input);
      if (turn.finished) return actor.events.announceNow();
      actor.appendHistory(turn.id, [entry]);
      void runTurn(actor, turn, [...builtinToolSpecs(actor.record.settings.disabledTools ?? []), ...dynamicToolSpecs(actor.dynamicTools)]);
      // runTurn sends the request from the microtasks it chains; the loop's next turn comes after them.
      setImmediate(() => actor.events.announceNow());
    },
  };
  // A thread's first turn makes it listed: the thread and the turn are stored before the reply, so a
  // client that saw the turn finds the thread in thread/list on any host. Later turns do not wait.
  return first ? actor.writer.flush().then(() => startedInTime(actor, turn, env, outcome)) : outcome;
}

/**
 * A thread's first turn once its writes are stored: the outcome, or, when the store took the request
 * past its deadline, a refusal for a turn that never runs (nothing of it was published; it is stored
 * as interrupted and its slot is given back).
 */
function startedInTime(actor: ThreadActor, turn: ActiveTurn, env: CommandEnvelope | undefined, outcome: CommandOutcome): CommandOutcome {
  const late = env === undefined ? null : deadlineRefusal(env, actor.config.overloadRetryAfterMs);
  if (late === null) return outcome;
  // A lapsed lease or an unload ended it meanwhile: nothing is left to withdraw.
  if (turn.finished) throw late;
  turn.finished = true;
  if (actor.turn === turn) actor.turn = null;
  actor.services.turnsActive(-1);
  turn.endSpan("notStarted", "request past its deadline");
  const now = Date.now();
  actor.writer.putTurn({ ...turn.row(), status: "interrupted", completedAt: nowSeconds(now), durationMs: now - turn.startedAtMs });
  actor.touch();
  throw late;
}

/**
 * Runs on a turn a previous owner left at a safe point (see `continuable`): same id, ordinal and start
 * time, the thread's current settings with the turn's stored `outputSchema`, and a new model request
 * with the history as stored. Its clients saw `turn/started` from the previous owner; they now see the
 * thread active again, the rest of the turn, and its `turn/completed`.
 */
export function continueTurn(actor: ThreadActor, record: TurnRecord): void {
  const policy = tenantPolicy(actor);
  const s = actor.record.settings;
  let checked: CheckedTurnPolicy;
  try {
    checked = checkTurnPolicy(policy, actor.threadId, { cwd: actor.record.cwd, approvalPolicy: s.approvalPolicy as AskForApproval, sandbox: s.sandbox as SandboxPolicy });
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    endRefusedTurn(actor, record, err.message);
    return;
  }
  const settings = turnSettings(actor, (record.outputSchema ?? undefined) as TurnStartParams["outputSchema"], policy, checked);
  const spans = new TurnTrace(actor.services.telemetry.tracer, { tenant: actor.tenant, threadId: actor.threadId, turnId: record.id }, { "gen_ai.request.model": settings.model });
  const startedAtMs = record.startedAt === null ? Date.now() : record.startedAt * 1000;
  const turn = new ActiveTurn(record.id, record.ordinal, settings, spans, (method, params) => actor.events.notify(method, params), startedAtMs);
  turn.startedBy = record.startedBy ?? null;
  actor.turn = turn;
  actor.services.turnsActive(1);
  actor.setActiveFlags([]);
  actor.logger.info({ turnId: turn.id }, "continuing a turn the previous owner left at a safe point");
  const tools = [...builtinToolSpecs(actor.record.settings.disabledTools ?? []), ...dynamicToolSpecs(actor.dynamicTools)];
  const admission = actor.services.admission;
  if (admission === null) {
    void runTurn(actor, turn, tools);
    return;
  }
  // The turn keeps its slot and its reservation keys: rounds already settled are not charged again.
  void admission.adopt(actor.tenant, turn.id).then(
    ({ payer, nextRound }) => {
      turn.payer = payer;
      turn.modelRound = nextRound;
      return runTurn(actor, turn, tools);
    },
    async (err: unknown) => {
      actor.logger.error({ err, turnId: turn.id }, "continuing a turn's admission failed");
      await actor.endTurn(turn, { status: "failed", error: { message: "turn not continued: its credits could not be read", codexErrorInfo: "other", additionalDetails: null, misalignment: null }, streamStarted: false });
    },
  );
}

/** `turn/steer`: queues input for the active turn's next model request. */
export async function turnSteer(actor: ThreadActor, p: TurnSteerParams, env?: CommandEnvelope): Promise<CommandOutcome> {
  let turn = actor.turn;
  if (!turn) throw new InvalidRequestError("no active turn to steer");
  if (p.expectedTurnId !== turn.id) throw new InvalidRequestError(`expected active turn id \`${p.expectedTurnId}\` but found \`${turn.id}\``);
  const admission = actor.services.admission;
  if (admission !== null) {
    const refusal = await admission.admitSteer(await admission.payer(actor.tenant, env?.origin ?? {}), turn.id, turn.settings.model);
    if (refusal !== null) throw refusalToRpcError(refusal);
    // The turn may have ended while admission decided.
    turn = actor.turn;
    if (!turn || p.expectedTurnId !== turn.id) throw new InvalidRequestError("no active turn to steer");
  }
  turn.steer({ input: p.input as UserInput[], clientId: p.clientUserMessageId ?? null });
  return { result: { turnId: turn.id } };
}

/** `turn/interrupt`: replies `{}`, then ends the turn as interrupted (§5.4). */
export function turnInterrupt(actor: ThreadActor, p: TurnInterruptParams): CommandOutcome {
  const turn = actor.turn;
  if (!turn) throw new InvalidRequestError("no active turn to interrupt");
  if (p.turnId !== turn.id) throw new InvalidRequestError(`expected active turn id ${p.turnId} but found ${turn.id}`);
  // Before the reply, as Codex: the usage the turn has not reported, else the rate limits.
  actor.reportCutShort(turn);
  return { result: {}, afterReply: () => actor.endTurn(turn, { status: "interrupted" }) };
}

/**
 * Applies turn/start overrides to the thread (they persist for later turns) and fixes this turn's
 * settings. The effective cwd, approval policy and sandbox are checked against the tenant's workspace
 * and caps first; a refusal (-32602 naming the field) leaves the thread unchanged.
 */
function applyTurnOverrides(actor: ThreadActor, p: TurnStartParams): TurnSettings {
  const r = actor.record;
  const s = r.settings;
  const policy = tenantPolicy(actor);
  // A built-in permission profile stands for the sandbox it names, within the caps like `sandboxPolicy`.
  const profileMode = turnProfileSandboxMode(p);
  const requestedSandbox = profileMode
    ? sandboxPolicyFromMode(profileMode)
    : p.sandboxPolicy
      ? normalizeSandboxPolicy(p.sandboxPolicy as Record<string, unknown> & { type: string })
      : (s.sandbox as SandboxPolicy);
  const checked = checkTurnPolicy(
    policy,
    actor.threadId,
    { cwd: p.cwd ?? r.cwd, approvalPolicy: (p.approvalPolicy ?? s.approvalPolicy) as AskForApproval, sandbox: requestedSandbox },
    profileMode ? TURN_PROFILE_FIELDS : TURN_FIELDS,
  );
  if (p.cwd) r.cwd = checked.cwd;
  if (p.model) s.model = p.model;
  if (p.effort) s.reasoningEffort = p.effort;
  if (p.approvalPolicy) s.approvalPolicy = p.approvalPolicy;
  if (p.approvalsReviewer) s.approvalsReviewer = p.approvalsReviewer;
  if (profileMode || p.sandboxPolicy) {
    // The profile is reported back as `activePermissionProfile`; an explicit sandbox policy replaces it.
    s.sandbox = checked.sandbox;
    s.permissionProfile = profileMode ? p.permissions : null;
  }
  if (p.serviceTier) s.serviceTier = p.serviceTier;
  if (p.summary) actor.summary = p.summary;
  return turnSettings(actor, p.outputSchema, policy, checked);
}

function tenantPolicy(actor: ThreadActor): TenantPolicy {
  return { caps: actor.services.policyCaps(actor.tenant), bounds: actor.services.workspaceBounds(actor.tenant) };
}

/** A continued turn whose thread no longer fits the caps or workspace ends failed, saying why. */
function endRefusedTurn(actor: ThreadActor, record: TurnRecord, reason: string): void {
  const settings = turnSettings(actor, undefined, tenantPolicy(actor), { cwd: actor.record.cwd, sandbox: actor.record.settings.sandbox as SandboxPolicy });
  const spans = new TurnTrace(actor.services.telemetry.tracer, { tenant: actor.tenant, threadId: actor.threadId, turnId: record.id }, { "gen_ai.request.model": settings.model });
  const startedAtMs = record.startedAt === null ? Date.now() : record.startedAt * 1000;
  const turn = new ActiveTurn(record.id, record.ordinal, settings, spans, (method, params) => actor.events.notify(method, params), startedAtMs);
  actor.turn = turn;
  actor.services.turnsActive(1);
  actor.logger.warn({ turnId: turn.id, reason }, "not continuing a turn outside the tenant's policy");
  void actor.endTurn(turn, { status: "failed", error: { message: `turn not continued: ${reason}`, codexErrorInfo: null, additionalDetails: null, misalignment: null }, streamStarted: false });
}

/** `thread/status/changed {active}`, then `turn/started` and the user message as one bus message. */
function announceTurn(actor: ThreadActor, turn: ActiveTurn, queued: QueuedInput): void {
  actor.setActiveFlags([]);
  actor.events.cork();
  try {
    turn.emit("turn/started", { threadId: actor.threadId, turn: turn.startedView() });
    emitUserItem(actor, turn, queued);
  } finally {
    actor.events.uncork();
  }
}

/**
 * The settings a turn runs with: the thread's, after any overrides of its `turn/start`, with the cwd
 * and sandbox as checked and the caps and workspace bounds its tools obey.
 */
function turnSettings(actor: ThreadActor, outputSchema: TurnStartParams["outputSchema"], policy: TenantPolicy, checked: CheckedTurnPolicy): TurnSettings {
  const r = actor.record;
  const s = r.settings;
  return {
    model: s.model,
    effort: s.reasoningEffort,
    summary: actor.summary,
    approvalPolicy: s.approvalPolicy as AskForApproval,
    sandboxPolicy: checked.sandbox,
    caps: policy.caps,
    bounds: policy.bounds,
    cwd: checked.cwd,
    instructions: s.baseInstructions ?? actor.services.config.instructions,
    developerInstructions: s.developerInstructions,
    serviceTier: s.serviceTier,
    outputSchema,
  };
}
