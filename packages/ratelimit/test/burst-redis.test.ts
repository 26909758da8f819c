import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { eventually } from "../../../test/support/eventually.ts";
import { startRedisServer, type RedisServer } from "../../../test/support/redis-server.ts";
import { BurstLimiter, DEFAULT_PLAN, type Plan } from "../src/index.ts";

const plan: Plan = { ...DEFAULT_PLAN, id: "burst", burstPerKey: 10, burstPerTenant: 1_000 };
const servers: RedisServer[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.kill();
});

/** Admitted requests out of `n` for `key`; a throw fails the test (admission must keep answering). */
async function admitted(burst: BurstLimiter, key: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await burst.consume("tenant-a", key, plan)) === null) ok++;
  return ok;
}

test("burst counts in Redis; with Redis killed the stricter insurance limiter answers; with Redis back, Redis counts again", async () => {
  const first = await startRedisServer();
  if (first === null) return;
  servers.push(first);
  // The client fails commands at once while disconnected (no offline queue) and reconnects every 50 ms.
  const redis = new Redis({ host: "127.0.0.1", port: first.port, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
  const probe = new Redis({ host: "127.0.0.1", port: first.port, maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
  clients.push(redis, probe);
  // Connection errors while Redis is down are expected here; the limiter turns them into insurance decisions.
  for (const c of [redis, probe]) c.on("error", () => undefined);
  await redis.connect();
  await probe.connect();
  // A minute per counting window: the test never straddles two.
  const burst = new BurstLimiter({ redis, durationSec: 60, insuranceFraction: 0.5 });

  // Redis up: exactly the plan's 10 per key, counted in Redis.
  assert.equal(await admitted(burst, "key-1", 12), 10);
  assert.equal(await probe.get("tm:burst:key:10:tenant-a:key-1"), "12");
  const refused = await burst.consume("tenant-a", "key-1", plan);
  assert.equal(refused?.scope, "key");
  assert.equal(refused?.limit, 10);
  assert.ok(refused!.retryAfterMs > 0);

  // Redis dies mid-run: requests keep flowing and every one is answered, none throws.
  let running = true;
  let answered = 0;
  const load = (async () => {
    while (running) {
      await burst.consume("tenant-a", "key-load", plan);
      answered++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  await eventually(() => answered > 20, "load runs against Redis");
  await first.kill();
  await eventually(() => redis.status !== "ready", "client notices Redis is gone");
  const atKill = answered;
  await eventually(() => answered > atKill + 20, "admission keeps answering without Redis");
  running = false;
  await load;

  // Without Redis the insurance limiter answers, allowing half the plan's limit per key.
  assert.equal(await admitted(burst, "key-2", 10), 5);
  assert.equal(await admitted(burst, "key-3", 12), 5);

  // Redis back on the same port: the client reconnects and counts go to Redis again, at the full limit.
  const second = await startRedisServer({ port: first.port });
  assert.ok(second !== null);
  servers.push(second);
  await eventually(() => redis.status === "ready" && probe.status === "ready", "clients reconnect", 10_000);
  assert.equal(await admitted(burst, "key-4", 12), 10);
  assert.equal(await probe.get("tm:burst:key:10:tenant-a:key-4"), "12");
});
