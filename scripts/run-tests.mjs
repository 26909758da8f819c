#!/usr/bin/env node
// Finds test files and runs them with node:test under tsx. `--unit` limits the run to package unit tests.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const unitOnly = process.argv.includes("--unit");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));

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
// The official Codex schema is generated once, before any test process needs it.
const prep = spawnSync(
  process.execPath,
  ["--import", "tsx", "-e", 'const m = await import("./test/support/codex-schema.ts"); m.codexSchemaDir(false); m.codexSchemaDir(true);'],
  { stdio: "inherit", env: process.env },
);
if (prep.status !== 0) {
  console.error("could not generate the official Codex schema (npx @openai/codex app-server generate-json-schema)");
  process.exit(prep.status ?? 1);
}
// The chaos suite kills processes, restarts NATS nodes and bounds how long turns may take: it runs on
// its own after everything else, so neither it nor a neighbour measures the other's load.
const alone = selected.filter((f) => f.startsWith(join("test", "chaos")));
const together = selected.filter((f) => !alone.includes(f));
let status = 0;
for (const [files, concurrency] of [
  [together, 2],
  [alone, 1],
]) {
  if (files.length === 0) continue;
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-timeout=600000", ...files],
    { stdio: "inherit", env: process.env },
  );
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
