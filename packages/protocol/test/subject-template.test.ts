import { test } from "node:test";
import assert from "node:assert/strict";
import { hostSubject, placeSubject, subjectTemplate, threadCommandSubject, threadEventSubject } from "@threadmesh/protocol";

test("subjectTemplate replaces the tenant and the thread or host id with placeholders", () => {
  assert.equal(subjectTemplate(threadCommandSubject("acme", "0199-abc")), "tm.v1.{tenant}.cmd.{thread}");
  assert.equal(subjectTemplate(placeSubject("acme")), "tm.v1.{tenant}.place");
  assert.equal(subjectTemplate(hostSubject("acme", "host-7")), "tm.v1.{tenant}.host.{host}");
  assert.equal(subjectTemplate(threadEventSubject("acme", "0199-abc")), "tm.v1.{tenant}.ev.{thread}.t");
});

test("subjectTemplate leaves subjects outside the layout as they are", () => {
  assert.equal(subjectTemplate("_INBOX.abc"), "_INBOX.abc");
  assert.equal(subjectTemplate("tm.ctl.v1.drain.host-1"), "tm.ctl.v1.drain.host-1");
});
