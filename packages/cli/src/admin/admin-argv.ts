import { OPTIONS } from "../options.ts";

/**
 * Splits `threadmesh admin` arguments into the option-table flags (connection, token, TLS: validated by
 * `loadConfig`) and the rest (resource, verb, their arguments and flags).
 */
export function splitAdminArgv(argv: readonly string[]): { config: string[]; verb: string[] } {
  const table = new Map(OPTIONS.filter((o) => o.commands.includes("admin")).map((o) => [o.flag, o]));
  const config: string[] = [];
  const verb: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const o = table.get(eq > 0 ? arg.slice(0, eq) : arg);
    if (!o) {
      verb.push(arg);
      continue;
    }
    config.push(arg);
    if (eq < 0 && argv[i + 1] !== undefined) config.push(argv[++i]!);
  }
  return { config, verb };
}

/** A mistake in the command line: printed as one line with the usage of the verb, exit code 2. */
export class AdminUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminUsageError";
  }
}

/** Credits as a decimal string ("12.5", "-3") to micro-credits, exactly. */
export function parseCredits(v: string, what: string): number {
  const m = /^(-?)(\d{1,12})(?:\.(\d{1,6}))?$/.exec(v.trim());
  if (!m) throw new AdminUsageError(`${what}: must be a number of credits with at most 6 decimals (got ${JSON.stringify(v)})`);
  const micro = Number(m[2]) * 1_000_000 + Number((m[3] ?? "").padEnd(6, "0"));
  return m[1] === "-" ? -micro : micro;
}

export function parseInteger(v: string, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new AdminUsageError(`${what}: must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

/** A time: ISO 8601, Unix ms, or a duration (`30d`, `12h`, `90m`) from now into the future (`ahead`) or the past. */
export function parseTime(v: string, what: string, nowMs: number, direction: "ahead" | "ago"): number {
  const d = /^(\d+)([smhd])$/.exec(v.trim());
  if (d) return nowMs + (direction === "ahead" ? 1 : -1) * Number(d[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as "s" | "m" | "h" | "d"];
  if (/^\d{10,}$/.test(v.trim())) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new AdminUsageError(`${what}: must be an ISO 8601 time, Unix ms or a duration such as 30d (got ${JSON.stringify(v)})`);
  return t;
}
