/**
 * `steer-interrupt`: a paced turn is steered once its first delta arrived (`turn/steer` with the
 * running turn as `expectedTurnId`), then interrupted a quarter of the way (`turn/interrupt`); it must end
 * `interrupted`, with the seq stream intact.
 */
import { CodexSession } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, startThread, textReply, THREAD_DEFAULTS } from "./turn-flow.ts";

/** Pace of the steered reply at least: slow enough to steer and interrupt mid-turn on a busy machine. */
const MIN_CHUNK_DELAY_MS = 10;
/** Deltas of the steered reply at least (with the pace: a turn of 2 s or more). */
const MIN_DELTAS = 200;

export async function steerInterrupt(ctx: IterationContext): Promise<void> {
  const { target, platform } = ctx;
  const session = await CodexSession.open(platform, target);
  try {
    const pace = Math.max(MIN_CHUNK_DELAY_MS, target.tokensPerSecond > 0 ? 1000 / target.tokensPerSecond : 0);
    // The steer may make the model answer again within the same turn: script a reply for that too.
    const deltas = Math.max(MIN_DELTAS, target.deltas);
    const threadId = await startThread(ctx, session, { ...THREAD_DEFAULTS }, [textReply(target, deltas, pace), textReply(target, deltas, pace)]);
    const watch = await session.startTurn(threadId, "load test turn to steer");
    await watch.deltasReached(1);
    if (watch.status === null) {
      await session.request("turn/steer", { threadId, expectedTurnId: watch.turnId, input: [{ type: "text", text: "steer: keep it short" }] });
      platform.add("tm_steers", 1);
    }
    await watch.deltasReached(Math.ceil(deltas / 4));
    if (watch.status === null) await session.request("turn/interrupt", { threadId, turnId: watch.turnId });
    const status = await finishTurn(ctx, watch);
    platform.check("turn ended interrupted", status === "interrupted");
    recordSeqs(ctx, session, threadId);
  } finally {
    await session.close();
  }
}
