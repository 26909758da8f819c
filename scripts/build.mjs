#!/usr/bin/env node
// Compiles every workspace package to JavaScript in its dist/ (one tsc program, tsconfig.build.json).
// `--out <dir>` lays out a deployable tree there instead, leaving the checkout as it is: the root
// package.json and package-lock.json, each package's package.json and dist/, and proto/ — `npm ci
// --omit=dev` in it gives a runnable `threadmesh` (node_modules/.bin/threadmesh).
//
// Packages export ./dist/index.js by default (what plain `node` and consumers load) and ./src/index.ts
// under the `source` condition. Everything in the repository runs from sources without a build: tsx
// resolves `@threadmesh/*` through the `paths` of tsconfig.json to packages/*/src/index.ts, whether or
// not a dist/ exists (tsx does not read tsconfig's customConditions, so the paths are what it follows).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

class BuildError extends Error {}

function fail(message) {
  throw new BuildError(message);
}

function parseArgs(argv) {
  const out = { outDir: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && argv[i + 1]) out.outDir = resolve(argv[++i]);
    else fail(`unknown argument ${JSON.stringify(argv[i])} (usage: node scripts/build.mjs [--out <dir>])`);
  }
  return out;
}

function compile(staging) {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  if (!existsSync(tsc)) fail("typescript is not installed; run `npm ci` first");
  const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", staging], { stdio: "inherit", cwd: ROOT });
  if (r.status !== 0) fail("tsc failed");
}

/** Moves the staged output of each package (<staging>/<pkg>/src) to <root>/packages/<pkg>/dist. */
function placeOutput(staging, root) {
  const packages = readdirSync(join(ROOT, "packages"));
  for (const pkg of packages) {
    const staged = join(staging, pkg, "src");
    if (!existsSync(staged)) fail(`no output for packages/${pkg}`);
    const target = join(root, "packages", pkg);
    mkdirSync(target, { recursive: true });
    rmSync(join(target, "dist"), { recursive: true, force: true });
    renameSync(staged, join(target, "dist"));
    if (root !== ROOT) cpSync(join(ROOT, "packages", pkg, "package.json"), join(target, "package.json"));
  }
  return packages;
}

/** The browser console's bundle, beside its compiled server code (routers serve it; no esbuild at runtime). */
function bundleConsole(root) {
  const script = join(ROOT, "packages", "console", "scripts", "bundle.mjs");
  const r = spawnSync(process.execPath, [script, join(root, "packages", "console", "dist", "web")], { stdio: "inherit", cwd: ROOT });
  if (r.status !== 0) fail("console bundle failed");
}

/** The rest of a deployable tree: the workspace root's manifest and lockfile, and the proto files. */
function layOutRoot(outDir) {
  for (const f of ["package.json", "package-lock.json"]) cpSync(join(ROOT, f), join(outDir, f));
  rmSync(join(outDir, "proto"), { recursive: true, force: true });
  cpSync(join(ROOT, "proto"), join(outDir, "proto"), { recursive: true });
}

function build(args) {
  const root = args.outDir ?? ROOT;
  // Staged on the target's filesystem so the final moves are renames.
  const stagingParent = args.outDir ?? join(ROOT, ".cache");
  mkdirSync(stagingParent, { recursive: true });
  const staging = mkdtempSync(join(stagingParent, ".build-"));
  try {
    compile(staging);
    const packages = placeOutput(staging, root);
    bundleConsole(root);
    if (args.outDir) layOutRoot(args.outDir);
    return packages;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const started = performance.now();
let args;
let packages;
try {
  args = parseArgs(process.argv.slice(2));
  packages = build(args);
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error(`build: ${e.message}`);
  process.exit(1);
}
console.log(`built ${packages.length} packages in ${((performance.now() - started) / 1000).toFixed(1)} s${args.outDir ? `; deployable tree in ${args.outDir}` : ""}`);
