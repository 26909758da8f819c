#!/usr/bin/env node
// Finds test files and runs each in its own node process under tsx (node:test, spec reporter), a few at
// a time, longest first. Usage: node scripts/run-tests.mjs [--unit] [--concurrency=N]
// [--record-durations] [path filters...]
//   --unit               package unit tests only (packages/*/test)
//   --concurrency=N      files run at once (default 2, or TEST_CONCURRENCY)
//   --record-durations   write each file's wall time to test/durations.json (merged with what is there)
// Files start in decreasing order of their duration in test/durations.json, unknown files first, so
// the last files to finish are short ones; without the file they start in name order.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const DURATIONS = join("test", "durations.json");
/** A file still running after this long is killed and counted as failed (node:test's own timeout does not apply to a file run directly). */
const FILE_TIMEOUT_MS = 10 * 60_000;

const argv = process.argv.slice(2);
const unitOnly = argv.includes("--unit");
const record = argv.includes("--record-durations");
const concurrencyArg = argv.find((a) => a.startsWith("--concurrency="))?.slice("--concurrency=".length) ?? process.env.TEST_CONCURRENCY ?? "2";
const concurrency = Number(concurrencyArg);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`--concurrency must be a positive integer, got ${JSON.stringify(concurrencyArg)}`);
  process.exit(2);
}
const unknownFlag = argv.find((a) => a.startsWith("--") && a !== "--unit" && a !== "--record-durations" && !a.startsWith("--concurrency="));
if (unknownFlag) {
  console.error(`unknown option ${unknownFlag} (usage: node scripts/run-tests.mjs [--unit] [--concurrency=N] [--record-durations] [filters...])`);
  process.exit(2);
}
const filters = argv.filter((a) => !a.startsWith("--"));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === "node_modules") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync("packages")) walk(join("packages", pkg, "test"), files);
if (!unitOnly) walk("test", files);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
selected.sort();
if (selected.length === 0) {
  console.error("no test files found");
  process.exit(1);
}

/** Seconds per file from the last recorded run; {} when there is none or it does not parse. */
function readDurations() {
  if (!existsSync(DURATIONS)) return {};
  try {
    const parsed = JSON.parse(readFileSync(DURATIONS, "utf8"));
    return parsed !== null && typeof parsed === "object" ? parsed : {};
  } catch {
    console.error(`${DURATIONS} is not valid JSON; running files in name order`);
    return {};
  }
}
const known = readDurations();
/** Longest first; files with no recorded duration before all others (they might be long); ties by name. */
function longestFirst(list) {
  const weight = (f) => (typeof known[f] === "number" ? known[f] : Infinity);
  return [...list].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
}

// The official Codex schemas are generated once, before any test process needs them.
const prep = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "-e",
    'const m = await import("./test/support/codex-schema.ts"); for (const v of m.CODEX_VERSIONS) { m.codexSchemaDir(false, v); m.codexSchemaDir(true, v); }',
  ],
  { stdio: "inherit", env: process.env },
);
if (prep.status !== 0) {
  console.error("could not generate the official Codex schema (npx @openai/codex app-server generate-json-schema)");
  process.exit(prep.status ?? 1);
}

const running = new Set();
function stopAll(signal) {
  for (const child of running) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll(signal);
    process.exit(130);
  });
}

/**
 * CPU seconds (user + system) of this process's children that have ended, with their own ended
 * children (Linux /proc); null elsewhere. Against the wall time it shows how far the run is from using
 * every core, i.e. whether more files at once could help.
 */
function childrenCpuSeconds() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 16 and 17 of stat(5) (cutime, cstime), counted from the state field, field 3.
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
    const hz = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
    return Number.isFinite(ticks) ? ticks / hz : null;
  } catch {
    return null;
  }
}

/** Runs one file in its own process group; resolves with its exit, wall time and output (stdout and stderr interleaved). */
function runFile(file) {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", "--test-reporter=spec", file], {
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    const chunks = [];
    child.stdout.on("data", (c) => chunks.push(c));
    child.stderr.on("data", (c) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, FILE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const seconds = (performance.now() - started) / 1000;
      let output = Buffer.concat(chunks).toString("utf8");
      if (timedOut) output += `\n✖ killed after ${FILE_TIMEOUT_MS / 1000} s\n`;
      resolveRun({ file, ok: code === 0 && !timedOut, code, signal, seconds, output });
    });
  });
}

/** Runs `list` at most `limit` at a time, in order, printing each file's output as it finishes. */
async function runPool(list, limit) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < list.length) {
      const file = list[next++];
      const r = await runFile(file);
      results.push(r);
      const mark = r.ok ? "✔" : "✖";
      const how = r.ok ? "" : r.signal ? ` (${r.signal})` : ` (exit ${r.code})`;
      process.stdout.write(`\n${mark} ${file} ${r.seconds.toFixed(1)} s${how} [${results.length}/${list.length}]\n${r.output}`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
  return results;
}

// The chaos suite kills processes, restarts NATS nodes and bounds how long turns may take: it runs on
// its own after everything else, so neither it nor a neighbour measures the other's load.
const alone = selected.filter((f) => f.startsWith(join("test", "chaos")));
const together = selected.filter((f) => !alone.includes(f));
const order = Object.keys(known).length > 0 ? `longest first by ${DURATIONS}` : "in name order";
console.log(`${selected.length} test files, ${concurrency} at a time, ${order}${alone.length > 0 ? "; the chaos suite alone at the end" : ""}`);
const started = performance.now();
const cpuBefore = childrenCpuSeconds();
const results = [];
for (const [list, limit] of [
  [together, concurrency],
  [alone, 1],
]) {
  if (list.length > 0) results.push(...(await runPool(longestFirst(list), limit)));
}
const wall = (performance.now() - started) / 1000;
const cpuAfter = childrenCpuSeconds();

if (record) {
  const merged = Object.fromEntries(Object.entries(known).filter(([f]) => existsSync(f)));
  for (const r of results) merged[r.file] = Math.round(r.seconds * 10) / 10;
  const ordered = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(DURATIONS, `${JSON.stringify(ordered, null, 2)}\n`);
  console.log(`\nrecorded ${results.length} durations in ${DURATIONS}`);
}

const failed = results.filter((r) => !r.ok);
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
console.log(`\nslowest files:\n${slowest.map((r) => `  ${r.seconds.toFixed(1).padStart(6)} s  ${r.file}`).join("\n")}`);
const cpu = cpuBefore !== null && cpuAfter !== null ? `, ${(cpuAfter - cpuBefore).toFixed(0)} s of CPU in the test processes and their children` : "";
console.log(`\n${results.length - failed.length} of ${results.length} files passed in ${wall.toFixed(1)} s (concurrency ${concurrency}${cpu})`);
if (failed.length > 0) {
  console.log(`failed:\n${failed.map((r) => `  ${r.file}`).join("\n")}`);
  process.exit(1);
}
