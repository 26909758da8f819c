import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openCreditStore, openTenantStore, type KyselyCreditStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { costAt, formatCredits, type Plan } from "@threadmesh/ratelimit";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { eventually } from "../support/eventually.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";

type Json = Record<string, any>;

/** Output tokens each model request may produce in these tests: reservations stay small and known. */
const MAX_OUTPUT_TOKENS = 1_000;
/** The built-in price of the default model, micro-credits per million tokens. */
const PRICE = { inputPerMillion: 1_250_000, cachedInputPerMillion: 125_000, outputPerMillion: 10_000_000 };

const plan = (id: string, over: Partial<Plan>): Plan => ({
  id,
  name: id,
  planType: "pro",
  priorityClass: 1,
  unlimited: false,
  primary: null,
  secondary: null,
  maxTurnsPerTenant: 10,
  maxTurnsPerUser: 10,
  burstPerKey: 1_000,
  burstPerTenant: 1_000,
  ...over,
});

const text = (t: string) => [{ type: "text", text: t }];

/**
 * Admission through a real router and session host (both topologies) with the model simulator: refused
 * turn/starts, a turn whose next round is refused, settlement against the ledgers, the snapshot clients
 * read, and the concurrency limit under 100 parallel turn/starts.
 */
export function describeAdmission(kind: TopologyKind): void {
  describe(`admission end to end (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    let tenants: KyselyTenantStore;
    let credits: KyselyCreditStore;
    /** The distributed topology's hosts count burst limits in this redis-server. */
    let redis: RedisServer | null = null;
    const clients: TestClient[] = [];
    const keys: Record<string, string> = {};

    const connect = async (tenant: string): Promise<TestClient> => {
      const c = await TestClient.initialized(topo.url, { token: keys[tenant]!, name: tenant });
      clients.push(c);
      return c;
    };
    const startThread = async (c: TestClient): Promise<string> => (await c.call("thread/start", {})).thread.id as string;

    before(async () => {
      sim = await startModelSim({ port: 0 });
      if (kind === "distributed") {
        redis = await startRedisServer();
        if (redis === null) throw new Error("redis-server is missing");
      }
      const extraEnv: Record<string, string> = { ...OPERATOR_CAPS_ENV, THREADMESH_MAX_OUTPUT_TOKENS: String(MAX_OUTPUT_TOKENS), THREADMESH_ADMIN_PORT: "0" };
      if (redis !== null) extraEnv.THREADMESH_REDIS_URL = redis.url;
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
      tenants = await openTenantStore({ url: topo.databaseUrl, migrate: false, lastUsedFlushMs: 3_600_000 });
      credits = await openCreditStore({ url: topo.databaseUrl, migrate: false });
      await credits.putPlan(plan("credits-only", {}));
      await credits.putPlan(plan("tiny-window", { primary: { windowMins: 300, budget: 1 }, secondary: { windowMins: 10_080, budget: 1_000_000 } }));
      await credits.putPlan(plan("three-at-once", { maxTurnsPerTenant: 3, maxTurnsPerUser: 3 }));
      await credits.putPlan(plan("two-per-second", { burstPerKey: 2, burstPerTenant: 1_000 }));
      for (const [id, planId] of [
        ["broke", "credits-only"],
        ["windowed", "tiny-window"],
        ["midway", "credits-only"],
        ["busy", "three-at-once"],
        ["bursty", "two-per-second"],
        ["cutshort", "credits-only"],
      ] as const) {
        await tenants.createTenant({ id, name: id, plan: planId });
        keys[id] = (await tenants.createApiKey({ tenantId: id, name: `${id}-key` })).secret;
      }
      await credits.topUp("midway", 20_000, "midway-first", Date.now());
      await credits.topUp("busy", 1_000_000_000, "busy-first", Date.now());
      await credits.topUp("bursty", 1_000_000_000, "bursty-first", Date.now());
      await credits.topUp("cutshort", 20_000, "cutshort-first", Date.now());
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await credits?.close();
      await tenants?.close();
      await topo?.stop();
      await redis?.kill();
      await sim?.close();
    });

    test("a tenant without credits is refused at turn/start with the reason, when to retry and its snapshot", async () => {
      const c = await connect("broke");
      const threadId = await startThread(c);
      const r = await c.request("turn/start", { threadId, input: text("hello") });
      assert.equal(r.error?.code, -32001);
      assert.match(r.error.message, /credits are used up/);
      assert.equal(r.error.data.reason, "creditsDepleted");
      assert.equal(r.error.data.retryAfterMs, null);
      assert.equal(r.error.data.codexErrorInfo, "usageLimitExceeded");
      assert.equal(r.error.data.rateLimits.credits.hasCredits, false);
      assert.equal(r.error.data.rateLimits.credits.unlimited, false);
      assert.equal(r.error.data.rateLimits.planType, "pro");
      assert.match(r.error.data.rateLimits.rateLimitReachedType, /credits_depleted$/);
      // Nothing was started: the model never heard of the thread.
      assert.equal(sim.requests(threadId).length, 0);
      const read = await c.call("thread/read", { threadId, includeTurns: true });
      assert.equal(read.thread.turns.length, 0);
      assert.deepEqual(c.schemaViolations, []);
    });

    test("a used-up plan window refuses turn/start until the window resets", async () => {
      const c = await connect("windowed");
      const threadId = await startThread(c);
      const before = Date.now();
      const r = await c.request("turn/start", { threadId, input: text("hello") });
      assert.equal(r.error?.code, -32001);
      assert.equal(r.error.data.reason, "primaryWindow");
      assert.ok(r.error.data.retryAfterMs > 0 && r.error.data.retryAfterMs <= 300 * 60_000, `retryAfterMs ${r.error.data.retryAfterMs}`);
      const primary = r.error.data.rateLimits.primary;
      assert.equal(primary.windowDurationMins, 300);
      assert.ok(primary.resetsAt * 1000 >= before, "resetsAt is ahead");
      assert.match(r.error.data.rateLimits.rateLimitReachedType, /usage_limit_reached$/);
      assert.deepEqual(c.schemaViolations, []);
    });

    test("a turn whose next round is refused ends failed with the error and rate-limit notifications; settlement equals priced usage", async () => {
      const c = await connect("midway");
      const threadId = await startThread(c);
      const usage = { inputTokens: 100, cachedTokens: 0, outputTokens: MAX_OUTPUT_TOKENS };
      sim.script(threadId, [
        { output: [{ type: "function_call", name: "update_plan", callId: "call-plan", arguments: { plan: [{ step: "think", status: "in_progress" }] } }], usage },
        { output: [{ type: "message", text: "never sent" }] },
      ]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: text("go") });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "failed");
      assert.equal(completed.params.turn.error.codexErrorInfo, "usageLimitExceeded");

      const error = await c.waitFor((f) => f.method === "error" && f.params.turnId === turn.id, { from });
      assert.equal(error.params.willRetry, false);
      assert.equal(error.params.error.codexErrorInfo, "usageLimitExceeded");
      const updates = c.frames.slice(from).filter((f) => f.method === "account/rateLimits/updated");
      // One after the first round (settled), one with the refusal.
      assert.equal(updates.length, 2);
      const cost = costAt(PRICE, { inputTokens: 100, cachedInputTokens: 0, outputTokens: MAX_OUTPUT_TOKENS });
      assert.equal(updates[0]!.params.rateLimits.credits.balance, formatCredits(20_000 - cost));
      assert.equal(updates[0]!.params.rateLimits.rateLimitReachedType, null);
      assert.match(updates[1]!.params.rateLimits.rateLimitReachedType, /credits_depleted$/);
      const order = c.methods(from).filter((m) => m === "account/rateLimits/updated" || m === "error" || m === "turn/completed");
      assert.deepEqual(order, ["account/rateLimits/updated", "account/rateLimits/updated", "error", "turn/completed"]);
      // Only the first round reached the model.
      assert.equal(sim.requests(threadId).length, 1);
      assert.equal(sim.requests(threadId)[0]?.max_output_tokens, MAX_OUTPUT_TOKENS);

      // The ledgers agree, the first round was charged its priced usage once, nothing stays reserved.
      await eventually(async () => (await credits.activeTurns("midway", Date.now())) === 0, "the turn's slot is freed");
      const [report] = await credits.reconcile("midway");
      assert.ok(report!.ok, report!.problems.join("; "));
      assert.equal(report!.totals.usageEvents, 1);
      assert.equal(report!.totals.billed, cost);
      assert.equal(report!.totals.balance, 20_000 - cost);
      assert.equal(report!.totals.reservedInFlight, 0);

      // account/rateLimits/read shows the same figures.
      const read = await c.call("account/rateLimits/read");
      assert.equal(read.rateLimits.credits.balance, formatCredits(20_000 - cost));
      assert.equal(read.rateLimits.credits.hasCredits, true);
      assert.equal(read.rateLimits.credits.unlimited, false);
      assert.equal(read.rateLimits.planType, "pro");
      assert.deepEqual(c.schemaViolations, []);
    });

    test("a response that ends incomplete is charged the usage it reported, once, and nothing stays reserved", async () => {
      const c = await connect("cutshort");
      const threadId = await startThread(c);
      const usage = { inputTokens: 150, cachedTokens: 0, outputTokens: 40 };
      sim.script(threadId, [{ output: [{ type: "message", text: "cut by the token limit" }], usage, fail: { kind: "incomplete" } }]);
      const from = c.frames.length;
      const { turn } = await c.call("turn/start", { threadId, input: text("go") });
      const completed = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
      assert.equal(completed.params.turn.status, "failed");
      const cost = costAt(PRICE, { inputTokens: 150, cachedInputTokens: 0, outputTokens: 40 });
      await eventually(async () => (await credits.activeTurns("cutshort", Date.now())) === 0, "the turn's slot is freed");
      const [report] = await eventually(async () => {
        const r = await credits.reconcile("cutshort");
        return r[0]!.totals.usageEvents === 1 && r;
      }, "the incomplete response's usage is settled");
      assert.ok(report!.ok, report!.problems.join("; "));
      assert.equal(report!.totals.billed, cost);
      assert.equal(report!.totals.balance, 20_000 - cost);
      assert.equal(report!.totals.reservedInFlight, 0);
      assert.deepEqual(c.schemaViolations, []);
    });

    test("what the Codex terminal client's /status reads: a plan account, then both windows with their duration, use and reset", async () => {
      const c = await connect("windowed");
      // The terminal client fetches and shows limits only for a plan ("chatgpt") account.
      const account = await c.call("account/read", { refreshToken: false });
      assert.deepEqual(account.account, { type: "chatgpt", email: null, planType: "pro", workspaceName: null });
      assert.equal(account.requiresOpenaiAuth, true);
      const read = await c.call("account/rateLimits/read");
      const { primary, secondary } = read.rateLimits;
      assert.equal(read.rateLimits.limitId, "codex");
      assert.equal(read.rateLimits.limitName, "tiny-window");
      assert.equal(primary.windowDurationMins, 300);
      assert.equal(secondary.windowDurationMins, 10_080);
      // Nothing was spent (the window's 1 micro-credit is smaller than any request, so turns are refused).
      assert.equal(primary.usedPercent, 0);
      assert.equal(secondary.usedPercent, 0);
      const now = Date.now() / 1000;
      assert.ok(primary.resetsAt > now && primary.resetsAt <= now + 300 * 60, `primary resetsAt ${primary.resetsAt}`);
      assert.ok(secondary.resetsAt > now && secondary.resetsAt <= now + 10_080 * 60, `secondary resetsAt ${secondary.resetsAt}`);
      assert.deepEqual(read.rateLimitsByLimitId, { codex: read.rateLimits });

      const operator = await TestClient.initialized(topo.url, { token: topo.token });
      clients.push(operator);
      assert.equal((await operator.call("account/read", {})).account.type, "chatgpt");
      assert.deepEqual(c.schemaViolations, []);
      assert.deepEqual(operator.schemaViolations, []);
    });

    test("the operator token's tenant reads an unlimited snapshot", async () => {
      const c = await TestClient.initialized(topo.url, { token: topo.token });
      clients.push(c);
      const read = await c.call("account/rateLimits/read");
      assert.equal(read.rateLimits.credits.unlimited, true);
      assert.equal(read.rateLimits.credits.hasCredits, true);
      assert.deepEqual(c.schemaViolations, []);
    });

    test("100 parallel turn/starts of one tenant never run more turns than its concurrency limit", async () => {
      const conns = await Promise.all([0, 1, 2, 3].map(() => connect("busy")));
      const threads: Array<{ c: TestClient; threadId: string }> = [];
      for (const c of conns) {
        const ids = await Promise.all(Array.from({ length: 25 }, () => startThread(c)));
        for (const threadId of ids) {
          // Turns stay running until their answer comes: long enough for every turn/start to be decided.
          sim.script(threadId, [{ ttftMs: 3_000, output: [{ type: "message", text: "done" }] }]);
          threads.push({ c, threadId });
        }
      }
      const froms = conns.map((c) => c.frames.length);
      const answers = await Promise.all(threads.map(({ c, threadId }) => c.request("turn/start", { threadId, input: text("go") })));
      const admitted = answers.filter((a) => a.result !== undefined);
      const refused = answers.filter((a) => a.error !== undefined);
      for (const r of refused) {
        assert.equal(r.error.code, -32001);
        assert.equal(r.error.data.reason, "tenantConcurrency");
        assert.equal(r.error.data.codexErrorInfo, "rateLimitExceeded");
      }
      assert.ok(admitted.length >= 1 && admitted.length <= 3, `${admitted.length} turns admitted`);
      assert.equal(admitted.length + refused.length, 100);
      assert.ok((await credits.activeTurns("busy", Date.now())) <= 3);
      // Every admitted turn completes and gives its slot back.
      await Promise.all(
        answers.map((a, i) => {
          if (a.result === undefined) return undefined;
          const c = threads[i]!.c;
          return c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === a.result.turn.id, { from: froms[conns.indexOf(c)]! });
        }),
      );
      await eventually(async () => (await credits.activeTurns("busy", Date.now())) === 0, "every slot is freed");
      const [report] = await credits.reconcile("busy");
      assert.ok(report!.ok, report!.problems.join("; "));
      assert.equal(report!.totals.usageEvents, admitted.length);
      for (const c of conns) assert.deepEqual(c.schemaViolations, []);
    });

    test("a key sending more turn/starts per second than its plan allows is refused as a rate limit", async () => {
      const c = await connect("bursty");
      const threads = await Promise.all(Array.from({ length: 8 }, () => startThread(c)));
      for (const threadId of threads) sim.script(threadId, [{ output: [{ type: "message", text: "ok" }] }]);
      const answers = await Promise.all(threads.map((threadId) => c.request("turn/start", { threadId, input: text("go") })));
      const refused = answers.filter((a) => a.error !== undefined);
      assert.ok(refused.length >= 1, "8 turn/starts at once exceed 2 per second");
      for (const r of refused) {
        assert.equal(r.error.code, -32001);
        assert.equal(r.error.data.reason, "burstKey");
        assert.equal(r.error.data.codexErrorInfo, "rateLimitExceeded");
        assert.ok(r.error.data.retryAfterMs > 0 && r.error.data.retryAfterMs <= 1_000, `retryAfterMs ${r.error.data.retryAfterMs}`);
        assert.equal(r.error.data.rateLimits.rateLimitReachedType, "rate_limit_reached");
      }
      if (redis !== null) {
        // The hosts counted in the shared Redis, not each on its own.
        const client = new Redis(redis.url, { lazyConnect: true });
        await client.connect();
        try {
          assert.ok((await client.keys("tm:burst:key:2:*")).length >= 1);
        } finally {
          client.disconnect();
        }
      }
      assert.deepEqual(c.schemaViolations, []);
    });
  });
}
