import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { execForm, parseDockerfile, type Stage } from "./dockerfile-parse.ts";
import { readRepoFile, repoPath } from "./deploy-files.ts";

// Lint-level checks of deploy/Dockerfile (no container engine runs here): its stages, what each
// installs and copies, the user, the health check and the entry point. The health check script itself
// runs for real against a local HTTP server.

const { args, stages } = parseDockerfile(readRepoFile("deploy/Dockerfile"));
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `stage ${name}`);
  return s;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === "COPY");

test("three stages on one Node 20 base: build, production dependencies, runtime last", () => {
  assert.deepEqual(stages.map((s) => s.name), ["build", "deps", "runtime"]);
  const nodeImage = args.find((a) => a.keyword === "ARG" && a.args.startsWith("NODE_IMAGE="));
  assert.match(nodeImage?.args ?? "", /^NODE_IMAGE=node:20[-.]/);
  for (const s of stages) assert.equal(s.base, "${NODE_IMAGE}");
});

test("the build stage installs everything and lays out the built tree; the deps stage installs production dependencies only", () => {
  const build = runs(stage("build"));
  assert.ok(build.some((r) => /npm ci && npm run build -- --out \/out$/.test(r)));
  // What `--out` lays out is the script's contract: manifests, dist/ and proto/, no sources.
  assert.match(readRepoFile("scripts/build.mjs"), /--out/);
  const deps = stage("deps");
  assert.deepEqual(copies(deps).map((c) => [c.flags.from, c.args]), [["build", "/out/ ./"]]);
  const installs = runs(deps).filter((r) => /npm (ci|install)/.test(r));
  assert.equal(installs.length, 1);
  assert.match(installs[0]!, /npm ci --omit=dev$/);
});

test("the runtime stage takes the production install and nothing from the build stage", () => {
  const rt = stage("runtime");
  assert.ok(!runs(rt).some((r) => /npm (ci|install)|apt-get install[^&]*\b(g\+\+|make|python3)\b/.test(r)), "no install, no toolchain");
  const fromOther = copies(rt).filter((c) => c.flags.from);
  assert.deepEqual(fromOther.map((c) => [c.flags.from, c.args]), [["deps", "/app ./"]]);
  // Files copied from the context exist.
  for (const c of copies(rt).filter((x) => !x.flags.from)) {
    const sources = c.args.split(" ").slice(0, -1);
    for (const src of sources) assert.ok(existsSync(repoPath(src)), `COPY ${src} exists`);
  }
});

test("runs as a non-root user with bubblewrap and an init, the threadmesh entry point and a health check", () => {
  const rt = stage("runtime");
  const users = rt.instructions.filter((i) => i.keyword === "USER");
  assert.ok(users.length > 0);
  assert.doesNotMatch(users.at(-1)!.args, /^(root|0)(:|$)/);
  const apt = runs(rt).find((r) => /apt-get install/.test(r)) ?? "";
  assert.match(apt, /\bbubblewrap\b/);
  assert.match(apt, /\btini\b/);
  const entry = rt.instructions.filter((i) => i.keyword === "ENTRYPOINT").at(-1);
  assert.ok(entry);
  // The entry point is the `threadmesh` bin of the CLI package.
  const bin = (JSON.parse(readRepoFile("packages/cli/package.json")) as { bin: { threadmesh: string } }).bin.threadmesh;
  assert.deepEqual(execForm(entry), ["/usr/bin/tini", "--", "node", `/app/packages/cli/${bin.replace(/^\.\//, "")}`]);
  const health = rt.instructions.filter((i) => i.keyword === "HEALTHCHECK").at(-1);
  assert.ok(health, "HEALTHCHECK");
  assert.match(health.args, /CMD \["node", "\/app\/deploy\/healthcheck\.mjs"\]/);
  const env = rt.instructions.filter((i) => i.keyword === "ENV").map((i) => i.args).join(" ");
  assert.match(env, /THREADMESH_METRICS_HOST=0\.0\.0\.0/);
  assert.match(env, /THREADMESH_HOST=0\.0\.0\.0/);
  const exposed = rt.instructions.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.args.split(" "));
  assert.deepEqual(exposed.sort(), ["8765", "8766", "9464"]);
});

test("the build context leaves out node_modules, dist and data but keeps what the image copies", () => {
  const ignore = readRepoFile("deploy/Dockerfile.dockerignore").split("\n").filter((l) => l && !l.startsWith("#"));
  for (const p of ["**/node_modules", "**/dist", ".git", "data"]) assert.ok(ignore.includes(p), p);
  for (const kept of ["proto", "deploy", "packages", "scripts", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]) assert.ok(!ignore.includes(kept), kept);
});

async function healthcheck(url: string | undefined, env: Record<string, string> = {}): Promise<number | null> {
  const child = spawn(process.execPath, [repoPath("deploy/healthcheck.mjs"), ...(url ? [url] : [])], { env: { ...process.env, ...env }, stdio: "ignore" });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

test("the health check script passes on 200 and fails on 503 or no listener", async () => {
  let status = 200;
  const server = createServer((req, res) => {
    res.writeHead(req.url === "/healthz" ? status : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.equal(await healthcheck(undefined, { THREADMESH_METRICS_PORT: String(port) }), 0);
    assert.equal(await healthcheck(`http://127.0.0.1:${port}/healthz`), 0);
    status = 503;
    assert.equal(await healthcheck(`http://127.0.0.1:${port}/healthz`), 1);
  } finally {
    await new Promise((r) => server.close(r));
  }
  assert.equal(await healthcheck(`http://127.0.0.1:${port}/healthz`), 1);
});
