// Runs the escape attempts as an unprivileged session host would: started by sandbox-escape.test.ts
// under `setpriv --reuid --regid --clear-groups`, it calls runCommand for every mode at once and prints
// one JSON object {mode: {exitCode, output}} on stdout.
import { runCommand } from "../src/tools/exec.ts";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";
import { ATTEMPTS_SCRIPT, type AttemptConfig } from "./sandbox-escape-fixture.ts";

interface ChildInput {
  bwrapPath: string;
  runs: Record<string, { spec: SandboxSpec; config: AttemptConfig }>;
}

const input = JSON.parse(process.argv[2]!) as ChildInput;
const results: Record<string, { exitCode: number; output: string; uid: number }> = {};
await Promise.all(
  Object.entries(input.runs).map(async ([mode, { spec, config }]) => {
    const r = await runCommand({
      argv: ["/usr/bin/python3", "-c", ATTEMPTS_SCRIPT, JSON.stringify(config)],
      cwd: spec.workspace,
      timeoutMs: 60_000,
      outputCapBytes: 1 << 20,
      sandbox: spec,
      bwrapPath: input.bwrapPath,
    });
    results[mode] = { exitCode: r.exitCode, output: r.output, uid: process.getuid!() };
  }),
);
process.stdout.write(JSON.stringify(results));
