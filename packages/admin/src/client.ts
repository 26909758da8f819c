// The client door of the admin API: what `threadmesh admin` needs to call a server, without the
// server, its services and the stores they load.
export { AdminClient, AdminCallError } from "./admin-client.ts";

export type { AdminClientOptions } from "./admin-client.ts";
export type { AdminServiceName } from "./admin-proto.ts";
