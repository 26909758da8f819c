import { readdirSync, readFileSync } from "node:fs";

/** PIDs of processes whose command line contains `marker` and that are neither exiting nor zombies. */
export function liveProcessesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      const flags = Number(fields[6]);
      const PF_EXITING = 0x4;
      if (state !== "Z" && state !== "X" && (flags & PF_EXITING) === 0) pids.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return pids;
}
