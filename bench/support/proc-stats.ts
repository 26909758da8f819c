import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time of a process so far (every thread, user and system), in µs; null once it is gone. */
export function cpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), from its closing parenthesis: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Resident set size of a process, in MB; null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Read and write system calls a process made so far (/proc/<pid>/io: socket reads and writes count); null once it is gone. */
export function syscalls(pid: number): { reads: number; writes: number } | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, "utf8");
    const r = io.match(/^syscr: (\d+)$/m);
    const w = io.match(/^syscw: (\d+)$/m);
    return r && w ? { reads: Number(r[1]), writes: Number(w[1]) } : null;
  } catch {
    return null;
  }
}

/** PostgreSQL backends serving database `name` (their command line names it). */
export function postgresBackends(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.startsWith("postgres: ") && cmd.includes(` ${name} `)) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/**
 * CPU, read and write system calls and peak RSS of named processes over a window: {@link begin} reads
 * their CPU time and system call counts, {@link sample} (every second or so) their RSS, {@link end} the
 * CPU time and counts again. A name may stand for several
 * processes (the database's backends), listed anew at each read.
 */
export class ProcessSampler {
  readonly #pids: Map<string, () => number[]>;
  readonly #cpu0 = new Map<string, Map<number, number>>();
  readonly #io0 = new Map<string, Map<number, { reads: number; writes: number }>>();
  readonly #peakRss = new Map<string, number>();
  #t0 = 0;

  constructor(pids: Record<string, () => number[]>) {
    this.#pids = new Map(Object.entries(pids));
  }

  begin(): void {
    this.#t0 = performance.now();
    for (const [name, pids] of this.#pids) {
      const list = pids();
      this.#cpu0.set(name, new Map(list.map((p) => [p, cpuMicros(p) ?? 0])));
      this.#io0.set(name, new Map(list.map((p) => [p, syscalls(p) ?? { reads: 0, writes: 0 }])));
    }
    this.sample();
  }

  sample(): void {
    for (const [name, pids] of this.#pids) {
      const rss = pids().reduce((n, p) => n + (rssMb(p) ?? 0), 0);
      this.#peakRss.set(name, Math.max(this.#peakRss.get(name) ?? 0, rss));
    }
  }

  /** Per name: CPU used since {@link begin} (µs, and cores on average), read and write system calls made since, and peak RSS (MB). */
  end(): Record<string, { cpuMicros: number; cores: number; peakRssMb: number; reads: number; writes: number }> {
    this.sample();
    const seconds = (performance.now() - this.#t0) / 1000;
    const out: Record<string, { cpuMicros: number; cores: number; peakRssMb: number; reads: number; writes: number }> = {};
    for (const [name, pids] of this.#pids) {
      const before = this.#cpu0.get(name) ?? new Map<number, number>();
      const io0 = this.#io0.get(name) ?? new Map<number, { reads: number; writes: number }>();
      let used = 0;
      let reads = 0;
      let writes = 0;
      for (const p of pids()) {
        used += (cpuMicros(p) ?? 0) - (before.get(p) ?? 0);
        const io = syscalls(p);
        // A process that started during the window (a database backend) counts from zero.
        if (io !== null) {
          reads += io.reads - (io0.get(p)?.reads ?? 0);
          writes += io.writes - (io0.get(p)?.writes ?? 0);
        }
      }
      out[name] = { cpuMicros: Math.round(used), cores: Number((used / 1e6 / seconds).toFixed(3)), peakRssMb: Number((this.#peakRss.get(name) ?? 0).toFixed(1)), reads, writes };
    }
    return out;
  }
}
