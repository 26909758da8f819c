#!/usr/bin/env node
// Start-up to listening of the built `threadmesh`, on plain node: the time from spawning the process to
// the line saying it serves (dev and router: "listening on", host: "session host … ready"), over several
// runs after one warm-up, each process then stopped with SIGTERM. Prints min / median / max per role.
//
//   node scripts/build.mjs --out /tmp/tm && (cd /tmp/tm && npm ci --omit=dev)
//   node scripts/build-startup.mjs --tree /tmp/tm [--runs 5] [--nats nats://… --database-url postgres://…]
//
// dev runs against a SQLite file kept across runs (a restart; the warm-up creates and migrates it).
// router and host are measured only when --nats (a JetStream-enabled server) and --database-url (a
// migrated database) are given.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

function parse(argv) {
  const o = { tree: null, runs: 5, nats: null, databaseUrl: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--tree" && value) o.tree = resolve(value);
    else if (flag === "--runs" && value) o.runs = Number(value);
    else if (flag === "--nats" && value) o.nats = value;
    else if (flag === "--database-url" && value) o.databaseUrl = value;
    else {
      console.error(`build-startup: unknown argument ${JSON.stringify(flag)}`);
      process.exit(2);
    }
    i++;
  }
  if (!o.tree) {
    console.error("build-startup: --tree <deployable tree with node_modules> is required");
    process.exit(2);
  }
  return o;
}

/** Spawns `args` on plain node, resolves with ms until a line matches `ready`, then stops the process. */
function timeToLine(main, args, env, ready) {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [main, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let ms = null;
    const onData = (d) => {
      out += d;
      if (ms === null && ready.test(out)) {
        ms = performance.now() - started;
        child.kill("SIGTERM");
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => (ms === null ? reject(new Error(`exited ${code} before it was ready:\n${out.slice(-2000)}`)) : resolveRun(ms)));
  });
}

function summary(name, times) {
  const s = [...times].sort((a, b) => a - b);
  const f = (x) => `${(x / 1000).toFixed(2)} s`;
  console.log(`${name.padEnd(8)} min ${f(s[0])}  median ${f(s[Math.floor(s.length / 2)])}  max ${f(s[s.length - 1])}  (${s.length} runs)`);
}

async function measure(name, main, args, env, ready, runs) {
  await timeToLine(main, args, env, ready);
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await timeToLine(main, args, env, ready));
  summary(name, times);
}

const o = parse(process.argv.slice(2));
const main = join(o.tree, "packages", "cli", "dist", "main.js");
const base = { ...process.env, THREADMESH_LOG_LEVEL: "warn", THREADMESH_METRICS_PORT: "0", THREADMESH_ADMIN_PORT: "0" };
delete base.NODE_OPTIONS;
const data = mkdtempSync(join(tmpdir(), "tm-startup-"));
try {
  const devEnv = { ...base, DATABASE_URL: `sqlite:${join(data, "threadmesh.db")}`, THREADMESH_WORKSPACE_ROOT: join(data, "workspaces") };
  await measure("dev", main, ["dev", "--port", "0"], devEnv, /listening on: ws:\/\//, o.runs);
  if (o.nats && o.databaseUrl) {
    const meshEnv = { ...base, NATS_URL: o.nats, DATABASE_URL: o.databaseUrl, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" };
    await measure("router", main, ["router", "--port", "0"], meshEnv, /listening on: ws:\/\//, o.runs);
    await measure("host", main, ["host"], { ...meshEnv, THREADMESH_WORKSPACE_ROOT: join(data, "workspaces") }, /session host \S+ ready/, o.runs);
  }
} finally {
  rmSync(data, { recursive: true, force: true });
}
