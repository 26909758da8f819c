import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { BusError, type Bus, type BusMessage } from "@threadmesh/mesh";
import { Received, bytes, text, uniquePrefix } from "./received.ts";

/** What a backend gives the suite for one test. */
export interface BusFixture {
  /** The bus under test; it subscribes and requests. */
  bus: Bus;
  /** A second connection that publishes and responds; absent when the backend has only one (in-process). */
  other?: Bus;
  /** Errors the buses reported through `onDeliveryError`, when the backend collects them. */
  deliveryErrors?: unknown[];
  /** Closes everything; must tolerate buses the test already closed. */
  cleanup(): Promise<void>;
}

/** Per test; every wait in the suite is on an event, this only bounds a broken build. */
const TEST_TIMEOUT_MS = 15_000;

function isBusError(kind: BusError["kind"]) {
  return (err: unknown): boolean => err instanceof BusError && err.kind === kind;
}

/**
 * The behaviour every {@link Bus} must have, run once per backend. Subscriptions are followed by
 * `flush()` on the subscribing bus before another connection publishes, as NATS requires.
 */
export function describeBus(name: string, make: () => Promise<BusFixture>): void {
  describe(name, () => {
    const it = (title: string, body: (f: BusFixture & { other: Bus }, p: string) => Promise<void>) =>
      test(title, { timeout: TEST_TIMEOUT_MS }, async () => {
        const f = await make();
        try {
          await body({ ...f, other: f.other ?? f.bus }, uniquePrefix());
        } finally {
          await f.cleanup();
        }
      });

    it("a published message reaches every plain subscriber with its payload and headers", async ({ bus, other }, p) => {
      const a = new Received();
      const b = new Received();
      bus.subscribe(`${p}.evt`, a.handler);
      bus.subscribe(`${p}.evt`, b.handler);
      await bus.flush();
      other.publish(`${p}.evt`, bytes("hello"), { "tm-m": "turn/started", "tm-s": "7" });
      await Promise.all([a.count(1), b.count(1)]);
      for (const r of [a, b]) {
        const msg = r.messages[0]!;
        assert.equal(msg.subject, `${p}.evt`);
        assert.equal(text(msg.data), "hello");
        assert.deepEqual({ ...msg.headers }, { "tm-m": "turn/started", "tm-s": "7" });
        assert.equal(msg.expectsReply, false);
        msg.respond(bytes("ignored"));
      }
    });

    it("a message larger than one NATS message allows arrives whole, with its headers, in order with the others", async ({ bus, other }, p) => {
      const r = new Received();
      const wild = new Received();
      bus.subscribe(`${p}.evt`, r.handler);
      bus.subscribe(`${p}.>`, wild.handler);
      await bus.flush();
      const big = "x".repeat(2_500_000) + "end";
      other.publish(`${p}.evt`, bytes("before"), { "tm-s": "1" });
      other.publish(`${p}.evt`, bytes(big), { "tm-s": "2", "tm-m": "item/completed" });
      other.publish(`${p}.evt`, bytes("after"), { "tm-s": "3" });
      await Promise.all([r.count(3), wild.count(3)]);
      for (const got of [r, wild]) {
        assert.deepEqual(got.texts().map((t) => t.length), [6, big.length, 5]);
        assert.equal(got.texts()[1], big);
        assert.deepEqual({ ...got.messages[1]!.headers }, { "tm-s": "2", "tm-m": "item/completed" });
      }
    });

    it("a request and its reply larger than one NATS message allows arrive whole", async ({ bus, other }, p) => {
      const ask = "q".repeat(1_500_000);
      const answer = "a".repeat(3_000_000);
      other.subscribe(`${p}.cmd`, (msg) => msg.respond(bytes(text(msg.data) === ask ? answer : "wrong"), { "tm-r": "ok" }));
      await other.flush();
      const reply = await bus.request(`${p}.cmd`, bytes(ask), { timeoutMs: 10_000 });
      assert.equal(text(reply.data), answer);
      assert.deepEqual({ ...reply.headers }, { "tm-r": "ok" });
    });

    it("a message without header keys arrives with headers undefined", async ({ bus, other }, p) => {
      const a = new Received();
      bus.subscribe(`${p}.evt`, a.handler);
      await bus.flush();
      other.publish(`${p}.evt`, new Uint8Array(0));
      other.publish(`${p}.evt`, new Uint8Array(0), {});
      await a.count(2);
      for (const msg of a.messages) {
        assert.equal(msg.headers, undefined);
        assert.equal(msg.data.length, 0);
      }
    });

    it("`*` matches exactly one token and `>` one or more", async ({ bus, other }, p) => {
      const star = new Received();
      const tail = new Received();
      const exact = new Received();
      bus.subscribe(`${p}.*.evt`, star.handler);
      bus.subscribe(`${p}.>`, tail.handler);
      bus.subscribe(`${p}.t1.evt`, exact.handler);
      await bus.flush();
      for (const s of ["t1.evt", "t2.evt", "t1.cmd", "t1.evt.deep", "a.b.evt", "end.evt"]) {
        other.publish(`${p}.${s}`, bytes(s));
      }
      // One publisher, one receiving connection: `end.evt` arriving means everything before it did.
      await Promise.all([star.text("end.evt"), tail.text("end.evt")]);
      assert.deepEqual(star.texts(), ["t1.evt", "t2.evt", "end.evt"]);
      assert.deepEqual(tail.texts(), ["t1.evt", "t2.evt", "t1.cmd", "t1.evt.deep", "a.b.evt", "end.evt"]);
      assert.deepEqual(exact.texts(), ["t1.evt"]);
    });

    it("a queue group gets each message exactly once while plain subscribers get all", async ({ bus, other }, p) => {
      const members = [new Received(), new Received(), new Received()];
      const group = new Received();
      const member = (r: Received) => (msg: BusMessage) => {
        r.handler(msg);
        group.handler(msg);
      };
      const plain = new Received();
      bus.subscribe(`${p}.place`, member(members[0]!), { queue: "hosts" });
      bus.subscribe(`${p}.place`, member(members[1]!), { queue: "hosts" });
      other.subscribe(`${p}.place`, member(members[2]!), { queue: "hosts" });
      bus.subscribe(`${p}.place`, plain.handler);
      const barriers = [new Received(), new Received()];
      bus.subscribe(`${p}.barrier`, barriers[0]!.handler);
      if (other !== bus) other.subscribe(`${p}.barrier`, barriers[1]!.handler);
      await Promise.all([bus.flush(), other.flush()]);

      const n = 60;
      for (let i = 0; i < n; i++) other.publish(`${p}.place`, bytes(String(i)));
      await Promise.all([plain.count(n), group.count(n)]);
      // Anything still in flight to either connection was published before the barrier and arrives first.
      other.publish(`${p}.barrier`, bytes("b"));
      await Promise.all([barriers[0]!.count(1), other !== bus ? barriers[1]!.count(1) : undefined]);

      const seen = members.flatMap((m) => m.texts()).sort((x, y) => Number(x) - Number(y));
      assert.deepEqual(seen, Array.from({ length: n }, (_, i) => String(i)));
      assert.equal(plain.messages.length, n);
    });

    it("a request gets its reply, with headers both ways", async ({ bus, other }, p) => {
      const seen: BusMessage[] = [];
      other.subscribe(`${p}.cmd`, (msg) => {
        seen.push(msg);
        msg.respond(bytes(`re:${text(msg.data)}`), { "x-reply": "yes" });
      });
      await other.flush();
      const reply = await bus.request(`${p}.cmd`, bytes("ping"), { timeoutMs: 5_000, headers: { traceparent: "00-abc-01" } });
      assert.equal(text(reply.data), "re:ping");
      assert.deepEqual({ ...reply.headers }, { "x-reply": "yes" });
      assert.equal(reply.expectsReply, false);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.expectsReply, true);
      assert.deepEqual({ ...seen[0]!.headers }, { traceparent: "00-abc-01" });
    });

    it("a request to a subject nobody subscribes to fails at once with noResponders", async ({ bus }, p) => {
      // A bus that waited for the request's timeout instead would outlast the test's own timeout.
      await assert.rejects(bus.request(`${p}.nobody`, bytes("x"), { timeoutMs: 60 * TEST_TIMEOUT_MS }), isBusError("noResponders"));
    });

    it("a request nobody answers fails with timeout", async ({ bus, other }, p) => {
      const silent = new Received();
      other.subscribe(`${p}.cmd`, silent.handler);
      await other.flush();
      await assert.rejects(bus.request(`${p}.cmd`, bytes("x"), { timeoutMs: 100 }), isBusError("timeout"));
      assert.equal(silent.messages.length, 1);
    });

    it("only the first reply to a request counts", async ({ bus, other }, p) => {
      other.subscribe(`${p}.cmd`, (msg) => {
        msg.respond(bytes("first"));
        msg.respond(bytes("second"));
      });
      await other.flush();
      const reply = await bus.request(`${p}.cmd`, bytes("x"), { timeoutMs: 5_000 });
      assert.equal(text(reply.data), "first");
    });

    it("messages from one publisher arrive in publish order across subjects", async ({ bus, other }, p) => {
      const all = new Received();
      bus.subscribe(`${p}.a`, all.handler);
      bus.subscribe(`${p}.b`, all.handler);
      bus.subscribe(`${p}.c.*`, all.handler);
      await bus.flush();
      const n = 300;
      const subjects = [`${p}.a`, `${p}.b`, `${p}.c.x`];
      for (let i = 0; i < n; i++) other.publish(subjects[i % 3]!, bytes(String(i)));
      await all.count(n);
      assert.deepEqual(all.texts(), Array.from({ length: n }, (_, i) => String(i)));
    });

    it("a reply sent before an event is seen by the requester before the event's handler runs", async ({ bus, other }, p) => {
      const log: string[] = [];
      const events = new Received();
      bus.subscribe(`${p}.evt`, (msg) => {
        log.push(`event:${text(msg.data)}`);
        events.handler(msg);
      });
      other.subscribe(`${p}.cmd`, (msg) => {
        msg.respond(msg.data);
        other.publish(`${p}.evt`, msg.data);
        other.publish(`${p}.evt`, msg.data);
      });
      await Promise.all([bus.flush(), other.flush()]);
      // The requester's code sits behind a few awaits, as a real router's would.
      const call = async (i: number): Promise<string> => text((await bus.request(`${p}.cmd`, bytes(String(i)), { timeoutMs: 5_000 })).data);
      const handle = async (i: number): Promise<void> => {
        const r = await call(i);
        await Promise.resolve();
        log.push(`reply:${r}`);
      };
      const rounds = 25;
      for (let i = 0; i < rounds; i++) {
        await Promise.all([handle(i), events.count(2 * (i + 1))]);
      }
      const expected = Array.from({ length: rounds }, (_, i) => [`reply:${i}`, `event:${i}`, `event:${i}`]).flat();
      assert.deepEqual(log, expected);
    });

    it("unsubscribe stops delivery, including messages already on their way", async ({ bus, other }, p) => {
      const once = new Received();
      const sub = bus.subscribe(`${p}.evt`, (msg) => {
        once.handler(msg);
        sub.unsubscribe();
        sub.unsubscribe();
      });
      const stays = new Received();
      bus.subscribe(`${p}.evt`, stays.handler);
      await bus.flush();
      for (const s of ["1", "2", "3"]) other.publish(`${p}.evt`, bytes(s));
      await stays.count(3);
      await bus.flush();
      other.publish(`${p}.evt`, bytes("4"));
      await stays.count(4);
      assert.deepEqual(once.texts(), ["1"]);
      assert.equal(sub.subject, `${p}.evt`);
    });

    it("mutating a buffer after publishing, or a received copy, changes nothing anyone else sees", async ({ bus, other }, p) => {
      const a = new Received();
      const b = new Received();
      bus.subscribe(`${p}.evt`, (msg) => {
        a.handler(msg);
        msg.data.fill(0);
      });
      bus.subscribe(`${p}.evt`, b.handler);
      other.subscribe(`${p}.cmd`, (msg) => {
        const reply = bytes("reply");
        msg.respond(reply);
        reply.fill(0);
      });
      await Promise.all([bus.flush(), other.flush()]);
      const sent = bytes("hello");
      other.publish(`${p}.evt`, sent);
      sent.fill(0);
      await Promise.all([a.count(1), b.count(1)]);
      assert.equal(text(b.messages[0]!.data), "hello");
      const req = bytes("request");
      const pending = bus.request(`${p}.cmd`, req, { timeoutMs: 5_000 });
      req.fill(0);
      assert.equal(text((await pending).data), "reply");
    });

    it("a handler that throws or rejects does not stop delivery to it or to others", async (f, p) => {
      const { bus, other } = f;
      const flaky = new Received();
      const failing = new Received();
      const steady = new Received();
      bus.subscribe(`${p}.evt`, (msg) => {
        flaky.handler(msg);
        if (text(msg.data) === "boom") throw new Error("sync boom");
      });
      bus.subscribe(`${p}.evt`, async (msg) => {
        failing.handler(msg);
        throw new Error("async boom");
      });
      bus.subscribe(`${p}.evt`, steady.handler);
      await bus.flush();
      for (const s of ["boom", "after"]) other.publish(`${p}.evt`, bytes(s));
      await Promise.all([flaky.count(2), failing.count(2), steady.count(2)]);
      assert.deepEqual(flaky.texts(), ["boom", "after"]);
      assert.deepEqual(steady.texts(), ["boom", "after"]);
      if (f.deliveryErrors) {
        // Rejections are reported from a promise callback; one turn of the event loop settles them.
        await nextTurn();
        const messages = f.deliveryErrors.map((e) => (e as Error).message).sort();
        assert.deepEqual(messages, ["async boom", "async boom", "sync boom"]);
      }
    });

    it("subjects and headers NATS would not carry are refused at the call", async ({ bus }) => {
      for (const s of ["", "a..b", "a.*", "a.>", "a b", ".a", "a."]) {
        assert.throws(() => bus.publish(s, bytes("x")), Error, `publish ${JSON.stringify(s)}`);
        await assert.rejects(bus.request(s, bytes("x"), { timeoutMs: 100 }), Error, `request ${JSON.stringify(s)}`);
      }
      for (const s of ["", "a..b", "a.>.b", "a b"]) {
        assert.throws(() => bus.subscribe(s, () => {}), Error, `subscribe ${JSON.stringify(s)}`);
      }
      assert.throws(() => bus.publish("a", bytes("x"), { "bad:name": "v" }));
      assert.throws(() => bus.publish("a", bytes("x"), { name: "line\r\nbreak" }));
    });

    it("close rejects open requests, is idempotent, and later use fails with closed", async ({ bus, other }, p) => {
      const silent = new Received();
      other.subscribe(`${p}.cmd`, silent.handler);
      await other.flush();
      assert.equal(bus.connected, true);
      const open = bus.request(`${p}.cmd`, bytes("x"), { timeoutMs: 10_000 });
      await silent.count(1);
      const closing = bus.close();
      assert.equal(bus.connected, false);
      await Promise.all([closing, bus.close()]);
      await assert.rejects(open, isBusError("closed"));
      assert.throws(() => bus.publish(`${p}.evt`, bytes("x")), isBusError("closed"));
      assert.throws(() => bus.subscribe(`${p}.evt`, () => {}), isBusError("closed"));
      await assert.rejects(bus.request(`${p}.cmd`, bytes("x"), { timeoutMs: 1_000 }), isBusError("closed"));
      await bus.flush();
    });

    it("a closed bus calls no handler, even for messages others still publish", async ({ bus, other }, p) => {
      const closedSide = new Received();
      bus.subscribe(`${p}.evt`, closedSide.handler);
      await bus.flush();
      other.publish(`${p}.evt`, bytes("before"));
      await closedSide.count(1);
      await bus.close();
      if (other === bus) return;
      const witness = new Received();
      other.subscribe(`${p}.evt`, witness.handler);
      await other.flush();
      other.publish(`${p}.evt`, bytes("after"));
      await witness.count(1);
      await nextTurn();
      assert.deepEqual(closedSide.texts(), ["before"]);
    });
  });
}
