import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openCreditStore, type KyselyCreditStore } from "@threadmesh/persistence";
import { costAt, DEFAULT_PLAN } from "@threadmesh/ratelimit";
import { CLUSTER_TENANT } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";
import { connect, failoverCluster, ownerOf, runTurn, text } from "./support.ts";

/** Liveness bound only (see failover.test.ts): a turn taken over after a 3 s lease that has not ended by then never will. */
const TURN_END_DEADLINE_MS = 60_000;
/** The built-in price of every model, micro-credits per million tokens. */
const PRICE = { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 };

/**
 * A session host killed mid-turn with admission on: the turn's concurrency slot follows it to the host
 * that adopts the thread (or is freed when the adopter ends the turn), and no round is charged twice.
 * The cluster's tenant runs on a plan of one turn at a time, so a leaked slot refuses the next turn.
 */
describe("failover with admission: one router, two session hosts, NATS, PostgreSQL", () => {
  const f = failoverCluster({ hosts: 2, extraEnv: { THREADMESH_MAX_OUTPUT_TOKENS: "1000" } });
  const { clients } = f;
  let credits: KyselyCreditStore;
  /** Usage events and billed micro-credits of the tenant so far. */
  let settled = { events: 0, billed: 0 };

  before(async () => {
    credits = await openCreditStore({ url: f.cluster.databaseUrl, migrate: false });
    await credits.putPlan({ ...DEFAULT_PLAN, unlimited: false, maxTurnsPerTenant: 1, maxTurnsPerUser: 1 });
    await credits.topUp(CLUSTER_TENANT, 1_000_000_000, "failover-credits", Date.now());
  });
  after(async () => {
    await credits?.close();
  });

  async function owner(threadId: string) {
    const entry = await ownerOf(f.cluster, threadId);
    return { entry, victim: f.cluster.host(entry.hostId) };
  }

  /** The ledgers agree; returns what was charged since the last call. */
  async function reconciled(): Promise<{ events: number; billed: number }> {
    const [report] = await credits.reconcile(CLUSTER_TENANT);
    assert.ok(report!.ok, report!.problems.join("; "));
    assert.equal(report!.totals.reservedInFlight, 0, "no reservation is left held");
    const delta = { events: report!.totals.usageEvents - settled.events, billed: report!.totals.billed - settled.billed };
    settled = { events: report!.totals.usageEvents, billed: report!.totals.billed };
    return delta;
  }

  test("SIGKILL mid-stream: the adopter continues the turn in the same slot and settles the cut-off round once", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", {})).thread.id as string;
    const usage = { inputTokens: 300, cachedTokens: 0, outputTokens: 40 };
    f.sim.script(threadId, [
      { output: [{ type: "message", text: ["cut ", "off ", "here"] }], fail: { kind: "hang", afterEvents: 6 } },
      { output: [{ type: "message", text: "after the crash" }], usage },
      { output: [{ type: "message", text: "and on" }], usage },
    ]);
    const { entry, victim } = await owner(threadId);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("a long story") });
    await c.waitFor((f) => f.method === "item/agentMessage/delta", { from });
    await c.call("thread/read", { threadId });
    assert.equal(await credits.activeTurns(CLUSTER_TENANT, Date.now()), 1);
    await victim.proc.kill();

    const ended = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: TURN_END_DEADLINE_MS });
    assert.equal(ended.params.turn.status, "completed");
    assert.equal(ended.epoch, entry.epoch + 1, "finished by the adopting host");
    const updated = c.frames.slice(from).filter((f) => f.method === "account/rateLimits/updated");
    assert.equal(updated.length, 1, "one settled round");
    assert.equal(updated[0]!.params.rateLimits.credits.unlimited, false);

    await eventually(async () => (await credits.activeTurns(CLUSTER_TENANT, Date.now())) === 0, "the adopter frees the slot at the turn's end");
    const charged = await reconciled();
    assert.deepEqual(charged, { events: 1, billed: costAt(PRICE, { inputTokens: 300, cachedInputTokens: 0, outputTokens: 40 }) }, "the round the dead host reserved is charged once, by the adopter");

    // One turn at a time: the slot was not leaked, so the next turn starts.
    const next = await runTurn(c, threadId, "go on");
    assert.equal(next.params.turn.status, "completed");
    assert.deepEqual(await reconciled(), { events: 1, billed: costAt(PRICE, { inputTokens: 300, cachedInputTokens: 0, outputTokens: 40 }) });
    await f.cluster.addHost();
  });

  test("SIGKILL while a command runs: the adopter ends the turn and frees its slot; the settled round is not charged again", async () => {
    const c = await connect(f.cluster, clients);
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "danger-full-access" })).thread.id as string;
    const usage = { inputTokens: 200, cachedTokens: 0, outputTokens: 20 };
    f.sim.script(threadId, [
      { output: [{ type: "function_call", name: "shell", callId: "call-cut", arguments: { command: ["bash", "-lc", "sleep 30"] } }], usage },
      { output: [{ type: "message", text: "after the crash" }], usage },
    ]);
    const { victim } = await owner(threadId);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId, input: text("run something long") });
    await c.waitFor((f) => f.method === "item/started" && f.params.item.type === "commandExecution", { from });
    await victim.proc.kill();

    const ended = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from, timeoutMs: TURN_END_DEADLINE_MS });
    assert.equal(ended.params.turn.status, "interrupted");
    await eventually(async () => (await credits.activeTurns(CLUSTER_TENANT, Date.now())) === 0, "the adopter frees the ended turn's slot");
    assert.deepEqual(await reconciled(), { events: 1, billed: costAt(PRICE, { inputTokens: 200, cachedInputTokens: 0, outputTokens: 20 }) });

    const next = await runTurn(c, threadId, "go on");
    assert.equal(next.params.turn.status, "completed");
    assert.deepEqual(await reconciled(), { events: 1, billed: costAt(PRICE, { inputTokens: 200, cachedInputTokens: 0, outputTokens: 20 }) });
    for (const cl of clients) assert.deepEqual(cl.schemaViolations, []);
  });
});
