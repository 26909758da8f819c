import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { InProcessBus, type BusHeaders, type EventLog, type LoggedEvent } from "@threadmesh/mesh";
import { EventHeader, TEXT_DECODER, TEXT_ENCODER, encodeNotification, newId, threadEventSubject } from "@threadmesh/protocol";
import { noopTelemetry } from "@threadmesh/telemetry";
import type { Connection } from "../src/connection.ts";
import { FanOut } from "../src/fan-out.ts";
import { createRouterMetrics } from "../src/router-metrics.ts";
import { ServerRequestMap } from "../src/server-request-map.ts";

const TENANT = "acme";

/** An event log whose reads answer only once the test opens them, from the events it holds then. */
class GatedLog implements EventLog {
  held: LoggedEvent[] = [];
  reads = 0;
  #open = false;
  #waiting: Array<() => void> = [];
  #readWatchers: Array<() => void> = [];

  async read(_tenant: string, _threadId: string, afterSeq: number): Promise<LoggedEvent[]> {
    this.reads++;
    for (const w of this.#readWatchers.splice(0)) w();
    if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.held.filter((e) => Number(e.headers[EventHeader.Seq]) > afterSeq);
  }

  async tail() {
    return null;
  }

  async close() {}

  /** Resolves once a read beyond the `n`th has started. */
  readStarted(n: number): Promise<void> {
    if (this.reads > n) return Promise.resolve();
    return new Promise((resolve) => this.#readWatchers.push(() => (this.reads > n ? resolve() : void this.readStarted(n).then(resolve))));
  }

  open(): void {
    this.#open = true;
    for (const w of this.#waiting.splice(0)) w();
  }
}

function event(threadId: string, seq: number): LoggedEvent {
  const headers: BusHeaders = {
    [EventHeader.Kind]: "n",
    [EventHeader.Method]: "item/agentMessage/delta",
    [EventHeader.ThreadId]: threadId,
    [EventHeader.Seq]: String(seq),
    [EventHeader.Epoch]: "1",
  };
  return { subject: threadEventSubject(TENANT, threadId), data: TEXT_ENCODER.encode(encodeNotification("item/agentMessage/delta", { threadId, delta: String(seq) }, { seq, epoch: 1 })), headers };
}

/** A follower that records the seqs written to it. */
function follower(): Connection & { seqs: number[] } {
  const seqs: number[] = [];
  const conn = {
    id: newId(),
    tenant: TENANT,
    initialized: true,
    memberships: new Map(),
    requests: new ServerRequestMap(),
    seqs,
    deliverEvent(frame: Uint8Array | string) {
      seqs.push(JSON.parse(typeof frame === "string" ? frame : TEXT_DECODER.decode(frame)).seq as number);
      return true;
    },
    countHeld() {},
    close() {
      throw new Error("the follower was closed");
    },
    mayReceive: () => true,
    mayAnswer: () => true,
  };
  return conn as unknown as Connection & { seqs: number[] };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

test("fillThrough during a gap read answers only once the events through the target were delivered", async () => {
  const bus = new InProcessBus();
  const telemetry = noopTelemetry();
  const log = new GatedLog();
  const fanout = new FanOut({ bus, metrics: createRouterMetrics(telemetry.metrics), logger: telemetry.logger, maxHeldBytes: 1 << 20, eventLog: log });
  cleanup.push(() => fanout.close(), () => bus.close());
  const threadId = newId();
  const conn = follower();
  fanout.attach(conn, threadId);
  const publish = (seq: number) => {
    const e = event(threadId, seq);
    bus.publish(e.subject, e.data, e.headers);
  };

  publish(1);
  // 2 and 3 never reach the router: 4 reveals the gap and starts a read.
  publish(4);
  await bus.flush();
  await log.readStarted(0);
  assert.deepEqual(conn.seqs, [1]);

  // A follower resuming with afterSeq 1 while the host stands at 6 asks for everything through 6.
  let answer: boolean | undefined;
  const filled = fanout.fillThrough(TENANT, threadId, 1, 6).then((ok) => (answer = ok));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answer, undefined, "no answer while the gap is still being read");

  log.held = [2, 3].map((s) => event(threadId, s));
  const readsBefore = log.reads;
  log.open();
  // The first read delivers 2..4; the one through 6 starts after it and finds 5 and 6 missing.
  await log.readStarted(readsBefore);
  assert.deepEqual(conn.seqs, [1, 2, 3, 4]);
  assert.equal(answer, undefined, "delivering through 4 is not delivering through 6");

  log.held = [2, 3, 5, 6].map((s) => event(threadId, s));
  assert.equal(await filled, true);
  assert.deepEqual(conn.seqs, [1, 2, 3, 4, 5, 6]);
});

test("fillThrough with nothing missing answers at once, and false for a thread nobody follows here", async () => {
  const bus = new InProcessBus();
  const telemetry = noopTelemetry();
  const log = new GatedLog();
  const fanout = new FanOut({ bus, metrics: createRouterMetrics(telemetry.metrics), logger: telemetry.logger, maxHeldBytes: 1 << 20, eventLog: log });
  cleanup.push(() => fanout.close(), () => bus.close());
  const threadId = newId();
  const conn = follower();
  fanout.attach(conn, threadId);
  const e = event(threadId, 1);
  bus.publish(e.subject, e.data, e.headers);
  await bus.flush();
  assert.deepEqual(conn.seqs, [1]);
  assert.equal(await fanout.fillThrough(TENANT, threadId, 0, 1), true);
  assert.equal(await fanout.fillThrough(TENANT, newId(), 0, 1), false);
  assert.equal(log.reads, 0);
});
