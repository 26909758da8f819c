import type { Logger } from "@threadmesh/telemetry";

/** How long after the drain deadline the process exits, whatever is still pending, in ms. */
export const SHUTDOWN_MARGIN_MS = 1_500;
/** Kept free before that exit for buffered telemetry and the exit itself, in ms. */
const EXIT_RESERVE_MS = 200;

/** The time a shutdown has, shared by its steps. */
export interface ShutdownClock {
  /** Time left until the drain deadline, ms (0 once it passed). */
  untilDeadline(): number;
  /** Time left for every remaining step, ms: until the margin after the deadline ends, less a reserve for exiting. */
  remaining(): number;
  /**
   * Runs one step and waits for it at most `capMs`, and never beyond {@link remaining}. A step that fails
   * is logged and makes the exit code 1; one that overruns is logged and left behind (the process exits
   * without it), so nothing waits on a stuck peer.
   */
  step(name: string, run: () => Promise<unknown>, capMs?: number): Promise<void>;
}

export interface ShutdownOptions {
  /** Time from the signal until running work stops being waited for, ms. */
  drainDeadlineMs: number;
  logger: Logger;
  /** Sends buffered telemetry (spans) before exiting; gets what is left of the margin. */
  flush?: () => Promise<void>;
}

/**
 * On the first SIGINT or SIGTERM runs `plan`, then `flush`, then exits: 0, or 1 when a step failed. The
 * process exits at the latest {@link SHUTDOWN_MARGIN_MS} after the drain deadline (code 1, logged) even
 * if a step ignores its time. A second signal exits at once (130).
 */
export function onShutdown(opts: ShutdownOptions, plan: (clock: ShutdownClock) => Promise<void>): void {
  const log = opts.logger;
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal during shutdown: exiting at once");
      process.exit(130);
    }
    stopping = true;
    const startedAt = Date.now();
    const deadlineAt = startedAt + opts.drainDeadlineMs;
    const exitAt = deadlineAt + SHUTDOWN_MARGIN_MS;
    const pending = new Set<string>();
    let failed = false;
    log.info({ signal, drainDeadlineMs: opts.drainDeadlineMs }, "shutting down");
    setTimeout(() => {
      log.error({ signal, elapsedMs: Date.now() - startedAt, pending: [...pending] }, "shutdown still running past the drain deadline and its margin: exiting now");
      process.exit(1);
    }, exitAt - Date.now());
    const remaining = () => Math.max(0, exitAt - EXIT_RESERVE_MS - Date.now());
    const clock: ShutdownClock = {
      untilDeadline: () => Math.max(0, deadlineAt - Date.now()),
      remaining,
      async step(name, run, capMs = Infinity) {
        const began = Date.now();
        pending.add(name);
        const outcome = await within(attempt(run), Math.min(capMs, remaining()));
        if (outcome.kind === "late") {
          log.warn({ step: name, waitedMs: Date.now() - began }, "shutdown step did not finish in time; going on without it");
          return;
        }
        pending.delete(name);
        if (outcome.kind === "failed") {
          failed = true;
          log.error({ step: name, err: outcome.err }, "shutdown step failed");
        }
      },
    };
    void attempt(() => plan(clock))
      .then(async (r) => {
        if (r.kind === "failed") {
          failed = true;
          log.error({ err: r.err }, `shutdown after ${signal} failed`);
        }
        if (opts.flush) await within(attempt(opts.flush), Math.max(0, exitAt - Date.now() - EXIT_RESERVE_MS / 2));
      })
      .finally(() => {
        log.info({ signal, elapsedMs: Date.now() - startedAt, left: [...pending] }, "stopped");
        process.exit(failed ? 1 : 0);
      });
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

type Outcome = { kind: "done" } | { kind: "failed"; err: unknown } | { kind: "late" };

/** Runs `fn`, turning a throw (synchronous or not) into an outcome. */
function attempt(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return fn().then(
      () => ({ kind: "done" }),
      (err: unknown) => ({ kind: "failed", err }),
    );
  } catch (err) {
    return Promise.resolve({ kind: "failed", err });
  }
}

async function within(p: Promise<Outcome>, ms: number): Promise<Outcome> {
  if (ms === Infinity) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), { kind: "late" })));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
