import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENVELOPE_VERSION, newId, type ReplyEnvelope } from "@threadmesh/protocol";
import { MIN_BACKLOG, START_BACKLOG_REASON, StartBacklog } from "../../src/shedding/start-backlog.ts";
import { startRouter, type Harness } from "../harness.ts";

const BUDGET_MS = 100;

describe("StartBacklog", () => {
  test("refuses only with enough starts waiting, the oldest past the budget; answered starts leave", () => {
    let clock = 0;
    const b = new StartBacklog(BUDGET_MS, () => clock);
    const done = Array.from({ length: MIN_BACKLOG - 1 }, () => b.begin());
    clock = 10 * BUDGET_MS;
    assert.equal(b.refusal(), null, "a few slow starts are not a backlog");
    const last = b.begin();
    const r = b.refusal();
    assert.equal(r?.code, -32001);
    assert.deepEqual(r?.data, { retryAfterMs: 10 * BUDGET_MS, reason: START_BACKLOG_REASON });
    done[0]!();
    assert.equal(b.refusal(), null, "one answered: fewer than the minimum wait");
    last();
    assert.equal(b.size, MIN_BACKLOG - 2);
    assert.equal(b.oldestWaitMs(), 10 * BUDGET_MS);
    assert.equal(new StartBacklog(0, () => clock).refusal(), null);
  });
});

describe("router: turn/starts a host does not answer pile up no further", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({ turnStartBacklogMs: BUDGET_MS, maxInflightPerConnection: 100 });
  });
  after(() => h.close());

  test("beyond the backlog a turn/start is refused at once with retryAfterMs, and taken again once the host answers", async () => {
    const c = await h.client();
    const release: Array<() => void> = [];
    const ok = (): ReplyEnvelope => ({ v: ENVELOPE_VERSION, ok: true, result: { turn: { id: newId(), items: [], status: "inProgress", error: null } } });
    h.host.handler = (r) => (r.env.method === "turn/start" ? new Promise<ReplyEnvelope>((resolve) => release.push(() => resolve(ok()))) : undefined);
    const input = [{ type: "text", text: "hi" }];
    const held = Array.from({ length: MIN_BACKLOG }, () => c.request("turn/start", { threadId: newId(), input }));
    const starts = () => h.host.commands.filter((r) => r.env.method === "turn/start").length;
    await h.host.waitFor(() => starts() === MIN_BACKLOG);
    // The budget is what is under test: the held starts must have waited past it.
    await new Promise((r) => setTimeout(r, BUDGET_MS + 20));
    const startedAt = performance.now();
    const refused = await c.request("turn/start", { threadId: newId(), input });
    const err = refused.error as { code: number; data: { reason: string; retryAfterMs: number } };
    assert.equal(err.code, -32001);
    assert.equal(err.data.reason, START_BACKLOG_REASON);
    assert.ok(err.data.retryAfterMs > BUDGET_MS, `retryAfterMs ${err.data.retryAfterMs}`);
    assert.ok(performance.now() - startedAt < 1_000, "answered at once");
    assert.equal(starts(), MIN_BACKLOG, "the refused start never reached a host");
    assert.equal(release.length, MIN_BACKLOG);
    for (const r of release) r();
    for (const p of held) assert.ok((await p).result);
    h.host.handler = (r) => (r.env.method === "turn/start" ? ok() : undefined);
    assert.ok((await c.request("turn/start", { threadId: newId(), input })).result);
    h.host.handler = undefined;
  });
});
