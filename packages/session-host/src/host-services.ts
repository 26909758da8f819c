import type { RecentEventsBudget } from "./recent-events.ts";
import type { Bus, BusMessage } from "@threadmesh/mesh";
import type { ThreadStore } from "@threadmesh/persistence";
import type { CommandEnvelope } from "@threadmesh/protocol";
import type { Logger, Telemetry } from "@threadmesh/telemetry";
import type { TurnAdmission } from "./admission/turn-admission.ts";
import type { TurnCapacity } from "./capacity/turn-capacity.ts";
import type { DeltaLinger } from "./capacity/delta-linger.ts";
import type { HostConfig, ModelConfig } from "./config.ts";
import type { HostOwnership } from "./host-ownership.ts";
import type { ModelClient } from "./model/model-client.ts";
import type { PolicyCaps } from "./policy/policy-caps.ts";
import type { WorkspaceBounds } from "./policy/workspace-bounds.ts";

/** What a session host shares with its thread actors and command handlers. */
export interface HostServices {
  readonly hostId: string;
  readonly bus: Bus;
  readonly store: ThreadStore;
  readonly model: ModelClient;
  /** The credit waterfall turns and model requests pass; null when admission is off. */
  readonly admission: TurnAdmission | null;
  /** Whether this host takes one more turn (turn count, event-loop lag). */
  readonly turnCapacity: TurnCapacity;
  /** The clock streamed deltas linger on before they are published; null: published at once. */
  readonly deltaLinger: DeltaLinger | null;
  readonly config: Readonly<HostConfig>;
  readonly modelConfig: Readonly<ModelConfig>;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  /** Resolved bubblewrap executable; null when sandboxed execution is unavailable. */
  readonly bwrapPath: string | null;
  /** True once the host stopped taking new work (`drain`). */
  readonly draining: boolean;
  /**
   * While draining: true when another live host can adopt this host's threads, which from then on are
   * handed over as they unload (see SessionHost.drain).
   */
  handsOver(): boolean;
  /** Owner entries: claimed before a thread loads, given back when it unloads. */
  readonly ownership: HostOwnership;
  /** True while this host's heartbeat lease runs; the first false drops every thread. */
  leaseValid(): boolean;
  /** An actor finished unloading: forget it and give its owner entry back. */
  unloaded(tenant: string, threadId: string): void | Promise<void>;
  /** An actor let go of a thread another host may own now: forget it, leave the owner entry alone. */
  dropped(tenant: string, threadId: string): void;
  /** Serves a command that reached an actor after it unloaded, as if no host held the thread. */
  redispatch(tenant: string, env: CommandEnvelope, msg: BusMessage): void;
  /** The policy caps of a tenant. */
  policyCaps(tenant: string): PolicyCaps;
  /** Where a tenant's threads may work (the tenant's directory is created on first use). */
  workspaceBounds(tenant: string): WorkspaceBounds;
  /** Bytes of recently published events all threads keep together, for routers whose feed lost some. */
  readonly recentEvents: RecentEventsBudget;
  /** Metrics: a turn started (+1) or ended (-1). */
  turnsActive(delta: number): void;
  /** A turn ended after running `durationMs` on this host (for the heartbeat's mean turn length). */
  turnEnded?(durationMs: number): void;
  /** Metrics: a command arrived. */
  commandReceived(method: string): void;
}

/** The subscriber key of a connection: `routerId/connId`. */
export function connectionKey(origin: { routerId: string; connId: string }): string {
  return `${origin.routerId}/${origin.connId}`;
}
