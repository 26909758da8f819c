import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { httpGet, startRouter, tryUpgrade, type Harness } from "./harness.ts";

describe("HTTP endpoints", () => {
  let h: Harness;
  before(async () => {
    h = await startRouter({ allowedOrigins: ["https://ok.example"] });
  });
  after(() => h.close());

  test("/healthz answers 200 ok", async () => {
    assert.deepEqual(await httpGet(h.port, "/healthz"), { status: 200, body: "ok", contentType: "text/plain; charset=utf-8" });
  });

  test("/readyz is 200 while the bus is connected and the readiness check passes, 503 with the reason otherwise", async () => {
    assert.equal((await httpGet(h.port, "/readyz")).status, 200);
    let healthy = false;
    h.router.setReadinessCheck(async () => healthy);
    assert.deepEqual(await httpGet(h.port, "/readyz"), { status: 503, body: "readiness check failed", contentType: "text/plain; charset=utf-8" });
    h.router.setReadinessCheck(async () => {
      throw new Error("store down");
    });
    assert.equal((await httpGet(h.port, "/readyz")).status, 503);
    healthy = true;
    h.router.setReadinessCheck(async () => healthy);
    assert.deepEqual(await httpGet(h.port, "/readyz"), { status: 200, body: "ok", contentType: "text/plain; charset=utf-8" });
  });

  test("/readyz times a hanging readiness check out", async () => {
    const slow = await startRouter({ readinessTimeoutMs: 20 });
    slow.router.setReadinessCheck(() => new Promise<boolean>(() => {}));
    const r = await httpGet(slow.port, "/readyz");
    assert.deepEqual([r.status, r.body], [503, "readiness check timed out"]);
    await slow.close();
  });

  test("/metrics is not served on the public port", async () => {
    const r = await httpGet(h.port, "/metrics");
    assert.deepEqual([r.status, r.body], [400, "Connection header did not include 'upgrade'"]);
    assert.doesNotMatch(r.body, /tm_router_/);
  });

  test("/metrics, /healthz and /readyz are served on the metrics listener, with the router's instruments", async () => {
    const m = await startRouter({ metricsPort: 0 });
    try {
      assert.ok(m.metricsPort !== null && m.metricsPort !== m.port, "a port of its own");
      const c = await m.client();
      await c.request("model/list", {});
      const r = await httpGet(m.metricsPort, "/metrics");
      assert.equal(r.status, 200);
      for (const name of [
        "tm_router_connections",
        "tm_router_frames_in_total",
        "tm_router_frames_out_total",
        "tm_router_request_duration_seconds",
        "tm_router_outbound_dropped_total",
        "tm_router_outbound_buffered_bytes",
        "tm_router_outbound_bytes",
        "tm_router_outbound_limit_bytes",
        "tm_router_outbound_coalesced_total",
        "tm_router_slow_consumer_closes_total",
      ]) {
        assert.match(r.body, new RegExp(`^# TYPE ${name} `, "m"), name);
      }
      assert.match(r.body, /tm_router_request_duration_seconds_count\{method="model\/list",outcome="ok"\} 1/);
      assert.match(r.body, /^tm_router_outbound_limit_bytes 67108864$/m);
      assert.deepEqual((await httpGet(m.metricsPort, "/healthz")).status, 200);
      assert.deepEqual((await httpGet(m.metricsPort, "/readyz")).status, 200);
      assert.equal((await httpGet(m.port, "/metrics")).status, 400);
    } finally {
      await m.close();
    }
  });

  test("other plain requests get 400 'Connection header did not include 'upgrade''", async () => {
    for (const path of ["/", "/other", "/healthz/x"]) {
      const r = await httpGet(h.port, path);
      assert.deepEqual([r.status, r.body], [400, "Connection header did not include 'upgrade'"], path);
    }
  });

  test("any request with a disallowed Origin gets 403, health probes included", async () => {
    assert.equal((await httpGet(h.port, "/healthz", { Origin: "https://evil.example" })).status, 403);
    assert.equal((await httpGet(h.port, "/healthz", { Origin: "https://ok.example" })).status, 200);
  });

  test("upgrades beyond maxConnections get 503", async () => {
    const small = await startRouter({ maxConnections: 1 });
    const first = await small.client();
    const r = await tryUpgrade(small.port);
    assert.deepEqual([r.status, r.body], [503, "too many connections"]);
    await first.close();
    await small.close();
  });

  test("/readyz is 503 once the bus is gone", async () => {
    const other = await startRouter();
    await other.bus.close();
    const r = await httpGet(other.port, "/readyz");
    assert.deepEqual([r.status, r.body], [503, "bus disconnected"]);
    await other.close();
  });
});
