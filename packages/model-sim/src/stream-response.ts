import type { ServerResponse } from "node:http";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { failureDetails } from "./failure-details.ts";
import { sendApiError } from "./http-json.ts";
import type { StreamOutcome } from "./model-sim.ts";
import { ResponseEvents, type Frame } from "./response-events.ts";
import { StreamClock, type ClockEntry } from "./stream-clock.ts";
import type { ResponsePlan } from "./response-plan.ts";

/**
 * Pending SSE text is written once it reaches this many characters, then the stream yields to the event
 * loop so concurrent streams interleave. Small enough to keep latency low, large enough that a stream going
 * as fast as possible costs one `write` per ~100 deltas.
 */
const FLUSH_THRESHOLD_CHARS = 16 * 1024;
/** Pacing sleeps shorter than this are skipped; the absolute schedule catches up on the next delta. */
const MIN_SLEEP_MS = 1;
/** Paces the deltas of every stream of the process. */
const CLOCK = new StreamClock(MIN_SLEEP_MS);

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/**
 * Writes `plan` as a Responses API event stream and resolves once the last byte has been handed to the
 * socket, or once the client went away (`signal` aborts then).
 */
export async function streamResponse(res: ServerResponse, plan: ResponsePlan, signal: AbortSignal): Promise<StreamOutcome> {
  try {
    return await writeStream(res, plan, signal);
  } catch (err) {
    if (signal.aborted) return "disconnected";
    throw err;
  }
}

async function writeStream(res: ServerResponse, plan: ResponsePlan, signal: AbortSignal): Promise<StreamOutcome> {
  const fail = plan.fail;
  if (plan.ttftMs > 0) await sleep(plan.ttftMs, undefined, { signal });
  if (fail?.kind === "http") {
    const d = failureDetails(fail);
    sendApiError(res, d.status, d, d.headers);
    return endOf(res, "error");
  }
  const events = new ResponseEvents(plan);
  // A failing response never sends its final `response.completed`.
  const limit = fail ? Math.min(fail.afterEvents ?? Infinity, events.normalCount - 1) : Infinity;
  if (limit === 0 && fail?.kind === "cut") return cut(res);
  if (limit === 0 && fail?.kind === "hang") return hang(signal);

  res.writeHead(200, SSE_HEADERS);
  const out = new SseWriter(res, signal);
  if (limit > 0 && plan.chunkDelayMs > 0) await writePaced(events.normal(), limit, out, plan.chunkDelayMs, signal);
  else if (limit > 0) {
    let sent = 0;
    for (const frame of events.normal()) {
      if (out.push(frame.text)) await out.yieldTurn();
      // Stop before pulling the next frame, so a failure event takes the next sequence number.
      if (++sent === limit) break;
    }
  }
  if (!fail) return out.end("completed");
  const d = failureDetails(fail);
  switch (fail.kind) {
    case "error":
      out.push(events.error(d.code, d.message));
      return out.end("error");
    case "failed":
      out.push(events.failed(d.code, d.message));
      return out.end("failed");
    case "incomplete":
      out.push(events.incomplete(fail.code ?? "max_output_tokens"));
      return out.end("incomplete");
    case "cut":
      out.flush();
      return cut(res);
    case "hang":
      out.flush();
      return hang(signal);
  }
}

/** Sends FIN after everything written so far, without ending the chunked body, then drops the socket. */
async function cut(res: ServerResponse): Promise<StreamOutcome> {
  const socket = res.socket;
  if (!socket || socket.destroyed) return "disconnected";
  const closed = once(socket, "close").catch(() => undefined);
  // `end()` uncorks and flushes the response's buffered chunks before the FIN.
  socket.end(() => socket.destroy());
  await closed;
  return "cut";
}

async function hang(signal: AbortSignal): Promise<StreamOutcome> {
  if (!signal.aborted) await once(signal, "abort");
  return "disconnected";
}

async function endOf(res: ServerResponse, outcome: StreamOutcome): Promise<StreamOutcome> {
  try {
    await finished(res);
    return outcome;
  } catch {
    return "disconnected";
  }
}

/** Batches SSE frames into few large writes and honours backpressure. */
class SseWriter {
  readonly #res: ServerResponse;
  readonly #signal: AbortSignal;
  #pending = "";
  #backpressured = false;

  constructor(res: ServerResponse, signal: AbortSignal) {
    this.#res = res;
    this.#signal = signal;
  }

  /** Queues a frame; true when a batch was written and the caller should {@link yieldTurn}. */
  push(text: string): boolean {
    this.#pending += text;
    if (this.#pending.length < FLUSH_THRESHOLD_CHARS) return false;
    this.flush();
    return true;
  }

  flush(): void {
    if (this.#pending === "") return;
    if (!this.#res.write(this.#pending)) this.#backpressured = true;
    this.#pending = "";
  }

  /** Calls `fn` once the socket drained when it is backed up, else at the next event-loop turn. */
  whenReady(fn: () => void): void {
    if (this.#backpressured) {
      this.#backpressured = false;
      this.#res.once("drain", fn);
    } else setImmediate(fn);
  }

  /** Waits for `drain` when the socket is backed up, else for the next event-loop turn. */
  async yieldTurn(): Promise<void> {
    if (this.#backpressured) {
      this.#backpressured = false;
      await once(this.#res, "drain", { signal: this.#signal });
    } else {
      await nextTurn(undefined, { signal: this.#signal });
    }
  }

  end(outcome: StreamOutcome): Promise<StreamOutcome> {
    const last = this.#pending;
    this.#pending = "";
    this.#res.end(last);
    return endOf(this.#res, outcome);
  }
}

/**
 * Writes at most `limit` of `frames` with their deltas `intervalMs` apart on an absolute schedule
 * starting at the first delta, from the {@link CLOCK} shared by every paced stream: between deltas a
 * stream holds no timer, promise or abort listener of its own. Resolves once the last frame is queued;
 * rejects when `signal` aborts.
 */
function writePaced(frames: Iterator<Frame>, limit: number, out: SseWriter, intervalMs: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let start = -1;
    let deltas = 0;
    /** A delta already pulled from `frames` whose time has not come yet. */
    let waiting: Frame | undefined;
    let entry: ClockEntry | undefined;
    const onAbort = (): void => {
      if (entry !== undefined) CLOCK.cancel(entry);
      entry = undefined;
      reject(signal.reason);
    };
    const settle = (err?: unknown): void => {
      signal.removeEventListener("abort", onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const step = (): void => {
      entry = undefined;
      if (signal.aborted) return;
      try {
        for (;;) {
          let frame = waiting;
          waiting = undefined;
          if (frame === undefined) {
            const next = frames.next();
            if (next.done === true) return settle();
            frame = next.value;
            if (frame.delta) {
              const now = performance.now();
              if (start < 0) start = now;
              const at = start + deltas++ * intervalMs;
              if (at - now >= MIN_SLEEP_MS) {
                out.flush();
                waiting = frame;
                entry = CLOCK.schedule(at, step);
                return;
              }
            }
          }
          const flushed = out.push(frame.text);
          // Stop before pulling the next frame, so a failure event takes the next sequence number.
          if (++sent === limit) return settle();
          if (flushed) return out.whenReady(step);
        }
      } catch (err) {
        settle(err);
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    step();
  });
}
