import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxSpec } from "../src/sandbox/sandbox-spec.ts";

/** The sandboxed modes every attempt runs in. */
export const ESCAPE_MODES = ["read-only", "workspace-write", "workspace-write+network"] as const;
export type EscapeMode = (typeof ESCAPE_MODES)[number];

/** What the attempts script is told about the host (serialised into its argv). */
export interface AttemptConfig {
  workspace: string;
  tenantDir: string;
  network: boolean;
  marker: string;
  dataSecret: string;
  serverConfig: string;
  serverCode: string;
  otherThreadSecret: string;
  otherTenantSecret: string;
  /** The other tenant's secret relative to the workspace root, for `..` walks from the workspace. */
  otherTenantRel: string;
  envSecretName: string;
  envSecret: string;
  rootSentinelPid: number;
  uidSentinelPid: number;
  hostPid: number;
  tcpPort: number;
  unixPath: string;
  abstractName: string;
}

/** A host listener that counts the connections it accepted. */
export interface CountingListener {
  readonly server: Server;
  connections: number;
}

/** A long-running host process that must outlive every attempt. */
export interface Sentinel {
  readonly child: ChildProcess;
  /** Set when the process ended, with how. */
  ended: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export const ATTEMPTS_SCRIPT = readFileSync(fileURLToPath(new URL("./sandbox-escape-attempts.py", import.meta.url)), "utf8");

/**
 * Everything the escape attempts aim at, set up on the real host: a workspace root with one workspace
 * per mode for tenant A, another thread of tenant A and a workspace of tenant B holding secrets, a fake
 * server data directory (secret, config, a world-connectable Unix socket) outside the workspace root,
 * a secret in the host's environment, symlinks planted in each workspace pointing at those, a TCP
 * listener, a pathname socket inside each workspace, an abstract socket, and two sentinel processes:
 * one running as root, one as the sandbox user (outside any sandbox).
 */
export class EscapeFixture {
  readonly marker = `tm-escape-${process.pid}-${randomBytes(4).toString("hex")}`;
  readonly root: string;
  readonly tenantDir: string;
  readonly dataDir: string;
  readonly envSecretName = "TM_ESCAPE_HOST_SECRET";
  readonly envSecret = randomBytes(16).toString("hex");
  readonly workspaces: Record<EscapeMode, string>;
  readonly tcp: CountingListener;
  readonly unixListeners: CountingListener[] = [];
  readonly abstractName = `tm-escape-abstract-${randomBytes(6).toString("hex")}`;
  readonly sentinels: Sentinel[] = [];
  readonly passwdDigest = digest("/etc/passwd");
  #otherThreadSecret: string;
  #otherTenantSecret: string;

  private constructor(
    readonly owner: { uid: number; gid: number } | null,
    base: string,
  ) {
    this.root = mkdtempSync(join(base, "tm-escape-root-"));
    chmodSync(this.root, 0o755);
    this.tenantDir = join(this.root, "tenant-a");
    this.dataDir = mkdtempSync(join(base, "tm-escape-data-"));
    chmodSync(this.dataDir, 0o755);
    writeFileSync(join(this.dataDir, "threads.sqlite"), `secret ${this.envSecret}\n`, { mode: 0o644 });
    writeFileSync(join(this.dataDir, "config.env"), `DATABASE_URL=postgres://threadmesh:${this.envSecret}@localhost/threadmesh\n`, { mode: 0o644 });
    this.#otherThreadSecret = this.#plant(join(this.tenantDir, "thread-other"));
    this.#otherTenantSecret = this.#plant(join(this.root, "tenant-b", "thread-9"));
    this.workspaces = {
      "read-only": this.#workspace("thread-ro"),
      "workspace-write": this.#workspace("thread-ww"),
      "workspace-write+network": this.#workspace("thread-net"),
    };
    this.tcp = { server: createServer((s) => s.destroy()), connections: 0 };
    this.tcp.server.on("connection", () => this.tcp.connections++);
  }

  /** Builds the fixture; `owner` owns the workspaces (the unprivileged host's uid), null leaves them to adoption. */
  static async create(owner: { uid: number; gid: number } | null, sandboxUid: number, base = "/tmp"): Promise<EscapeFixture> {
    const f = new EscapeFixture(owner, base);
    await listen(f.tcp.server, { port: 0, host: "127.0.0.1" });
    const paths = [join(f.dataDir, "host.sock"), ...Object.values(f.workspaces).map((w) => join(w, "host.sock"))];
    for (const path of paths) {
      const l: CountingListener = { server: createServer((s) => s.destroy()), connections: 0 };
      l.server.on("connection", () => l.connections++);
      await listen(l.server, { path });
      chmodSync(path, 0o777);
      if (f.owner) chownSync(path, f.owner.uid, f.owner.gid);
      f.unixListeners.push(l);
    }
    const abstract: CountingListener = { server: createServer((s) => s.destroy()), connections: 0 };
    abstract.server.on("connection", () => abstract.connections++);
    await listen(abstract.server, { path: `\0${f.abstractName}` });
    f.unixListeners.push(abstract);
    await f.#sentinel(null);
    await f.#sentinel(sandboxUid);
    return f;
  }

  /** The attempts script's view of the host for one mode. */
  config(mode: EscapeMode): AttemptConfig {
    return {
      workspace: this.workspaces[mode],
      tenantDir: this.tenantDir,
      network: mode === "workspace-write+network",
      marker: this.marker,
      dataSecret: join(this.dataDir, "threads.sqlite"),
      serverConfig: join(this.dataDir, "config.env"),
      serverCode: fileURLToPath(import.meta.url),
      otherThreadSecret: this.#otherThreadSecret,
      otherTenantSecret: this.#otherTenantSecret,
      otherTenantRel: "tenant-b/thread-9/secret.txt",
      envSecretName: this.envSecretName,
      envSecret: this.envSecret,
      rootSentinelPid: this.sentinels[0]!.child.pid!,
      uidSentinelPid: this.sentinels[1]!.child.pid!,
      hostPid: process.pid,
      tcpPort: (this.tcp.server.address() as AddressInfo).port,
      unixPath: join(this.dataDir, "host.sock"),
      abstractName: this.abstractName,
    };
  }

  spec(mode: EscapeMode): SandboxSpec {
    return {
      mode: mode === "read-only" ? "read-only" : "workspace-write",
      workspace: this.workspaces[mode],
      writableRoots: [],
      networkAccess: mode === "workspace-write+network",
    };
  }

  /** Host paths the attempts tried to create; none may exist. */
  markerPaths(): string[] {
    return [`/usr/${this.marker}`, `/${this.marker}`, `/dev/${this.marker}`, `/tmp/${this.marker}`, join(this.tenantDir, this.marker)];
  }

  async close(): Promise<void> {
    for (const s of this.sentinels) if (!s.ended) s.child.kill("SIGKILL");
    await Promise.all([this.tcp, ...this.unixListeners].map((l) => new Promise<void>((r) => l.server.close(() => r()))));
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  #plant(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "secret.txt");
    writeFileSync(file, `secret of ${basename(dir)}: ${this.envSecret}\n`, { mode: 0o644 });
    return file;
  }

  #workspace(name: string): string {
    const ws = join(this.tenantDir, name);
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, "README.md"), "# workspace\n");
    symlinkSync("/etc/shadow", join(ws, "link-shadow"));
    symlinkSync(join(this.dataDir, "threads.sqlite"), join(ws, "link-data-secret"));
    symlinkSync(join(this.root, "tenant-b", "thread-9", "secret.txt"), join(ws, "link-other-tenant"));
    symlinkSync("/root", join(ws, "link-root"));
    if (this.owner) {
      for (const p of [this.tenantDir, ws, join(ws, "README.md")]) chownSync(p, this.owner.uid, this.owner.gid);
      for (const l of ["link-shadow", "link-data-secret", "link-other-tenant", "link-root"]) {
        // The links themselves, never their targets.
        lchownSync(join(ws, l), this.owner.uid, this.owner.gid);
      }
    }
    return ws;
  }

  /** Starts `sleep` as root (uid null) or as `uid`, resolved once it runs. */
  async #sentinel(uid: number | null): Promise<void> {
    const child = spawn("/bin/sleep", [`${3600 + this.sentinels.length}`], {
      stdio: "ignore",
      ...(uid === null ? {} : { uid, gid: uid }),
    });
    const s: Sentinel = { child, ended: null };
    child.on("exit", (code, signal) => (s.ended = { code, signal }));
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    this.sentinels.push(s);
  }
}

function listen(server: Server, opts: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts, () => resolve());
  });
}

export function digest(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** One attempt as the script reported it: whether it began, and its outcome line (null when it never finished). */
export interface AttemptReport {
  begun: boolean;
  outcome: string | null;
}

/** Parses the script's BEGIN/RESULT lines by attempt name; `done` is whether it reached its end. */
export function parseAttempts(output: string): { attempts: Map<string, AttemptReport>; done: boolean } {
  const attempts = new Map<string, AttemptReport>();
  let done = false;
  for (const line of output.split("\n")) {
    const begin = /^BEGIN (\S+)$/.exec(line);
    if (begin) attempts.set(begin[1]!, { begun: true, outcome: null });
    const result = /^RESULT (\S+) (.*)$/.exec(line);
    if (result) {
      const a = attempts.get(result[1]!);
      if (a) a.outcome = result[2]!;
    }
    if (line === "DONE") done = true;
  }
  return { attempts, done };
}
