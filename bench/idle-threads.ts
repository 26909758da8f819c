/**
 * Memory of a loaded idle thread in `threadmesh dev`: starts dev (from sources, `--expose-gc`), loads
 * WARMUP threads that each run one short turn, takes the heap after full collections as the baseline,
 * loads THREADS more the same way, and divides the growth by THREADS. Every thread stays loaded and
 * subscribed (its client connection stays open) and idle (its turn completed). Writes
 * bench/results/idle-threads.json.
 *
 * Env: IDLE_THREADS (default 2000), IDLE_WARMUP (default 200), IDLE_CONCURRENCY (default 20).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BenchClient } from "./support/bench-client.ts";
import { writeResult } from "./support/results.ts";

const ROOT = resolve(import.meta.dirname, "..");
const THREADS = Number(process.env.IDLE_THREADS ?? 2000);
const WARMUP = Number(process.env.IDLE_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.IDLE_CONCURRENCY ?? 20);
const START_TIMEOUT_MS = 60_000;

interface Heap {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

async function main(): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), "tm-idle-threads-"));
  // Resolved here: the child runs in a scratch folder, where `--import tsx` would not find the package.
  const args = ["--expose-gc", "--import", import.meta.resolve("tsx"), "--import", join(ROOT, "bench", "support", "heap-probe.ts"), join(ROOT, "packages", "cli", "src", "main.ts"), "dev"];
  args.push("--port", "0", "--metrics-port", "0", "--admin-port", "0", "--log-level", "warn", "--sim-tokens-per-second", "0", "--sim-ttft-ms", "0", "--max-threads", String(THREADS + WARMUP + 100), "--max-threads-per-tenant", String(THREADS + WARMUP + 100));
  const dev = spawn(process.execPath, args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // Shedding off: the measurement needs every turn to run, whatever the load of the machine.
    env: { ...process.env, DATABASE_URL: `sqlite:${join(cwd, "threadmesh.db")}`, THREADMESH_SHEDDING: "false" },
  });
  let output = "";
  dev.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const probe = (): Promise<Heap> =>
    new Promise((r) => {
      dev.once("message", (m) => r(m as Heap));
      dev.send({ probe: "heap" });
    });
  const clients: BenchClient[] = [];
  try {
    const { url, token } = await new Promise<{ url: string; token: string }>((r, j) => {
      const timer = setTimeout(() => j(new Error(`dev did not start:\n${output}`)), START_TIMEOUT_MS);
      dev.stdout!.on("data", (c: Buffer) => {
        output += c.toString();
        const u = /listening on: (ws:\/\/\S+)/.exec(output);
        const t = /token: (\S+)/.exec(output);
        if (u && t) {
          clearTimeout(timer);
          r({ url: u[1]!, token: t[1]! });
        }
      });
      dev.once("exit", (code) => j(new Error(`dev exited (${code}):\n${output}`)));
    });
    // One connection per 100 threads, as many clients keep few threads each.
    const load = async (count: number, label: string): Promise<void> => {
      const first = clients.length;
      for (let k = 0; k < Math.ceil(count / 100); k++) clients.push(await BenchClient.connect(url, token, { keepFrames: false }));
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const client = clients[first + Math.floor(i / 100)]!;
          const threadId = (await client.call("thread/start", { approvalPolicy: "never", sandbox: "read-only" })).thread.id as string;
          const turn = await client.turn(threadId, `${label} ${i}: say hello`);
          await turn.completedAt;
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
    };
    await load(WARMUP, "warm-up");
    const before = await probe();
    await load(THREADS, "measured");
    const after = await probe();
    const per = (k: keyof Heap) => Math.round((after[k] - before[k]) / THREADS);
    const result = {
      threads: THREADS,
      warmup: WARMUP,
      connections: clients.length,
      heapPerThreadBytes: per("heapUsed"),
      rssPerThreadBytes: per("rss"),
      externalPerThreadBytes: per("external"),
      before,
      after,
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
      at: new Date().toISOString(),
    };
    writeResult("idle-threads", result, { threads: THREADS, heapPerThreadKB: +(result.heapPerThreadBytes / 1024).toFixed(1), rssPerThreadKB: +(result.rssPerThreadBytes / 1024).toFixed(1), loadAverage1m: result.loadAverage1m });
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    dev.kill("SIGKILL");
    rmSync(cwd, { recursive: true, force: true });
  }
}

await main();
