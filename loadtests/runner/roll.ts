/**
 * `--roll`: a rolling restart of every router, then every session host, of a spawned mesh while the run
 * goes on, the way a Deployment with `maxSurge: 1, maxUnavailable: 0` rolls: a new process is started and
 * awaited until its `/readyz` answers 200 (a new router also joins the front), then the old one leaves
 * the front and gets SIGTERM, and the next step begins once it exited.
 */
import type { Cluster } from "../../test/support/cluster.ts";
import type { ThreadmeshProcess } from "../../test/support/processes.ts";
import { backendOf, type Front } from "./front.ts";

/** One replacement of the roll. */
export interface RollStep {
  role: "router" | "host";
  /** The process replaced and its successor (router URL or host id). */
  old: string;
  new: string;
  /** Seconds into the roll when the step began. */
  atS: number;
  /** From starting the new process to its `/readyz` answering 200, ms. */
  readyMs: number;
  /** From SIGTERM to the old process's exit, ms. */
  stopMs: number;
  /** How the old process ended: its exit code, or the signal that killed it. */
  exit: number | string | null;
}

export interface RollReport {
  steps: RollStep[];
  /** Wall time of the whole roll, s. */
  durationS: number;
  /** The drain deadline the processes had (THREADMESH_DRAIN_DEADLINE_MS), ms. */
  drainDeadlineMs: number;
}

/** How often `/readyz` is asked while a new process starts, ms. */
const READY_POLL_MS = 100;
/** Longest wait for a new process to be ready, ms. */
const READY_TIMEOUT_MS = 60_000;
/** Time past the drain deadline before a process that has not exited is killed (the pod's grace period), ms. */
const GRACE_BEYOND_DRAIN_MS = 10_000;

async function waitReady(metricsUrl: string, proc: ThreadmeshProcess): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited before it was ready`);
    try {
      const r = await fetch(`${metricsUrl}/readyz`);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`${proc.name}: /readyz not 200 within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

async function stop(proc: ThreadmeshProcess, drainDeadlineMs: number): Promise<{ ms: number; exit: number | string | null }> {
  const t0 = Date.now();
  await proc.stop(drainDeadlineMs + GRACE_BEYOND_DRAIN_MS);
  const { code, signal } = await proc.exited;
  return { ms: Date.now() - t0, exit: code ?? signal };
}

/**
 * Replaces every router and every host of `cluster` once, one at a time; `log` hears each step.
 * Routers are replaced behind `front`, which clients connect through.
 */
export async function rollMesh(cluster: Cluster, front: Front, drainDeadlineMs: number, log: (line: string) => void): Promise<RollReport> {
  const t0 = Date.now();
  const steps: RollStep[] = [];
  const at = () => Number(((Date.now() - t0) / 1000).toFixed(2));
  const oldRouters = cluster.routers.map((proc, i) => ({ proc, url: cluster.urls[i]! }));
  for (const old of oldRouters) {
    const atS = at();
    const started = Date.now();
    const next = await cluster.addRouter({}, READY_TIMEOUT_MS);
    await waitReady(next.metricsUrl, next.proc);
    const readyMs = Date.now() - started;
    front.add(backendOf(next.url));
    front.remove(backendOf(old.url));
    log(`roll: router ${next.url} ready in ${readyMs} ms; stopping ${old.url}`);
    const s = await stop(old.proc, drainDeadlineMs);
    steps.push({ role: "router", old: old.url, new: next.url, atS, readyMs, stopMs: s.ms, exit: s.exit });
    log(`roll: router ${old.url} exited (${s.exit}) ${s.ms} ms after SIGTERM`);
  }
  for (const old of [...cluster.hosts]) {
    const atS = at();
    const started = Date.now();
    const next = await cluster.addHost({}, READY_TIMEOUT_MS);
    await waitReady(next.metricsUrl, next.proc);
    const readyMs = Date.now() - started;
    log(`roll: host ${next.id} ready in ${readyMs} ms; stopping ${old.id}`);
    const s = await stop(old.proc, drainDeadlineMs);
    steps.push({ role: "host", old: old.id, new: next.id, atS, readyMs, stopMs: s.ms, exit: s.exit });
    log(`roll: host ${old.id} exited (${s.exit}) ${s.ms} ms after SIGTERM`);
  }
  return { steps, durationS: at(), drainDeadlineMs };
}
