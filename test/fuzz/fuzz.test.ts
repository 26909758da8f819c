import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ThreadmeshProcess } from "../support/processes.ts";
import { processEnv } from "../support/process-env.ts";
import { TestClient } from "../support/ws-client.ts";
import { CaseFactory, EXPECTED, FUZZ_LIMITS, type FuzzCase } from "./fuzz-cases.ts";
import { Prng, fuzzSeed } from "./prng.ts";
import { RawClient } from "./raw-client.ts";

/** Frames per fuzzing connection, and connections fuzzing at once. */
const FRAMES_PER_CONNECTION = 250;
const CONNECTIONS = 3;
/** Longest wait for the answers of one round, ms (a bound on the test, not on the server's speed). */
const ANSWERS_TIMEOUT_MS = 60_000;

const seed = fuzzSeed();
const replay = `(seed ${seed}; replay with THREADMESH_FUZZ_SEED=${seed})`;

/**
 * Valid, malformed and hostile frames against `threadmesh dev` over real WebSockets: every request
 * with a valid id is answered with the code {@link EXPECTED} gives its class, frames without a usable
 * id get id-null errors, the process stays up and logs no error, and a normal turn runs afterwards.
 */
describe(`fuzz ${replay}`, () => {
  let sim: ModelSim;
  let proc: ThreadmeshProcess;
  let url: string;
  let dir: string;
  const token = randomBytes(16).toString("hex");
  const logLines: string[] = [];

  before(async () => {
    sim = await startModelSim({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), "tm-fuzz-"));
    const env: Record<string, string> = {
      ...processEnv({ simUrl: sim.url, token, workspaceRoot: join(dir, "workspaces") }),
      THREADMESH_LOG_LEVEL: "warn",
      DATABASE_URL: `sqlite:${join(dir, "threadmesh.db")}`,
    };
    for (const [k, v] of Object.entries(FUZZ_LIMITS)) env[k] = String(v);
    proc = ThreadmeshProcess.spawn("dev", ["dev", "--port", "0"], env);
    let buf = "";
    proc.child.stderr!.on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        logLines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    url = (await proc.waitForLine(/listening on: (ws:\/\/\S+)/))[1]!;
  });

  after(async () => {
    await proc?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const initialized = async (): Promise<RawClient> => {
    const c = await RawClient.connect(url, token);
    c.send(JSON.stringify({ id: "init", method: "initialize", params: { clientInfo: { name: "fuzz", version: "1" } } }));
    await c.until(() => c.answers('"init"').length === 1, 10_000, () => `no initialize answer ${replay}`);
    return c;
  };

  test("every request with a valid id gets the documented answer; the others get id-null errors", async () => {
    const rnd = new Prng(seed);
    const rounds = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, k) => {
        const c = await initialized();
        const factory = new CaseFactory(rnd, `c${k}`);
        const cases: FuzzCase[] = [];
        for (let i = 0; i < FRAMES_PER_CONNECTION; i++) cases.push(factory.next());
        // Every class at least once per connection.
        for (const cls of Object.keys(EXPECTED) as Array<keyof typeof EXPECTED>) cases.push(factory.make(cls));
        const from = c.frames.length;
        for (const fc of cases) for (const f of fc.frames) c.send(f, fc.binary);
        // The router answers framing errors as frames arrive, in order: once this is answered, every one is in.
        const sentinel = `"sentinel-${k}"`;
        c.send(`{"id":${sentinel},"method":"model/list","params":{}}`);
        const expectedAnswers = (): boolean => c.answers(sentinel).length === 1 && cases.every((fc) => fc.idText === undefined || c.answers(fc.idText).length >= fc.answers);
        await c.until(expectedAnswers, ANSWERS_TIMEOUT_MS, () => {
          const missing = cases.filter((fc) => fc.idText !== undefined && c.answers(fc.idText).length < fc.answers);
          return `unanswered on connection ${k}: ${missing.slice(0, 10).map((m) => `${m.cls} ${m.idText}`).join(", ")} ${replay}`;
        });
        return { k, c, cases, from };
      }),
    );
    for (const { k, c, cases, from } of rounds) {
      for (const fc of cases) {
        const spec = EXPECTED[fc.cls];
        const what = `connection ${k}, ${fc.cls} ${String(fc.frames[0]).slice(0, 120)} ${replay}`;
        if (fc.idText === undefined) continue;
        const answers = c.answers(fc.idText);
        assert.equal(answers.length, fc.answers, `answers with id ${fc.idText}: ${what}`);
        for (const a of answers) {
          if (spec.answer === "result") {
            assert.equal(a.code, undefined, `${a.text.slice(0, 200)}: ${what}`);
            if (fc.cls === "pageClamped") {
              const data = (JSON.parse(a.text) as { result: { data: unknown[] } }).result.data;
              assert.ok(data.length <= FUZZ_LIMITS.THREADMESH_MAX_PAGE_SIZE, `page of ${data.length}: ${what}`);
            }
          } else {
            assert.equal(a.code, spec.answer, `${a.text.slice(0, 300)}: ${what}`);
          }
          if (fc.cls === "tooDeep") assert.deepEqual(a.data, { reason: "nestingTooDeep", limit: FUZZ_LIMITS.THREADMESH_MAX_JSON_DEPTH }, what);
          if (fc.cls === "fieldTooLarge") assert.equal((a.data as { reason?: string }).reason, "tooLarge", what);
        }
      }
      const nullExpected = cases.filter((fc) => EXPECTED[fc.cls].id === "null").length;
      const nullAnswers = c.frames.slice(from).filter((f) => f.idText === null);
      assert.equal(nullAnswers.length, nullExpected, `id-null errors on connection ${k} ${replay}`);
      for (const a of nullAnswers) assert.ok(a.code === -32600 || a.code === -32700, `${a.text.slice(0, 200)} ${replay}`);
      const internal = c.frames.filter((f) => f.code === -32603);
      assert.deepEqual(internal.map((f) => f.text.slice(0, 200)), [], `no internal errors ${replay}`);
      assert.equal(c.closed, null, `connection ${k} stays open ${replay}`);
      c.close();
    }
  });

  test("requests before initialize, oversized frames and the per-connection thread quota", async () => {
    const fresh = await RawClient.connect(url, token);
    fresh.send('{"id":1,"method":"thread/list","params":{}}');
    await fresh.until(() => fresh.answers("1").length === 1, 10_000, () => `no answer before initialize ${replay}`);
    assert.equal(fresh.answers("1")[0]!.code, -32600);
    fresh.close();

    const big = await initialized();
    big.send(JSON.stringify({ id: 2, method: "thread/start", params: { developerInstructions: "x".repeat(FUZZ_LIMITS.THREADMESH_MAX_FRAME_BYTES) } }));
    await big.until(() => big.closed !== null, 10_000, () => `oversized frame did not close the connection ${replay}`);
    assert.equal(big.closed!.code, 1009);
    assert.deepEqual(big.answers("2"), [], "a frame that was never read is not answered by id");

    const c = await TestClient.initialized(url, { token });
    const started: string[] = [];
    for (let i = 0; i < FUZZ_LIMITS.THREADMESH_MAX_THREADS_PER_CONNECTION; i++) started.push((await c.call("thread/start", {})).thread.id as string);
    const refused = await c.request("thread/start", {});
    assert.equal(refused.error?.code, -32600);
    assert.deepEqual(refused.error?.data, { reason: "connectionThreadLimit", limit: FUZZ_LIMITS.THREADMESH_MAX_THREADS_PER_CONNECTION });
    assert.deepEqual(await c.call("thread/unsubscribe", { threadId: started[0] }), { status: "unsubscribed" });
    assert.ok((await c.call("thread/start", {})).thread.id);
    assert.deepEqual(c.schemaViolations, []);
    await c.close();
  });

  test("afterwards the server is up, logged no error, and runs a normal turn to completion", async () => {
    assert.equal(proc.child.exitCode, null, "the process is still running");
    const c = await TestClient.initialized(url, { token });
    const { thread } = await c.call("thread/start", {});
    sim.script(thread.id, [{ output: [{ type: "message", text: ["still", " here"] }] }]);
    const from = c.frames.length;
    const { turn } = await c.call("turn/start", { threadId: thread.id, input: [{ type: "text", text: "hello" }] });
    const done = await c.waitFor((f) => f.method === "turn/completed" && f.params.turn.id === turn.id, { from });
    assert.equal(done.params.turn.status, "completed");
    assert.equal(done.params.turn.items[0].text, "still here");
    await c.close();
    const errors = logLines.filter((l) => {
      try {
        const j = JSON.parse(l) as { level?: number; msg?: string };
        return (j.level ?? 0) >= 50 || /internal error/i.test(j.msg ?? "");
      } catch {
        return false;
      }
    });
    assert.deepEqual(errors, [], `errors logged ${replay}`);
  });
});
