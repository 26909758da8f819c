import { test } from "node:test";
import assert from "node:assert/strict";
import { StaleEpochError, type ThreadStore } from "@threadmesh/persistence";
import { Metrics, silentLogger } from "@threadmesh/telemetry";
import { hostMetrics } from "../src/host-metrics.ts";
import { ThreadWriter } from "../src/thread-writer.ts";

test("writes a newer owner fenced off count as stale-epoch rejections; other failures do not", async () => {
  const failures: Error[] = [new StaleEpochError("t-1", 1, 2), new Error("disk full"), new StaleEpochError("t-1", 1, 3)];
  const store = { updateThread: async () => Promise.reject(failures.shift()) } as unknown as ThreadStore;
  const metrics = new Metrics();
  const rejections = hostMetrics(metrics).mesh.staleEpochRejections;
  const writer = new ThreadWriter({ store, tenant: "acme", threadId: "t-1", epoch: 1, logger: silentLogger(), onStaleEpoch: () => rejections.inc() });
  writer.updateThread({ name: "a" });
  writer.updateThread({ name: "b" });
  await writer.flush();
  assert.equal(writer.fenced, true);
  assert.equal((await rejections.get()).values[0]!.value, 1);
  const body = (await metrics.render()).body;
  assert.match(body, /^tm_host_stale_epoch_rejections_total 1$/m);
});
