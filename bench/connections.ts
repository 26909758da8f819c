/**
 * `npm run bench:connections`: memory per idle WebSocket connection on one router. Starts `threadmesh dev`
 * (router + host in one process; the host's share does not grow with idle connections), opens
 * BENCH_CONNECTIONS connections (default 10,000) from BENCH_CLIENT_PROCESSES child processes, completes
 * `initialize` on each and reports the router process's RSS growth per connection. Target: ≤ 20 KB.
 * Every connection asked for must open and be initialized (counted as sent and delivered); a run in
 * which one did not is recorded as failed, without figures, and exits non-zero. Results go to
 * bench/results/connections.json.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ThreadmeshProcess } from "../test/support/processes.ts";
import { METRICS_LINE } from "../test/support/cluster.ts";
import { runBenchmark, type BenchRun } from "./support/run-record.ts";
import { scrapeMetrics } from "./support/metrics-scrape.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10_000);
const CLIENT_PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 4);
const WARMUP_CONNECTIONS = Number(process.env.BENCH_WARMUP_CONNECTIONS ?? 500);
const TARGET_KB = 20;

/** Resident set size of a process, in bytes (Linux). */
function rss(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Median of `n` RSS samples `everyMs` apart: steadier than one reading while timers and GC run. */
async function settledRss(pid: number, n = 5, everyMs = 500): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await sleep(everyMs);
    xs.push(rss(pid));
  }
  return xs.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

async function scrape(httpUrl: string, name: string): Promise<number> {
  return (await scrapeMetrics(httpUrl)).sum(name);
}

async function waitConnections(httpUrl: string, n: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await scrape(httpUrl, "tm_router_connections")) !== n) {
    if (Date.now() > end) throw new Error(`router did not reach ${n} connections`);
    await sleep(200);
  }
}

interface Clients {
  opened: number;
  failed: number;
  close(): Promise<void>;
}

/** Opens `total` initialized connections spread over `processes` children. */
async function openClients(url: string, token: string, total: number, processes: number): Promise<Clients> {
  const children: ChildProcess[] = [];
  const per = Math.ceil(total / processes);
  const results = await Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const count = Math.min(per, total - i * per);
      const child = fork(join(import.meta.dirname, "idle-clients.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
      children.push(child);
      return new Promise<{ opened: number; failed: number; firstError?: string }>((resolve, reject) => {
        child.once("message", (m) => resolve(m as { opened: number; failed: number }));
        child.once("exit", (code) => reject(new Error(`client process exited (${code}) before its connections were open`)));
        child.send({ url, token, count, concurrency: 64 });
      });
    }),
  );
  const firstError = results.find((r) => r.firstError)?.firstError;
  if (firstError) console.error(`some connections failed: ${firstError}`);
  return {
    opened: results.reduce((n, r) => n + r.opened, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    close: async () => {
      await Promise.all(
        children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : (c.once("exit", () => resolve()), c.send({ close: true }))))),
      );
    },
  };
}

async function bench(run: BenchRun): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "tm-bench-conn-"));
  const token = "bench-token";
  const dev = ThreadmeshProcess.spawn("dev", ["dev", "--port", "0"], {
    DATABASE_URL: `sqlite:${join(dir, "threadmesh.db")}`,
    THREADMESH_WORKSPACE_ROOT: join(dir, "workspaces"),
    THREADMESH_TOKEN: token,
    THREADMESH_LOG_LEVEL: "warn",
    THREADMESH_METRICS_PORT: "0",
    THREADMESH_ADMIN_PORT: "0",
  });
  try {
    const url = (await dev.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
    // `/metrics` is on the metrics listener (an ephemeral port here), not on the WebSocket port.
    const httpUrl = (await dev.waitForLine(METRICS_LINE))[1]!;
    const pid = dev.child.pid!;

    // Warm-up: the first connections load code, JIT and pools that later ones reuse.
    const warm = await openClients(url, token, WARMUP_CONNECTIONS, 1);
    run.count("connections initialized", WARMUP_CONNECTIONS, warm.opened);
    await warm.close();
    await waitConnections(httpUrl, 0);
    await sleep(2_000);
    const before = await settledRss(pid);
    const heapBefore = await scrape(httpUrl, "nodejs_heap_size_used_bytes");

    const t0 = Date.now();
    const clients = await openClients(url, token, CONNECTIONS, CLIENT_PROCESSES);
    run.count("connections initialized", CONNECTIONS, clients.opened);
    const openSeconds = (Date.now() - t0) / 1000;
    await waitConnections(httpUrl, clients.opened);
    await sleep(3_000);
    const after = await settledRss(pid);
    const heapAfter = await scrape(httpUrl, "nodejs_heap_size_used_bytes");
    await clients.close();

    const perConnKb = (after - before) / clients.opened / 1024;
    return {
      connections: clients.opened,
      failed: clients.failed,
      clientProcesses: CLIENT_PROCESSES,
      openSeconds: Number(openSeconds.toFixed(2)),
      routerRssBeforeMb: Number((before / 2 ** 20).toFixed(1)),
      routerRssAfterMb: Number((after / 2 ** 20).toFixed(1)),
      rssPerConnectionKb: Number(perConnKb.toFixed(2)),
      heapUsedPerConnectionKb: Number(((heapAfter - heapBefore) / clients.opened / 1024).toFixed(2)),
      targetKb: TARGET_KB,
      met: perConnKb <= TARGET_KB,
    };
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runBenchmark("connections", bench);
