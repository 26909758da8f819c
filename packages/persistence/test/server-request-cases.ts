import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { MissingThreadError, StaleEpochError, type ServerRequestRecord, type ThreadRecord, type ThreadStore } from "../src/index.ts";
import { thread } from "./fixtures.ts";

/** A case of the shared store suite: runs with its store, skipped when the backend is unavailable. */
type StoreCase = (title: string, fn: (store: ThreadStore) => Promise<void>) => void;

/** The server-request part of the `ThreadStore` contract; registered by `describeThreadStore`. */
export function serverRequestCases(test: StoreCase): void {
  test("server requests read back whole, in issue order, and a re-put replaces", async (store) => {
    const t = thread();
    await store.createThread(t);
    const later = request(t, "2.10", 40, { itemId: null, method: "item/tool/call" });
    const first = request(t, "2.9", 12);
    await store.putServerRequest(later, 1);
    await store.putServerRequest(first, 1);
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), [first, later]);

    const replaced = { ...first, params: { replaced: true } };
    await store.putServerRequest(replaced, 1);
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), [replaced, later]);
    assert.deepEqual(await store.listServerRequests(t.tenantId, randomUUID()), []);
  });

  test("deleting a server request removes only it; deleting it again is a no-op", async (store) => {
    const t = thread();
    await store.createThread(t);
    const a = request(t, "1.0", 5);
    const b = request(t, "1.1", 6);
    await store.putServerRequest(a, 1);
    await store.putServerRequest(b, 1);
    await store.deleteServerRequest(t.tenantId, t.id, a.requestKey, 1);
    await store.deleteServerRequest(t.tenantId, t.id, a.requestKey, 1);
    await store.deleteServerRequest(t.tenantId, t.id, "never-stored", 1);
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), [b]);
  });

  test("server request writes with an older epoch are fenced off and change nothing", async (store) => {
    const t = thread({ ownerEpoch: 1 });
    await store.createThread(t);
    const kept = request(t, "1.0", 3);
    await store.putServerRequest(kept, 1);
    assert.equal(await store.claimEpoch(t.tenantId, t.id, 2), true);

    const stale = (err: unknown) => err instanceof StaleEpochError && err.threadId === t.id && err.writerEpoch === 1 && err.storedEpoch === 2;
    await assert.rejects(store.putServerRequest(request(t, "1.1", 4), 1), stale);
    await assert.rejects(store.deleteServerRequest(t.tenantId, t.id, kept.requestKey, 1), stale);
    await assert.rejects(store.deleteServerRequest(t.tenantId, t.id, "never-stored", 1), stale, "fenced even when there is nothing to delete");
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), [kept], "the adopter sees what the previous owner stored");

    await store.deleteServerRequest(t.tenantId, t.id, kept.requestKey, 2);
    await store.putServerRequest(request(t, "2.0", 9), 3);
    assert.deepEqual((await store.listServerRequests(t.tenantId, t.id)).map((r) => r.requestKey), ["2.0"]);
    assert.equal((await store.getThread(t.tenantId, t.id))?.ownerEpoch, 2, "server request writes do not move the epoch");
  });

  test("server requests are tenant-scoped: a foreign thread id behaves like a missing one", async (store) => {
    const t = thread();
    await store.createThread(t);
    const mine = request(t, "1.0", 1);
    await store.putServerRequest(mine, 1);
    const other = randomUUID();
    const foreign = { ...mine, tenantId: other, requestKey: "1.1" };

    await assert.rejects(store.putServerRequest(foreign, 99), MissingThreadError);
    await assert.rejects(store.deleteServerRequest(other, t.id, mine.requestKey, 99), MissingThreadError);
    assert.deepEqual(await store.listServerRequests(other, t.id), []);
    await store.deleteThread(other, t.id);
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), [mine]);

    const missing = thread();
    await assert.rejects(store.putServerRequest(request(missing, "1.0", 1), 1), MissingThreadError);
    await assert.rejects(store.deleteServerRequest(missing.tenantId, missing.id, "1.0", 1), MissingThreadError);
  });

  test("deleting a thread removes its server requests and leaves other threads' alone", async (store) => {
    const t = thread();
    const kept = thread({ tenantId: t.tenantId });
    await store.createThread(t);
    await store.createThread(kept);
    await store.putServerRequest(request(t, "1.0", 1), 1);
    const keptRequest = request(kept, "1.0", 1);
    await store.putServerRequest(keptRequest, 1);
    await store.deleteThread(t.tenantId, t.id);
    assert.deepEqual(await store.listServerRequests(t.tenantId, t.id), []);
    assert.deepEqual(await store.listServerRequests(kept.tenantId, kept.id), [keptRequest]);
  });
}

function request(t: ThreadRecord, requestKey: string, seq: number, o: Partial<ServerRequestRecord> = {}): ServerRequestRecord {
  return {
    tenantId: t.tenantId,
    threadId: t.id,
    requestKey,
    turnId: "turn-a",
    itemId: `item-${requestKey}`,
    method: "item/commandExecution/requestApproval",
    params: { threadId: t.id, turnId: "turn-a", itemId: `item-${requestKey}`, command: "ls", nested: { n: seq } },
    seq,
    createdAt: 1_000 + seq,
    ...o,
  };
}
