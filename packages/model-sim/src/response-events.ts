import type { PlannedItem, ResponsePlan, WireUsage } from "./response-plan.ts";

/** One serialised SSE event (`event: …\ndata: …\n\n`); `delta` marks events subject to pacing. */
export interface Frame {
  readonly text: string;
  readonly delta: boolean;
}

export type ResponseStatus = "in_progress" | "completed" | "failed" | "incomplete";

/**
 * Produces the Responses API event sequence of one plan, numbering events from 0. The normal sequence ends
 * with `response.completed`; a caller that fails the response stops early and asks for the failure event,
 * which takes the next sequence number.
 */
export class ResponseEvents {
  readonly #plan: ResponsePlan;
  #seq = 0;
  /** Items whose `response.output_item.done` has been produced, in output order. */
  readonly #done: object[] = [];

  constructor(plan: ResponsePlan) {
    this.#plan = plan;
  }

  /** Number of events {@link normal} yields. */
  get normalCount(): number {
    let n = 3; // response.created, response.in_progress, response.completed
    for (const it of this.#plan.items) {
      if (it.type === "message") n += 5 + it.chunks.length;
      else if (it.type === "reasoning") n += 2 + it.parts.reduce((k, part) => k + 4 + part.length, 0);
      else n += 3 + it.chunks.length;
    }
    return n;
  }

  /** Events of a completed response, `response.created` through `response.completed`. */
  *normal(): Generator<Frame, void, undefined> {
    const p = this.#plan;
    yield this.#frame("response.created", { response: wireResponse(p, "in_progress", [], null) });
    yield this.#frame("response.in_progress", { response: wireResponse(p, "in_progress", [], null) });
    for (let i = 0; i < p.items.length; i++) {
      const item = p.items[i]!;
      if (item.type === "message") yield* this.#message(item, i);
      else if (item.type === "reasoning") yield* this.#reasoning(item, i);
      else yield* this.#functionCall(item, i);
    }
    yield this.#frame("response.completed", { response: this.finalResponse("completed") });
  }

  /** A `response.failed` event carrying the items finished so far. */
  failed(code: string, message: string): string {
    const response = { ...wireResponse(this.#plan, "failed", this.#done, null), error: { code, message } };
    return this.#frame("response.failed", { response }).text;
  }

  /** A `response.incomplete` event carrying the items finished so far and the response's usage. */
  incomplete(reason: string): string {
    const response = { ...wireResponse(this.#plan, "incomplete", this.#done, this.#plan.usage), incomplete_details: { reason } };
    return this.#frame("response.incomplete", { response }).text;
  }

  /** An `error` event. */
  error(code: string, message: string): string {
    return this.#frame("error", { code, message, param: null }).text;
  }

  /** The response object as `response.completed` (or a non-streamed answer) carries it. */
  finalResponse(status: ResponseStatus): object {
    const p = this.#plan;
    if (status !== "completed") return wireResponse(p, status, this.#done, null);
    const output = p.items.map((it) => this.#doneItem(it));
    return { ...wireResponse(p, status, output, p.usage), completed_at: nowSeconds() };
  }

  *#message(item: Extract<PlannedItem, { type: "message" }>, outputIndex: number): Generator<Frame> {
    const ids = { item_id: item.id, output_index: outputIndex, content_index: 0 };
    yield this.#frame("response.output_item.added", {
      output_index: outputIndex,
      item: { id: item.id, type: "message", status: "in_progress", content: [], role: "assistant" },
    });
    yield this.#frame("response.content_part.added", { ...ids, part: textPart("") });
    // Deltas are the hot path under load: only the delta text and the sequence number are serialised.
    const type = "response.output_text.delta";
    const head =
      `event: ${type}\ndata: {"type":"${type}","item_id":${JSON.stringify(item.id)},` +
      `"output_index":${outputIndex},"content_index":0,"logprobs":[],"delta":`;
    for (const chunk of item.chunks) {
      yield { text: `${head}${JSON.stringify(chunk)},"sequence_number":${this.#seq++}}\n\n`, delta: true };
    }
    const text = item.chunks.join("");
    yield this.#frame("response.output_text.done", { ...ids, text, logprobs: [] });
    yield this.#frame("response.content_part.done", { ...ids, part: textPart(text) });
    yield this.#itemDone(item, outputIndex);
  }

  *#reasoning(item: Extract<PlannedItem, { type: "reasoning" }>, outputIndex: number): Generator<Frame> {
    yield this.#frame("response.output_item.added", {
      output_index: outputIndex,
      item: { id: item.id, type: "reasoning", summary: [] },
    });
    for (let s = 0; s < item.parts.length; s++) {
      const ids = { item_id: item.id, output_index: outputIndex, summary_index: s };
      const chunks = item.parts[s]!;
      yield this.#frame("response.reasoning_summary_part.added", { ...ids, part: { type: "summary_text", text: "" } });
      for (const delta of chunks) yield this.#frame("response.reasoning_summary_text.delta", { ...ids, delta }, true);
      const text = chunks.join("");
      yield this.#frame("response.reasoning_summary_text.done", { ...ids, text });
      yield this.#frame("response.reasoning_summary_part.done", { ...ids, part: { type: "summary_text", text } });
    }
    yield this.#itemDone(item, outputIndex);
  }

  *#functionCall(item: Extract<PlannedItem, { type: "function_call" }>, outputIndex: number): Generator<Frame> {
    const ids = { item_id: item.id, output_index: outputIndex };
    yield this.#frame("response.output_item.added", {
      output_index: outputIndex,
      item: {
        id: item.id,
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: item.callId,
        name: item.name,
      },
    });
    for (const delta of item.chunks) yield this.#frame("response.function_call_arguments.delta", { ...ids, delta }, true);
    yield this.#frame("response.function_call_arguments.done", { ...ids, name: item.name, arguments: item.chunks.join("") });
    yield this.#itemDone(item, outputIndex);
  }

  #itemDone(item: PlannedItem, outputIndex: number): Frame {
    const done = this.#doneItem(item);
    this.#done.push(done);
    return this.#frame("response.output_item.done", { output_index: outputIndex, item: done });
  }

  #doneItem(item: PlannedItem): object {
    switch (item.type) {
      case "message":
        return {
          id: item.id,
          type: "message",
          status: "completed",
          content: [textPart(item.chunks.join(""))],
          role: "assistant",
        };
      case "reasoning": {
        const summary = item.parts.map((chunks) => ({ type: "summary_text", text: chunks.join("") }));
        if (!this.#plan.includeEncryptedReasoning) return { id: item.id, type: "reasoning", summary };
        const encrypted = Buffer.from(JSON.stringify(summary)).toString("base64");
        return { id: item.id, type: "reasoning", summary, encrypted_content: encrypted };
      }
      case "function_call":
        return {
          id: item.id,
          type: "function_call",
          status: "completed",
          arguments: item.chunks.join(""),
          call_id: item.callId,
          name: item.name,
        };
    }
  }

  #frame(type: string, fields: object, delta = false): Frame {
    const data = JSON.stringify({ type, sequence_number: this.#seq++, ...fields });
    return { text: `event: ${type}\ndata: ${data}\n\n`, delta };
  }
}

/** The Response object, echoing the request's settings as the real API does. */
export function wireResponse(
  p: ResponsePlan,
  status: ResponseStatus,
  output: readonly object[],
  usage: WireUsage | null,
): object {
  const b = p.body;
  return {
    id: p.id,
    object: "response",
    created_at: p.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: p.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    prompt_cache_key: b.prompt_cache_key ?? null,
    reasoning: b.reasoning ?? { effort: null, summary: null },
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: "text" } },
    tool_choice: b.tool_choice ?? "auto",
    tools: b.tools ?? [],
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? "disabled",
    usage,
    user: null,
    metadata: b.metadata ?? {},
  };
}

function textPart(text: string): object {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
