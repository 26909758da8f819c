import { createHash } from "node:crypto";
import { hostname } from "node:os";

/** Codex's `RemoteControlStatusChangedNotification`. */
export interface RemoteControlStatus {
  status: "disabled";
  serverName: string;
  installationId: string;
  environmentId: null;
}

/**
 * What Codex sends each connection once it is `initialized`: remote control is never available here
 * (`disabled`). The installation id is stable for a deployment (derived from its `codexHome`, which all
 * its routers share) and shaped as a UUID, as Codex's is.
 */
export function remoteControlStatus(codexHome: string, serverName: string = hostname()): RemoteControlStatus {
  const h = createHash("sha256").update(`threadmesh-installation:${codexHome}`).digest("hex");
  const installationId = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { status: "disabled", serverName, installationId, environmentId: null };
}
