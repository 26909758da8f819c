import { test } from "node:test";
import assert from "node:assert/strict";
import * as Protocol from "@threadmesh/protocol";
import { BROADCAST_NOTIFICATIONS, THREAD_SCOPED_NOTIFICATIONS } from "@threadmesh/protocol";
import { backoffDelay, NOTIFICATION_METHODS, ProtocolError, QuotaError, RetryableError } from "@threadmesh/client";
import type { KnownResults, MethodName, NotificationMap, ResultOf, ServerEvent, ServerRequestMap } from "@threadmesh/client";
import { errorFromAnswer } from "../src/errors.ts";
import { EventQueue } from "../src/event-queue.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Methods whose result type is `unknown`, `any` or an open record: none. */
type Untyped = { [M in MethodName]: unknown extends ResultOf<M> ? M : string extends keyof ResultOf<M> ? (ResultOf<M>[string] extends never ? never : M) : never }[MethodName];

test("the SDK's request, result, notification and server request types are the protocol package's", () => {
  const same: [
    Equal<NotificationMap, Protocol.NotificationParams>,
    Equal<ServerRequestMap, Protocol.ServerRequests>,
    Equal<KnownResults, Protocol.MethodResults>,
    Equal<ServerEvent["method"], Protocol.NotificationMethod>,
    Equal<keyof KnownResults, MethodName>,
    Equal<Untyped, never>,
  ] = [true, true, true, true, true, true];
  assert.deepEqual(same, [true, true, true, true, true, true]);
  assert.equal(NOTIFICATION_METHODS, Protocol.NOTIFICATION_METHODS);
  const delivered = [...THREAD_SCOPED_NOTIFICATIONS, ...BROADCAST_NOTIFICATIONS, ...Protocol.REQUESTER_NOTIFICATION_METHODS].sort();
  assert.deepEqual([...NOTIFICATION_METHODS].sort(), delivered);
});

test("backoff is jittered below a ceiling that doubles up to the cap", () => {
  const opts = { initialDelayMs: 100, maxDelayMs: 1_000 };
  assert.equal(backoffDelay(0, opts, () => 1), 100);
  assert.equal(backoffDelay(3, opts, () => 1), 800);
  assert.equal(backoffDelay(4, opts, () => 1), 1_000);
  assert.equal(backoffDelay(40, opts, () => 1), 1_000);
  assert.equal(backoffDelay(5, opts, () => 0), 0);
  assert.equal(backoffDelay(2, opts, () => 0.5), 200);
});

test("error answers become typed errors", () => {
  const overloaded = errorFromAnswer("turn/start", { code: -32001, message: "Server overloaded; retry later.", data: { retryAfterMs: 250, reason: "shed" } });
  assert.ok(overloaded instanceof RetryableError && !(overloaded instanceof QuotaError));
  assert.equal(overloaded.retryAfterMs, 250);
  assert.equal(overloaded.reason, "shed");
  assert.equal(overloaded.retryable, true);

  const rateLimits = { limitId: "codex", rateLimitReachedType: "workspace_member_usage_limit_reached" };
  const quota = errorFromAnswer("turn/start", { code: -32001, message: "credits depleted", data: { reason: "creditsDepleted", retryAfterMs: null, rateLimits } });
  assert.ok(quota instanceof QuotaError);
  assert.equal(quota.reason, "creditsDepleted");
  assert.deepEqual(quota.rateLimits, rateLimits);
  assert.equal(quota.retryable, false, "waiting alone does not bring credits back");

  const invalid = errorFromAnswer("thread/read", { code: -32600, message: "thread not found: x" });
  assert.ok(invalid instanceof ProtocolError);
  assert.equal(invalid.code, -32600);
  assert.equal(invalid.retryable, false);
});

test("an event queue yields what was pushed, then ends or fails", async () => {
  const q = new EventQueue<number>();
  q.push(1);
  const it = q[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 1, done: false });
  const next = it.next();
  q.push(2);
  assert.deepEqual(await next, { value: 2, done: false });
  q.push(3);
  q.end();
  assert.deepEqual(await it.next(), { value: 3, done: false });
  assert.equal((await it.next()).done, true);
  const failing = new EventQueue<number>();
  const pending = failing[Symbol.asyncIterator]().next();
  failing.fail(new Error("gone"));
  await assert.rejects(pending, /gone/);
});
