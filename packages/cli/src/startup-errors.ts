/**
 * Operator mistakes a process can only discover while starting (a NATS server without JetStream, a
 * server or database that is not there, a port in use), as one line naming the problem and the fix.
 * Anything else is a bug and keeps its stack trace.
 */
export function describeStartupError(err: unknown): string | null {
  const chain = causes(err);
  const has = (pred: (e: ErrorLike) => boolean) => chain.find(pred);
  if (has((e) => e.name === "JetStreamNotEnabled" || /jetstream is not enabled/i.test(e.message ?? ""))) {
    return "the NATS server has no JetStream: start nats-server with -js (or `jetstream {}` in its configuration); the event window and the host leases live there";
  }
  const inUse = has((e) => e.code === "EADDRINUSE");
  if (inUse) {
    const where = inUse.address !== undefined && inUse.port !== undefined ? ` ${inUse.address}:${inUse.port}` : "";
    return `address${where} is already in use: choose another with --port, --metrics-port or --admin-port (0 picks a free one)`;
  }
  const nats = has((e) => e.name === "ConnectionError");
  if (nats) {
    const refused = has((e) => e.code === "ECONNREFUSED");
    return `cannot connect to NATS${refused?.address !== undefined ? ` at ${refused.address}:${refused.port}` : ""} (${nats.message}): check NATS_URL and that nats-server runs`;
  }
  const noDb = has((e) => e.code === "3D000");
  if (noDb) return `${noDb.message}: create it with \`threadmesh migrate --create-database\` or fix DATABASE_URL`;
  const refused = has((e) => e.code === "ECONNREFUSED");
  if (refused) return `cannot connect to ${refused.address ?? "the server"}:${refused.port ?? "?"} (${refused.message}): check DATABASE_URL / NATS_URL / THREADMESH_REDIS_URL`;
  return null;
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  address?: string;
  port?: number;
}

/** The error and its causes (`cause`, AggregateError members), outermost first; bounded. */
function causes(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (typeof e !== "object" || e === null) continue;
    out.push(e as ErrorLike);
    const c = (e as { cause?: unknown }).cause;
    if (c !== undefined) queue.push(c);
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) queue.push(...members);
  }
  return out;
}
