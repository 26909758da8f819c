import { openSync, readdirSync, readFileSync } from "node:fs";
import type { StdioOptions } from "node:child_process";

const O_CLOEXEC = 0o2000000;

/**
 * Descriptors above 2 this process holds without close-on-exec: ones it inherited from whoever started
 * it (a supervisor's pipe, a socket). A spawned child would inherit them, and bubblewrap does not close
 * them, so a sandboxed command could use them. Everything Node itself opens is close-on-exec.
 */
export function inheritedDescriptors(): number[] {
  const leaked: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc/self/fd");
  } catch {
    return leaked;
  }
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
      if (m && (Number.parseInt(m[1]!, 8) & O_CLOEXEC) === 0) leaked.push(fd);
    } catch {
      // Closed meanwhile (the directory listing's own descriptor, for one).
    }
  }
  return leaked;
}

let devNull: number | null = null;

/**
 * `stdio` for a spawn that replaces each inherited descriptor with /dev/null in the child, so nothing
 * reaches the child except `base` (its stdin, stdout, stderr and any extra pipes).
 */
export function stdioWithoutInherited(base: StdioOptions & unknown[]): unknown[] {
  const stdio: unknown[] = [...base];
  const leaked = inheritedDescriptors().filter((fd) => fd >= base.length);
  if (leaked.length === 0) return stdio;
  devNull ??= openSync("/dev/null", "r");
  for (const fd of leaked) {
    while (stdio.length < fd) stdio.push("ignore");
    stdio[fd] = devNull;
  }
  return stdio;
}
