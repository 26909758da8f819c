import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
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
const packages = readdirSync(repoPath("packages")).filter((p) => existsSync(repoPath(`packages/${p}/package.json`)));

test("three stages on one Node 20 base: build, production dependencies, runtime last", () => {
  assert.deepEqual(stages.map((s) => s.name), ["build", "deps", "runtime"]);
  const nodeImage = args.find((a) => a.keyword === "ARG" && a.args.startsWith("NODE_IMAGE="));
  assert.match(nodeImage?.args ?? "", /^NODE_IMAGE=node:20[-.]/);
  for (const s of stages) assert.equal(s.base, "${NODE_IMAGE}");
});

test("the build stage installs everything and runs the build; the deps stage installs production dependencies only", () => {
  assert.ok(runs(stage("build")).some((r) => /npm ci && npm run build/.test(r)));
  const deps = runs(stage("deps"));
  const installs = deps.filter((r) => /npm (ci|install)/.test(r));
  assert.equal(installs.length, 1);
  assert.match(installs[0]!, /npm ci --omit=dev/);
  // npm ci with workspaces needs every workspace's manifest.
  const manifests = copies(stage("deps")).map((c) => c.args.split(" ")[0]);
  for (const p of packages) assert.ok(manifests.includes(`packages/${p}/package.json`), `deps stage copies packages/${p}/package.json`);
  assert.ok(manifests.includes("package.json") || copies(stage("deps")).some((c) => c.args.startsWith("package.json package-lock.json")));
});

test("the runtime stage takes node_modules from the production install only, and the compiled output", () => {
  const rt = stage("runtime");
  assert.ok(!runs(rt).some((r) => /npm (ci|install)/.test(r)), "no install in the runtime stage");
  const fromOther = copies(rt).filter((c) => c.flags.from);
  const modules = fromOther.filter((c) => /node_modules/.test(c.args));
  assert.deepEqual(modules.map((c) => c.flags.from), ["deps"], "node_modules only from the --omit=dev install");
  assert.ok(fromOther.some((c) => c.flags.from === "build" && c.args.startsWith("/out/packages ")));
  // What the build stage collects into /out: manifests and dist/ only, no sources, no dev tooling.
  assert.ok(runs(stage("build")).some((r) => /cp "\$p\/package\.json"/.test(r) && /cp -R "\$p\/dist"/.test(r)));
  // Files copied from the context exist.
  for (const c of copies(rt).filter((x) => !x.flags.from)) {
    const sources = c.args.split(" ").slice(0, -1);
    for (const src of sources) assert.ok(existsSync(repoPath(src)), `COPY ${src} exists`);
  }
  // The admin API loads its .proto at run time, three folders above its compiled file.
  assert.ok(copies(rt).some((c) => c.args === "proto ./proto"));
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
  assert.deepEqual(execForm(entry), ["/usr/bin/tini", "--", "node", "/app/packages/cli/dist/main.js"]);
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
  for (const kept of ["proto", "deploy", "packages", "package.json", "package-lock.json"]) assert.ok(!ignore.includes(kept), kept);
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
