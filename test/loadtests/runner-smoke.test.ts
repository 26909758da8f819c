/**
 * The load-test runner end to end, briefly: each shared scenario for a few VUs against a real embedded
 * mesh (threadmesh dev on SQLite, the model simulator scripted over HTTP), checked through the JSON
 * result it writes; once with `--spawn embedded`; bad arguments end with one line and exit 2.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology } from "../support/topology.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const RUNNER = join(ROOT, "loadtests/runner/main.ts");
const VUS = 2;
const ITERATIONS = 2;
const DELTAS = 40;
/** Latency thresholds out of the way: the smoke run checks behaviour, not speed, on a shared machine. */
const NO_LATENCY_LIMITS = ["--ttfd-p99-ms", "600000", "--turn-p95-ms", "600000"];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: any;
  out: string;
}

const outDirs: string[] = [];

function runner(args: string[]): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), "tm-loadtest-"));
  outDirs.push(out);
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", RUNNER, ...args, "--out", out], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("exit", (code) => {
      const file = join(out, "result.json");
      done({ code, stdout, stderr, out, result: existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null });
    });
  });
}

const count = (r: Run, metric: string): number => r.result.metrics[metric].count;

function assertClean(r: Run): void {
  assert.equal(r.code, 0, `runner exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.result.ok, true);
  assert.equal(count(r, "tm_replay_gaps"), 0);
  assert.equal(count(r, "tm_replay_repeats"), 0);
  assert.equal(count(r, "tm_errors"), 0, r.result.errors.join("\n"));
  assert.equal(r.result.iterations, VUS * ITERATIONS);
  const html = readFileSync(join(r.out, "report.html"), "utf8");
  assert.match(html, /^<!doctype html>/);
  assert.equal((html.match(/<svg /g) ?? []).length, 4, "four charts");
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3)/, "self-contained");
}

describe("load-test runner", () => {
  let sim: ModelSim;
  let topo: Topology;
  const against = () => ["--url", topo.url, "--token", topo.token, "--sim-url", sim.url, "--vus", String(VUS), "--iterations", String(ITERATIONS), "--deltas", String(DELTAS), ...NO_LATENCY_LIMITS];

  before(async () => {
    sim = await startModelSim({ port: 0 });
    topo = (await startTopology("embedded", { simUrl: sim.url, extraEnv: { THREADMESH_LOG_LEVEL: "warn" } }))!;
  });
  after(async () => {
    await topo?.stop();
    await sim?.close();
    for (const d of outDirs) rmSync(d, { recursive: true, force: true });
  });

  it("turns: every turn completes with every scripted delta, gapless, and the report is written", async () => {
    const r = await runner(["--scenario", "turns", "--turns-per-thread", "2", ...against()]);
    assertClean(r);
    const turns = VUS * ITERATIONS * 2;
    assert.equal(count(r, "tm_turns_completed"), turns);
    assert.equal(count(r, "tm_deltas"), turns * DELTAS);
    assert.equal(r.result.metrics.tm_ttfd_ms.count, turns);
    assert.ok(r.result.deltasPerSecond > 0);
    assert.match(r.stdout, /tm_turns_completed\s+8/);
  });

  it("approvals: the auto-responder accepts each approval request and the turn completes", async () => {
    const r = await runner(["--scenario", "approvals", ...against()]);
    assertClean(r);
    assert.equal(count(r, "tm_approvals"), VUS * ITERATIONS);
    assert.equal(count(r, "tm_turns_completed"), VUS * ITERATIONS);
    assert.equal(count(r, "tm_deltas"), VUS * ITERATIONS * DELTAS);
  });

  it("steer-interrupt: each turn is steered and ends interrupted", async () => {
    const r = await runner(["--scenario", "steer-interrupt", ...against()]);
    assertClean(r);
    assert.equal(count(r, "tm_steers"), VUS * ITERATIONS);
    assert.equal(count(r, "tm_turns_interrupted"), VUS * ITERATIONS);
  });

  it("reconnect: a turn resumed with afterSeq on a new connection delivers each delta exactly once", async () => {
    const r = await runner(["--scenario", "reconnect", ...against()]);
    assertClean(r);
    assert.equal(count(r, "tm_reconnects"), VUS * ITERATIONS);
    assert.equal(count(r, "tm_turns_completed"), VUS * ITERATIONS);
    assert.equal(count(r, "tm_deltas"), VUS * ITERATIONS * DELTAS);
  });

  it("--spawn embedded starts its own mesh and simulator for the run", async () => {
    const r = await runner(["--spawn", "embedded", "--scenario", "turns", "--vus", String(VUS), "--iterations", String(ITERATIONS), "--deltas", String(DELTAS), ...NO_LATENCY_LIMITS]);
    assertClean(r);
    assert.equal(r.result.mesh, "embedded (threadmesh dev, SQLite)");
    assert.equal(count(r, "tm_deltas"), VUS * ITERATIONS * DELTAS);
  });

  it("bad arguments end with one line naming the problem and exit 2", async () => {
    const cases = [["--url", "ws://127.0.0.1:1", "--vus", "0"], ["--scenario", "nope", "--url", "ws://x"], ["--spawn", "routers=two"], ["--vus", "2"]];
    const runs = await Promise.all(cases.map((args) => runner(args)));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 2, cases[i]!.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^loadtest: /);
    }
  });
});
