import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus, type BusMessage } from "@threadmesh/mesh";
import { TEXT_DECODER, encodeNotification, frameMethod, splitEventBatch } from "@threadmesh/protocol";
import { Mailbox } from "../src/mailbox.ts";
import { PendingRequests } from "../src/pending-requests.ts";
import { ThreadEvents } from "../src/thread-events.ts";
import { commandNeedsApproval, isKnownSafeCommand, patchDecision, proposedAmendment } from "../src/turn/approval-policy.ts";
import { resolveWorkdir } from "../src/turn/shell-call.ts";
import { readSseData } from "../src/model/sse-reader.ts";
import { Readable } from "node:stream";
import { once } from "node:events";

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

describe("host units", () => {
  test("the mailbox runs items one at a time in order and refuses beyond its capacity", async () => {
    const order: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const box = new Mailbox<number>(2, async (n) => {
      if (n === 1) await gate;
      order.push(n);
    }, () => {});
    assert.equal(box.offer(1), true);
    assert.equal(box.offer(2), true);
    assert.equal(box.offer(3), true);
    assert.equal(box.offer(4), false, "two queued behind the running one: full");
    release();
    await box.whenIdle();
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(box.offer(5), true);
    await box.whenIdle();
    assert.deepEqual(order, [1, 2, 3, 5]);
  });

  test("a failing handler does not stop the mailbox", async () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    const box = new Mailbox<number>(10, async (n) => {
      if (n === 1) throw new Error("boom");
      seen.push(n);
    }, (e) => errors.push(e));
    box.offer(1);
    box.offer(2);
    await box.whenIdle();
    assert.deepEqual(seen, [2]);
    assert.equal(errors.length, 1);
  });

  test("thread events: one serialisation, headers, strictly increasing seq, broadcast routing, tm-d", async () => {
    const bus = new InProcessBus();
    const got: BusMessage[] = [];
    bus.subscribe("tm.v1.t1.ev.th.t", (m) => got.push(m));
    bus.subscribe("tm.v1.t1.ev.th.b", (m) => got.push(m));
    const ev = new ThreadEvents({ bus, tenant: "t1", threadId: "th", epoch: 3, lastSeq: 41 });
    ev.notify("turn/started", { threadId: "th" });
    ev.notify("thread/archived", { threadId: "th" }, true);
    ev.request("3.0", "item/tool/call", '{"a":1}');
    ev.resolved("3.0", "item/tool/call");
    await bus.flush();
    assert.deepEqual(got.map((m) => [m.subject, m.headers]), [
      ["tm.v1.t1.ev.th.t", { "tm-m": "turn/started", "tm-k": "n", "tm-t": "th", "tm-s": "42", "tm-e": "3" }],
      ["tm.v1.t1.ev.th.b", { "tm-m": "thread/archived", "tm-k": "n", "tm-t": "th", "tm-s": "43", "tm-e": "3", "tm-d": "1" }],
      ["tm.v1.t1.ev.th.t", { "tm-m": "item/tool/call", "tm-k": "r", "tm-t": "th", "tm-s": "44", "tm-e": "3", "tm-r": "3.0" }],
      ["tm.v1.t1.ev.th.t", { "tm-m": "item/tool/call", "tm-k": "x", "tm-t": "th", "tm-s": "45", "tm-e": "3", "tm-r": "3.0" }],
    ]);
    const frame = JSON.parse(TEXT_DECODER.decode(got[0]!.data));
    assert.deepEqual({ ...frame, emittedAtMs: 0 }, { method: "turn/started", params: { threadId: "th" }, emittedAtMs: 0, seq: 42, epoch: 3 });
    const at = (t: string) => t.replace(/"emittedAtMs":\d+/, '"emittedAtMs":0');
    assert.equal(at(TEXT_DECODER.decode(got[0]!.data)), at(encodeNotification("turn/started", { threadId: "th" }, { seq: 42, epoch: 3 })), "the bytes of encodeNotification");
    assert.equal(TEXT_DECODER.decode(got[2]!.data), '{"a":1}');
    assert.equal(ev.lastSeq, 45);
    await bus.close();
  });

  test("thread events: a cork collects consecutive notifications into one batch; anything else flushes it first", async () => {
    const bus = new InProcessBus();
    const got: BusMessage[] = [];
    bus.subscribe("tm.v1.t1.ev.th.t", (m) => got.push(m));
    bus.subscribe("tm.v1.t1.ev.th.b", (m) => got.push(m));
    const ev = new ThreadEvents({ bus, tenant: "t1", threadId: "th", epoch: 2, lastSeq: 9 });
    ev.cork();
    ev.notify("item/agentMessage/delta", { delta: "a" });
    ev.notify("item/agentMessage/delta", { delta: "b\nc" });
    ev.notify("thread/status/changed", { threadId: "th" });
    ev.notify("item/agentMessage/delta", { delta: "d" });
    ev.request("2.0", "item/tool/call", "{}");
    ev.notify("item/completed", { x: 1 });
    ev.cork();
    ev.notify("item/agentMessage/delta", { delta: "e" });
    ev.uncork();
    await bus.flush();
    assert.equal(got.length, 4, "nothing more leaves while corked");
    ev.uncork();
    await bus.flush();
    assert.deepEqual(got.map((m) => [m.subject, m.headers]), [
      ["tm.v1.t1.ev.th.t", { "tm-k": "b", "tm-t": "th", "tm-s": "11", "tm-f": "10", "tm-e": "2" }],
      ["tm.v1.t1.ev.th.b", { "tm-m": "thread/status/changed", "tm-k": "n", "tm-t": "th", "tm-s": "12", "tm-e": "2" }],
      ["tm.v1.t1.ev.th.t", { "tm-k": "n", "tm-t": "th", "tm-s": "13", "tm-e": "2", "tm-m": "item/agentMessage/delta" }],
      ["tm.v1.t1.ev.th.t", { "tm-m": "item/tool/call", "tm-k": "r", "tm-t": "th", "tm-s": "14", "tm-e": "2", "tm-r": "2.0" }],
      ["tm.v1.t1.ev.th.t", { "tm-k": "b", "tm-t": "th", "tm-s": "16", "tm-f": "15", "tm-e": "2" }],
    ]);
    const batch = splitEventBatch(got[0]!.data).map((f) => JSON.parse(TEXT_DECODER.decode(f)));
    assert.deepEqual(batch.map((f) => [f.method, f.params.delta, f.seq]), [
      ["item/agentMessage/delta", "a", 10],
      ["item/agentMessage/delta", "b\nc", 11],
    ]);
    assert.deepEqual(splitEventBatch(got[4]!.data).map((f) => frameMethod(f)), ["item/completed", "item/agentMessage/delta"]);
    assert.equal(ev.lastSeq, 16);
    await bus.close();
  });

  test("thread events: while a turn runs every event names it (tm-a); a batch carries the state at its flush", async () => {
    const bus = new InProcessBus();
    const got: BusMessage[] = [];
    bus.subscribe("tm.v1.t1.ev.th.*", (m) => got.push(m));
    const ev = new ThreadEvents({ bus, tenant: "t1", threadId: "th", epoch: 1, lastSeq: 0 });
    ev.notify("thread/name/updated", { threadId: "th" });
    ev.activeTurn = "turn-1";
    ev.notify("thread/status/changed", { threadId: "th" });
    ev.notify("turn/started", { threadId: "th" });
    ev.request("1.0", "item/tool/call", "{}");
    ev.resolved("1.0", "item/tool/call");
    ev.cork();
    ev.notify("thread/tokenUsage/updated", { threadId: "th" });
    ev.activeTurn = null;
    ev.notify("turn/completed", { threadId: "th" });
    ev.uncork();
    await bus.flush();
    assert.deepEqual(
      got.map((m) => [m.headers?.["tm-s"], m.headers?.["tm-a"] ?? null]),
      [["1", null], ["2", "turn-1"], ["3", "turn-1"], ["4", "turn-1"], ["5", "turn-1"], ["7", null]],
    );
    await bus.close();
  });

  test("thread events: a held announcement goes out once, before whatever the thread raises or flushes next", async () => {
    const bus = new InProcessBus();
    const got: BusMessage[] = [];
    bus.subscribe("tm.v1.t1.ev.th.*", (m) => got.push(m));
    const ev = new ThreadEvents({ bus, tenant: "t1", threadId: "th", epoch: 1, lastSeq: 0 });
    const announce = () => ev.notify("turn/started", { threadId: "th" });
    const methods = () => got.map((m) => `${m.headers?.["tm-m"]}:${m.headers?.["tm-s"]}`);

    ev.announce(announce);
    await bus.flush();
    assert.deepEqual(methods(), [], "held");
    ev.notify("turn/completed", { threadId: "th" });
    ev.announceNow();
    await bus.flush();
    assert.deepEqual(methods(), ["turn/started:1", "turn/completed:2"], "raised first by the next event, and only once");

    // A thread handed over flushes what it has: the held announcement goes with it.
    ev.announce(announce);
    ev.flush();
    ev.request("1.0", "item/tool/call", "{}");
    await bus.flush();
    assert.deepEqual(methods().slice(2), ["turn/started:3", "item/tool/call:4"]);
    await bus.close();
  });

  test("pending requests: the first answer wins and resolves before the waiter continues; cleanup cancels the rest", async () => {
    const published: string[] = [];
    const events = {
      request: (key: string, method: string) => published.push(`r:${key}:${method}`),
      resolved: (key: string, method: string) => published.push(`x:${key}:${method}`),
    } as unknown as ThreadEvents;
    const pending = new PendingRequests(events, "7.");
    const first = pending.request("item/commandExecution/requestApproval", { a: 1 });
    const second = pending.request("item/fileChange/requestApproval", { b: 2 });
    assert.deepEqual(pending.list(), [
      { requestKey: "7.0", method: "item/commandExecution/requestApproval", params: { a: 1 } },
      { requestKey: "7.1", method: "item/fileChange/requestApproval", params: { b: 2 } },
    ]);
    assert.equal(pending.respond("7.0", { kind: "result", result: { decision: "accept" } }), true);
    assert.equal(pending.respond("7.0", { kind: "result", result: { decision: "decline" } }), false);
    assert.deepEqual(await first, { kind: "result", result: { decision: "accept" } });
    pending.cancelAll();
    assert.deepEqual(await second, { kind: "cancelled" });
    assert.deepEqual(published, [
      "r:7.0:item/commandExecution/requestApproval",
      "r:7.1:item/fileChange/requestApproval",
      "x:7.0:item/commandExecution/requestApproval",
      "x:7.1:item/fileChange/requestApproval",
    ]);
    assert.equal(pending.size, 0);
  });

  test("approval rules by policy", () => {
    const esc = true;
    assert.equal(commandNeedsApproval("never", ["rm", "-rf", "x"], esc, false), false);
    assert.equal(commandNeedsApproval("on-request", ["touch", "x"], false, false), false);
    assert.equal(commandNeedsApproval("on-request", ["touch", "x"], esc, false), true);
    assert.equal(commandNeedsApproval("on-request", ["touch", "x"], esc, true), false, "approved for the session");
    assert.equal(commandNeedsApproval("untrusted", ["bash", "-lc", "ls -la"], false, false), false);
    assert.equal(commandNeedsApproval("untrusted", ["bash", "-lc", "touch x"], false, false), true);
    assert.equal(commandNeedsApproval({ granular: { sandbox_approval: true, rules: false, mcp_elicitations: false } }, ["x"], esc, false), true);
    assert.equal(commandNeedsApproval({ granular: { sandbox_approval: false, rules: false, mcp_elicitations: false } }, ["x"], esc, false), false);
    assert.equal(patchDecision("never", false), "reject");
    assert.equal(patchDecision("never", true), "apply");
    assert.equal(patchDecision("on-request", false), "ask");
    assert.equal(patchDecision("untrusted", true), "ask");
  });

  test("known-safe commands are read-only programs and simple scripts", () => {
    for (const argv of [["ls"], ["bash", "-lc", "cat README.md"], ["git", "status"], ["bash", "-lc", "git log -n 3"], ["rg", "foo"], ["wc", "-l", "x"]]) {
      assert.equal(isKnownSafeCommand(argv), true, argv.join(" "));
    }
    for (const argv of [["touch", "x"], ["bash", "-lc", "ls && rm -rf /"], ["bash", "-lc", "cat x > y"], ["git", "push"], ["rg", "--pre", "sh", "x"], ["bash", "-lc", "echo $(id)"]]) {
      assert.equal(isKnownSafeCommand(argv), false, argv.join(" "));
    }
  });

  test("the proposed execpolicy amendment is the first simple command", () => {
    assert.deepEqual(proposedAmendment(["bash", "-lc", "touch approved.txt && echo ran-accept"]), ["touch", "approved.txt"]);
    assert.deepEqual(proposedAmendment(["npm", "test"]), ["npm", "test"]);
    assert.equal(proposedAmendment(["bash", "-lc", "echo $HOME"]), null);
  });

  test("workdir stays inside the thread's cwd", () => {
    assert.equal(resolveWorkdir("/w/t", undefined), "/w/t");
    assert.equal(resolveWorkdir("/w/t", "sub/dir"), "/w/t/sub/dir");
    assert.equal(resolveWorkdir("/w/t", "/w/t/x"), "/w/t/x");
    assert.equal(resolveWorkdir("/w/t", ".."), null);
    assert.equal(resolveWorkdir("/w/t", "/etc"), null);
    assert.equal(resolveWorkdir("/w/t", "..foo"), "/w/t/..foo");
  });

  test("the SSE reader splits events across chunks, joins data lines, accepts CRLF and stops on request", async () => {
    const seen: string[] = [];
    await readSseData(
      body(["event: a\ndata: {\"x\"", ":1}\n\n: comment\n\ndata: l1\ndata:l2\n\r", "\ndata: crlf\r\n\r\ndata: é", "\n\ndata: stop\n\ndata: never\n\n"]),
      (d) => {
        seen.push(d);
        return d === "stop";
      },
    );
    assert.deepEqual(seen, ['{"x":1}', "l1\nl2", "crlf", "é", "stop"]);
  });

  test("the SSE reader reads a Node stream the same way: UTF-8 split across chunks, what follows a stop goes unread", async () => {
    const bytes = Buffer.from("data: {\"x\"\n\ndata: é\n\ndata: stop\n\ndata: never\n\n");
    const split = bytes.indexOf(0xc3) + 1; // inside "é"
    const stream = Readable.from([bytes.subarray(0, 5), bytes.subarray(5, split), bytes.subarray(split)], { objectMode: false });
    const seen: string[] = [];
    const chunks: string[] = [];
    await readSseData(stream, (d) => {
      seen.push(d);
      return d === "stop";
    }, { start: () => chunks.push("start"), end: () => chunks.push("end") });
    assert.deepEqual(seen, ['{"x"', "é", "stop"]);
    assert.deepEqual(chunks, ["start", "end", "start", "end", "start", "end"]);
    await once(stream, "close");
    assert.equal(stream.readableEnded, true, "the rest was read to the end (the connection stays reusable)");
  });

  test("the SSE reader drops a stopped Node stream whose rest does not end", async () => {
    const stream = new Readable({ read() {} });
    const reading = readSseData(stream, () => true);
    stream.push("data: stop\n\n");
    await reading;
    stream.push("data: more\n\n");
    await once(stream, "close");
    assert.equal(stream.readableEnded, false);
    assert.equal(stream.destroyed, true);
  });

  test("the SSE reader rejects with a Node stream's error and with what onData threw", async () => {
    const failing = new Readable({ read() {} });
    const reading = readSseData(failing, () => {});
    failing.push("data: a\n\n");
    failing.destroy(new Error("reset"));
    await assert.rejects(reading, /reset/);
    const thrown = Readable.from([Buffer.from("data: a\n\n")]);
    await assert.rejects(readSseData(thrown, () => {
      throw new Error("bad event");
    }), /bad event/);
    assert.equal(thrown.destroyed, true);
    const cut = new Readable({ read() {} });
    const closing = readSseData(cut, () => {});
    cut.destroy();
    await assert.rejects(closing, /closed before its end/);
  });

  test("the SSE reader hands over nothing of an unterminated event", async () => {
    const seen: string[] = [];
    await readSseData(body(["data: done\n\ndata: partial"]), (d) => void seen.push(d));
    assert.deepEqual(seen, ["done"]);
  });
});
