import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelSimArgsError, runModelSimCli } from "@threadmesh/model-sim";
import { ofType, sdkClient, streamEvents } from "./sdk-client.ts";

test("the CLI starts a generative simulator and prints its URL", async () => {
  const lines: string[] = [];
  const sim = await runModelSimCli(["--port", "0", "--host=127.0.0.1", "--tokens-per-response", "4", "--tokens-per-second", "inf", "--ttft-ms=0", "--tool-call-probability", "0"], {
    out: (l) => lines.push(l),
  });
  assert.ok(sim);
  try {
    assert.deepEqual(lines, [`model-sim listening on ${sim.url}`]);
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const events = await streamEvents(sdkClient(sim), "cli");
    assert.equal(ofType(events, "response.output_text.delta").length, 4);
  } finally {
    await sim.close();
  }
});

test("--help prints usage and starts nothing", async () => {
  const lines: string[] = [];
  assert.equal(await runModelSimCli(["--help"], { out: (l) => lines.push(l) }), undefined);
  assert.match(lines.join("\n"), /--tool-call-probability/);
});

test("every bad flag is reported at once", async () => {
  await assert.rejects(
    runModelSimCli(["--port", "99999", "--tool-call-probability=2", "--bogus", "--ttft-ms"]),
    (err: unknown) => err instanceof ModelSimArgsError && err.problems.length === 4,
  );
});
