import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import {
  connect,
  defaultSocketFactory,
  ProtocolError,
  AbortError,
  type ConnectOptions,
  type ThreadmeshClient,
  type TurnEvent,
  type TurnHandle,
  type WireSocket,
} from "@threadmesh/client";
import { startTopology, type Topology, type TopologyKind } from "../../../test/support/topology.ts";
import { OPERATOR_CAPS_ENV } from "../../../test/support/policy-env.ts";

/** `n` word deltas: `w0 w1 …`. */
export function words(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "w0" : ` w${i}`));
}

/** Counts a turn's agent deltas by seq (a frame of merged deltas covers firstSeq…seq) and joins their text. */
export class DeltaTally {
  deltas = 0;
  text = "";
  readonly seqs: number[] = [];
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  add(ev: TurnEvent): void {
    if (ev.seq !== null) this.seqs.push(ev.seq);
    if (ev.method !== "item/agentMessage/delta") return;
    const { delta } = ev.params as { delta: string };
    this.deltas += ev.seq !== null && ev.firstSeq !== undefined ? ev.seq - ev.firstSeq + 1 : 1;
    this.text += delta;
    for (const w of this.#waiters.filter((x) => this.deltas >= x.n)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  reached(n: number): Promise<void> {
    if (this.deltas >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
}

/** Reads a turn to its end, tallying its deltas (`onEvent` sees each event as it comes). */
export async function drain(turn: TurnHandle, tally: DeltaTally, onEvent?: (ev: TurnEvent) => void): Promise<string[]> {
  const methods: string[] = [];
  for await (const ev of turn) {
    methods.push(ev.method);
    tally.add(ev);
    onEvent?.(ev);
  }
  return methods;
}

export function assertStrictlyIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}: a repeat or reordering`);
}

/** A socket factory that keeps the sockets it opened, so a test can drop the live one. */
export function droppable(): { sockets: WireSocket[]; createWebSocket: NonNullable<ConnectOptions["createWebSocket"]> } {
  const sockets: WireSocket[] = [];
  return {
    sockets,
    createWebSocket: async (url, token) => {
      const s = await defaultSocketFactory(url, token);
      sockets.push(s);
      return s;
    },
  };
}

/** Turns shed on a busy machine (-32001 with retryAfterMs) are retried, as an application would ask. */
export const RETRY = { maxAttempts: 30, maxDelayMs: 30_000 };

/** The SDK against a real deployment of one topology. */
export function describeSdk(kind: TopologyKind): void {
  describe(`TypeScript SDK (${kind})`, () => {
    let sim: ModelSim;
    let topo: Topology;
    const clients: ThreadmeshClient[] = [];
    const open = async (opts: Partial<ConnectOptions> = {}): Promise<ThreadmeshClient> => {
      const c = await connect({ url: topo.url, token: topo.token, clientInfo: { name: "sdk-test", version: "1" }, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, retry: RETRY, ...opts });
      clients.push(c);
      return c;
    };

    before(async () => {
      sim = await startModelSim({ port: 0 });
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv: { ...OPERATOR_CAPS_ENV } });
      if (!t) throw new Error(`required services for the ${kind} topology are missing`);
      topo = t;
    });

    after(async () => {
      for (const c of clients) c.close();
      await topo?.stop();
      await sim?.close();
    });

    test("a turn streams its events and resolves to the completed turn", async () => {
      const client = await open();
      const thread = await client.thread.start({ approvalPolicy: "never", sandbox: "read-only" });
      sim.script(thread.id, [{ output: [{ type: "message", text: ["Hello", " there", "!"] }] }]);
      const turn = await thread.turn.start("hi");
      const tally = new DeltaTally();
      const methods = await drain(turn, tally);
      const done = await turn.completed;
      assert.equal(done.status, "completed");
      assert.equal(done.id, turn.id);
      assert.equal(tally.text, "Hello there!");
      assert.equal(methods[0], "turn/started");
      assert.equal(methods.at(-1), "turn/completed");
      assert.ok(methods.includes("item/completed"));
      assertStrictlyIncreasing(tally.seqs);
      const read = await thread.read();
      assert.equal(read.thread.turns.at(-1)?.status, "completed");
    });

    test("an approval handler decides, and the first answer across the tenant's connections wins", async () => {
      const owner = await open();
      const other = await open();
      const thread = await owner.thread.start({ approvalPolicy: "on-request", sandbox: "workspace-write" });
      // A first turn gives the thread its history, so another connection can resume it.
      sim.script(thread.id, [{ output: [{ type: "message", text: "ready" }] }]);
      await (await thread.turn.start("warm up")).completed;
      await other.thread.resume(thread.id);
      sim.script(thread.id, [
        { output: [{ type: "function_call", name: "shell", callId: "call-sdk", arguments: { command: ["bash", "-lc", "echo ran-sdk"], sandbox_permissions: "require_escalated", justification: "print" } }] },
        { output: [{ type: "message", text: "done" }] },
      ]);
      const asked: string[] = [];
      const seenByOther = new Promise<import("@threadmesh/client").ServerRequest>((resolve) => other.onServerRequest(resolve));
      // The owner decides once the other connection holds the request too, so both race for it.
      owner.onApproval(async (req) => {
        asked.push(req.method);
        await seenByOther;
        return "accept" as const;
      });
      const turn = await thread.turn.start("run it");
      const otherRequest = await seenByOther;
      assert.equal(otherRequest.method, "item/commandExecution/requestApproval");
      assert.equal(await otherRequest.settled, "resolvedElsewhere");
      const done = await turn.completed;
      assert.equal(done.status, "completed");
      assert.deepEqual(asked, ["item/commandExecution/requestApproval"]);
      const items = (await thread.read()).thread.turns.at(-1)!.items;
      const command = items.find((i) => i.type === "commandExecution");
      assert.equal(command?.type === "commandExecution" ? command.aggregatedOutput : null, "ran-sdk\n");
    });

    test("approvals answered one by one: a decline completes the item as declined", async () => {
      const client = await open();
      const thread = await client.thread.start({ approvalPolicy: "on-request" });
      sim.script(thread.id, [
        { output: [{ type: "function_call", name: "shell", callId: "call-no", arguments: { command: ["bash", "-lc", "touch no.txt"], sandbox_permissions: "require_escalated" } }] },
        { output: [{ type: "message", text: "fine" }] },
      ]);
      client.onServerRequest((req) => {
        if (req.method === "item/commandExecution/requestApproval") (req as import("@threadmesh/client").ServerRequest<"item/commandExecution/requestApproval">).decide("decline");
      });
      const turn = await thread.turn.start("try");
      const tally = new DeltaTally();
      let declined = false;
      await drain(turn, tally, (ev) => {
        if (ev.method === "item/completed" && ev.params.item.type === "commandExecution") declined = ev.params.item.status === "declined";
      });
      assert.ok(declined);
      assert.equal((await turn.completed).status, "completed");
    });

    test("steer adds input to a running turn and interrupt ends it interrupted", async () => {
      const client = await open();
      const thread = await client.thread.start({ approvalPolicy: "never" });
      // The steer may make the model answer again within the same turn: a slow reply for that too.
      const slow = { chunkDelayMs: 50, output: [{ type: "message" as const, text: words(200) }] };
      sim.script(thread.id, [slow, slow]);
      const turn = await thread.turn.start("go slowly");
      const tally = new DeltaTally();
      const draining = drain(turn, tally);
      await tally.reached(3);
      const steered = await turn.steer("and mention steering");
      assert.equal(steered.turnId, turn.id);
      await tally.reached(tally.deltas + 3);
      await turn.interrupt();
      const done = await turn.completed;
      assert.equal(done.status, "interrupted");
      await draining;
      assert.ok(tally.deltas < 200);
    });

    test("errors are typed and requests can be cancelled", async () => {
      const client = await open();
      await assert.rejects(client.request("thread/read", { threadId: "00000000-0000-4000-8000-000000000000" }), (err: unknown) => {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.code, -32600);
        return true;
      });
      await assert.rejects(client.request("thread/read", { threadId: 42 } as never), (err: unknown) => err instanceof ProtocolError && err.code === -32602);
      const controller = new AbortController();
      controller.abort("no longer needed");
      await assert.rejects(client.request("thread/list", {}, { signal: controller.signal }), AbortError);
      const listed = await client.thread.list({ limit: 5 });
      assert.ok(Array.isArray(listed.data));
    });

    test("a connection dropped mid-turn reconnects and resumes with afterSeq: every delta exactly once", async () => {
      const drop = droppable();
      const client = await open({ createWebSocket: drop.createWebSocket });
      const states: string[] = [];
      client.onStateChange((s) => states.push(s));
      const thread = await client.thread.start({ approvalPolicy: "never" });
      const n = 120;
      sim.script(thread.id, [{ chunkDelayMs: 10, output: [{ type: "message", text: words(n) }] }]);
      const turn = await thread.turn.start("stream");
      const tally = new DeltaTally();
      const draining = drain(turn, tally);
      await tally.reached(n / 3);
      drop.sockets.at(-1)!.close(4000, "dropped by test");
      await draining;
      assert.equal((await turn.completed).status, "completed");
      assert.deepEqual(states.slice(0, 2), ["reconnecting", "connected"]);
      assert.equal(drop.sockets.length, 2);
      assert.equal(tally.deltas, n);
      assert.equal(tally.text, words(n).join(""));
      assertStrictlyIncreasing(tally.seqs);
    });
  });
}
