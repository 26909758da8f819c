import { startModelSim } from "@threadmesh/model-sim";
import { BenchClient } from "./support/bench-client.ts";
import { startMeshTopology } from "./support/mesh-topology.ts";
const sim = await startModelSim({ port: 0, generative: { tokensPerSecond: 0, ttftMs: 0, tokensPerResponse: 2000, toolCallProbability: 0 } });
const topo = await startMeshTopology({ simUrl: sim.url, routers: 1, hosts: 1, extraEnv: { THREADMESH_LOG_LEVEL: "warn", THREADMESH_LEASE_TTL_MS: "30000" } });
const N = 100;
const http = topo.urls[0]!.replace("ws://", "http://");
const scrape = async () => (await (await fetch(`${http}/metrics`)).text()).split("\n").filter((l) => l.includes("dropped") && !l.startsWith("#"));
for (let round = 0; round < 4; round++) {
  const clients = await Promise.all(Array.from({ length: N }, () => BenchClient.connect(topo.urls[0]!, topo.token)));
  const ids: string[] = [];
  for (const c of clients) ids.push((await c.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id);
  const turns = await Promise.all(clients.map((c, i) => c.turn(ids[i]!, "stream")));
  await Promise.all(turns.map((t) => t.completedAt));
  const counts = clients.map((c) => c.deltas);
  const hist: Record<number, number> = {};
  for (const n of counts) hist[n] = (hist[n] ?? 0) + 1;
  console.log(`round ${round}`, JSON.stringify(hist), await scrape());
  await Promise.all(clients.map((c) => c.close()));
}
for (const p of [...topo.routers, ...topo.hosts]) console.log(p.name, p.stderr.join("").slice(-2000));
await topo.stop(); await sim.close();
