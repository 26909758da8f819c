/**
 * Steps the scenarios share: start a thread (scripting its replies in the model simulator when the run
 * has one), run a turn to its end, record what the turn measured.
 */
import type { CodexSession, TurnWatch } from "./codex-session.ts";
import type { IterationContext, Target } from "./platform.ts";

/** One scripted model reply, in the simulator's `/_sim/script` vocabulary. */
export type SimReply = Record<string, unknown>;

/** The deltas of a scripted text reply of `n` words. */
export function replyWords(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "w0" : ` w${i}`));
}

/** The whole text of a scripted reply of `n` words, as a client must see it delivered. */
export function replyText(n: number): string {
  return replyWords(n).join("");
}

/** A text reply of `n` word deltas at the run's pace (or `chunkDelayMs` when given). */
export function textReply(target: Target, n: number, chunkDelayMs?: number): SimReply {
  const text = replyWords(n);
  const delay = chunkDelayMs ?? (target.tokensPerSecond > 0 ? 1000 / target.tokensPerSecond : 0);
  return { chunkDelayMs: delay, output: [{ type: "message", text }] };
}

/**
 * `thread/start`, then queues `replies` for the new thread in the simulator (keyed by thread id, which
 * Threadmesh sends as `prompt_cache_key`). Without a simulator URL the model answers as configured.
 */
export async function startThread(ctx: IterationContext, session: CodexSession, params: Record<string, unknown>, replies: SimReply[]): Promise<string> {
  const r = await session.call("thread/start", params);
  const threadId = String(r.thread.id);
  session.follow(threadId);
  if (ctx.target.simUrl && replies.length > 0) {
    const status = await ctx.platform.post(`${ctx.target.simUrl}/_sim/script`, { key: threadId, responses: replies });
    ctx.platform.check("simulator accepted the script", status === 200);
  }
  return threadId;
}

/** Waits for the turn's end and records its duration, time to first delta, deltas and status. */
export async function finishTurn(ctx: IterationContext, watch: TurnWatch): Promise<string> {
  const status = await watch.done;
  const { platform } = ctx;
  const end = platform.now();
  platform.add("tm_turns_ended", 1);
  if (watch.firstDeltaAt >= 0) platform.add("tm_ttfd_ms", watch.firstDeltaAt - watch.sentAt);
  if (status === "completed") {
    platform.add("tm_turns_completed", 1);
    platform.add("tm_turn_ms", end - watch.sentAt);
  } else if (status === "interrupted") platform.add("tm_turns_interrupted", 1);
  else if (status === "failed") platform.add("tm_turns_failed", 1);
  else if (status === "disconnected") platform.add("tm_turns_lost", 1);
  return status;
}

/** Counts the thread's gaps and repeats once it is done with. */
export function recordSeqs(ctx: IterationContext, session: CodexSession, threadId: string): void {
  const t = session.seqs(threadId);
  ctx.platform.add("tm_replay_gaps", t.gaps);
  ctx.platform.add("tm_replay_repeats", t.repeats);
}

/** Settings of every thread a scenario starts: no approvals unless a scenario asks for them. */
export const THREAD_DEFAULTS = { approvalPolicy: "never", sandbox: "read-only" } as const;
