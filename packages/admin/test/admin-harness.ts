import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { MemoryHostRegistry, type Bus, type HostRegistry } from "@threadmesh/mesh";
import { openAdminStores, type AdminStores } from "@threadmesh/persistence";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { AdminClient, startAdminServer, type AdminServer } from "../src/index.ts";

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";

/** A database for one suite: a fresh SQLite file or a fresh PostgreSQL database (null: PostgreSQL unavailable outside CI). */
export async function testDatabase(kind: "sqlite" | "postgres"): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (kind === "postgres") {
    const db: TestDatabase | null = await createTestDatabase();
    return db;
  }
  const dir = mkdtempSync(join(tmpdir(), "tm-admin-"));
  return { url: `sqlite:${join(dir, "store.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AdminHarness {
  stores: AdminStores;
  server: AdminServer;
  client: AdminClient;
  close(): Promise<void>;
}

/** The admin server on an ephemeral port over the stores at `url`, and a client holding the admin token. */
export async function startAdmin(opts: { url: string; bus: Bus; hosts?: HostRegistry }): Promise<AdminHarness> {
  const stores = await openAdminStores({ url: opts.url });
  const hosts = opts.hosts ?? new MemoryHostRegistry();
  const errors: unknown[] = [];
  const server = await startAdminServer({
    host: "127.0.0.1",
    port: 0,
    token: ADMIN_TOKEN,
    deps: { tenants: stores.tenants, credits: stores.credits, ledger: stores.ledger, bus: opts.bus, hosts },
    logger: { error: (obj) => errors.push(obj) },
  });
  const client = new AdminClient({ address: server.address, token: ADMIN_TOKEN });
  return {
    stores,
    server,
    client,
    async close() {
      client.close();
      await server.close();
      await stores.close();
    },
  };
}

/** Calls grpc.health.v1.Health/Check with the official proto shipped by grpc-health-check. */
export async function healthCheck(address: string, service: string): Promise<string> {
  const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure()) as unknown as {
    Check(req: object, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  try {
    return await new Promise<string>((resolve, reject) => client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
  } finally {
    client.close();
  }
}
