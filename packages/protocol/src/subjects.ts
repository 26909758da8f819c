/**
 * NATS subjects between routers and session hosts. Versioned (`v1`) and tenant-scoped; tenant ids
 * are restricted to subject-safe tokens by {@link assertSubjectToken}.
 */
export const SUBJECT_PREFIX = "tm.v1";

/** Commands for one loaded thread; the owning host subscribes while it holds the thread. */
export function threadCommandSubject(tenant: string, threadId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.cmd.${threadId}`;
}
/** Placement and store-backed requests; every host subscribes in the {@link HOST_QUEUE_GROUP}. */
export function placeSubject(tenant: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.place`;
}
export const PLACE_WILDCARD = `${SUBJECT_PREFIX}.*.place`;
export const HOST_QUEUE_GROUP = "tm-hosts";

/** Thread-scoped events (notifications and server requests) of one thread. */
export function threadEventSubject(tenant: string, threadId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.evt.${threadId}`;
}
/** Events every initialized connection of the tenant receives. */
export function broadcastSubject(tenant: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.bcast`;
}
export const BROADCAST_WILDCARD = `${SUBJECT_PREFIX}.*.bcast`;

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** Tenant ids and thread ids become subject tokens; reject anything that could address other subjects. */
export function assertSubjectToken(s: string): string {
  if (!TOKEN.test(s)) throw new Error(`not a subject-safe token: ${JSON.stringify(s)}`);
  return s;
}
export function isSubjectToken(s: string): boolean {
  return TOKEN.test(s);
}
