import { wrapCommand } from "./bwrap.ts";
import { SandboxUnavailableError } from "./sandbox-errors.ts";
import { DEFAULT_SANDBOX_LIMITS } from "./sandbox-limits.ts";
import { sandboxUser } from "./sandbox-user.ts";
import { spawnWrapped } from "./spawn-wrapped.ts";

/** Probe outcomes by bubblewrap path: checked once per process, failures included (the host does not change underneath). */
const probes = new Map<string, Promise<void>>();

/** A probe that takes longer than this counts as failed, in ms. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Resolves when bubblewrap, user namespaces and every flag the sandbox uses work on this host, with the
 * result the sandbox promises: a non-root uid, no capabilities, `no_new_privs` and a seccomp filter.
 * Rejects with `SandboxUnavailableError` saying what failed otherwise. The first call runs the probe;
 * later calls share its outcome.
 */
export function probeSandbox(bwrapPath: string): Promise<void> {
  let probe = probes.get(bwrapPath);
  if (!probe) {
    probe = runProbe(bwrapPath);
    probe.catch(() => undefined);
    probes.set(bwrapPath, probe);
  }
  return probe;
}

async function runProbe(bwrapPath: string): Promise<void> {
  const cmd = wrapCommand(["/bin/cat", "/proc/self/status"], { mode: "read-only", workspace: "/usr", writableRoots: [], networkAccess: false }, bwrapPath, "/usr", {
    user: sandboxUser("threadmesh-sandbox-probe"),
    limits: DEFAULT_SANDBOX_LIMITS,
  });
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    let output = "";
    let child;
    try {
      child = spawnWrapped(cmd, "/");
    } catch (err) {
      resolve({ code: null, output: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), PROBE_TIMEOUT_MS);
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (err) => (output += err.message));
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve({ code: c, output });
    });
  });
  const fail = (why: string) => {
    throw new SandboxUnavailableError(`sandbox unavailable: ${why}; refusing to run sandboxed commands`);
  };
  if (code !== 0) fail(`bubblewrap could not start a sandbox (exit ${code}): ${output.trim().slice(0, 500)}`);
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(output)?.[1]?.trim() ?? null;
  const uids = (field("Uid") ?? "0").split(/\s+/);
  if (uids.some((u) => u === "0")) fail("the sandboxed probe ran as uid 0");
  for (const caps of ["CapInh", "CapPrm", "CapEff", "CapAmb"]) {
    if (!/^0+$/.test(field(caps) ?? "")) fail(`the sandboxed probe kept capabilities (${caps} ${field(caps)})`);
  }
  if (field("NoNewPrivs") !== "1") fail("no_new_privs is not set inside the sandbox");
  if (field("Seccomp") !== "2") fail("the seccomp filter is not installed inside the sandbox");
}
