import type { ServerResponse } from "node:http";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { failureDetails } from "./failure-details.ts";
import { sendApiError } from "./http-json.ts";
import type { StreamOutcome } from "./model-sim.ts";
import { ResponseEvents } from "./response-events.ts";
import type { ResponsePlan } from "./response-plan.ts";

/**
 * Pending SSE text is written once it reaches this many characters, then the stream yields to the event
 * loop so concurrent streams interleave. Small enough to keep latency low, large enough that a stream going
 * as fast as possible costs one `write` per ~100 deltas.
 */
const FLUSH_THRESHOLD_CHARS = 16 * 1024;
/** Pacing sleeps shorter than this are skipped; the absolute schedule catches up on the next delta. */
const MIN_SLEEP_MS = 1;

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
  const pacer = plan.chunkDelayMs > 0 ? new Pacer(plan.chunkDelayMs) : undefined;
  let sent = 0;
  const frames = limit > 0 ? events.normal() : [];
  for (const frame of frames) {
    if (frame.delta && pacer) {
      const wait = pacer.next();
      if (wait >= MIN_SLEEP_MS) {
        out.flush();
        await sleep(wait, undefined, { signal });
      }
    }
    if (out.push(frame.text)) await out.yieldTurn();
    // Stop before pulling the next frame, so a failure event takes the next sequence number.
    if (++sent === limit) break;
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

/** Spaces deltas `intervalMs` apart on an absolute schedule starting at the first delta. */
class Pacer {
  readonly #intervalMs: number;
  #start = -1;
  #n = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Milliseconds until the next delta is due (≤ 0 when it is late). */
  next(): number {
    const now = performance.now();
    if (this.#start < 0) this.#start = now;
    return this.#start + this.#n++ * this.#intervalMs - now;
  }
}
