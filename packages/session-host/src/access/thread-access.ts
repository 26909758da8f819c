import type { ThreadRecord } from "@threadmesh/persistence";
import type { Origin } from "@threadmesh/protocol";

/**
 * Users inside a tenant. A thread belongs to the user who started it (null: a tenant-wide credential
 * did). Another user of the tenant sees it, and acts on it, only when the owner shared it with them or
 * their credential is the tenant's administrator (no user, or the `admin` scope); to everyone else the
 * thread does not exist. Its approvals are answered by the owner, or a user the owner delegated them to.
 */
type Ownership = Pick<ThreadRecord, "ownerUser" | "sharedWith" | "approvers">;

/** The user a command acts for; null for a tenant-wide credential or an internal command. */
export function originUser(origin: Origin | undefined): string | null {
  return origin?.user ?? null;
}

/** Internal commands (no origin) and envelopes of routers that predate users act as the tenant. */
export function originIsAdmin(origin: Origin | undefined): boolean {
  if (origin === undefined) return true;
  return origin.admin ?? originUser(origin) === null;
}

/** The command's sender may see the thread and act on it. */
export function canSee(record: Ownership, origin: Origin | undefined): boolean {
  if (originIsAdmin(origin)) return true;
  const user = originUser(origin);
  return user !== null && (record.ownerUser === user || (record.sharedWith ?? []).includes(user));
}

/** The command's sender may answer the thread's server requests (approvals, input, tool calls). */
export function canAnswer(record: Ownership, origin: Origin | undefined): boolean {
  if (origin === undefined) return true;
  const user = originUser(origin);
  if (user === (record.ownerUser ?? null)) return true;
  return user !== null && (record.approvers ?? []).includes(user);
}

/** The command's sender may change who the thread is shared with: its owner, or an administrator. */
export function canShare(record: Ownership, origin: Origin | undefined): boolean {
  return originIsAdmin(origin) || (originUser(origin) !== null && originUser(origin) === (record.ownerUser ?? null));
}

/** The users besides the tenant's administrators who may see the thread: its owner and those it is shared with. */
export function threadAudience(record: Ownership): string[] {
  const users = [...(record.sharedWith ?? [])];
  if (record.ownerUser != null) users.push(record.ownerUser);
  return users;
}

/**
 * Who may answer the thread's server requests, as routers match connections: the owner (`null`: the
 * tenant's user-less credentials, for a thread one of them started) and the users it delegated to.
 */
export function threadAnswerers(record: Ownership): Array<string | null> {
  return [record.ownerUser ?? null, ...(record.approvers ?? [])];
}

/** The record when its sender may see it, else null: a hidden thread answers as an unknown one. */
export function visibleRecord<R extends Ownership>(record: R | null, origin: Origin | undefined): R | null {
  return record !== null && canSee(record, origin) ? record : null;
}
