import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { openCreditStore, openTenantStore, type KyselyCreditStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { connect, QuotaError, type ThreadmeshClient } from "@threadmesh/client";
import { startTopology, type Topology } from "../../../test/support/topology.ts";
import { testPlan } from "../../../test/support/plans.ts";
import { OPERATOR_CAPS_ENV } from "../../../test/support/policy-env.ts";

let sim: ModelSim;
let topo: Topology;
let tenants: KyselyTenantStore;
let credits: KyselyCreditStore;
const keys: Record<string, string> = {};
const clients: ThreadmeshClient[] = [];

const open = async (tenant: string, retry: { maxAttempts: number } | false): Promise<ThreadmeshClient> => {
  const c = await connect({ url: topo.url, token: keys[tenant]!, retry });
  clients.push(c);
  return c;
};

before(async () => {
  sim = await startModelSim({ port: 0 });
  const t = await startTopology("embedded", { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
  if (!t) throw new Error("the embedded topology did not start");
  topo = t;
  tenants = await openTenantStore({ url: topo.databaseUrl, migrate: false, lastUsedFlushMs: 3_600_000 });
  credits = await openCreditStore({ url: topo.databaseUrl, migrate: false });
  await credits.putPlan(testPlan("sdk-credits-only", { primary: null, secondary: null }));
  await credits.putPlan(testPlan("sdk-two-per-second", { primary: null, secondary: null, burstPerKey: 2 }));
  for (const [id, planId] of [
    ["sdk-broke", "sdk-credits-only"],
    ["sdk-bursty", "sdk-two-per-second"],
  ] as const) {
    await tenants.createTenant({ id, name: id, plan: planId });
    keys[id] = (await tenants.createApiKey({ tenantId: id, name: `${id}-key` })).secret;
  }
  await credits.topUp("sdk-bursty", 1_000_000_000, "sdk-bursty-first", Date.now());
});

after(async () => {
  for (const c of clients) c.close();
  await credits?.close();
  await tenants?.close();
  await topo?.stop();
  await sim?.close();
});

test("a tenant without credits gets a QuotaError with its reason and rate limits, not retried", async () => {
  const client = await open("sdk-broke", { maxAttempts: 5 });
  const thread = await client.thread.start({});
  await assert.rejects(thread.turn.start("hello"), (err: unknown) => {
    assert.ok(err instanceof QuotaError);
    assert.equal(err.code, -32001);
    assert.equal(err.reason, "creditsDepleted");
    assert.equal(err.retryAfterMs, null);
    assert.equal(err.retryable, false);
    assert.equal(err.rateLimits.credits?.hasCredits, false);
    assert.match(err.rateLimits.rateLimitReachedType ?? "", /credits_depleted$/);
    return true;
  });
  assert.equal(sim.requests(thread.id).length, 0, "nothing reached the model");
});

test("burst refusals carry retryAfterMs, and the SDK honours it when asked", async () => {
  const n = 8;
  const plain = await open("sdk-bursty", false);
  const threads = await Promise.all(Array.from({ length: n }, () => plain.thread.start({})));
  for (const t of threads) sim.script(t.id, [{ output: [{ type: "message", text: "ok" }] }]);
  const outcomes = await Promise.allSettled(threads.map((t) => t.turn.start("go")));
  const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
  assert.ok(refused.length >= 1, `${n} turn/starts at once exceed 2 per second`);
  for (const err of refused) {
    assert.ok(err instanceof QuotaError);
    assert.equal(err.reason, "burstKey");
    assert.ok(err.retryable && err.retryAfterMs! > 0 && err.retryAfterMs! <= 1_000);
  }

  const retrying = await open("sdk-bursty", { maxAttempts: 30 });
  const more = await Promise.all(Array.from({ length: n }, () => retrying.thread.start({})));
  for (const t of more) sim.script(t.id, [{ output: [{ type: "message", text: "ok" }] }]);
  const turns = await Promise.all(more.map((t) => t.turn.start("go")));
  const done = await Promise.all(turns.map((t) => t.completed));
  assert.deepEqual(done.map((t) => t.status), Array(n).fill("completed"), "every refused start was retried after retryAfterMs");
});
