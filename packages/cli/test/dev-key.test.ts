import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ThreadmeshProcess, runThreadmesh } from "../../../test/support/processes.ts";
import { TestClient } from "../../../test/support/ws-client.ts";

const dir = mkdtempSync(join(tmpdir(), "tm-dev-key-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = {
  DATABASE_URL: `sqlite:${join(dir, "threadmesh.db")}`,
  THREADMESH_WORKSPACE_ROOT: join(dir, "workspaces"),
  THREADMESH_METRICS_PORT: "0",
  THREADMESH_ADMIN_PORT: "0",
  THREADMESH_TOKEN: "",
};

/** Starts `threadmesh dev` on the test's data dir; returns its URL, the banner's key and whether it was created now. */
async function startDev(): Promise<{ proc: ThreadmeshProcess; url: string; key: string; created: boolean }> {
  const proc = ThreadmeshProcess.spawn("dev", ["dev", "--port", "0"], env);
  const url = (await proc.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
  const m = await proc.waitForLine(/api key \(tenant default\): (tm_live_\S+) \((created now|created earlier);/);
  return { proc, url, key: m[1]!, created: m[2] === "created now" };
}

test("threadmesh dev prints a working API key, kept 0600 in the data dir and the same on the next start", async () => {
  const first = await startDev();
  let key: string;
  try {
    assert.equal(first.created, true);
    key = first.key;
    const c = await TestClient.initialized(first.url, { token: key });
    const listed = await c.call("thread/list", {});
    assert.ok(Array.isArray(listed.data));
    c.close();
    await assert.rejects(TestClient.connect(first.url, { token: `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}` }), /upgrade refused: 401/);
    const file = join(dir, "dev-api-key");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, "utf8").trim(), key);
  } finally {
    await first.proc.stop();
  }
  const second = await startDev();
  try {
    assert.equal(second.created, false);
    assert.equal(second.key, key);
    const c = await TestClient.initialized(second.url, { token: key });
    assert.ok(Array.isArray((await c.call("thread/list", {})).data));
    c.close();
  } finally {
    await second.proc.stop();
  }
});

test("a JWT secret under 32 bytes stops start-up with one clear line and no stack trace", async () => {
  const r = await runThreadmesh(["router", "--jwt-secret", "too-short"], { ...env, NATS_URL: "nats://127.0.0.1:1" });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--jwt-secret: must be at least 32 bytes \(got 9\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
