import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Bus, EventLog } from "@threadmesh/mesh";
import { KyselyTenantPolicyStore, KyselyThreadStore, type ThreadStore } from "@threadmesh/persistence";
import { SessionHost, type TurnAdmission } from "@threadmesh/session-host";
import type { Telemetry } from "@threadmesh/telemetry";
import { sameLimitsForAll } from "@threadmesh/protocol";
import { ConfigError, type Config } from "./config.ts";
import type { MeshControl } from "./mesh-control.ts";
import { policyCapsOf } from "./policy-options.ts";
import { tenantLimitsOf } from "./tenant-limits.ts";

/** Builds a session host from the validated configuration. */
export async function composeHost(
  config: Config,
  bus: Bus,
  store: ThreadStore,
  telemetry: Telemetry,
  model: { baseUrl: string; apiKey: string },
  mesh?: MeshControl,
  eventLog?: EventLog,
  admission?: TurnAdmission,
): Promise<SessionHost> {
  if (config.leaseTtlMs < 2 * config.heartbeatIntervalMs) {
    throw new ConfigError([`THREADMESH_LEASE_TTL_MS (${config.leaseTtlMs}) must be at least twice THREADMESH_HEARTBEAT_INTERVAL_MS (${config.heartbeatIntervalMs})`]);
  }
  return SessionHost.create({
    bus,
    store,
    telemetry,
    hosts: mesh?.hosts,
    owners: mesh?.owners,
    eventLog,
    hostId: hostIdOf(config),
    ...(admission ? { admission } : {}),
    // Tenants' and plans' policy limits narrow the configured caps; read through the thread store's connection.
    ...(store instanceof KyselyThreadStore ? { tenantPolicies: new KyselyTenantPolicyStore({ db: store.database }) } : {}),
    model: { baseURL: model.baseUrl, apiKey: model.apiKey, model: config.model, maxRetries: config.modelMaxRetries },
    config: {
      workspaceRoot: resolve(config.workspaceRoot),
      bwrapPath: config.bwrapPath ?? undefined,
      policyCaps: policyCapsOf(config),
      confineWorkspaces: config.confineWorkspaces,
      defaultApprovalPolicy: config.approvalPolicy,
      defaultSandbox: config.sandbox,
      commandTimeoutMs: config.commandTimeoutMs,
      commandEnv: commandEnvironment(),
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      maxThreads: config.maxThreads,
      maxTurns: config.maxTurns,
      turnLagBudgetMs: config.turnLagBudgetMs,
      deltaLingerMs: config.deltaLingerMs,
      continueTurns: config.continueTurns,
      limitsFor: sameLimitsForAll(tenantLimitsOf(config)),
      maxConcurrentCommands: config.hostMaxConcurrentCommands,
    },
  });
}

/** The configured session host id, else a random one; resolve it once and pass it on in the config. */
export function hostIdOf(config: Config): string {
  return config.hostId ?? `host-${randomUUID().slice(0, 8)}`;
}

/**
 * The environment tool commands run with: enough for shells and toolchains, never the server's
 * secrets (model API keys, tokens, database URLs).
 */
function commandEnvironment(): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "SHELL", "TZ"];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  env.LANG ??= "C.UTF-8";
  return env;
}
