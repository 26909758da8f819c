/**
 * A turn/start whose answer a closing connection took with it: the client finds the turn by the
 * `clientUserMessageId` it named (echoed as the user message's `clientId`) on the resumed stream, even
 * when the turn begins only after the client reconnected and thread/read does not show it yet, and
 * sends the turn again only when none began.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CodexSession } from "../../loadtests/scenarios/codex-session.ts";
import type { LoadSocket, Platform, Target } from "../../loadtests/scenarios/platform.ts";

type Frame = { id?: number; method?: string; params?: any };

/** One scripted connection: what the client sent, and a way to answer or close. */
class FakeSocket implements LoadSocket {
  readonly sent: Frame[] = [];
  #onMessage: (text: string) => void = () => {};
  #onClose: (code: number) => void = () => {};
  #closed = false;
  constructor(readonly serve: (socket: FakeSocket, f: Frame) => void) {}
  send(text: string): void {
    const f = JSON.parse(text) as Frame;
    this.sent.push(f);
    queueMicrotask(() => this.serve(this, f));
  }
  close(): void {
    this.drop(1000);
  }
  drop(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    queueMicrotask(() => this.#onClose(code));
  }
  push(frame: unknown): void {
    if (!this.#closed) this.#onMessage(JSON.stringify(frame));
  }
  onMessage(h: (text: string) => void): void {
    this.#onMessage = h;
  }
  onClose(h: (code: number) => void): void {
    this.#onClose = h;
  }
}

function platform(serve: (socket: FakeSocket, f: Frame, n: number) => void, sockets: FakeSocket[]): Platform {
  return {
    connect: async () => {
      const n = sockets.length;
      const s = new FakeSocket((socket, f) => serve(socket, f, n));
      sockets.push(s);
      return s;
    },
    post: async () => 200,
    // Waits are a hundredth of what the client asks: the client's own timing is what is tested.
    sleep: (ms) => new Promise((r) => setTimeout(r, ms / 100)),
    now: () => performance.now(),
    add: () => {},
    check: (_name, ok) => ok,
  };
}

const target: Target = { url: "ws://fake", token: "", simUrl: "", deltas: 10, tokensPerSecond: 0, turnsPerThread: 1, resume: true };
const THREAD = "thr-1";

/** Answers the handshake and resume of every connection; `turns` decides the rest. */
function server(turns: (socket: FakeSocket, f: Frame, n: number) => void) {
  return (socket: FakeSocket, f: Frame, n: number): void => {
    if (f.id === undefined) return;
    if (f.method === "initialize") return socket.push({ id: f.id, result: {} });
    if (f.method === "thread/resume") return socket.push({ id: f.id, result: { thread: { id: THREAD, turns: [] } } });
    turns(socket, f, n);
  };
}

function userMessageStarted(seq: number, turnId: string, clientId: string): unknown {
  return { method: "item/started", seq, params: { threadId: THREAD, turnId, item: { type: "userMessage", id: `item-${turnId}`, clientId, content: [] } } };
}

async function openFollowing(p: Platform): Promise<CodexSession> {
  const s = await CodexSession.open(p, target);
  s.follow(THREAD);
  return s;
}

describe("load-test client: a turn/start whose answer was lost", () => {
  it("joins the turn that began after the reconnect instead of sending it again", async () => {
    const sockets: FakeSocket[] = [];
    const starts: Frame[] = [];
    const p = platform(
      server((socket, f, n) => {
        if (f.method === "turn/start") {
          starts.push(f);
          // The router closes with the command on its way to the host: no answer.
          if (n === 0) return socket.drop(1012);
          return socket.push({ id: f.id, result: { turn: { id: "turn-again" } } });
        }
        if (f.method === "thread/read") {
          // The host has not begun the turn yet; it does right after.
          socket.push({ id: f.id, result: { thread: { id: THREAD, turns: [] } } });
          setTimeout(() => socket.push(userMessageStarted(3, "turn-1", starts[0]!.params.clientUserMessageId)), 5);
        }
      }),
      sockets,
    );
    const s = await openFollowing(p);
    sockets[0]!.push({ method: "thread/status/changed", seq: 2, params: { threadId: THREAD, status: { type: "idle" } } });
    const watch = await s.startTurn(THREAD, "hello");
    assert.equal(watch.turnId, "turn-1");
    assert.equal(starts.length, 1, "turn/start was not sent again");
    assert.equal(typeof starts[0]!.params.clientUserMessageId, "string");
    const resume = sockets[1]!.sent.find((f) => f.method === "thread/resume");
    assert.equal(resume?.params.afterSeq, 2);
    assert.equal(s.seqs(THREAD).gaps, 0);
    await s.close();
  });

  it("finds a turn the resumed stream replays without asking thread/read", async () => {
    const sockets: FakeSocket[] = [];
    const starts: Frame[] = [];
    let reads = 0;
    const p = platform((socket, f, n) => {
      if (f.method === "initialize") return socket.push({ id: f.id, result: {} });
      if (f.method === "turn/start") {
        starts.push(f);
        if (n === 0) return socket.drop(1012);
      }
      if (f.method === "thread/resume") {
        // The replay after afterSeq carries the turn's user message.
        socket.push(userMessageStarted(1, "turn-1", starts[0]!.params.clientUserMessageId));
        return socket.push({ id: f.id, result: { thread: { id: THREAD, turns: [] } } });
      }
      if (f.method === "thread/read") reads++;
    }, sockets);
    const s = await openFollowing(p);
    const watch = await s.startTurn(THREAD, "hello");
    assert.equal(watch.turnId, "turn-1");
    assert.equal(starts.length, 1);
    assert.equal(reads, 0, "no thread/read once the stream showed the turn");
    await s.close();
  });

  it("sends the turn again, with the same clientUserMessageId, when none began", async () => {
    const sockets: FakeSocket[] = [];
    const starts: Frame[] = [];
    const p = platform(
      server((socket, f, n) => {
        if (f.method === "turn/start") {
          starts.push(f);
          if (n === 0) return socket.drop(1012);
          return socket.push({ id: f.id, result: { turn: { id: "turn-2" } } });
        }
        // Another client's turn does not count.
        if (f.method === "thread/read") {
          socket.push(userMessageStarted(4, "turn-other", "someone-else"));
          socket.push({ id: f.id, result: { thread: { id: THREAD, turns: [{ id: "turn-other", items: [{ type: "userMessage", clientId: "someone-else" }] }] } } });
        }
      }),
      sockets,
    );
    const s = await openFollowing(p);
    const watch = await s.startTurn(THREAD, "hello");
    assert.equal(watch.turnId, "turn-2");
    assert.equal(starts.length, 2);
    assert.equal(starts[1]!.params.clientUserMessageId, starts[0]!.params.clientUserMessageId);
    await s.close();
  });
});
