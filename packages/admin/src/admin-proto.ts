import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** The admin API's one source of truth, in the repository's `proto/` tree. */
export const ADMIN_PROTO_PATH = fileURLToPath(new URL("../../../proto/threadmesh/admin/v1/admin.proto", import.meta.url));
export const ADMIN_PACKAGE = "threadmesh.admin.v1";

/** int64 as decimal strings, enums as names, absent proto3 `optional` fields left out. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

export const ADMIN_SERVICES = ["TenantService", "ApiKeyService", "PlanService", "CreditService", "HostService"] as const;
export type AdminServiceName = (typeof ADMIN_SERVICES)[number];

let loaded: Record<AdminServiceName, grpc.ServiceClientConstructor> | null = null;

/** Client constructors (and, through `.service`, the service definitions) of every admin service. */
export function adminServices(): Record<AdminServiceName, grpc.ServiceClientConstructor> {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(ADMIN_PROTO_PATH, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as { threadmesh: { admin: { v1: Record<string, grpc.ServiceClientConstructor> } } };
  const out = {} as Record<AdminServiceName, grpc.ServiceClientConstructor>;
  for (const name of ADMIN_SERVICES) {
    const ctor = pkg.threadmesh.admin.v1[name];
    if (!ctor) throw new Error(`${ADMIN_PROTO_PATH} has no service ${name}`);
    out[name] = ctor;
  }
  loaded = out;
  return out;
}

/** Fully qualified name of a service, as the health service and reflection name it. */
export function qualifiedName(service: AdminServiceName): string {
  return `${ADMIN_PACKAGE}.${service}`;
}
