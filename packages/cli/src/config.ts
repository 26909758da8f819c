import type { TenantLimits } from "@threadmesh/protocol";
import { OPTIONS, type Command, type OptionSpec } from "./options.ts";
import { policyDefaultsProblems } from "./policy-options.ts";
import { adminOptionProblems } from "./admin-options.ts";

/** The resolved configuration: validated, frozen. Keys mirror {@link OPTIONS}, the {@link TenantLimits} among them. */
export interface Config extends TenantLimits {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  readonly host: string;
  readonly port: number;
  readonly gatewayPort: number | null;
  readonly token: string | null;
  readonly devMode: boolean;
  readonly defaultTenant: string;
  readonly jwtSecret: string | null;
  readonly jwksUrl: string | null;
  readonly jwtIssuer: string | null;
  readonly jwtAudience: string | null;
  readonly jwtClockSkewS: number;
  readonly jwtTenantClaim: string;
  readonly jwtUserClaim: string;
  readonly credentialCacheMs: number;
  readonly authFailuresPerMinute: number;
  readonly allowedOrigins: readonly string[];
  readonly console: boolean;
  readonly consoleTicketSecret: string | null;
  readonly maxFrameBytes: number;
  readonly hostRequestTimeoutMs: number;
  readonly turnStartBacklogMs: number;
  readonly hostMaxConcurrentCommands: number;
  readonly routerId: string | null;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly createDatabase: boolean;
  readonly outboundMaxBytes: number;
  readonly outboundGraceMs: number;
  readonly outboundTotalMaxBytes: number;
  readonly hostId: string | null;
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
  readonly maxThreads: number;
  readonly maxTurns: number;
  readonly turnLagBudgetMs: number;
  readonly deltaLingerMs: number;
  readonly continueTurns: boolean;
  readonly drainDeadlineMs: number;
  readonly replayMaxAgeMs: number;
  readonly replayMaxEvents: number;
  readonly jetstreamReplicas: number;
  readonly modelBaseUrl: string | null;
  readonly modelApiKey: string | null;
  readonly model: string;
  readonly modelMaxRetries: number;
  readonly workspaceRoot: string;
  readonly bwrapPath: string | null;
  readonly approvalPolicy: "untrusted" | "on-request" | "never";
  readonly sandbox: "read-only" | "workspace-write" | "danger-full-access";
  readonly maxSandbox: "read-only" | "workspace-write" | "danger-full-access";
  readonly approvalPolicies: readonly ("untrusted" | "on-request" | "never" | "granular")[];
  readonly allowNeverWithoutSandbox: boolean;
  readonly allowEscalation: boolean;
  readonly allowNetwork: boolean;
  readonly confineWorkspaces: boolean;
  readonly commandTimeoutMs: number;
  readonly admission: boolean;
  readonly shedding: boolean;
  readonly joinDeltas: boolean;
  readonly redisUrl: string | null;
  readonly burstInsuranceFraction: number;
  readonly priceTable: string | null;
  readonly maxOutputTokens: number;
  readonly simHost: string;
  readonly simPort: number;
  readonly simTokensPerSecond: number;
  readonly simTtftMs: number;
  readonly simToolCallProbability: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly adminToken: string | null;
  readonly adminTlsCert: string | null;
  readonly adminTlsKey: string | null;
  readonly adminTlsClientCa: string | null;
  readonly adminTlsCa: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads env and flags once for `command`. Flags win over env; unknown flags and bad values are all
 * collected and reported together.
 */
export function loadConfig(command: Command, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const specs = OPTIONS.filter((o) => o.commands.includes(command));
  const byFlag = new Map(specs.map((o) => [o.flag, o]));
  const raw = new Map<OptionSpec, { value: string; source: string }>();
  const problems: string[] = [];

  for (const o of specs) {
    const v = env[o.env];
    if (v !== undefined && v !== "") raw.set(o, { value: v, source: o.env });
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const o = byFlag.get(flag);
    if (!o) {
      problems.push(`${flag}: unknown option for \`threadmesh ${command}\``);
      if (eq < 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) i++;
      continue;
    }
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (value === undefined) {
      if (o.kind === "bool" && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--"))) value = "true";
      else value = argv[++i];
    }
    if (value === undefined) problems.push(`${flag}: missing value`);
    else raw.set(o, { value, source: flag });
  }

  const out: Record<string, string | number | boolean | string[] | null> = {};
  for (const o of OPTIONS) out[o.key] = defaultOf(o, command);
  for (const o of specs) {
    const r = raw.get(o);
    if (!r) continue;
    const parsed = parseValue(o, r.value);
    if (typeof parsed === "object" && parsed !== null && "error" in parsed) problems.push(`${r.source}: ${parsed.error}`);
    else out[o.key] = parsed;
  }
  if (specs.some((o) => o.key === "outboundTotalMaxBytes") && Number(out.outboundTotalMaxBytes) < Number(out.outboundMaxBytes)) {
    problems.push(`THREADMESH_OUTBOUND_TOTAL_MAX_BYTES (${String(out.outboundTotalMaxBytes)}) must be at least THREADMESH_OUTBOUND_MAX_BYTES (${String(out.outboundMaxBytes)})`);
  }
  problems.push(...credentialProblems(out, (key) => raw.get(OPTIONS.find((o) => o.key === key)!)?.source));
  problems.push(...adminOptionProblems(command, out));
  if (problems.length) throw new ConfigError(problems);
  const config = Object.freeze(out) as unknown as Config;
  if (command === "dev" || command === "host") {
    const policy = policyDefaultsProblems(config);
    if (policy.length) throw new ConfigError(policy);
  }
  return config;
}

/** Shortest HS256 secret, in bytes (RFC 7518 §3.2: at least the size of the hash). */
const MIN_JWT_SECRET_BYTES = 32;

/** Checks of the authentication options beyond their types; `source` names where a value came from. */
function credentialProblems(out: Record<string, unknown>, source: (key: string) => string | undefined): string[] {
  const problems: string[] = [];
  if (typeof out.jwtSecret === "string") {
    const bytes = Buffer.byteLength(out.jwtSecret, "utf8");
    if (bytes < MIN_JWT_SECRET_BYTES) problems.push(`${source("jwtSecret")}: must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${bytes})`);
  }
  if (typeof out.consoleTicketSecret === "string") {
    const bytes = Buffer.byteLength(out.consoleTicketSecret, "utf8");
    if (bytes < MIN_JWT_SECRET_BYTES) problems.push(`${source("consoleTicketSecret")}: must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${bytes})`);
  }
  if (typeof out.jwksUrl === "string" && !/^https?:\/\/[^\s]+$/.test(out.jwksUrl)) problems.push(`${source("jwksUrl")}: must be an http(s) URL (got ${JSON.stringify(out.jwksUrl)})`);
  if (typeof out.defaultTenant === "string" && !/^[A-Za-z0-9_-]{1,64}$/.test(out.defaultTenant)) {
    problems.push(`${source("defaultTenant") ?? "THREADMESH_DEFAULT_TENANT"}: must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (got ${JSON.stringify(out.defaultTenant)})`);
  }
  for (const key of ["jwtTenantClaim", "jwtUserClaim"]) {
    if (out[key] === "") problems.push(`${source(key)}: must not be empty`);
  }
  return problems;
}

/** The default of an option under `command`. */
export function defaultOf(o: OptionSpec, command: Command): OptionSpec["default"] {
  return command === "dev" && o.devDefault !== undefined ? o.devDefault : o.default;
}

function parseValue(o: OptionSpec, v: string): string | number | boolean | string[] | { error: string } {
  switch (o.kind) {
    case "string":
      if (o.choices && !o.choices.includes(v)) return { error: `must be one of ${o.choices.join(", ")} (got ${JSON.stringify(v)})` };
      return v;
    case "bool":
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      return { error: `must be true or false (got ${JSON.stringify(v)})` };
    case "list": {
      const items = v.split(",").map((s) => s.trim()).filter(Boolean);
      const bad = o.choices ? items.filter((i) => !o.choices!.includes(i)) : [];
      if (bad.length) return { error: `each value must be one of ${o.choices!.join(", ")} (got ${bad.map((b) => JSON.stringify(b)).join(", ")})` };
      return items;
    }
    case "int":
    case "number": {
      const n = Number(v);
      if (!Number.isFinite(n) || (o.kind === "int" && !Number.isInteger(n))) return { error: `must be ${o.kind === "int" ? "an integer" : "a number"} (got ${JSON.stringify(v)})` };
      if (o.min !== undefined && n < o.min) return { error: `must be ≥ ${o.min} (got ${n})` };
      if (o.max !== undefined && n > o.max) return { error: `must be ≤ ${o.max} (got ${n})` };
      return n;
    }
  }
}

/** `--help` text of one command, generated from the option table. */
export function helpText(command: Command, summary: string): string {
  const lines = [`threadmesh ${command} — ${summary}`, "", "Options (flag | environment variable | default):"];
  for (const o of OPTIONS.filter((x) => x.commands.includes(command))) {
    const def = showDefault(defaultOf(o, command));
    lines.push(`  ${o.flag.padEnd(30)} ${o.env.padEnd(38)} ${def}`);
    lines.push(`      ${o.help}${o.choices ? ` [${o.choices.join("|")}]` : ""}`);
  }
  return lines.join("\n");
}

function showDefault(d: OptionSpec["default"]): string {
  return Array.isArray(d) ? d.join(",") || "(none)" : d === null ? "(unset)" : String(d);
}
