import type { Turn } from "@threadmesh/protocol";
import { EventQueue } from "./event-queue.ts";
import type { ServerEvent } from "./notifications.ts";
import type { RequestParams, ResultOf } from "./methods.ts";

/** An event of a thread or turn (methods this SDK does not know go to `client.onUnknownEvent`). */
export type TurnEvent = ServerEvent;

/** What the turn needs of its thread: requests on the client. */
export interface TurnHost {
  request<M extends "turn/steer" | "turn/interrupt">(method: M, params: RequestParams<M>, opts?: { signal?: AbortSignal }): Promise<ResultOf<M>>;
}

/** Text, or the protocol's input items. */
export type TurnInput = string | RequestParams<"turn/start">["input"];

export function toInput(input: TurnInput): RequestParams<"turn/start">["input"] {
  return typeof input === "string" ? [{ type: "text", text: input }] : input;
}

/**
 * One running turn: an async iterable of its events (from `turn/started` to `turn/completed`, each
 * once, across reconnects) and `completed`, the turn as it ended.
 */
export class TurnHandle implements AsyncIterable<TurnEvent> {
  readonly id: string;
  readonly threadId: string;
  /** The turn as last reported (the start response, then `turn/started` and `turn/completed`). */
  turn: Turn;
  readonly completed: Promise<Turn>;
  readonly #queue = new EventQueue<TurnEvent>();
  readonly #host: TurnHost;
  #resolve!: (t: Turn) => void;
  #reject!: (e: unknown) => void;
  #ended = false;

  constructor(host: TurnHost, threadId: string, turn: Turn) {
    this.#host = host;
    this.threadId = threadId;
    this.id = turn.id;
    this.turn = turn;
    this.completed = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only iterates must not see an unhandled rejection.
    this.completed.catch(() => undefined);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds input to the running turn. */
  steer(input: TurnInput, opts: { signal?: AbortSignal } = {}): Promise<ResultOf<"turn/steer">> {
    return this.#host.request("turn/steer", { threadId: this.threadId, input: toInput(input), expectedTurnId: this.id }, opts);
  }

  /** Asks the server to stop the turn; `completed` then resolves with status `interrupted`. */
  interrupt(opts: { signal?: AbortSignal } = {}): Promise<ResultOf<"turn/interrupt">> {
    return this.#host.request("turn/interrupt", { threadId: this.threadId, turnId: this.id }, opts);
  }

  [Symbol.asyncIterator](): AsyncIterator<TurnEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** @internal An event of this turn. */
  deliver(ev: TurnEvent): void {
    if (this.#ended) return;
    this.#queue.push(ev);
    if (ev.method === "turn/started" || ev.method === "turn/completed") {
      this.turn = (ev.params as { turn: Turn }).turn;
      if (ev.method === "turn/completed") this.finish(this.turn);
    }
  }

  /** @internal The turn ended (seen live, or in a reloaded snapshot). */
  finish(turn: Turn): void {
    if (this.#ended) return;
    this.#ended = true;
    this.turn = turn;
    this.#queue.end();
    this.#resolve(turn);
  }

  /** @internal The client closed before the turn ended. */
  abandon(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.fail(err);
    this.#reject(err);
  }
}
