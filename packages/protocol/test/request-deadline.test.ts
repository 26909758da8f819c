import { test } from "node:test";
import assert from "node:assert/strict";
import { DEADLINE_VERSION, anchorDeadline, deadlineExceeded, deadlineLeftMs, requestDeadline } from "../src/index.ts";

test("a deadline counts its budget from when it was sent", () => {
  const d = requestDeadline(1_500, 10_000);
  assert.deepEqual(d, { v: DEADLINE_VERSION, sentAtMs: 10_000, budgetMs: 1_500 });
  assert.equal(deadlineLeftMs(d, 10_400), 1_100);
  assert.ok(deadlineLeftMs(d, 11_600) < 0);
  assert.equal(deadlineLeftMs(undefined, 11_600), Infinity, "no deadline: the sender waits however long");
});

test("a receiver whose clock runs behind the sender's counts the budget from its receipt; one ahead keeps the sender's start", () => {
  // Sent at 10,000 by the sender's clock, read at 9,000 by a receiver 1 s behind: the wait still ends 1.5 s after receipt.
  assert.deepEqual(anchorDeadline(requestDeadline(1_500, 10_000), 9_000), { v: DEADLINE_VERSION, sentAtMs: 9_000, budgetMs: 1_500 });
  // Read at 12,000 (late, or a clock ahead): past its deadline.
  const late = anchorDeadline(requestDeadline(1_500, 10_000), 12_000)!;
  assert.ok(deadlineLeftMs(late, 12_000) < 0);
});

test("a deadline of another version or shape is no deadline", () => {
  assert.equal(anchorDeadline({ v: 2, sentAtMs: 1, budgetMs: 1 }, 5), undefined);
  assert.equal(anchorDeadline({ v: DEADLINE_VERSION, sentAtMs: "1", budgetMs: 1 }, 5), undefined);
  assert.equal(anchorDeadline(null, 5), undefined);
});

test("a request past its deadline is refused as retryable -32001 deadlineExceeded with retryAfterMs", () => {
  const e = deadlineExceeded(250);
  assert.equal(e.code, -32001);
  assert.equal(e.retryable, true);
  assert.deepEqual(e.data, { retryAfterMs: 250, reason: "deadlineExceeded" });
});
