import { test } from "node:test";
import assert from "node:assert/strict";
import type { Origin } from "@threadmesh/protocol";
import { canAnswer, canSee, canShare, originIsAdmin, threadAnswerers, threadAudience, visibleRecord } from "../src/access/thread-access.ts";

const base: Origin = { routerId: "r", connId: "c", experimentalApi: false, clientName: "t", clientVersion: "1" };
const as = (user: string | null, admin?: boolean): Origin => ({ ...base, user, ...(admin === undefined ? {} : { admin }) });
const alices = { ownerUser: "alice", sharedWith: ["bob", "dave"], approvers: ["dave"] };
const tenantWide = { ownerUser: null, sharedWith: [], approvers: [] };

test("who sees a thread: its owner, the users it is shared with, administrators; nobody else", () => {
  assert.equal(canSee(alices, as("alice", false)), true);
  assert.equal(canSee(alices, as("bob", false)), true);
  assert.equal(canSee(alices, as("carol", false)), false);
  assert.equal(canSee(alices, as("root", true)), true);
  assert.equal(canSee(alices, as(null)), true, "a tenant-wide credential administers the tenant");
  assert.equal(canSee(alices, undefined), true, "internal commands act as the tenant");
  assert.equal(canSee(tenantWide, as("alice", false)), false, "a thread of a tenant-wide credential is for administrators");
  assert.equal(canSee({ ownerUser: "alice" }, as("bob", false)), false, "rows without sharing columns share with nobody");
  assert.equal(visibleRecord(alices, as("carol", false)), null);
  assert.equal(visibleRecord(alices, as("bob", false)), alices);
});

test("an origin without the admin flag (a router that predates users) is an administrator only without a user", () => {
  assert.equal(originIsAdmin(base), true);
  assert.equal(originIsAdmin(as("alice")), false);
  assert.equal(originIsAdmin(as("alice", true)), true);
});

test("who answers a thread's server requests: its owner and its delegated approvers, not administrators or mere sharers", () => {
  assert.equal(canAnswer(alices, as("alice", false)), true);
  assert.equal(canAnswer(alices, as("dave", false)), true);
  assert.equal(canAnswer(alices, as("bob", false)), false);
  assert.equal(canAnswer(alices, as("root", true)), false);
  assert.equal(canAnswer(alices, as(null)), false);
  assert.equal(canAnswer(tenantWide, as(null)), true);
  assert.equal(canAnswer(tenantWide, as("root", true)), false);
});

test("who shares a thread: its owner and administrators", () => {
  assert.equal(canShare(alices, as("alice", false)), true);
  assert.equal(canShare(alices, as("bob", false)), false);
  assert.equal(canShare(alices, as("root", true)), true);
  assert.equal(canShare(tenantWide, as("alice", false)), false);
});

test("a thread's broadcast audience is its owner and the users it is shared with", () => {
  assert.deepEqual(threadAudience(alices).sort(), ["alice", "bob", "dave"]);
  assert.deepEqual(threadAudience(tenantWide), []);
});

test("a thread's answerers are its owner (null: the tenant's user-less credentials) and its delegates", () => {
  assert.deepEqual(threadAnswerers(alices), ["alice", "dave"]);
  assert.deepEqual(threadAnswerers(tenantWide), [null]);
  assert.deepEqual(threadAnswerers({ ownerUser: "alice" }), ["alice"]);
});
