import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus, type Bus } from "@threadmesh/mesh";
import { openTenantStore, type KyselyTenantStore } from "@threadmesh/persistence";
import { noopTelemetry } from "@threadmesh/telemetry";
import { Router, type RouterConfig } from "@threadmesh/router";
import { FakeHost, TestClient } from "../harness.ts";

/** A refused upgrade as the client sees it. */
export interface UpgradeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed, when it is JSON. */
  json: Record<string, unknown> | null;
}

/** Attempts a WebSocket upgrade with `authorization` (none when undefined) and returns the HTTP answer. */
export function upgrade(port: number, authorization: string | undefined): Promise<UpgradeAnswer> {
  const headers: Record<string, string> = {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  };
  if (authorization !== undefined) headers.Authorization = authorization;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        let json: Record<string, unknown> | null = null;
        if (res.headers["content-type"]?.startsWith("application/json")) json = JSON.parse(body) as Record<string, unknown>;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: "", json: null });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A tenant store on a fresh SQLite file; `dispose` closes it and removes the file. */
export async function sqliteTenantStore(): Promise<{ store: KyselyTenantStore; url: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "tm-auth-"));
  const url = `sqlite:${join(dir, "store.db")}`;
  const store = await openTenantStore({ url, lastUsedFlushMs: 3_600_000 });
  return {
    store,
    url,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TenancyRouter {
  router: Router;
  bus: Bus;
  host: FakeHost | null;
  url: string;
  port: number;
  /** Connects and initializes a client with `Authorization: Bearer <token>`. */
  connect(token: string): Promise<TestClient>;
  close(): Promise<void>;
}

/** A router with the tenant store behind its authentication, pings off, dev mode off. */
export async function startTenancyRouter(opts: { store: KyselyTenantStore; config?: RouterConfig; bus?: Bus; routerId?: string }): Promise<TenancyRouter> {
  const bus = opts.bus ?? new InProcessBus();
  const host = bus instanceof InProcessBus ? new FakeHost(bus) : null;
  const router = await Router.create({
    bus,
    telemetry: noopTelemetry(),
    routerId: opts.routerId ?? "router-auth",
    tenants: opts.store,
    config: { pingIntervalMs: 0, tokens: [{ token: "operator-token" }], ...opts.config },
  });
  const { url, port } = await router.listen();
  const clients: TestClient[] = [];
  return {
    router,
    bus,
    host,
    url,
    port,
    async connect(token) {
      const c = await TestClient.connect(url, { Authorization: `Bearer ${token}` });
      clients.push(c);
      await c.initialize();
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await router.close();
      if (!opts.bus) await bus.close();
    },
  };
}
