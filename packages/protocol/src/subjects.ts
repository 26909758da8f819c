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

/** Requests for one session host: placements chosen by a router, and threads it should adopt or serve. */
export function hostSubject(tenant: string, hostId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.host.${hostId}`;
}
/**
 * A subject with its ids replaced by placeholders (`tm.v1.{tenant}.cmd.{thread}`), as span names and
 * `messaging.destination.template` use it; subjects outside the layout come back as they are.
 */
export function subjectTemplate(subject: string): string {
  const t = subject.split(".");
  if (`${t[0]}.${t[1]}` !== SUBJECT_PREFIX || t.length < 4) return subject;
  const id = t[3] === "cmd" || t[3] === "ev" ? "{thread}" : t[3] === "host" ? "{host}" : null;
  if (id !== null && t.length >= 5) t[4] = id;
  t[2] = "{tenant}";
  return t.join(".");
}
/** What a host subscribes to receive {@link hostSubject} requests of every tenant. */
export function hostWildcard(hostId: string): string {
  return `${SUBJECT_PREFIX}.*.host.${hostId}`;
}

/**
 * Events of a thread live under `tm.v1.<tenant>.ev.<threadId>.`: `t` for thread-scoped events
 * (notifications, server requests) that only subscribers receive, `b` for broadcasts
 * (`thread/started`, `thread/status/changed`, …) that every connection of the tenant receives. One
 * prefix lets the event stream capture both and replay a thread with one filter.
 */
export function threadEventSubject(tenant: string, threadId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.ev.${threadId}.t`;
}
export function broadcastSubject(tenant: string, threadId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.ev.${threadId}.b`;
}
/** What a router subscribes to receive a tenant's broadcasts. */
export function tenantBroadcastWildcard(tenant: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.ev.*.b`;
}
export const THREAD_EVENT_WILDCARD = `${SUBJECT_PREFIX}.*.ev.*.t`;
export const BROADCAST_WILDCARD = `${SUBJECT_PREFIX}.*.ev.*.b`;
/** Everything the event stream captures. */
export const EVENT_STREAM_SUBJECT = `${SUBJECT_PREFIX}.*.ev.>`;
/** Every event of one thread, thread-scoped and broadcast: the replay filter. */
export function threadReplayFilter(tenant: string, threadId: string): string {
  return `${SUBJECT_PREFIX}.${tenant}.ev.${threadId}.*`;
}

/**
 * Host heartbeats on core NATS: `tm.ctl.v1.hb.<hostId>`, outside the tenant-scoped `tm.v1.` tree so no
 * tenant id can address them. A core message reaches every watching process at once; it never waits
 * behind a stream's storage the way a KV write does.
 */
export const HOST_HEARTBEAT_PREFIX = "tm.ctl.v1.hb";
export function hostHeartbeatSubject(hostId: string): string {
  return `${HOST_HEARTBEAT_PREFIX}.${hostId}`;
}
export const HOST_HEARTBEAT_WILDCARD = `${HOST_HEARTBEAT_PREFIX}.*`;

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** Tenant ids and thread ids become subject tokens; reject anything that could address other subjects. */
export function assertSubjectToken(s: string): string {
  if (!TOKEN.test(s)) throw new Error(`not a subject-safe token: ${JSON.stringify(s)}`);
  return s;
}
export function isSubjectToken(s: string): boolean {
  return TOKEN.test(s);
}
