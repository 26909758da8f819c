// The README's "Clients" examples: the TypeScript ones compile against the SDK as published in this
// checkout, and the gRPC partner example runs as written against a real router's gateway port.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology } from "../support/topology.ts";
import { freePort } from "../support/server-process.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** The fenced code blocks of `lang` in the README section headed `## <heading>`. */
function readmeBlocks(heading: string, lang: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

test("the README's TypeScript client examples typecheck against the SDK", () => {
  const blocks = readmeBlocks("Clients", "ts");
  assert.ok(blocks.length >= 1, "the Clients section has TypeScript examples");
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const dir = mkdtempSync(join(ROOT, "packages/client/test/.readme-"));
  try {
    const files = blocks.map((code, i) => {
      const f = join(dir, `example-${i}.ts`);
      writeFileSync(f, `${code}\nexport {};\n`);
      return f;
    });
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const problems = files.flatMap((f) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => `${d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : ""} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`),
    );
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the README's gRPC partner example", () => {
  let sim: ModelSim;
  let topo: Topology;
  let port: number;

  before(async () => {
    sim = await startModelSim({ port: 0 });
    port = await freePort();
    const t = await startTopology("embedded", { simUrl: sim.url, extraEnv: { THREADMESH_GATEWAY_PORT: String(port) } });
    assert.ok(t, "embedded topology started");
    topo = t;
  });

  after(async () => {
    await topo?.stop();
    await sim?.close();
  });

  test("runs a turn to its end over the gateway and closes with OK", async () => {
    const [code] = readmeBlocks("Clients", "js");
    assert.ok(code?.includes("127.0.0.1:8767"), "the example dials the documented gateway address");
    sim.script("*", [{ output: [{ type: "message", text: "hello from the gateway" }] }]);
    const dir = mkdtempSync(join(ROOT, ".readme-partner-"));
    const file = join(dir, "partner.mjs");
    writeFileSync(file, code!.replace("127.0.0.1:8767", `127.0.0.1:${port}`));
    try {
      const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, THREADMESH_TOKEN: topo.token }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const exit = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      clearTimeout(timer);
      assert.equal(exit, 0, `the example exits cleanly (stderr: ${err})`);
      assert.equal(out, "hello from the gateway\nOK\n", "the answer's deltas, then the call's status");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
