/**
 * k6 is not installed here, so the k6 scripts are checked for what can be checked without it: each
 * script and every file it reaches parse as an ES module once types are stripped, and they import
 * nothing but k6's own modules and the shared scenario files (no Node built-ins, no packages, no remote
 * modules), so k6 can load exactly the source the Node runner runs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const ROOT = resolve(import.meta.dirname, "../..");
const K6_DIR = join(ROOT, "loadtests/k6");
const ALLOWED_DIRS = [K6_DIR, join(ROOT, "loadtests/scenarios")];
const K6_MODULE = /^k6(\/[a-z-]+)*$/;

const entries = readdirSync(K6_DIR).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "k6-platform.ts");

/** Every file reachable from `entry` by relative imports, with its bare imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const imports = ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
    seen.set(file, imports.filter((i) => !i.startsWith(".")));
    for (const i of imports) if (i.startsWith(".")) todo.push(resolve(dirname(file), i));
  }
  return seen;
}

describe("k6 scripts", () => {
  it("there is a k6 script for every shared scenario", async () => {
    const { SCENARIO_NAMES } = await import("../../loadtests/scenarios/index.ts");
    assert.deepEqual(entries.map((f) => f.replace(/\.ts$/, "")).sort(), [...SCENARIO_NAMES].sort());
  });

  for (const entry of entries) {
    it(`${entry} reaches only k6 modules and the shared scenario files`, () => {
      const files = reach(join(K6_DIR, entry));
      assert.ok(files.size > 5, "the script reaches the scenario files");
      for (const [file, bare] of files) {
        assert.ok(ALLOWED_DIRS.some((d) => file.startsWith(`${d}/`)), `${relative(ROOT, file)} is outside loadtests/k6 and loadtests/scenarios`);
        for (const b of bare) assert.match(b, K6_MODULE, `${relative(ROOT, file)} imports ${b}`);
      }
    });
  }

  it("the k6 scripts and scenarios use only erasable TypeScript (what type stripping runs as is)", () => {
    const program = ts.createProgram([...entries.map((e) => join(K6_DIR, e)), join(K6_DIR, "k6-modules.d.ts")], {
      erasableSyntaxOnly: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? relative(ROOT, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    assert.deepEqual(problems, []);
  });

  it("every file a k6 script reaches parses as an ES module once types are stripped", () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-k6-parse-"));
    try {
      const files = new Set(entries.flatMap((e) => [...reach(join(K6_DIR, e)).keys()]));
      for (const file of files) {
        const js = ts.transpileModule(readFileSync(file, "utf8"), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
          reportDiagnostics: true,
          fileName: file,
        });
        assert.deepEqual(js.diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")) ?? [], [], relative(ROOT, file));
        const out = join(dir, `${relative(ROOT, file).replace(/[/\\]/g, "_")}.mjs`);
        writeFileSync(out, js.outputText);
        const check = spawnSync(process.execPath, ["--check", out], { encoding: "utf8" });
        assert.equal(check.status, 0, `${relative(ROOT, file)}: ${check.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
