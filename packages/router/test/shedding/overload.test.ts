import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHostRegistry, type HostLoad } from "@threadmesh/mesh";
import { ErrorCode } from "@threadmesh/protocol";
import { Metrics } from "@threadmesh/telemetry";
import { createSheddingMetrics } from "../../src/shedding/shedding-metrics.ts";
import { TurnShedder } from "../../src/shedding/turn-shedder.ts";

const HOSTS = ["h1", "h2"];
/** Turns one host runs at once at full capacity. */
const CAPACITY = 60;
const TOP = 9;
const BOTTOM = 0;
const SIMULATED_S = 600;

describe("shedding under synthetic overload", () => {
  // How long a simulated turn runs, in simulated seconds: a cut shows in the running turns only that much later.
  for (const TURN_S of [30, 60, 120]) test(`at 3× the hosts' capacity the top class keeps ≥ 99 % of its turns while the bottom class is shed (${TURN_S} s turns)`, async () => {
    /** New turns per simulated second the hosts can sustain: capacity over turn length. */
    const SUSTAINABLE_PER_S = (HOSTS.length * CAPACITY) / TURN_S;
    const start = Date.now();
    let clock = start;
    // The leases outlast the simulated run: liveness is not what is under test.
    const hosts = new MemoryHostRegistry({ leaseTtlMs: 3_600_000 });
    const metrics = new Metrics();
    const shedder = new TurnShedder({ hosts, metrics: createSheddingMetrics(metrics), now: () => clock });
    // Offered load: 3× what the hosts sustain; one request in four is the top class's
    // (75 % of what the hosts sustain), the rest the bottom class's.
    const perSecond = 3 * SUSTAINABLE_PER_S;
    const topEvery = 4;
    const offered = { [TOP]: 0, [BOTTOM]: 0 };
    const admitted = { [TOP]: 0, [BOTTOM]: 0 };
    const retryAfter: number[] = [];
    /** End times (simulated seconds) of the turns running on each host. */
    const running = new Map<string, number[]>(HOSTS.map((h) => [h, []]));
    const started = new Map<string, number>(HOSTS.map((h) => [h, 0]));
    let placed = 0;
    let requests = 0;
    let maxPressure = 0;
    for (let s = 0; s < SIMULATED_S; s++) {
      clock = start + s * 1_000;
      for (const [hostId, ends] of running) {
        const still = ends.filter((end) => end > s);
        running.set(hostId, still);
        // As a host reports the length of its turns: until one has ended, how long the first has been running.
        const meanTurnMs = s >= TURN_S ? TURN_S * 1_000 : s * 1_000;
        const load: HostLoad = { hostId, loadedThreads: still.length, activeTurns: still.length, capacity: CAPACITY, eventLoopLagMs: 0, draining: false, at: clock, turnsStarted: started.get(hostId)!, meanTurnMs };
        void hosts.heartbeat(load);
      }
      shedder.refresh();
      // Requests of both classes interleaved through the second.
      for (let i = 0; i < perSecond; i++) {
        // Counted over the whole run: one request in four is the top class's whatever the rate per second.
        const cls = requests++ % topEvery === 0 ? TOP : BOTTOM;
        offered[cls]++;
        const refusal = shedder.refusal(cls);
        if (refusal === null) {
          admitted[cls]++;
          const hostId = HOSTS[placed++ % HOSTS.length]!;
          running.get(hostId)!.push(s + TURN_S);
          started.set(hostId, started.get(hostId)! + 1);
          let active = 0;
          for (const ends of running.values()) active += ends.length;
          maxPressure = Math.max(maxPressure, active / (HOSTS.length * CAPACITY));
        } else {
          assert.equal(refusal.code, ErrorCode.Overloaded);
          if (cls === TOP) assert.equal(shedder.admittedFraction(BOTTOM), 0, `the top class was refused at ${s} s while the bottom class is admitted`);
          retryAfter.push((refusal.data as { retryAfterMs: number }).retryAfterMs);
        }
      }
    }
    const topShare = admitted[TOP] / offered[TOP];
    const bottomShare = admitted[BOTTOM] / offered[BOTTOM];
    assert.ok(offered[TOP] > 0 && offered[BOTTOM] > offered[TOP], "both classes asked");
    assert.ok(maxPressure > 1, `the hosts were overloaded (pressure up to ${maxPressure.toFixed(2)})`);
    assert.ok(topShare >= 0.99, `top class admitted ${(topShare * 100).toFixed(2)} %`);
    assert.ok(bottomShare < 0.5, `bottom class shed: ${(bottomShare * 100).toFixed(2)} % admitted`);
    assert.ok(retryAfter.length > 0 && retryAfter.every((ms) => ms >= 1_000), "refusals carry retryAfterMs");
    const shed = await metrics.registry.getSingleMetric("tm_router_turns_shed_total")!.get();
    const shedOf = (cls: number) => shed.values.find((v) => v.labels.class === String(cls))?.value ?? 0;
    assert.equal(shedOf(BOTTOM), offered[BOTTOM] - admitted[BOTTOM], "every bottom refusal counted");
    assert.equal(shedOf(TOP), offered[TOP] - admitted[TOP]);
    const fraction = await metrics.registry.getSingleMetric("tm_router_shedding_admitted_fraction")!.get();
    assert.equal(fraction.values.find((v) => v.labels.class === String(TOP))?.value, 1, "top class fully admitted at the end");
    console.log(`${TURN_S} s turns: top ${(topShare * 100).toFixed(2)} % admitted, bottom ${(bottomShare * 100).toFixed(2)} %, pressure up to ${maxPressure.toFixed(2)}`);
  });
});
