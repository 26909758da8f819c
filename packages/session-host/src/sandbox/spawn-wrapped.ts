import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { SECCOMP_FD, type WrappedCommand } from "./bwrap.ts";
import { stdioWithoutInherited } from "./inherited-descriptors.ts";

/**
 * Starts a wrapped command in its own process group with stdin on /dev/null and stdout/stderr piped, as
 * the wrapped user (Node drops supplementary groups, then sets the gid and uid, before exec), and hands
 * bubblewrap its seccomp program on descriptor {@link SECCOMP_FD}. Throws what `spawn` throws.
 */
export function spawnWrapped(cmd: WrappedCommand, cwd: string): ChildProcess {
  const base: unknown[] = ["ignore", "pipe", "pipe"];
  if (cmd.seccomp) base.push("pipe");
  const child = spawn(cmd.file, cmd.args, {
    cwd,
    env: cmd.env,
    stdio: stdioWithoutInherited(base as StdioOptions & unknown[]) as StdioOptions,
    detached: true,
    windowsHide: true,
    ...(cmd.user ? { uid: cmd.user.uid, gid: cmd.user.gid } : {}),
  });
  if (cmd.seccomp) {
    const pipe = child.stdio[SECCOMP_FD] as NodeJS.WritableStream & { on(event: "error", fn: () => void): void };
    // bubblewrap may exit before reading (a failed mount); that surfaces as its exit status, not here.
    pipe.on("error", () => undefined);
    pipe.end(cmd.seccomp);
  }
  return child;
}
