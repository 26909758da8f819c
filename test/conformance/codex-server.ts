import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/** A running `codex app-server` listening on a loopback WebSocket, its model provider pointed at `modelUrl`. */
export interface CodexServer {
  readonly url: string;
  workdir: string;
  /** Stops the server and starts it again on the same CODEX_HOME (threads on disk, none loaded). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The codex binary of `@openai/codex@<version>`, installed through npx's cache when missing. */
function codexBinary(version: string): string {
  execFileSync("npx", ["-y", `@openai/codex@${version}`, "--version"], { stdio: ["ignore", "ignore", "inherit"], timeout: 300_000 });
  const out = execFileSync("sh", ["-c", `ls -d ${join(homedir(), ".npm/_npx")}/*/node_modules/@openai/codex/package.json`], { encoding: "utf8" });
  for (const pkg of out.split("\n").filter(Boolean)) {
    const dir = pkg.replace(/\/package\.json$/, "");
    const v = (JSON.parse(execFileSync("cat", [pkg], { encoding: "utf8" })) as { version: string }).version;
    const bin = join(dir, "bin", "codex.js");
    if (v === version && existsSync(bin)) return bin;
  }
  throw new Error(`codex ${version} not found in the npx cache`);
}

/**
 * Starts the real codex app-server with a private CODEX_HOME whose config points the `mock` provider at
 * `modelUrl` (the Responses API simulator), with no retries, as Codex's own app-server tests do.
 */
export async function startCodexServer(version: string, modelUrl: string): Promise<CodexServer> {
  const home = mkdtempSync(join(tmpdir(), "codex-home-"));
  const workdir = mkdtempSync(join(tmpdir(), "codex-work-"));
  writeFileSync(
    join(home, "config.toml"),
    [
      'model = "mock-model"',
      'model_provider = "mock"',
      "[model_providers.mock]",
      'name = "mock"',
      `base_url = "${modelUrl}/v1"`,
      'wire_api = "responses"',
      "request_max_retries = 0",
      "stream_max_retries = 0",
      "",
    ].join("\n"),
  );
  let child: ChildProcess;
  const launch = async (): Promise<string> => {
    child = spawn(process.execPath, [codexBinary(version), "app-server", "--listen", "ws://127.0.0.1:0"], {
      env: { ...process.env, CODEX_HOME: home, RUST_LOG: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`codex app-server did not listen: ${out.slice(-500)}`)), 60_000);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const m = /ws:\/\/127\.0\.0\.1:\d+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`codex app-server exited (${code}): ${out.slice(-500)}`)));
    });
  };
  const halt = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  let url = await launch();
  return {
    get url() {
      return url;
    },
    workdir,
    async restart() {
      await halt();
      url = await launch();
    },
    async stop() {
      await halt();
      rmSync(home, { recursive: true, force: true });
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
