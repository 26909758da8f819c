import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** A child process whose output lines are kept, so a test can await a banner; stopped with SIGTERM then SIGKILL. */
export class Spawned {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly name: string, file: string, args: string[], options: SpawnOptions) {
    this.child = spawn(file, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const lines = (sink: string[]) => {
      let buf = "";
      return (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          sink.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          for (const w of this.waiters.splice(0)) w();
        }
      };
    };
    this.child.stdout!.setEncoding("utf8").on("data", lines(this.out));
    this.child.stderr!.setEncoding("utf8").on("data", lines(this.err));
    this.exited = new Promise((r) => this.child.once("exit", (code, signal) => r({ code, signal })));
    void this.exited.then(() => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first line of stdout or stderr matching `re`; rejects when the process exits or `timeoutMs` passes first. */
  async waitForLine(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const l of [...this.out, ...this.err]) {
        const m = l.match(re);
        if (m) return m;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${this.name} exited before printing ${re}:\n${this.output()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no line ${re} within ${timeoutMs} ms:\n${this.output()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  output(): string {
    return [...this.out, ...this.err].join("\n").slice(-4000);
  }

  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }
}

/** Runs a command to completion; resolves with its exit code and output. */
export function run(file: string, args: string[], options: SpawnOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a process that must not run from sources: no NODE_OPTIONS (conditions, loaders) from the test runner. */
export function plainNodeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env["NODE_OPTIONS"];
  return env;
}
