import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer } from "../../../test/support/nats-server.ts";
import { runThreadmesh } from "../../../test/support/processes.ts";

/** Exit 1 with one line on stderr (JSON log lines aside) and no stack trace. */
function assertOneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith('{"level"'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

describe("operator mistakes at start-up get one line", () => {
  test("a NATS server without JetStream", async (t) => {
    const nats = await startNatsServer();
    assert.ok(nats, "nats-server is required");
    t.after(() => nats.stop());
    const r = await runThreadmesh(["router", "--port", "0", "--metrics-port", "0"], { NATS_URL: nats.url, DATABASE_URL: "sqlite::memory:" });
    assertOneLine(r, /^threadmesh router: the NATS server has no JetStream: start nats-server with -js/);
  });

  test("no NATS server at the URL", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runThreadmesh(["host", "--metrics-port", "0"], { NATS_URL: `nats://127.0.0.1:${port}`, DATABASE_URL: "sqlite::memory:", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    assertOneLine(r, new RegExp(`^threadmesh host: cannot connect to NATS at 127\\.0\\.0\\.1:${port} `));
  });

  test("a host without a model provider", async () => {
    const r = await runThreadmesh(["host", "--metrics-port", "0"], { DATABASE_URL: "sqlite::memory:", OPENAI_BASE_URL: "" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^threadmesh host: invalid configuration:\n  OPENAI_BASE_URL: set it/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  });

  test("a port already in use", async (t) => {
    const taken = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)));
    const dir = mkdtempSync(join(tmpdir(), "tm-startup-"));
    t.after(() => {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const r = await runThreadmesh(["dev", "--port", String(port), "--metrics-port", "0", "--admin-port", "0"], {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      THREADMESH_WORKSPACE_ROOT: join(dir, "ws"),
    });
    assertOneLine(r, new RegExp(`^threadmesh dev: address 127\\.0\\.0\\.1:${port} is already in use`));
  });
});
