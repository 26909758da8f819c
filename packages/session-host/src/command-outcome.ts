import type { BusMessage } from "@threadmesh/mesh";
import {
  ENVELOPE_VERSION,
  InvalidRequestError,
  anchorDeadline,
  decodeEnvelope,
  encodeEnvelope,
  toRpcError,
  type CommandEnvelope,
  type PendingServerRequest,
  type ReplyEnvelope,
  type ReplyOk,
} from "@threadmesh/protocol";
import type { Logger } from "@threadmesh/telemetry";
import { TracedCommand } from "./command-span.ts";

/** What a command handler produces: the result and the reply's extras, plus work that follows the reply. */
export interface CommandOutcome {
  result: unknown;
  /** Requester-only notifications sent before the response (serialised). */
  before?: string[];
  /** Requester-only notifications sent right after the response (serialised). */
  after?: string[];
  /** The requester is now subscribed to this thread. */
  subscribe?: string;
  /** The requester is no longer subscribed to this thread. */
  unsubscribe?: string;
  /** Pending server requests to re-send to the requester. */
  pendingRequests?: PendingServerRequest[];
  /** The thread's last event seq the result's snapshot covers. */
  lastSeq?: number;
  /**
   * Runs right after the reply was sent and before the next command of the thread: events that must
   * follow the response (`thread/started`, a turn's first notifications, an interrupt's completion).
   */
  afterReply?: () => void | Promise<void>;
}

/** Sends the reply of a successful command. */
export function replyOk(msg: BusMessage, o: CommandOutcome): void {
  const reply: ReplyOk = { v: ENVELOPE_VERSION, ok: true, result: o.result ?? {} };
  if (o.before?.length) reply.before = o.before;
  if (o.after?.length) reply.after = o.after;
  if (o.subscribe !== undefined) reply.subscribe = o.subscribe;
  if (o.unsubscribe !== undefined) reply.unsubscribe = o.unsubscribe;
  if (o.pendingRequests?.length) reply.pendingRequests = o.pendingRequests;
  if (o.lastSeq !== undefined) reply.lastSeq = o.lastSeq;
  msg.respond(encodeEnvelope(reply));
}

/** Sends an error reply; anything that is not an RpcError becomes a stack-free internal error. */
export function replyError(msg: BusMessage, err: unknown, logger: Logger): void {
  const rpc = toRpcError(err);
  if (rpc !== err) logger.error({ err }, "command failed");
  const reply: ReplyEnvelope = { v: ENVELOPE_VERSION, ok: false, error: rpc.toShape() };
  if (msg instanceof TracedCommand) msg.failed(reply.error);
  msg.respond(encodeEnvelope(reply));
}

/**
 * The command a bus message carries, its deadline anchored to this host's clock and shortened by the
 * time the command took to arrive (a deadline this host cannot read is dropped); one that does not
 * decode is answered -32600 and gives undefined.
 */
export function decodeCommand(msg: BusMessage, logger: Logger): CommandEnvelope | undefined {
  try {
    const env = decodeEnvelope<CommandEnvelope>(msg.data);
    if (env.deadline !== undefined) {
      const now = Date.now();
      const deadline = anchorDeadline(env.deadline, now);
      if (deadline === undefined) delete env.deadline;
      // The reply goes back the way the command came, through the same queues (a bus connection's
      // backlog, the in-process delivery queue): the time the command took to arrive is kept for it.
      else env.deadline = { ...deadline, budgetMs: deadline.budgetMs - (now - deadline.sentAtMs) };
    }
    return env;
  } catch (err) {
    logger.warn({ err, subject: msg.subject }, "undecodable command envelope");
    replyError(msg, new InvalidRequestError("Invalid request: unsupported command envelope"), logger);
    return undefined;
  }
}

/** Runs a handler and replies; the outcome's `afterReply` runs after the reply. Never throws. */
export async function serve(msg: BusMessage, logger: Logger, handle: () => Promise<CommandOutcome> | CommandOutcome): Promise<void> {
  let outcome: CommandOutcome;
  try {
    outcome = await handle();
  } catch (err) {
    replyError(msg, err, logger);
    return;
  }
  replyOk(msg, outcome);
  if (outcome.afterReply) {
    try {
      await outcome.afterReply();
    } catch (err) {
      logger.error({ err }, "post-reply work failed");
    }
  }
}
