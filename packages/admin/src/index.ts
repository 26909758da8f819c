export { startAdminServer, AdminConfigError } from "./admin-server.ts";
export type { AdminServer, AdminServerOptions } from "./admin-server.ts";
export { AdminClient, AdminCallError } from "./admin-client.ts";
export type { AdminClientOptions } from "./admin-client.ts";
export { bearerTokenMatches, clientCredentials, serverCredentials } from "./admin-auth.ts";
export type { AdminAuthOptions, AdminTlsFiles } from "./admin-auth.ts";
export { ADMIN_PROTO_PATH, ADMIN_PACKAGE, ADMIN_SERVICES, adminServices, qualifiedName } from "./admin-proto.ts";
export type { AdminServiceName } from "./admin-proto.ts";
export type { AdminDeps } from "./services/admin-deps.ts";
