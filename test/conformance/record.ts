/**
 * Records the expected message sequences of the conformance scenarios from the real codex app-server:
 * `node --import tsx test/conformance/record.ts [scenario…]` writes recordings/<scenario>.json, the sequence
 * most of three runs produced. The model provider is Threadmesh's Responses API simulator, scripted the
 * same way the suite scripts it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startModelSim } from "@threadmesh/model-sim";
import { startCodexServer } from "./codex-server.ts";
import { SCENARIOS } from "./scenarios.ts";
import type { Conn } from "./sequence.ts";

export const RECORDED_VERSION = "0.169.0";
const dir = join(import.meta.dirname, "recordings");
mkdirSync(dir, { recursive: true });
const only = process.argv.slice(2);
/** Runs per scenario: Codex orders a few notifications by a race (a cancelled approval's usage), so the most frequent sequence is kept. */
const RUNS = 3;

async function recordOnce(scenario: (typeof SCENARIOS)[number]): Promise<Record<string, string[]>> {
  const sim = await startModelSim({ port: 0 });
  const server = await startCodexServer(RECORDED_VERSION, sim.url);
  const conns: Conn[] = [];
  try {
    const shell = (command: string, escalate?: string) => ({
      type: "function_call" as const,
      name: "exec_command",
      arguments: escalate ? { cmd: command, sandbox_permissions: "require_escalated", justification: escalate } : { cmd: command },
    });
    const target = { get url() { return server.url; }, restart: () => server.restart(), validate: false, sim, threadParams: { cwd: server.workdir }, shell };
    const labelled = await scenario.run(target, conns);
    for (const [k, c] of Object.entries(labelled)) if (c.remoteControlCount() !== 1) throw new Error(`connection ${k}: remoteControl/status/changed sent ${c.remoteControlCount()} times`);
    return Object.fromEntries(Object.entries(labelled).map(([k, c]) => [k, c.sequence()]));
  } finally {
    for (const c of conns) await c.close().catch(() => undefined);
    await server.stop();
    await sim.close();
  }
}

for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
  try {
    const counts = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) {
      const key = JSON.stringify(await recordOnce(scenario));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const [best, n] = [...counts].sort((x, y) => y[1] - x[1])[0]!;
    const sequences = JSON.parse(best) as Record<string, string[]>;
    writeFileSync(join(dir, `${scenario.name}.json`), JSON.stringify({ codex: RECORDED_VERSION, scenario: scenario.name, sequences }, null, 2) + "\n");
    console.log(`recorded ${scenario.name}${counts.size > 1 ? ` (${n} of ${RUNS} runs agreed)` : ""}`);
  } catch (err) {
    console.error(`${scenario.name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
