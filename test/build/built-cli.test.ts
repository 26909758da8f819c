import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startNatsServer, type NatsServer } from "../support/nats-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts";
import { completeTurn } from "./turn.ts";
import { Spawned, plainNodeEnv, run } from "./spawned.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const out = mkdtempSync(join(tmpdir(), "tm-built-"));
const bin = join(out, "node_modules", ".bin", "threadmesh");
let dev: Spawned | null = null;
const mesh: Spawned[] = [];
let nats: NatsServer | null = null;
let db: TestDatabase | null = null;

after(async () => {
  await dev?.stop();
  for (const p of mesh.reverse()) await p.stop();
  await nats?.stop();
  await db?.drop();
  rmSync(out, { recursive: true, force: true });
});

before(async () => {
  // The compiled output and what production needs, laid out apart from the checkout.
  const build = await run(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--out", out], { cwd: ROOT, env: plainNodeEnv() });
  assert.equal(build.code, 0, `npm run build: ${build.stdout}${build.stderr}`);
  // Production dependencies only, from the lockfile, as an operator installs them.
  const install = await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: out, env: plainNodeEnv() });
  assert.equal(install.code, 0, `npm ci --omit=dev: ${install.stdout}${install.stderr}`);
  // better-sqlite3's native addon is the one install script a production install runs; compiling SQLite
  // takes minutes on this machine (its prebuilt binaries are not downloadable here), so the checkout's
  // build of the same version, for the same Node ABI, is put where the install script would build it.
  const addon = join("node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
  const lockVersion = (p: string) => (JSON.parse(readFileSync(join(p, "node_modules", "better-sqlite3", "package.json"), "utf8")) as { version: string }).version;
  assert.equal(lockVersion(out), lockVersion(ROOT), "the same better-sqlite3 as the checkout");
  mkdirSync(join(out, "node_modules", "better-sqlite3", "build", "Release"), { recursive: true });
  copyFileSync(join(ROOT, addon), join(out, addon));
});

test("the deployable tree holds compiled JavaScript, proto files and migrations, and no development dependency", () => {
  assert.ok(existsSync(join(out, "packages", "cli", "dist", "main.js")), "cli dist/main.js");
  assert.ok(existsSync(join(out, "packages", "persistence", "dist", "migrations", "0001-initial.js")), "migrations are compiled");
  assert.ok(existsSync(join(out, "proto", "threadmesh", "admin", "v1", "admin.proto")), "proto files are in the output");
  assert.ok(!existsSync(join(out, "packages", "cli", "src")), "no TypeScript sources");
  for (const dev of ["tsx", "typescript", "esbuild", "ajv"]) assert.ok(!existsSync(join(out, "node_modules", dev)), `${dev} is not installed`);
  assert.ok(existsSync(bin), "npm linked the threadmesh bin");
});

test("the built threadmesh bin prints its help on plain node", async () => {
  const r = await run(bin, ["--help"], { cwd: out, env: plainNodeEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: threadmesh <command> \[options\]/);
  assert.match(r.stdout, /migrate +apply database migrations and exit/);
});

test("the built threadmesh dev starts on plain node and completes a turn over a real WebSocket against the model simulator", async () => {
  const data = join(out, "data");
  dev = new Spawned("threadmesh dev (built)", bin, ["dev", "--port", "0"], {
    cwd: out,
    env: plainNodeEnv({
      DATABASE_URL: `sqlite:${join(data, "threadmesh.db")}`,
      THREADMESH_WORKSPACE_ROOT: join(data, "workspaces"),
      THREADMESH_METRICS_PORT: "0",
      THREADMESH_ADMIN_PORT: "0",
      THREADMESH_LOG_LEVEL: "warn",
      THREADMESH_SIM_TOOL_CALL_PROBABILITY: "0",
      THREADMESH_SIM_TTFT_MS: "0",
    }),
  });
  const url = (await dev.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
  const token = (await dev.waitForLine(/token: (\S+)/))[1]!;
  // The admin API is served from the proto file shipped in the tree.
  await dev.waitForLine(/admin API: \S+ \(gRPC\)/);
  await dev.waitForLine(/model: built-in model simulator at http:\/\/127\.0\.0\.1:\d+/);
  const turn = await completeTurn(url, token);
  assert.equal(turn.status, "completed");
  assert.ok(turn.text.length > 0, "the simulator's answer streamed");
  const stopped = await dev.stop();
  assert.deepEqual(stopped, { code: 0, signal: null }, dev.output());
});

test("the built migrate, model-sim, host and router form a distributed mesh on NATS and PostgreSQL that completes a turn", async (t) => {
  nats = await startNatsServer({ jetstream: true });
  db = await createTestDatabase();
  if (nats === null || db === null) return t.skip("nats-server or PostgreSQL is not available");
  const env = plainNodeEnv({ NATS_URL: nats.url, DATABASE_URL: db.url, THREADMESH_LOG_LEVEL: "warn", THREADMESH_METRICS_PORT: "0" });
  const migrate = await run(bin, ["migrate"], { cwd: out, env });
  assert.equal(migrate.code, 0, migrate.stderr);
  assert.match(migrate.stdout, /^applied migrations: 0001-initial, /);

  const sim = new Spawned("model-sim (built)", bin, ["model-sim", "--sim-port", "0", "--sim-tool-call-probability", "0", "--sim-ttft-ms", "0"], { cwd: out, env });
  mesh.push(sim);
  const simUrl = (await sim.waitForLine(/model-sim listening on (http:\/\/\S+)/))[1]!.replace(/\/?$/, "");
  const host = new Spawned("host (built)", bin, ["host"], {
    cwd: out,
    env: { ...env, OPENAI_BASE_URL: simUrl.endsWith("/v1") ? simUrl : `${simUrl}/v1`, THREADMESH_WORKSPACE_ROOT: join(out, "data", "workspaces") },
  });
  mesh.push(host);
  await host.waitForLine(/session host \S+ ready/);
  const router = new Spawned("router (built)", bin, ["router", "--port", "0"], { cwd: out, env: { ...env, THREADMESH_TOKEN: "built-secret" } });
  mesh.push(router);
  const url = (await router.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
  const turn = await completeTurn(url, "built-secret");
  assert.equal(turn.status, "completed", `${host.output()}\n${router.output()}`);
  for (const p of [router, host]) assert.deepEqual(await p.stop(), { code: 0, signal: null }, p.output());
});
