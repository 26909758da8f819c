import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openCreditStore, openTenantStore, type KyselyCreditStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { TestClient } from "../support/ws-client.ts";
import { eventually } from "../support/eventually.ts";
import { testPlan } from "../support/plans.ts";

type Json = Record<string, any>;

const TENANT = "pool";
const PER_USER = 2;
const USERS = ["alice", "bob"] as const;
const text = (t: string) => [{ type: "text", text: t }];

/**
 * The shared-pool case: one tenant, several people. 100 parallel turn/starts from two users of one tenant
 * (50 each, over two connections each) never run more turns at once for a user than the plan's per-user
 * limit, though the tenant's own limit would allow more; the rest are refused as `userConcurrency`.
 */
function describeUserConcurrency(kind: TopologyKind): void {
  describe(`per-user concurrency (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    let redis: RedisServer | null = null;
    let tenants: KyselyTenantStore;
    let credits: KyselyCreditStore;
    const clients: TestClient[] = [];
    const keys: Record<string, string> = {};

    before(async () => {
      sim = await startModelSim({ port: 0 });
      if (kind === "distributed") {
        redis = await startRedisServer();
        if (redis === null) throw new Error("redis-server is missing");
      }
      const extraEnv: Record<string, string> = { THREADMESH_MAX_OUTPUT_TOKENS: "1000" };
      if (redis !== null) extraEnv.THREADMESH_REDIS_URL = redis.url;
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
      tenants = await openTenantStore({ url: topo.databaseUrl, migrate: false, lastUsedFlushMs: 3_600_000 });
      credits = await openCreditStore({ url: topo.databaseUrl, migrate: false });
      await credits.putPlan(testPlan("per-user", { primary: null, secondary: null, maxTurnsPerTenant: 10, maxTurnsPerUser: PER_USER }));
      await tenants.createTenant({ id: TENANT, name: "Pool", plan: "per-user" });
      for (const user of USERS) keys[user] = (await tenants.createApiKey({ tenantId: TENANT, name: user, userId: user })).secret;
      await credits.topUp(TENANT, 1_000_000_000, "pool-credits", Date.now());
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await credits?.close();
      await tenants?.close();
      await topo?.stop();
      await redis?.kill();
      await sim?.close();
    });

    test("100 parallel turn/starts of two users never run more turns per user than the per-user limit", async () => {
      const conns = await Promise.all(
        USERS.flatMap((user) => [0, 1].map(async () => ({ user, c: await TestClient.initialized(topo.url, { token: keys[user]!, name: user }) }))),
      );
      clients.push(...conns.map((x) => x.c));
      const starts: Array<{ user: string; c: TestClient; threadId: string }> = [];
      for (const { user, c } of conns) {
        const ids = await Promise.all(Array.from({ length: 25 }, async () => (await c.call("thread/start", {})).thread.id as string));
        for (const threadId of ids) {
          // Turns stay running until their answer comes: long enough for every turn/start to be decided.
          sim.script(threadId, [{ ttftMs: 6_000, output: [{ type: "message", text: "done" }] }]);
          starts.push({ user, c, threadId });
        }
      }
      const froms = new Map(conns.map(({ c }) => [c, c.frames.length]));
      const answers = await Promise.all(starts.map(({ c, threadId }) => c.request("turn/start", { threadId, input: text("go") })));
      assert.ok((await credits.activeTurns(TENANT, Date.now())) <= PER_USER * USERS.length);
      for (const user of USERS) {
        const mine = answers.filter((_, i) => starts[i]!.user === user);
        const admitted = mine.filter((a) => a.result !== undefined);
        assert.ok(admitted.length >= 1 && admitted.length <= PER_USER, `${admitted.length} turns of ${user} admitted`);
        for (const r of mine.filter((a) => a.error !== undefined)) {
          assert.equal(r.error.code, -32001);
          assert.equal(r.error.data.reason, "userConcurrency");
          assert.equal(r.error.data.codexErrorInfo, "rateLimitExceeded");
        }
        assert.equal(mine.length, 50);
      }
      // Every admitted turn completes and gives its slot back.
      await Promise.all(
        answers.map((a: Json, i) => {
          if (a.result === undefined) return undefined;
          const { c } = starts[i]!;
          return c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === a.result.turn.id, { from: froms.get(c)! });
        }),
      );
      await eventually(async () => (await credits.activeTurns(TENANT, Date.now())) === 0, "every slot is freed");
      const [report] = await credits.reconcile(TENANT);
      assert.ok(report!.ok, report!.problems.join("; "));
      for (const { c } of conns) assert.deepEqual(c.schemaViolations, []);
    });
  });
}

describeUserConcurrency("embedded");
describeUserConcurrency("distributed");
