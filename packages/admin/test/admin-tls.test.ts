import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus, MemoryHostRegistry } from "@threadmesh/mesh";
import { openAdminStores, type AdminStores } from "@threadmesh/persistence";
import { AdminCallError, AdminClient, startAdminServer, type AdminServer } from "../src/index.ts";

/** Runs openssl (the real one) in `dir`. */
function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA; and a client certificate from another CA. */
function certificates(dir: string): void {
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const ca of ["ca", "other-ca"]) {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/CN=${ca}`);
  }
  const leaf = (name: string, ca: string, ext?: string) => {
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", ...(ext ? ["-extfile", ext] : []));
  };
  leaf("server", "ca", "server.ext");
  leaf("client", "ca");
  leaf("stranger", "other-ca");
}

describe("admin API over mTLS: client certificates signed by the client CA, no token", () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-admin-tls-"));
  const f = (name: string) => join(dir, name);
  let stores: AdminStores;
  let server: AdminServer;
  const bus = new InProcessBus();

  before(async () => {
    certificates(dir);
    stores = await openAdminStores({ url: `sqlite:${f("store.db")}` });
    server = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      token: null,
      tls: { cert: f("server.pem"), key: f("server.key"), clientCa: f("ca.pem") },
      deps: { tenants: stores.tenants, credits: stores.credits, ledger: stores.ledger, bus, hosts: new MemoryHostRegistry() },
      logger: { error: () => {} },
    });
  });
  after(async () => {
    await server?.close();
    await stores?.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a client with a certificate from the client CA is served", async () => {
    const client = new AdminClient({ address: server.address, tls: { ca: f("ca.pem"), cert: f("client.pem"), key: f("client.key") } });
    try {
      const t = await client.call<{ id: string }>("TenantService", "CreateTenant", { id: "tls-tenant", name: "Over TLS" });
      assert.equal(t.id, "tls-tenant");
    } finally {
      client.close();
    }
  });

  test("a client without a certificate, or with one from another CA, is refused", async () => {
    for (const tls of [{ ca: f("ca.pem") }, { ca: f("ca.pem"), cert: f("stranger.pem"), key: f("stranger.key") }]) {
      const client = new AdminClient({ address: server.address, tls, timeoutMs: 5_000 });
      try {
        const err = await client.call("TenantService", "ListTenants", {}).then(
          () => assert.fail("served without a valid client certificate"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof AdminCallError);
        assert.equal(err.codeName, "UNAVAILABLE", err.message);
      } finally {
        client.close();
      }
    }
  });

  test("a server with neither a token nor a client CA refuses to start", async () => {
    await assert.rejects(
      startAdminServer({ host: "127.0.0.1", port: 0, token: null, tls: null, deps: { tenants: stores.tenants, credits: stores.credits, ledger: stores.ledger, bus, hosts: new MemoryHostRegistry() }, logger: { error: () => {} } }),
      /needs an admin token/,
    );
  });
});
