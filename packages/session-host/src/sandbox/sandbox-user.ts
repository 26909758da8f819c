import { createHash } from "node:crypto";

/** The host uid and gid a sandboxed command runs as. */
export interface SandboxUser {
  uid: number;
  gid: number;
}

/**
 * First uid (and gid) handed to sandboxes when the host runs as root. 0x70000000 lies above the ranges
 * systemd and /etc/subuid conventionally allocate (system, regular, dynamic and container users all sit
 * below 0x70000000) and below 2^31, which some tools still treat as signed.
 */
export const SANDBOX_UID_BASE = 0x70000000;
/** Number of uids in the sandbox range: 2^24, so the range ends at 0x70ffffff. */
export const SANDBOX_UID_COUNT = 1 << 24;

/**
 * The dedicated uid/gid of one tenant's sandboxes when the host runs as root: derived from the tenant id
 * (SHA-256, folded into the range), so every host on a machine agrees without shared state and no tenant
 * shares the uid of the host or of another system user. Two tenants share a uid only on a hash
 * collision; their filesystem views and PID namespaces stay separate, only their process limit is shared.
 */
export function sandboxUserFor(key: string): SandboxUser {
  const digest = createHash("sha256").update(key).digest();
  const id = SANDBOX_UID_BASE + (digest.readUInt32BE(0) % SANDBOX_UID_COUNT);
  return { uid: id, gid: id };
}

/** Whether this process runs with host uid 0 (then sandboxes need a uid of their own). */
export function hostIsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Who a sandbox runs as: a root host drops to the tenant's dedicated user (`key` names the tenant, or the
 * workspace when no tenant is known); an unprivileged host keeps its own uid, which bubblewrap maps into
 * a user namespace of its own.
 */
export function sandboxUser(key: string): SandboxUser | null {
  return hostIsRoot() ? sandboxUserFor(key) : null;
}
