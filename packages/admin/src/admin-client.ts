import * as grpc from "@grpc/grpc-js";
import { clientCredentials } from "./admin-auth.ts";
import { adminServices, ADMIN_SERVICES, type AdminServiceName } from "./admin-proto.ts";

export interface AdminClientOptions {
  /** `host:port` of the admin server. */
  address: string;
  token?: string | null;
  /** TLS: the CA verifying the server, and the client's certificate and key for mTLS. */
  tls?: { ca?: string | null; cert?: string | null; key?: string | null } | null;
  /** Deadline of each call, ms. Default 10 s. */
  timeoutMs?: number;
}

/** A call's failure: its gRPC status code, the code's name and the server's message. */
export class AdminCallError extends Error {
  readonly code: grpc.status;
  readonly codeName: string;
  constructor(code: grpc.status, details: string) {
    super(details);
    this.name = "AdminCallError";
    this.code = code;
    this.codeName = grpc.status[code] ?? String(code);
  }
}

/**
 * A client of every admin service over one channel: `call("TenantService", "CreateTenant", {...})`
 * resolves with the response message (int64 fields as decimal strings) or rejects with {@link AdminCallError}.
 */
export class AdminClient {
  readonly #clients: Record<AdminServiceName, grpc.Client>;
  readonly #metadata: grpc.Metadata;
  readonly #timeoutMs: number;

  constructor(opts: AdminClientOptions) {
    const services = adminServices();
    const creds = clientCredentials(opts.tls);
    const first = new services.TenantService(opts.address, creds);
    const channel = first.getChannel();
    this.#clients = {} as Record<AdminServiceName, grpc.Client>;
    for (const name of ADMIN_SERVICES) this.#clients[name] = name === "TenantService" ? first : new services[name](opts.address, creds, { channelOverride: channel });
    this.#metadata = new grpc.Metadata();
    if (opts.token) this.#metadata.set("authorization", `Bearer ${opts.token}`);
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  call<T = Record<string, unknown>>(service: AdminServiceName, method: string, request: object): Promise<T> {
    const client = this.#clients[service] as unknown as Record<string, Function>;
    const fn = client[method];
    if (typeof fn !== "function") return Promise.reject(new Error(`${service} has no method ${method}`));
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, this.#metadata, { deadline: Date.now() + this.#timeoutMs }, (err: grpc.ServiceError | null, res: T) => {
        if (err) reject(new AdminCallError(err.code, err.details || err.message));
        else resolve(res);
      });
    });
  }

  close(): void {
    for (const c of Object.values(this.#clients)) c.close();
  }
}
