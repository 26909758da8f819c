import { existsSync } from "node:fs";
import type { Command } from "./options.ts";

/** Checks of the admin API options beyond their types, for `command`. */
export function adminOptionProblems(command: Command, out: Record<string, unknown>): string[] {
  if (command !== "dev" && command !== "admin-server" && command !== "admin") return [];
  const problems: string[] = [];
  const cert = out.adminTlsCert as string | null;
  const key = out.adminTlsKey as string | null;
  if ((cert === null) !== (key === null)) problems.push("THREADMESH_ADMIN_TLS_CERT and THREADMESH_ADMIN_TLS_KEY go together: set both or neither");
  if (command !== "admin" && out.adminTlsClientCa !== null && cert === null) problems.push("THREADMESH_ADMIN_TLS_CLIENT_CA needs THREADMESH_ADMIN_TLS_CERT and THREADMESH_ADMIN_TLS_KEY (client certificates are checked over TLS)");
  if (command === "admin-server" && out.adminToken === null && out.adminTlsClientCa === null) {
    problems.push("THREADMESH_ADMIN_TOKEN: required unless client certificates are (THREADMESH_ADMIN_TLS_CLIENT_CA): the admin API never runs open");
  }
  if (typeof out.adminToken === "string" && command !== "admin" && Buffer.byteLength(out.adminToken) < 16) problems.push("THREADMESH_ADMIN_TOKEN: must be at least 16 bytes");
  for (const k of ["adminTlsCert", "adminTlsKey", "adminTlsClientCa", "adminTlsCa"] as const) {
    const file = out[k];
    if (typeof file === "string" && !existsSync(file)) problems.push(`${ENV[k]}: no file ${JSON.stringify(file)}`);
  }
  return problems;
}

const ENV = { adminTlsCert: "THREADMESH_ADMIN_TLS_CERT", adminTlsKey: "THREADMESH_ADMIN_TLS_KEY", adminTlsClientCa: "THREADMESH_ADMIN_TLS_CLIENT_CA", adminTlsCa: "THREADMESH_ADMIN_TLS_CA" } as const;
