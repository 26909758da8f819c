/**
 * `turns`: connect + initialize, `thread/start`, then `turnsPerThread` turns of `deltas` deltas each on
 * the new thread. With one turn per thread every iteration is the cold path (placement, first store
 * writes); with two, the second turn shows the warm path.
 */
import { CodexSession, ThreadNotResumableError, type TurnWatch } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, replyText, startThread, textReply, THREAD_DEFAULTS } from "./turn-flow.ts";

/** Replies scripted beyond one per turn when clients resume: one per host a turn may be handed to. */
const SPARE_REPLIES = 3;
/** New threads an iteration may start because its connection was closed before a first turn. */
const MAX_THREAD_RESTARTS = 3;

export async function turns(ctx: IterationContext): Promise<void> {
  const { target, platform } = ctx;
  const n = Math.max(1, target.turnsPerThread);
  const session = await CodexSession.open(platform, target);
  try {
    // A client that resumes across a rolling restart may see a turn handed over mid-answer: the adopting
    // host asks the model again, and gets a spare copy of the same reply.
    const replies = Array.from({ length: n + (target.resume ? SPARE_REPLIES : 0) }, () => textReply(target, target.deltas));
    let threadId = await startThread(ctx, session, { ...THREAD_DEFAULTS }, replies);
    for (let i = 0; i < n; i++) {
      let watch: TurnWatch;
      for (let restarts = 0; ; restarts++) {
        try {
          watch = await session.startTurn(threadId, `load test turn ${i + 1}`);
          break;
        } catch (err) {
          // The connection was closed before the thread's first turn: that thread cannot be followed
          // from the new one, so the client starts another.
          if (!(err instanceof ThreadNotResumableError) || restarts >= MAX_THREAD_RESTARTS) throw err;
          platform.add("tm_threads_restarted", 1);
          threadId = await startThread(ctx, session, { ...THREAD_DEFAULTS }, replies);
        }
      }
      const status = await finishTurn(ctx, watch);
      platform.check("turn completed", status === "completed");
      if (target.simUrl) {
        platform.check("every scripted delta arrived", watch.answer.deltas === target.deltas);
        if (status === "completed" && watch.answer.text !== replyText(target.deltas)) platform.add("tm_text_mismatches", 1);
        platform.add("tm_answers_superseded", watch.items.size - 1);
      }
    }
    recordSeqs(ctx, session, threadId);
  } finally {
    await session.close();
  }
}
