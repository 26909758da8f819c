import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology, type TopologyKind } from "../support/topology.ts";
import { OPERATOR_CAPS_ENV } from "../support/policy-env.ts";
import { SCENARIOS } from "./scenarios.ts";
import { normalise, type Conn } from "./sequence.ts";

interface Recording {
  codex: string;
  scenario: string;
  sequences: Record<string, string[]>;
}

function recording(name: string): Recording {
  return JSON.parse(readFileSync(join(import.meta.dirname, "recordings", `${name}.json`), "utf8")) as Recording;
}

/**
 * Drives the conformance scenarios against one Threadmesh topology and compares each connection's
 * message sequence (order of requests, responses, notifications and server requests; ids, `seq`,
 * `epoch` and payloads aside) with the one recorded from the real codex app-server. Every frame is also
 * validated against the official 0.169.0 and 0.171.0 schemas.
 */
export function describeConformance(kind: TopologyKind): void {
  describe(`Codex conformance: message sequences (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    const conns: Conn[] = [];

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
    });
    after(async () => {
      for (const c of conns) await c.close().catch(() => undefined);
      await topo?.stop();
      await sim?.close();
    });

    for (const scenario of SCENARIOS) {
      test(scenario.name, async () => {
        const expected = recording(scenario.name);
        const shell = (command: string, escalate?: string) => ({
          type: "function_call" as const,
          name: "shell",
          arguments: escalate ? { command: ["sh", "-c", command], sandbox_permissions: "require_escalated", justification: escalate } : { command: ["sh", "-c", command] },
        });
        const target = { get url() { return topo.url; }, restart: () => topo.restart(), token: topo.token, validate: true, sim, threadParams: {}, shell };
        const labelled = await scenario.run(target, conns);
        for (const [label, c] of Object.entries(labelled)) {
          assert.equal(c.remoteControlCount(), 1, `connection ${label}: remoteControl/status/changed once`);
          assert.deepEqual(c.sequence(), normalise(expected.sequences[label] ?? []), `connection ${label} of ${scenario.name}`);
          assert.deepEqual(c.client.schemaViolations, []);
        }
      });
    }
  });
}
