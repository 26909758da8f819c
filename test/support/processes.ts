import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = resolve(ROOT, "packages/cli/src/main.ts");
const BUILT_MAIN = resolve(ROOT, "packages/cli/dist/main.js");

/**
 * How a `threadmesh` child starts: from sources through tsx, or with THREADMESH_RUN_BUILT=1 from the
 * output of `npm run build` on plain node, as an operator runs it (benchmarks measure that).
 */
function threadmeshArgv(args: string[]): string[] {
  if (process.env.THREADMESH_RUN_BUILT !== "1") return ["--import", "tsx", MAIN, ...args];
  if (!existsSync(BUILT_MAIN)) throw new Error(`THREADMESH_RUN_BUILT=1 needs ${BUILT_MAIN}: run npm run build first`);
  return [BUILT_MAIN, ...args];
}

/**
 * Extra node flags for the children named in THREADMESH_CHILD_NODE_FLAGS_FOR (comma-separated; absent:
 * every child): THREADMESH_CHILD_NODE_FLAGS, space-separated, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile a process under a benchmark (NODE_OPTIONS refuses --cpu-prof).
 */
function childNodeFlags(name: string): string[] {
  const flags = process.env.THREADMESH_CHILD_NODE_FLAGS;
  if (!flags) return [];
  const only = process.env.THREADMESH_CHILD_NODE_FLAGS_FOR;
  if (only && !only.split(",").includes(name)) return [];
  return flags.split(" ").filter((f) => f.length > 0);
}

/**
 * With THREADMESH_CHILD_LOG_DIR set, each child's stdout and stderr are also written to
 * `<dir>/<name>-<pid>.log` (a roll starts several processes of one name), kept after the run.
 */
function childLog(name: string, pid: number | undefined): WriteStream | null {
  const dir = process.env.THREADMESH_CHILD_LOG_DIR;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  return createWriteStream(join(dir, `${name}-${pid ?? "x"}.log`));
}

/** A `threadmesh` child process; its stdout lines are kept so tests can await banners. */
export class ThreadmeshProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly name: string, readonly child: ChildProcess) {
    let buf = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        for (let k = this.waiters.length - 1; k >= 0; k--) {
          const m = line.match(this.waiters[k]!.re);
          if (m) this.waiters.splice(k, 1)[0]!.resolve(m);
        }
      }
    });
    const log = childLog(name, child.pid);
    if (log !== null) child.stdout!.on("data", (d: string) => log.write(d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      log?.write(d);
      this.stderr.push(d);
      if (this.stderr.length > 200) this.stderr.shift();
      if (process.env.THREADMESH_TEST_VERBOSE) process.stderr.write(`[${name}] ${d}`);
    });
    this.exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  }

  static spawn(name: string, args: string[], env: Record<string, string>): ThreadmeshProcess {
    const child = spawn(process.execPath, [...childNodeFlags(name), ...threadmeshArgv(args)], {
      cwd: ROOT,
      env: { ...process.env, THREADMESH_LOG_LEVEL: process.env.THREADMESH_TEST_VERBOSE ? "debug" : "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ThreadmeshProcess(name, child);
  }

  /** Resolves with the first stdout line (past or future) matching `re`; rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no line ${re} within ${timeoutMs} ms; stderr: ${this.stderr.join("").slice(-2000)}`)), timeoutMs);
      this.waiters.push({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before printing ${re}; stderr: ${this.stderr.join("").slice(-2000)}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Runs a `threadmesh` command to completion and returns its exit code and output. */
export function runThreadmesh(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, threadmeshArgv(args), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("exit", (code) => resolvePromise({ code, stdout, stderr }));
  });
}
