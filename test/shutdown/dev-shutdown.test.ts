import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@threadmesh/persistence";
import { eventually } from "../support/eventually.ts";
import { ThreadmeshProcess } from "../support/processes.ts";
import { TestClient } from "../support/ws-client.ts";
import { DRAIN_DEADLINE_MS, STOP_MARGIN_MS, processesWith, terminate } from "./shutdown-load.ts";

const STREAMING_TURNS = 8;
const SLEEP_MARKER = "sleep 100.4343";

describe("shutdown under load: threadmesh dev", () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-dev-shutdown-"));
  const clients: TestClient[] = [];
  let dev: ThreadmeshProcess | null = null;
  after(async () => {
    await dev?.kill();
    for (const c of clients) c.ws.terminate();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGTERM ends the process within the drain deadline + 2 s, with the running turns stored interrupted and the command killed", async (t) => {
    const databaseUrl = `sqlite:${join(dir, "threadmesh.db")}`;
    dev = ThreadmeshProcess.spawn("dev", ["dev", "--port", "0"], {
      DATABASE_URL: databaseUrl,
      THREADMESH_WORKSPACE_ROOT: join(dir, "workspaces"),
      THREADMESH_METRICS_PORT: "0",
      THREADMESH_ADMIN_PORT: "0",
      THREADMESH_DRAIN_DEADLINE_MS: String(DRAIN_DEADLINE_MS),
      // About 20 s per answer: every turn is still streaming at the deadline, however slow the set-up.
      THREADMESH_SIM_TOKENS_PER_SECOND: "2",
      THREADMESH_SIM_TTFT_MS: "0",
      THREADMESH_SIM_TOOL_CALL_PROBABILITY: "0",
    });
    const url = (await dev.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    const token = (await dev.waitForLine(/token: (\S+)/))[1]!;
    const start = async (params: Record<string, unknown>, prompt: string, started: (f: Record<string, any>) => boolean) => {
      const c = await TestClient.initialized(url, { token });
      clients.push(c);
      const threadId = (await c.call("thread/start", params)).thread.id as string;
      const from = c.frames.length;
      const turnId = (await c.call("turn/start", { threadId, input: [{ type: "text", text: prompt }] })).turn.id as string;
      await c.waitFor((f) => started(f) && f.params?.threadId === threadId, { from });
      return { c, threadId, turnId };
    };
    const delta = (f: Record<string, any>) => f.method === "item/agentMessage/delta";
    const running = await Promise.all(Array.from({ length: STREAMING_TURNS }, () => start({}, "tell me a story", delta)));
    running.push(
      await start({ approvalPolicy: "never", sandbox: "danger-full-access" }, `$ ${SLEEP_MARKER}`, (f) => f.method === "item/started" && f.params.item.type === "commandExecution"),
    );
    await eventually(() => processesWith(SLEEP_MARKER).length > 0, "the shell command runs");
    const stalledSocket = (running[0]!.c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    stalledSocket.pause();

    const stop = await terminate(dev);
    t.diagnostic(`signal to exit: dev ${Math.round(stop.ms)} ms (drain deadline ${DRAIN_DEADLINE_MS} ms)`);
    assert.deepEqual({ code: stop.code, signal: stop.signal }, { code: 0, signal: null }, `dev exit; stderr: ${dev.stderr.join("").slice(-2000)}`);
    assert.ok(stop.ms <= DRAIN_DEADLINE_MS + STOP_MARGIN_MS, `dev stopped ${Math.round(stop.ms)} ms after SIGTERM (drain deadline ${DRAIN_DEADLINE_MS} ms)`);
    assert.ok(stop.ms >= DRAIN_DEADLINE_MS - 100, `dev gave its turns the drain deadline (${Math.round(stop.ms)} ms)`);
    await eventually(() => processesWith(SLEEP_MARKER).length === 0, "the shell command's processes are gone", 2_000);
    stalledSocket.resume();
    await Promise.all(running.map((r) => r.c.waitClose()));

    // Nobody to hand the turns to: each ended interrupted, and the store says so.
    const store = await openStore({ url: databaseUrl });
    try {
      for (const r of running) {
        const turns = await store.listTurns("default", r.threadId, { limit: 10, sortDirection: "desc" });
        assert.deepEqual(turns.data.map((x) => ({ id: x.id, status: x.status })), [{ id: r.turnId, status: "interrupted" }], `turns of ${r.threadId}`);
      }
    } finally {
      await store.close();
    }
  });
});
