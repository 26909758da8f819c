/**
 * `npm run loadtest -- --roll`, briefly: a 2 router × 2 host mesh the runner spawns is rolled (every
 * router, then every host, replaced one at a time behind the front port) while a few VUs keep turns
 * running. The drain deadline is shorter than a turn, so the hosts hand running turns over to the new
 * ones. Every turn must complete with its exact text, every seq stream stay gapless, and no error reach a
 * client other than a retried -32001.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const RUNNER = join(ROOT, "loadtests/runner/main.ts");
const out = mkdtempSync(join(tmpdir(), "tm-loadtest-roll-"));

describe("load-test runner --roll", () => {
  after(() => rmSync(out, { recursive: true, force: true }));

  it("replaces every router and host while turns run: all complete, gapless, exact, no error but retried -32001", { timeout: 300_000 }, async () => {
    const args = [
      ...["--spawn", "routers=2,hosts=2", "--roll", "--scenario", "turns", "--vus", "6", "--duration", "3s", "--ramp", "1s"],
      // 2-s turns against a 1-s drain deadline: a host stopping mid-turn hands the turn over.
      ...["--deltas", "100", "--tokens-per-second", "50", "--mesh-env", "THREADMESH_DRAIN_DEADLINE_MS=1000"],
      ...["--ttfd-p99-ms", "600000", "--turn-p95-ms", "600000", "--out", out],
    ];
    const child = spawn(process.execPath, ["--import", "tsx", RUNNER, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    const file = join(out, "result.json");
    assert.ok(existsSync(file), output);
    const r = JSON.parse(readFileSync(file, "utf8"));
    const count = (m: string): number => r.metrics[m].count;
    assert.equal(code, 0, output);
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.roll.steps.map((s: { role: string; exit: unknown }) => [s.role, s.exit]),
      [["router", 0], ["router", 0], ["host", 0], ["host", 0]],
      "each process was replaced once and exited cleanly",
    );
    assert.ok(count("tm_turns_started") > 0);
    assert.equal(count("tm_turns_completed"), count("tm_turns_started"));
    assert.equal(count("tm_turns_ended"), count("tm_turns_started"));
    for (const m of ["tm_turns_interrupted", "tm_turns_failed", "tm_turns_lost", "tm_replay_gaps", "tm_replay_repeats", "tm_text_mismatches", "tm_errors"]) {
      assert.equal(count(m), 0, `${m}: ${r.errors.join("\n")}`);
    }
    assert.deepEqual(r.errorCodes, {});
    // Each answer whole; a turn handed over mid-answer also shows the cut-off part of its first one.
    assert.ok(count("tm_deltas") >= count("tm_turns_completed") * 100);
    assert.ok(count("tm_server_closes") > 0, "clients of the replaced routers reconnected and resumed");
    assert.equal(r.abandoned, 0);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.match(html, /<h2>Rolling restart<\/h2><p>4 processes replaced one at a time/);
  });
});
