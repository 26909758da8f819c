/**
 * Start-up time of the built CLI (`npm run build` first): `node packages/cli/dist/main.js dev|router|host`,
 * from spawn to the line that says it listens (dev, router: `listening on:`; host: `metrics on`, printed
 * once its endpoint is bound) and to the first 200 of its `/readyz`. Each role starts RUNS times (after
 * one warm-up start that also creates its database), in a scratch folder of its own; the router and the
 * host share one nats-server with JetStream. Writes bench/results/startup.json (median/min/max in ms).
 *
 * Env: STARTUP_RUNS (default 7), STARTUP_ROLES (default dev,router,host).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startNatsServer, type NatsServer } from "../test/support/nats-server.ts";
import { writeResult } from "./support/results.ts";

type Role = "dev" | "router" | "host";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "packages", "cli", "dist", "main.js");
const RUNS = Number(process.env.STARTUP_RUNS ?? 7);
const ROLES = (process.env.STARTUP_ROLES ?? "dev,router,host").split(",") as Role[];
/** A start that takes longer than this is a failure, not a figure. */
const START_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 5;

interface Sample {
  listeningMs: number;
  readyMs: number;
}

const LISTENING: Record<Role, RegExp> = {
  dev: /listening on: (ws:\/\/\S+)/,
  router: /listening on: (ws:\/\/\S+)/,
  host: /metrics on (http:\/\/\S+)\/metrics/,
};

function argsOf(role: Role): string[] {
  const common = ["--port", "0", "--metrics-port", "0", "--log-level", "warn"];
  if (role === "dev") return [...common, "--admin-port", "0"];
  if (role === "router") return common;
  return ["--metrics-port", "0", "--log-level", "warn"];
}

function readyzUrl(role: Role, address: string): string {
  return role === "host" ? `${address}/readyz` : `${address.replace("ws://", "http://")}/readyz`;
}

async function pollReady(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not accepting yet.
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  throw new Error(`${url} never answered 200`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once("exit", () => resolveStop());
    child.kill("SIGKILL");
  });
}

async function startOnce(role: Role, cwd: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, role, ...argsOf(role)], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  try {
    const address = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} did not listen within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = LISTENING[role].exec(output);
        if (m) {
          clearTimeout(timer);
          resolveLine(m[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${role} exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    const listeningMs = performance.now() - started;
    await pollReady(readyzUrl(role, address), Date.now() + START_TIMEOUT_MS);
    return { listeningMs, readyMs: performance.now() - started };
  } finally {
    await stop(child);
  }
}

function stats(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (v: number) => Math.round(v);
  return { median: round(median), min: round(sorted[0]!), max: round(sorted.at(-1)!) };
}

async function measure(role: Role, nats: NatsServer | null): Promise<Record<string, unknown>> {
  const cwd = mkdtempSync(join(tmpdir(), `tm-startup-${role}-`));
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `sqlite:${join(cwd, "threadmesh.db")}`, OTEL_TRACES_EXPORTER: "none" };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (nats) env.NATS_URL = nats.url;
  if (role === "host") env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
  try {
    if (role === "router") {
      // The router opens the tenant store without migrating: the schema exists, as after `threadmesh migrate`.
      const r = spawnSync(process.execPath, [MAIN, "migrate"], { cwd, env, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`migrate failed: ${r.stderr}`);
    }
    await startOnce(role, cwd, env); // warm-up: the file cache, and the dev/host database created
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await startOnce(role, cwd, env));
    return { runs: RUNS, listeningMs: stats(samples.map((s) => s.listeningMs)), readyMs: stats(samples.map((s) => s.readyMs)), samples: samples.map((s) => ({ listeningMs: Math.round(s.listeningMs), readyMs: Math.round(s.readyMs) })) };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const loadBefore = loadavg()[0]!;
  const needsNats = ROLES.some((r) => r !== "dev");
  const nats = needsNats ? await startNatsServer({ jetstream: true }) : null;
  if (needsNats && !nats) throw new Error("nats-server not found: the router and host need it");
  const roles: Record<string, unknown> = {};
  try {
    for (const role of ROLES) roles[role] = await measure(role, nats);
  } finally {
    await nats?.stop();
  }
  const result = { node: process.version, loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) }, cpus: cpus().length, roles, at: new Date().toISOString() };
  writeResult("startup", result, Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, { listeningMs: (v as { listeningMs: unknown }).listeningMs, readyMs: (v as { readyMs: unknown }).readyMs }])));
  console.log(`load average (1 min): ${result.loadAverage1m.before} before, ${result.loadAverage1m.after} after`);
}

await main();
