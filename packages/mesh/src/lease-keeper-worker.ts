import { parentPort, workerData } from "node:worker_threads";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { HostLoad } from "./host-registry.ts";
import { KvHostRegistry } from "./kv-host-registry.ts";
import { LoadCell, TimeCell, type LeaseKeeperData, type LeaseKeeperReport } from "./lease-keeper-cells.ts";

/**
 * The lease keeper worker: writes a host's heartbeats on a NATS connection of its own, so a busy main
 * event loop never delays them. It beats only while the main thread showed it runs within `stallMs`:
 * a host whose main thread is wedged lets its lease run out and other hosts adopt its threads.
 */
const data = workerData as LeaseKeeperData;
const times = new BigInt64Array(data.times);
const load = new Int32Array(data.load);
const port = parentPort!;
let nc: NatsConnection | null = null;
let registry: KvHostRegistry | null = null;
let timer: NodeJS.Timeout | undefined;

function report(r: LeaseKeeperReport): void {
  port.postMessage(r);
}

function stopped(): boolean {
  return Atomics.load(times, TimeCell.Stopped) !== 0n;
}

function currentLoad(at: number): HostLoad {
  const meanTurnMs = Atomics.load(load, LoadCell.MeanTurnMs);
  const modelTtftMs = Atomics.load(load, LoadCell.ModelTtftMs);
  return {
    turnsStarted: Atomics.load(load, LoadCell.TurnsStarted),
    ...(meanTurnMs >= 0 ? { meanTurnMs } : {}),
    ...(modelTtftMs >= 0 ? { modelTtftMs } : {}),
    hostId: data.hostId,
    loadedThreads: Atomics.load(load, LoadCell.LoadedThreads),
    activeTurns: Atomics.load(load, LoadCell.ActiveTurns),
    capacity: Atomics.load(load, LoadCell.Capacity),
    turnCapacity: Atomics.load(load, LoadCell.TurnCapacity),
    eventLoopLagMs: Atomics.load(load, LoadCell.EventLoopLagMs),
    draining: Atomics.load(load, LoadCell.Draining) !== 0,
    at,
  };
}

/** Writes one heartbeat when the main thread runs; renews the lease once the server has it. */
async function beat(): Promise<void> {
  const at = Date.now();
  if (stopped() || registry === null) return;
  if (at - Number(Atomics.load(times, TimeCell.AliveAt)) > data.stallMs) return;
  await registry.heartbeat(currentLoad(at));
  const renewed = Number(Atomics.load(times, TimeCell.RenewedAt));
  if (at <= renewed) return;
  // Between the two renewals the main thread would have found its lease gone: it must learn of it
  // (and let go of its threads) before it sees the lease running again.
  if (renewed > 0 && at > renewed + data.selfLeaseMs) Atomics.add(times, TimeCell.Lapses, 1n);
  Atomics.store(times, TimeCell.RenewedAt, BigInt(at));
}

function tick(due: number): void {
  if (stopped()) return;
  beat().catch((err: unknown) => report({ kind: "beatFailed", message: (err as Error).message }));
  const next = Math.max(due + data.intervalMs, Date.now() + 1);
  timer = setTimeout(() => tick(next), next - Date.now());
}

async function close(): Promise<void> {
  clearTimeout(timer);
  await registry?.close();
  await nc?.close();
  port.close();
}

port.on("message", (m: unknown) => {
  if (m === "beat") beat().catch((err: unknown) => report({ kind: "beatFailed", message: (err as Error).message }));
  else if (m === "stop") void close();
});

try {
  nc = await connect({ servers: data.servers, name: data.name, maxReconnectAttempts: -1 });
  registry = await KvHostRegistry.open(nc, { bucket: data.bucket, leaseTtlMs: data.leaseTtlMs, replicas: data.replicas });
  await beat();
  if (Atomics.load(times, TimeCell.RenewedAt) === 0n) throw new Error("the main thread did not show it runs before the first heartbeat");
  report({ kind: "ready" });
  tick(Date.now() + data.intervalMs);
} catch (err) {
  report({ kind: "failed", message: (err as Error).message });
  await close();
}
