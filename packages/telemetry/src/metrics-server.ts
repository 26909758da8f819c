import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

export type MetricsReadiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface MetricsServerOptions {
  /** What `/metrics` renders (a registry, or a caller that refreshes sampled gauges first). */
  metrics: Pick<Metrics, "render">;
  /** 0 = ephemeral. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** `/readyz`; default always ready. A rejection counts as not ready. */
  readiness?: () => Promise<MetricsReadiness>;
}

export interface MetricsServer {
  /** `http://host:port` (no path). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

/**
 * The operational HTTP listener of a process, apart from any public port (a session host's only one, a
 * router's second): `GET /metrics` (Prometheus text), `/healthz` (liveness) and `/readyz` (200 or 503
 * with the reason).
 * Rejects when the port cannot be bound, so a misconfigured port stops the process at start.
 */
export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const host = opts.host ?? "127.0.0.1";
  const readiness = opts.readiness ?? (async () => ({ ready: true }) as const);
  const server = createServer((req, res) => handle(req, res, opts.metrics, readiness));
  // Scrapes are short; an idle keep-alive socket must not hold close() up.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      server.removeListener("error", reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function handle(req: IncomingMessage, res: ServerResponse, metrics: Pick<Metrics, "render">, readiness: () => Promise<MetricsReadiness>): void {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    reply(res, 405, "method not allowed");
  } else if (path === "/healthz") {
    reply(res, 200, "ok");
  } else if (path === "/readyz") {
    readiness().then(
      (r) => reply(res, r.ready ? 200 : 503, r.ready ? "ok" : r.reason),
      () => reply(res, 503, "readiness check failed"),
    );
  } else if (path === "/metrics") {
    metrics.render().then(
      (m) => reply(res, 200, m.body, m.contentType),
      () => reply(res, 500, "metrics unavailable"),
    );
  } else {
    reply(res, 404, "not found");
  }
}

function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
