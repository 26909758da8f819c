type Json = Record<string, any>;

/** What the model was scripted to stream for a turn's answer: its delta chunks, in order. */
export interface ExpectedTurn {
  threadId: string;
  chunks: readonly string[];
}

/** One turn as a client saw it, checked against what the model sent. */
export interface TurnDelivery {
  turnId: string;
  threadId: string;
  status: string;
  /** Deltas the model streamed for the answer. */
  sentDeltas: number;
  /** Of those, how many arrived: found in order in the concatenated delta text of the answer. */
  deliveredDeltas: number;
  /** `item/agentMessage/delta` frames the client received for the answer (fewer than sent when coalesced). */
  deltaFrames: number;
  /** Concatenated deltas equal the completed item's text, and that text is what the model sent. */
  textExact: boolean;
}

export interface DeliverySummary {
  turns: number;
  sentDeltas: number;
  deliveredDeltas: number;
  deltaFrames: number;
  turnsByStatus: Record<string, number>;
  /** Each turn that lost anything (a delta, its text, its completion), with what was wrong. */
  failures: string[];
}

/** The model's text for `chunks`. */
const joined = (chunks: readonly string[]) => chunks.join("");

/** Chunks of `chunks` found in order in `text`; a chunk that is not next in line counts as lost. */
function chunksFound(chunks: readonly string[], text: string): number {
  let at = 0;
  let found = 0;
  for (const c of chunks) {
    if (text.startsWith(c, at)) {
      at += c.length;
      found++;
    }
  }
  return found;
}

/**
 * Checks turns against what the model was scripted to send: each expected turn must end `completed`
 * with an `agentMessage` whose text is the scripted text, and that item's deltas, concatenated in
 * arrival order, must equal it. Anything else is a loss. Register the expectation with `expect`, then
 * feed a client's frames (parsed notifications) with `observe`, then read `summary`.
 */
export class DeliveryAudit {
  readonly #expected = new Map<string, ExpectedTurn>();
  readonly #turns: TurnDelivery[] = [];
  readonly #failures: string[] = [];

  /** The model will answer `turnId` with `chunks` (as scripted into the model simulator). */
  expect(turnId: string, expected: ExpectedTurn): void {
    this.#expected.set(turnId, expected);
  }

  /** Records a failure that is not one turn's (a turn that never started, a timeout, a lost event). */
  fail(reason: string): void {
    this.#failures.push(reason);
  }

  /**
   * Checks every expected turn that `frames` (one client's notifications, in arrival order) show or
   * should show. Call once per client; the turns it checks are settled.
   */
  observe(frames: Iterable<Json>, turnIds: Iterable<string> = this.#expected.keys()): TurnDelivery[] {
    const wanted = new Set(turnIds);
    const deltas = new Map<string, string[]>();
    const completed = new Map<string, Json[]>();
    const ended = new Map<string, Json>();
    for (const f of frames) {
      const p = f.params;
      if (p === undefined || !wanted.has(p.turnId ?? p.turn?.id)) continue;
      if (f.method === "item/agentMessage/delta") {
        const list = deltas.get(p.itemId) ?? [];
        list.push(String(p.delta));
        deltas.set(p.itemId, list);
      } else if (f.method === "item/completed" && p.item?.type === "agentMessage") {
        const list = completed.get(p.turnId) ?? [];
        list.push(p.item);
        completed.set(p.turnId, list);
      } else if (f.method === "turn/completed") {
        if (ended.has(p.turn.id)) this.#failures.push(`turn ${p.turn.id}: turn/completed arrived twice`);
        ended.set(p.turn.id, p.turn);
      }
    }
    const out: TurnDelivery[] = [];
    for (const turnId of wanted) {
      const exp = this.#expected.get(turnId);
      if (exp === undefined) continue;
      this.#expected.delete(turnId);
      const want = joined(exp.chunks);
      const items = completed.get(turnId) ?? [];
      const answer = items.find((i) => i.text === want) ?? items.at(-1);
      const frames = answer === undefined ? [] : (deltas.get(answer.id) ?? []);
      const streamed = frames.join("");
      const status = String(ended.get(turnId)?.status ?? "never ended");
      const d: TurnDelivery = {
        turnId,
        threadId: exp.threadId,
        status,
        sentDeltas: exp.chunks.length,
        deliveredDeltas: chunksFound(exp.chunks, streamed),
        deltaFrames: frames.length,
        textExact: answer !== undefined && answer.text === want && streamed === want,
      };
      const wrong: string[] = [];
      if (status !== "completed") wrong.push(`status ${status}`);
      if (answer === undefined) wrong.push("no completed agentMessage");
      else if (answer.text !== want) wrong.push(`completed text of ${String(answer.text).length} chars, sent ${want.length}`);
      if (d.deliveredDeltas !== d.sentDeltas) wrong.push(`${d.deliveredDeltas} of ${d.sentDeltas} deltas arrived`);
      else if (streamed !== want) wrong.push(`concatenated deltas (${streamed.length} chars) differ from the sent text (${want.length})`);
      if (wrong.length > 0) this.#failures.push(`turn ${turnId} of thread ${exp.threadId}: ${wrong.join("; ")}`);
      this.#turns.push(d);
      out.push(d);
    }
    return out;
  }

  /** Expected turns no client showed so far. */
  get outstanding(): number {
    return this.#expected.size;
  }

  /** Totals so far; turns registered but never observed count as lost. */
  summary(): DeliverySummary {
    const turnsByStatus: Record<string, number> = {};
    for (const t of this.#turns) turnsByStatus[t.status] = (turnsByStatus[t.status] ?? 0) + 1;
    const failures = [...this.#failures];
    let unobservedDeltas = 0;
    for (const [turnId, exp] of this.#expected) {
      failures.push(`turn ${turnId} of thread ${exp.threadId}: never observed`);
      unobservedDeltas += exp.chunks.length;
    }
    return {
      turns: this.#turns.length + this.#expected.size,
      sentDeltas: this.#turns.reduce((n, t) => n + t.sentDeltas, 0) + unobservedDeltas,
      deliveredDeltas: this.#turns.reduce((n, t) => n + t.deliveredDeltas, 0),
      deltaFrames: this.#turns.reduce((n, t) => n + t.deltaFrames, 0),
      turnsByStatus,
      failures,
    };
  }

  /** Nothing lost so far. */
  get clean(): boolean {
    return this.#failures.length === 0 && this.#expected.size === 0;
  }
}

/** Whatever hands over a client's kept frames for auditing (a bench client). */
export interface FrameSource {
  auditFrames(): Iterable<Json>;
}

/**
 * Audits the turns each client started, one `observe` per client with the turns of that client, and
 * sums what arrived: the model deltas delivered and the delta frames that carried them.
 */
export function observeDelivered<C extends FrameSource>(audit: DeliveryAudit, turns: ReadonlyArray<{ client: C; turnId: string }>): { deltas: number; frames: number } {
  const byClient = new Map<C, string[]>();
  for (const t of turns) {
    const mine = byClient.get(t.client) ?? [];
    mine.push(t.turnId);
    byClient.set(t.client, mine);
  }
  let deltas = 0;
  let frames = 0;
  for (const [client, turnIds] of byClient) {
    for (const d of audit.observe(client.auditFrames(), turnIds)) {
      deltas += d.deliveredDeltas;
      frames += d.deltaFrames;
    }
  }
  return { deltas, frames };
}

/** `n` distinct word chunks for turn `tag` (`"w0"`, `" w1"`, …): every chunk findable in its text. */
export function scriptedChunks(n: number, tag: string | number): string[] {
  return Array.from({ length: n }, (_, i) => `${i === 0 ? "" : " "}${tag}w${i}`);
}
