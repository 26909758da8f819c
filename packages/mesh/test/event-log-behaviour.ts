import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Bus, BusHeaders, EventLog, LoggedEvent } from "@threadmesh/mesh";
import { TEXT_DECODER, TEXT_ENCODER, broadcastSubject, threadEventSubject } from "@threadmesh/protocol";

export interface EventLogFixture {
  bus: Bus;
  log: EventLog;
  /** Most messages kept per thread subject, as configured for this fixture. */
  maxEventsPerThread: number;
  cleanup(): Promise<void>;
}

const seqs = (events: LoggedEvent[]) => events.map((e) => e.headers["tm-s"]);

/** Resolves once the log holds `seq` for the thread (the stream captures publishes asynchronously). */
async function logged(log: EventLog, tenant: string, threadId: string, seq: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (((await log.tail(tenant, threadId))?.seq ?? 0) < seq) {
    if (Date.now() > deadline) throw new Error(`seq ${seq} of ${threadId} never reached the log`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One behaviour suite for every {@link EventLog} implementation. */
export function describeEventLog(name: string, make: () => Promise<EventLogFixture>): void {
  describe(`event log: ${name}`, () => {
    const tenant = "t1";
    const thread = () => randomBytes(6).toString("hex");
    function publish(bus: Bus, threadId: string, seq: number, opts: { broadcast?: boolean; first?: number; epoch?: number; tenant?: string; turn?: string } = {}): void {
      const headers: BusHeaders = { "tm-k": opts.first === undefined ? "n" : "b", "tm-t": threadId, "tm-s": String(seq), "tm-e": String(opts.epoch ?? 1) };
      if (opts.first !== undefined) headers["tm-f"] = String(opts.first);
      if (opts.turn !== undefined) headers["tm-a"] = opts.turn;
      const subject = opts.broadcast ? broadcastSubject(opts.tenant ?? tenant, threadId) : threadEventSubject(opts.tenant ?? tenant, threadId);
      bus.publish(subject, TEXT_ENCODER.encode(`{"method":"m","params":{},"seq":${seq}}`), headers);
    }

    test("an event larger than one NATS message is read back whole", async () => {
      const f = await make();
      try {
        const a = thread();
        const big = `{"method":"item/completed","params":{"text":"${"y".repeat(2_200_000)}"},"seq":2}`;
        publish(f.bus, a, 1);
        f.bus.publish(threadEventSubject(tenant, a), TEXT_ENCODER.encode(big), { "tm-k": "n", "tm-t": a, "tm-s": "2", "tm-e": "1" });
        publish(f.bus, a, 3);
        await logged(f.log, tenant, a, 3);
        const events = await f.log.read(tenant, a, 0);
        assert.deepEqual(seqs(events), ["1", "2", "3"]);
        assert.equal(TEXT_DECODER.decode(events[1]!.data), big);
        assert.equal(events[1]!.headers["tm-part"], undefined);
        assert.deepEqual(seqs(await f.log.read(tenant, a, 1)), ["2", "3"]);
      } finally {
        await f.cleanup();
      }
    });

    test("reads a thread's events and broadcasts after a seq, in seq order, with payload and headers", async () => {
      const f = await make();
      try {
        const a = thread();
        const b = thread();
        publish(f.bus, a, 1, { broadcast: true });
        publish(f.bus, a, 2);
        publish(f.bus, b, 1);
        publish(f.bus, a, 5, { first: 3 });
        publish(f.bus, a, 6, { broadcast: true });
        publish(f.bus, a, 7, { tenant: "t2" });
        await logged(f.log, tenant, a, 6);
        await logged(f.log, tenant, b, 1);
        await logged(f.log, "t2", a, 7);
        assert.deepEqual(seqs(await f.log.read(tenant, a, 0)), ["1", "2", "5", "6"]);
        const after = await f.log.read(tenant, a, 3);
        assert.deepEqual(seqs(after), ["5", "6"], "a batch that ends after afterSeq is included whole");
        assert.equal(after[0]!.headers["tm-f"], "3");
        assert.equal(TEXT_DECODER.decode(after[0]!.data), '{"method":"m","params":{},"seq":5}');
        assert.equal(after[1]!.subject, broadcastSubject(tenant, a));
        assert.deepEqual(await f.log.read(tenant, a, 6), []);
        assert.deepEqual(seqs(await f.log.read(tenant, b, 0)), ["1"]);
        assert.deepEqual(await f.log.read(tenant, thread(), 0), []);
      } finally {
        await f.cleanup();
      }
    });

    test("the tail is the newest event of either subject, with the turn it names; null for an unknown thread", async () => {
      const f = await make();
      try {
        const a = thread();
        publish(f.bus, a, 4, { first: 1 });
        publish(f.bus, a, 5, { broadcast: true, turn: "turn-a" });
        const b = thread();
        publish(f.bus, b, 9);
        publish(f.bus, b, 8, { broadcast: true, turn: "turn-b" });
        await logged(f.log, tenant, a, 5);
        await logged(f.log, tenant, b, 9);
        assert.deepEqual(await f.log.tail(tenant, a), { seq: 5, activeTurn: "turn-a" });
        assert.deepEqual(await f.log.tail(tenant, b), { seq: 9, activeTurn: null }, "the turn ended before seq 9");
        assert.equal(await f.log.tail(tenant, thread()), null);
      } finally {
        await f.cleanup();
      }
    });

    test("the window keeps the newest messages per thread subject and drops the oldest", async () => {
      const f = await make();
      try {
        const a = thread();
        const n = f.maxEventsPerThread + 5;
        for (let s = 1; s <= n; s++) publish(f.bus, a, s);
        publish(f.bus, a, n + 1, { broadcast: true });
        await logged(f.log, tenant, a, n + 1);
        const kept = seqs(await f.log.read(tenant, a, 0)).map(Number);
        assert.equal(kept.length, f.maxEventsPerThread + 1);
        assert.equal(kept[0], n - f.maxEventsPerThread + 1);
        assert.equal(kept.at(-1), n + 1);
      } finally {
        await f.cleanup();
      }
    });
  });
}
