import type { AgentMessageItem, ReasoningItem } from "@threadmesh/protocol";
import type { ModelFunctionCall, ModelStreamSink } from "../model/model-client.ts";
import { EncodedParams } from "../thread-events.ts";
import type { ActiveTurn } from "./active-turn.ts";
import { assistantMessageEntry } from "./history-items.ts";
import type { TurnContext } from "./turn-context.ts";

/**
 * Turns one model response into item notifications. Deltas go straight out (one serialisation, one
 * publish, nothing stored); completed messages and reasoning are stored and messages join the history.
 * Function calls are collected and run after the response, so a request's items never interleave.
 */
export class TurnStreamSink implements ModelStreamSink {
  readonly calls: ModelFunctionCall[] = [];
  readonly #ctx: TurnContext;
  readonly #turn: ActiveTurn;
  readonly #threadId: string;
  readonly #turnId: string;
  readonly #messages = new Map<string, AgentMessageItem>();
  readonly #reasoning = new Map<string, ReasoningItem>();
  /** `{"threadId":…,"turnId":…,"itemId":…,"delta":` of the item whose deltas stream, serialised once. */
  #deltaItem = "";
  #deltaHead = "";
  /** The request's abort signal: events still buffered after an abort are dropped. */
  readonly #signal: { aborted: boolean };

  constructor(ctx: TurnContext, turn: ActiveTurn, signal: AbortSignal) {
    this.#ctx = ctx;
    this.#turn = turn;
    // A plain flag, set once by the signal: `AbortSignal.aborted` is a checked getter, read per delta.
    const flag = { aborted: signal.aborted };
    if (!flag.aborted) signal.addEventListener("abort", () => (flag.aborted = true), { once: true });
    this.#signal = flag;
    this.#threadId = ctx.threadId;
    this.#turnId = turn.id;
  }

  messageStarted(itemId: string): void {
    if (this.#signal.aborted) return;
    const item: AgentMessageItem = {
      type: "agentMessage",
      id: itemId,
      text: "",
      phase: null,
      moderation: null,
      memoryCitation: null,
      delivery: null,
      questions: null,
      startedAtMs: Date.now(),
      completedAtMs: null,
    };
    this.#messages.set(itemId, item);
    this.#turn.messageStreaming = true;
    this.#started(item, item.startedAtMs!);
  }

  messageDelta(itemId: string, delta: string): void {
    if (this.#signal.aborted) return;
    // The bytes `JSON.stringify({ threadId, turnId, itemId, delta })` gives, the ids serialised once per item.
    if (itemId !== this.#deltaItem) {
      this.#deltaItem = itemId;
      this.#deltaHead = `{"threadId":${JSON.stringify(this.#threadId)},"turnId":${JSON.stringify(this.#turnId)},"itemId":${JSON.stringify(itemId)},"delta":`;
    }
    this.#turn.emit("item/agentMessage/delta", new EncodedParams(`${this.#deltaHead}${JSON.stringify(delta)}}`));
  }

  messageDone(itemId: string, text: string): void {
    if (this.#signal.aborted) return;
    let item = this.#messages.get(itemId);
    if (!item) {
      this.messageStarted(itemId);
      item = this.#messages.get(itemId)!;
    }
    this.#messages.delete(itemId);
    this.#turn.messageStreaming = this.#messages.size > 0;
    item.text = text;
    item.completedAtMs = Date.now();
    this.#completed(item, item.completedAtMs);
    this.#ctx.appendHistory(this.#turnId, [assistantMessageEntry(text)]);
    this.#ctx.recordItem(this.#turnId, item);
    this.#turn.finalMessage = item;
  }

  reasoningStarted(itemId: string): void {
    if (this.#signal.aborted) return;
    const item: ReasoningItem = { type: "reasoning", id: itemId, summary: [], content: [], startedAtMs: Date.now(), completedAtMs: null };
    this.#reasoning.set(itemId, item);
    this.#started(item, item.startedAtMs!);
  }

  reasoningSummaryPartAdded(itemId: string, summaryIndex: number): void {
    if (this.#signal.aborted) return;
    this.#turn.emit("item/reasoning/summaryPartAdded", { threadId: this.#threadId, turnId: this.#turnId, itemId, summaryIndex });
  }

  reasoningSummaryDelta(itemId: string, summaryIndex: number, delta: string): void {
    if (this.#signal.aborted) return;
    this.#turn.emit("item/reasoning/summaryTextDelta", { threadId: this.#threadId, turnId: this.#turnId, itemId, delta, summaryIndex });
  }

  reasoningTextDelta(itemId: string, contentIndex: number, delta: string): void {
    if (this.#signal.aborted) return;
    this.#turn.emit("item/reasoning/textDelta", { threadId: this.#threadId, turnId: this.#turnId, itemId, delta, contentIndex });
  }

  reasoningDone(itemId: string, summary: string[], content: string[]): void {
    if (this.#signal.aborted) return;
    let item = this.#reasoning.get(itemId);
    if (!item) {
      this.reasoningStarted(itemId);
      item = this.#reasoning.get(itemId)!;
    }
    this.#reasoning.delete(itemId);
    item.summary = summary;
    item.content = content;
    item.completedAtMs = Date.now();
    this.#completed(item, item.completedAtMs);
    this.#ctx.recordItem(this.#turnId, item);
  }

  functionCall(call: ModelFunctionCall): void {
    if (this.#signal.aborted) return;
    this.calls.push(call);
  }

  chunkStart(): void {
    this.#ctx.events.cork();
  }

  chunkEnd(): void {
    this.#ctx.events.uncork();
  }

  #started(item: AgentMessageItem | ReasoningItem, startedAtMs: number): void {
    this.#turn.emit("item/started", { item, threadId: this.#threadId, turnId: this.#turnId, startedAtMs });
  }

  #completed(item: AgentMessageItem | ReasoningItem, completedAtMs: number): void {
    this.#turn.emit("item/completed", { item, threadId: this.#threadId, turnId: this.#turnId, contentTokenCount: null, completedAtMs });
  }
}
