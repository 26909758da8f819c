import { test } from "node:test";
import assert from "node:assert/strict";
import { CREDENTIAL_EVENTS_SUBJECT, type CredentialEvent } from "@threadmesh/protocol";
import { InProcessBus, publishCredentialEvent, subscribeCredentialEvents } from "../src/index.ts";

test("credential events reach subscribers as versioned envelopes; malformed ones are reported, not delivered", async () => {
  const bus = new InProcessBus();
  const got: CredentialEvent[] = [];
  const invalid: string[] = [];
  const sub = subscribeCredentialEvents(bus, (e) => got.push(e), (r) => invalid.push(r));
  try {
    await publishCredentialEvent(bus, { kind: "keyRevoked", tenant: "acme", keyId: "key_1" });
    await publishCredentialEvent(bus, { kind: "tenantSuspended", tenant: "acme" });
    bus.publish(CREDENTIAL_EVENTS_SUBJECT, new TextEncoder().encode('{"v":2,"kind":"tenantSuspended","tenant":"acme"}'));
    bus.publish(CREDENTIAL_EVENTS_SUBJECT, new TextEncoder().encode("{"));
    await bus.flush();
    assert.deepEqual(got, [
      { v: 1, kind: "keyRevoked", tenant: "acme", keyId: "key_1" },
      { v: 1, kind: "tenantSuspended", tenant: "acme" },
    ]);
    assert.equal(invalid.length, 2);
    await assert.rejects(publishCredentialEvent(bus, { kind: "tenantResumed", tenant: "not.a.tenant" }), /tenant id must be/);
  } finally {
    sub.unsubscribe();
    await bus.close();
  }
});
