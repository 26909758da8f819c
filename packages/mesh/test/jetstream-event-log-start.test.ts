import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type BusHeaders } from "@threadmesh/mesh";
import { JetStreamEventLog, NatsBus } from "@threadmesh/mesh/nats";
import { TEXT_ENCODER, broadcastSubject, threadEventSubject } from "@threadmesh/protocol";
import { startNatsServer } from "../../../test/support/nats-server.ts";

/** What one published message covers, in publish (= stream) order. */
interface Published {
  threadId: string;
  first: number;
  last: number;
  epoch: number;
}

const server = await startNatsServer({ jetstream: true });
if (server === null) {
  test("JetStreamEventLog read start", (t) => t.skip("nats-server not installed"));
} else {
  const bus = await NatsBus.connect({ servers: server.url, name: "event-log-start" });
  const log = await JetStreamEventLog.open(bus.connection, { stream: `TM_EVENTS_${randomBytes(4).toString("hex")}`, maxEventsPerThread: 10_000 });
  after(async () => {
    await log.close();
    await bus.close();
    await server.stop();
  });
  const tenant = "t1";
  const thread = () => randomBytes(6).toString("hex");

  function publish(p: Published, opts: { broadcast?: boolean } = {}): void {
    const headers: BusHeaders = { "tm-k": p.first === p.last ? "n" : "b", "tm-t": p.threadId, "tm-s": String(p.last), "tm-e": String(p.epoch) };
    if (p.first !== p.last) headers["tm-f"] = String(p.first);
    const subject = opts.broadcast ? broadcastSubject(tenant, p.threadId) : threadEventSubject(tenant, p.threadId);
    bus.publish(subject, TEXT_ENCODER.encode(`{"method":"m","params":{},"seq":${p.last}}`), headers);
  }

  /** Resolves once the stream holds `n` messages of the thread. */
  async function stored(threadId: string, n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await log.read(tenant, threadId, -1)).length < n) {
      if (Date.now() > deadline) throw new Error(`${threadId}: fewer than ${n} messages stored`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What a read of the whole window, filtered on `last > afterSeq`, returns: the reference result. */
  const expected = (all: Published[], threadId: string, afterSeq: number) =>
    all.filter((p) => p.threadId === threadId && p.last > afterSeq).map((p) => `${p.epoch}:${p.last}`);
  const got = async (threadId: string, afterSeq: number) =>
    (await log.read(tenant, threadId, afterSeq)).map((e) => `${e.headers["tm-e"]}:${e.headers["tm-s"]}`);

  describe("JetStreamEventLog: reading from the gap's start in a long window", () => {
    test("any afterSeq reads exactly the window's messages after it, with other threads, broadcasts and batches interleaved", async () => {
      const a = thread();
      const b = thread();
      const all: Published[] = [];
      let seqA = 0;
      let seqB = 0;
      for (let i = 0; i < 3_000; i++) {
        // Thread a: mostly single events, a batch every 7th message, a broadcast every 50th.
        const size = i % 7 === 0 ? 5 : 1;
        const pa = { threadId: a, first: seqA + 1, last: seqA + size, epoch: 1 };
        seqA += size;
        publish(pa, { broadcast: i % 50 === 0 && size === 1 });
        all.push(pa);
        if (i % 3 === 0) {
          const pb = { threadId: b, first: ++seqB, last: seqB, epoch: 1 };
          publish(pb);
          all.push(pb);
        }
      }
      await stored(a, 3_000);
      for (const afterSeq of [0, 1, 4, 5, 6, 1_000, 2_345, seqA - 1_000, seqA - 3, seqA - 1]) {
        assert.deepEqual(await got(a, afterSeq), expected(all, a, afterSeq), `afterSeq ${afterSeq}`);
      }
      assert.deepEqual(await got(a, seqA), []);
      assert.deepEqual(await got(a, seqA + 10), []);
      assert.deepEqual(await got(b, seqB - 500), expected(all, b, seqB - 500));
    });

    test("a superseded owner's late events with lower seqs do not make the read skip the gap's start", async () => {
      const a = thread();
      const all: Published[] = [];
      const add = (p: Published) => (publish(p), all.push(p));
      for (let s = 1; s <= 400; s++) add({ threadId: a, first: s, last: s, epoch: 1 });
      for (let s = 401; s <= 800; s++) add({ threadId: a, first: s, last: s, epoch: 2 });
      // Epoch 1 keeps publishing after the takeover, with seqs far below the gap.
      for (let s = 100; s < 400; s++) add({ threadId: a, first: s, last: s, epoch: 1 });
      for (let s = 801; s <= 900; s++) add({ threadId: a, first: s, last: s, epoch: 2 });
      await stored(a, all.length);
      for (const afterSeq of [450, 600, 700, 850]) {
        const events = await got(a, afterSeq);
        assert.equal(events[0], `2:${afterSeq + 1}`, `afterSeq ${afterSeq}: starts at the gap`);
        assert.deepEqual(events, expected(all, a, afterSeq), `afterSeq ${afterSeq}`);
      }
    });
  });
}
