import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "../../../test/support/redis-server.ts";
import { BurstLimiter, DEFAULT_PLAN, type Plan } from "../src/index.ts";
import { leaseSize } from "../src/burst-leases.ts";

const plan: Plan = { ...DEFAULT_PLAN, id: "leased", burstPerKey: 200, burstPerTenant: 100_000 };
const servers: RedisServer[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.kill();
});

async function redisClient(port: number): Promise<Redis> {
  const redis = new Redis({ host: "127.0.0.1", port, enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
  clients.push(redis);
  await redis.connect();
  return redis;
}

test("lease sizes: none for small limits, a sixteenth of the limit up to 16 points", () => {
  assert.equal(leaseSize(10), 0);
  assert.equal(leaseSize(31), 1);
  assert.equal(leaseSize(32), 2);
  assert.equal(leaseSize(200), 12);
  assert.equal(leaseSize(1_000_000), 16);
});

test("two processes leasing burst points from one Redis never admit more than the limit together, and most requests skip the round trip", async () => {
  const server = await startRedisServer();
  if (server === null) return;
  servers.push(server);
  const [ra, rb, probe] = [await redisClient(server.port), await redisClient(server.port), await redisClient(server.port)];
  let commands = 0;
  const count = (r: Redis) => {
    const send = r.sendCommand.bind(r);
    r.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
      commands++;
      return send(...args);
    }) as Redis["sendCommand"];
  };
  count(ra);
  count(rb);
  // A minute per counting window: the test never straddles two.
  const a = new BurstLimiter({ redis: ra, durationSec: 60 });
  const b = new BurstLimiter({ redis: rb, durationSec: 60 });
  let admitted = 0;
  let refused = 0;
  let commandsUnderLimit = 0;
  for (let i = 0; i < 150; i++) {
    if (i === 80) commandsUnderLimit = commands;
    for (const burst of [a, b]) {
      const r = await burst.consume("tenant-a", "key-1", plan);
      if (r === null) admitted++;
      else {
        refused++;
        assert.equal(r.scope, "key");
        assert.equal(r.limit, 200);
        assert.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 60_000);
      }
    }
  }
  assert.ok(admitted <= 200, `${admitted} admitted over a limit of 200`);
  // Points leased and not spent are the only ones lost: at most a lease and a half per process.
  assert.ok(admitted >= 200 - 2 * 18, `${admitted} admitted`);
  assert.equal(admitted + refused, 300);
  assert.ok(Number(await probe.get("tm:burst:key:200:tenant-a:key-1")) >= admitted, "every admitted request counted in Redis");
  // Both limits are leased: a few dozen commands for the first 160 requests, not 320.
  assert.ok(commandsUnderLimit < 60, `${commandsUnderLimit} Redis commands for 160 requests`);
  // Once a lease is refused, each request takes a single point: one command, as without leasing.
  assert.ok(commands - commandsUnderLimit < 160, `${commands - commandsUnderLimit} Redis commands for the last 140 requests`);
});

test("100 requests at once, well under the limit, share leases: every one is admitted", async () => {
  const server = await startRedisServer();
  if (server === null) return;
  servers.push(server);
  const redis = await redisClient(server.port);
  const burst = new BurstLimiter({ redis, durationSec: 60 });
  const wide: Plan = { ...plan, id: "wide", burstPerKey: 1_000, burstPerTenant: 1_000 };
  const results = await Promise.all(Array.from({ length: 100 }, () => burst.consume("tenant-b", "key-1", wide)));
  assert.deepEqual(
    results.filter((r) => r !== null),
    [],
    "no request refused",
  );
  // Leases of 16 taken one after another as they run out, not one per request.
  const counted = Number(await redis.get("tm:burst:key:1000:tenant-b:key-1"));
  assert.ok(counted >= 100 && counted <= 100 + 16, `${counted} points counted in Redis for 100 requests`);
});
