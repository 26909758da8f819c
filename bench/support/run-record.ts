import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { DeliveryAudit, type DeliverySummary } from "./delivery-audit.ts";
import { writeResult } from "./results.ts";

/** Where and on what a benchmark ran. */
export interface RunInfo {
  commit: string;
  /** Uncommitted changes in the tree the benchmark ran from (their paths, at most 50). */
  dirty: boolean;
  dirtyPaths: string[];
  node: string;
  cpus: number;
  /** 1, 5 and 15-minute load averages when the run started and when it ended. */
  loadAverage: { before: number[]; after: number[] };
  startedAt: string;
  finishedAt: string;
}

const ROOT = new URL("../..", import.meta.url).pathname;
const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" });
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

/** A benchmark run in progress: its delivery audit and the failures found so far. */
export class BenchRun {
  readonly audit = new DeliveryAudit();
  /** Counts of other things sent and delivered (requests and replies, events, connections). */
  readonly counts: Record<string, { sent: number; delivered: number }> = {};
  readonly #failures: string[] = [];
  /** Failures that are targets missed by a run that lost nothing: its figures are still worth keeping. */
  readonly #missed: string[] = [];
  readonly #started = { at: new Date().toISOString(), load: load() };

  /** Marks the run failed; its figures will not be written. */
  fail(reason: string): void {
    this.#failures.push(reason);
  }

  /**
   * Records a performance target the run missed: the run is failed, but when nothing else went wrong
   * its figures are written with the failure, since they are what shows the miss.
   */
  missTarget(reason: string): void {
    this.#missed.push(reason);
    this.fail(`target missed: ${reason}`);
  }

  /** True when every failure so far is a missed target (nothing was lost or broken). */
  onlyTargetsMissed(failures: readonly string[]): boolean {
    return this.#missed.length > 0 && failures.length === this.#missed.length;
  }

  /** Adds to a sent/delivered count; a count whose delivered differs from sent fails the run. */
  count(what: string, sent: number, delivered: number): void {
    const c = (this.counts[what] ??= { sent: 0, delivered: 0 });
    c.sent += sent;
    c.delivered += delivered;
  }

  /** Every failure: the run's own, lost turns, and counts that do not match. */
  failures(delivery: DeliverySummary): string[] {
    const countFailures = Object.entries(this.counts)
      .filter(([, c]) => c.sent !== c.delivered)
      .map(([what, c]) => `${what}: ${c.delivered} of ${c.sent} delivered`);
    return [...this.#failures, ...delivery.failures, ...countFailures];
  }

  info(): RunInfo {
    let commit = "unknown";
    let dirtyPaths: string[] = [];
    try {
      commit = git("rev-parse", "HEAD").trim();
      dirtyPaths = git("status", "--porcelain").split("\n").filter((l) => l.length > 3).map((l) => l.slice(3));
    } catch (err) {
      this.fail(`git: ${(err as Error).message}`);
    }
    return {
      commit,
      dirty: dirtyPaths.length > 0,
      dirtyPaths: dirtyPaths.slice(0, 50),
      node: process.version,
      cpus: cpus().length,
      loadAverage: { before: this.#started.load, after: load() },
      startedAt: this.#started.at,
      finishedAt: new Date().toISOString(),
    };
  }
}

/**
 * Runs a benchmark and writes bench/results/<name>.json (or `$BENCH_RESULTS_DIR/<name>.json`): the
 * figures `body` returns together with the run's commit, node version, load average and what was sent
 * and delivered. A run that lost anything (a failed turn, a delta, text that differs from what the model
 * sent, a count that does not match, an exception) is written as `status: "failed"` with its failures
 * and without figures, and the process exits non-zero. A run whose only failures are missed targets
 * ({@link BenchRun.missTarget}) is written as failed with its figures, and exits non-zero.
 */
export async function runBenchmark(name: string, body: (run: BenchRun) => Promise<Record<string, unknown>>): Promise<void> {
  const run = new BenchRun();
  let figures: Record<string, unknown> | undefined;
  try {
    figures = await body(run);
  } catch (err) {
    run.fail(`run aborted: ${(err as Error).stack ?? String(err)}`);
  }
  const delivery = run.audit.summary();
  const failures = run.failures(delivery);
  const sentAndDelivered = { ...delivery, failures: undefined, counts: run.counts };
  const record =
    failures.length === 0 && figures !== undefined
      ? { benchmark: name, status: "ok", ...figures, delivery: sentAndDelivered, run: run.info() }
      : figures !== undefined && run.onlyTargetsMissed(failures)
        ? { benchmark: name, status: "failed", failures, failureCount: failures.length, ...figures, delivery: sentAndDelivered, run: run.info() }
        : { benchmark: name, status: "failed", failures: failures.slice(0, 100), failureCount: failures.length, delivery: sentAndDelivered, run: run.info() };
  writeResult(name, record);
  if (record.status !== "ok") {
    console.error(`${name}: FAILED (${failures.length} failure(s))${figures !== undefined && run.onlyTargetsMissed(failures) ? "; figures recorded" : "; no figures recorded"}`);
    process.exitCode = 1;
  }
}
