import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  API_KEY_PREFIX,
  MIGRATIONS,
  TenancyInputError,
  TenantExistsError,
  UnknownApiKeyError,
  UnknownTenantError,
  migrateToLatest,
  openTenantStore,
  type KyselyTenantStore,
} from "../../src/index.ts";
import type { StoreTarget } from "../store-behaviour.ts";
import { Kysely, Migrator } from "kysely";
import type { Database } from "../../src/database.ts";
import { backendFor } from "../../src/open-store.ts";
import { staticMigrationProvider } from "../../src/migrations/migrations.ts";

/** The `TenantStore` contract, run against every backend; `make` gives a fresh empty database. */
export function describeTenantStore(name: string, make: () => Promise<StoreTarget | null>): void {
  describe(`TenantStore on ${name}`, () => {
    let target: StoreTarget | null = null;
    let store: KyselyTenantStore | null = null;
    const s = (): KyselyTenantStore => {
      assert.ok(store, `${name} unavailable`);
      return store;
    };
    const tenantId = (): string => `t-${randomUUID().slice(0, 8)}`;

    before(async () => {
      target = await make();
      if (target) store = await openTenantStore({ url: target.url, lastUsedFlushMs: 3_600_000 });
    });
    after(async () => {
      await store?.close();
      await target?.dispose();
    });

    it("creates, gets, lists, updates, suspends and resumes tenants", async () => {
      const id = tenantId();
      const created = await s().createTenant({ id, name: "Acme", plan: "pro", priorityClass: 3 });
      assert.equal(created.status, "active");
      assert.deepEqual(await s().getTenant(id), created);
      const updated = await s().updateTenant(id, { name: "Acme Corp", plan: "team" });
      assert.equal(updated.name, "Acme Corp");
      assert.equal(updated.plan, "team");
      assert.equal(updated.priorityClass, 3);
      assert.equal((await s().suspendTenant(id)).status, "suspended");
      assert.equal((await s().getTenant(id))?.status, "suspended");
      assert.equal((await s().resumeTenant(id)).status, "active");
      const listed = await s().listTenants({ limit: 1000 });
      assert.ok(listed.some((t) => t.id === id && t.name === "Acme Corp"));
      const ids = listed.map((t) => t.id);
      assert.deepEqual(ids, [...ids].sort());
      const page = await s().listTenants({ limit: 1, after: ids[0] });
      assert.equal(page[0]?.id, ids[1]);
    });

    it("keeps the default tenant created by the first migration, active on the default plan", async () => {
      const t = await s().getTenant("default");
      assert.equal(t?.status, "active");
      assert.equal(t?.plan, "default");
    });

    it("refuses a taken id, bad ids and bad fields with clear errors", async () => {
      const id = tenantId();
      await s().createTenant({ id, name: "One" });
      await assert.rejects(s().createTenant({ id, name: "Two" }), TenantExistsError);
      for (const bad of ["", "a.b", "a b", "tm.v1.>", "x".repeat(65), "ü"]) {
        await assert.rejects(s().createTenant({ id: bad, name: "Bad" }), (err: unknown) => {
          assert.ok(err instanceof TenancyInputError);
          assert.match(err.message, /tenant id must be 1 to 64 characters/);
          return true;
        });
      }
      await assert.rejects(s().createTenant({ id: tenantId(), name: " " }), /tenant name must not be empty/);
      await assert.rejects(s().createTenant({ id: tenantId(), name: "P", priorityClass: 10 }), /priority class must be 0 to 9/);
      await assert.rejects(s().updateTenant(id, { plan: "no plan" }), /plan must be/);
      await assert.rejects(s().updateTenant(tenantId(), { name: "Nobody" }), UnknownTenantError);
      await assert.rejects(s().suspendTenant(tenantId()), UnknownTenantError);
      assert.equal(await s().getTenant("not a tenant"), null);
    });

    it("creates a key whose secret is returned once, stored only as a hash, and found by it", async () => {
      const id = tenantId();
      await s().createTenant({ id, name: "Keys" });
      const { key, secret } = await s().createApiKey({ tenantId: id, name: "ci", userId: "alice", scopes: ["threads:read", "admin"] });
      assert.ok(secret.startsWith(`${key.prefix}_`));
      assert.match(key.prefix, new RegExp(`^${API_KEY_PREFIX}[0-9a-f]{8}$`));
      assert.deepEqual(key.scopes, ["threads:read", "admin"]);
      assert.equal(key.userId, "alice");
      const listed = await s().listApiKeys(id);
      assert.deepEqual(listed, [key]);
      assert.ok(!JSON.stringify(listed).includes(secret.slice(key.prefix.length + 1)));
      const found = await s().findApiKeyBySecret(secret);
      assert.deepEqual(found?.key, key);
      assert.equal(found?.tenant.id, id);
      assert.equal(await s().findApiKeyBySecret(`${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`), null);
      assert.equal(await s().findApiKeyBySecret("not a key"), null);
    });

    it("revokes a key idempotently; revoked keys are still found, marked, and listed only on request", async () => {
      const id = tenantId();
      await s().createTenant({ id, name: "Revoke" });
      const a = await s().createApiKey({ tenantId: id, name: "a" });
      const b = await s().createApiKey({ tenantId: id, name: "b" });
      const revoked = await s().revokeApiKey(id, a.key.id);
      assert.notEqual(revoked.revokedAt, null);
      assert.deepEqual(await s().revokeApiKey(id, a.key.id), revoked);
      assert.deepEqual((await s().listApiKeys(id)).map((k) => k.id), [b.key.id]);
      assert.deepEqual(new Set((await s().listApiKeys(id, { includeRevoked: true })).map((k) => k.id)), new Set([a.key.id, b.key.id]));
      assert.equal((await s().findApiKeyBySecret(a.secret))?.key.revokedAt, revoked.revokedAt);
      await assert.rejects(s().revokeApiKey(id, "key_missing"), UnknownApiKeyError);
      const other = tenantId();
      await s().createTenant({ id: other, name: "Other" });
      await assert.rejects(s().revokeApiKey(other, b.key.id), UnknownApiKeyError, "a key is revoked only through its own tenant");
    });

    it("refuses keys for unknown tenants and bad key fields", async () => {
      await assert.rejects(s().createApiKey({ tenantId: tenantId(), name: "k" }), UnknownTenantError);
      const id = tenantId();
      await s().createTenant({ id, name: "K" });
      await assert.rejects(s().createApiKey({ tenantId: id, name: "k", scopes: ["Bad Scope"] }), /scope must be/);
      await assert.rejects(s().createApiKey({ tenantId: id, name: "" }), /key name must not be empty/);
      await assert.rejects(s().createApiKey({ tenantId: "a.b", name: "k" }), TenancyInputError);
    });

    it("records last use in batches: nothing is written until a flush, then one time per key", async () => {
      const id = tenantId();
      await s().createTenant({ id, name: "Touch" });
      const { key } = await s().createApiKey({ tenantId: id, name: "t" });
      for (let i = 0; i < 50; i++) s().touchApiKey(id, key.id);
      assert.equal((await s().getApiKey(id, key.id))?.lastUsedAt, null);
      const before = Math.floor(Date.now() / 1000);
      await s().flushLastUsed();
      const used = (await s().getApiKey(id, key.id))?.lastUsedAt;
      assert.ok(used !== null && used !== undefined && used >= before);
    });

    it("migrates down past 0004 and up again", async () => {
      const fresh = await make();
      assert.ok(fresh);
      const db = new Kysely<Database>({ dialect: backendFor({ url: fresh.url }).dialect });
      try {
        assert.ok(Object.keys(MIGRATIONS).includes("0004-tenants-and-keys"));
        await migrateToLatest(fresh.url);
        const migrator = new Migrator({ db, provider: staticMigrationProvider });
        const down = await migrator.migrateTo("0003-turn-output-schema");
        assert.equal(down.error, undefined);
        assert.ok(down.results?.some((r) => r.migrationName === "0004-tenants-and-keys" && r.direction === "Down" && r.status === "Success"));
        const up = await migrateToLatest(fresh.url);
        assert.ok(up.includes("0004-tenants-and-keys"));
        const t = await db.selectFrom("tenants").selectAll().where("id", "=", "default").executeTakeFirst();
        assert.equal(t?.status, "active");
        assert.equal(Number(t?.updated_at), Number(t?.created_at));
      } finally {
        await db.destroy();
        await fresh.dispose();
      }
    });
  });
}
