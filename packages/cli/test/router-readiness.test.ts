import { after, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { eventually } from "../../../test/support/eventually.ts";
import { startNatsServer, type NatsServer } from "../../../test/support/nats-server.ts";
import { ThreadmeshProcess } from "../../../test/support/processes.ts";

let nats: NatsServer | null = null;
let router: ThreadmeshProcess | null = null;
after(async () => {
  await router?.kill();
  await nats?.stop();
});

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

test("a router holds no durable state: it starts and is ready with its database unreachable, and not ready once NATS is gone", async (t) => {
  nats = await startNatsServer({ jetstream: true });
  if (nats === null) return t.skip("nats-server is not installed");
  router = ThreadmeshProcess.spawn("router", ["router", "--port", "0", "--metrics-port", "0"], {
    NATS_URL: nats.url,
    // Nothing listens on port 9: every database read would fail.
    DATABASE_URL: "postgres://threadmesh@127.0.0.1:9/threadmesh",
  });
  const metrics = (await router.waitForLine(/metrics on (http:\/\/\S+)\/metrics/))[1]!;
  assert.deepEqual(await get(`${metrics}/healthz`), { status: 200, body: "ok" });
  assert.deepEqual(await get(`${metrics}/readyz`), { status: 200, body: "ok" });
  await nats.stop();
  nats = null;
  const ready = await eventually(async () => {
    const r = await get(`${metrics}/readyz`);
    return r.status !== 200 && r;
  }, "/readyz fails without NATS", 15_000);
  assert.deepEqual(ready, { status: 503, body: "bus disconnected" });
  assert.equal((await get(`${metrics}/healthz`)).status, 200, "still live: it reconnects on its own");
});
