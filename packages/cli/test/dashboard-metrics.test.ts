import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { InProcessBus } from "@threadmesh/mesh";
import { startModelSim } from "@threadmesh/model-sim";
import { openStore } from "@threadmesh/persistence";
import { createTelemetry, startMetricsServer } from "@threadmesh/telemetry";
import { TestClient } from "../../../test/support/ws-client.ts";
import { composeHost } from "../src/compose-host.ts";
import { composeRouter } from "../src/compose-router.ts";
import { loadConfig } from "../src/config.ts";

const DASHBOARD = resolve(import.meta.dirname, "../../../deploy/grafana/threadmesh-dashboard.json");

/** Every `tm_…` series name in the dashboard's PromQL. */
function dashboardNames(): Set<string> {
  const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  const names = new Set<string>();
  for (const p of dash.panels) for (const t of p.targets ?? []) for (const m of t.expr.matchAll(/\btm_[a-z0-9_]+/g)) names.add(m[0]);
  return names;
}

/** Series names a Prometheus text exposition can hold: each `# TYPE`, with a histogram's suffixes. */
function exposedNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const m of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1]! + s);
  }
  return names;
}

test("the Grafana dashboard queries only metrics a router and a host expose", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-dashboard-"));
  const sim = await startModelSim({ port: 0 });
  const config = loadConfig("dev", ["--port", "0", "--metrics-port", "0", "--workspace-root", join(dir, "ws"), "--database-url", `sqlite:${join(dir, "db.sqlite")}`], {});
  // Two registries, as in the distributed topology where router and host are separate processes.
  const routerTelemetry = createTelemetry({ service: "router", logLevel: "silent", defaultMetrics: true });
  const hostTelemetry = createTelemetry({ service: "host", logLevel: "silent", defaultMetrics: true });
  const store = await openStore({ url: config.databaseUrl });
  const bus = new InProcessBus();
  const host = await composeHost(config, bus, store, hostTelemetry, { baseUrl: `${sim.url}/v1`, apiKey: "sim" });
  const hostMetrics = await startMetricsServer({ metrics: hostTelemetry.metrics, port: 0 });
  const router = await composeRouter(config, bus, routerTelemetry, { devMode: true, token: "t" });
  const { url, metricsUrl } = await router.listen();
  try {
    // One turn through both, so instruments created on first use are there too.
    const c = await TestClient.initialized(url, { token: "t", validate: false });
    const threadId = (await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
    sim.script(threadId, [{ output: [{ type: "message", text: "ok" }] }]);
    const from = c.frames.length;
    await c.call("turn/start", { threadId, input: [{ type: "text", text: "hi" }] });
    await c.waitForMethod("turn/completed", { from, threadId });
    await c.close();

    const exposed = new Set([
      ...exposedNames(await (await fetch(`${metricsUrl}/metrics`)).text()),
      ...exposedNames(await (await fetch(`${hostMetrics.url}/metrics`)).text()),
    ]);
    const queried = dashboardNames();
    assert.ok(queried.size >= 15, `the dashboard queries ${queried.size} metrics`);
    assert.deepEqual([...queried].filter((n) => !exposed.has(n)), [], "dashboard metrics nobody exposes");
  } finally {
    await router.close();
    await host.close();
    await hostMetrics.close();
    await bus.close();
    await store.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
