/**
 * `turns`: connect + initialize, `thread/start`, then `turnsPerThread` turns of `deltas` deltas each on
 * the new thread. With one turn per thread every iteration is the cold path (placement, first store
 * writes); with two, the second turn shows the warm path.
 */
import { CodexSession } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, startThread, textReply, THREAD_DEFAULTS } from "./turn-flow.ts";

export async function turns(ctx: IterationContext): Promise<void> {
  const { target, platform } = ctx;
  const n = Math.max(1, target.turnsPerThread);
  const session = await CodexSession.open(platform, target);
  try {
    const replies = Array.from({ length: n }, () => textReply(target, target.deltas));
    const threadId = await startThread(ctx, session, { ...THREAD_DEFAULTS }, replies);
    for (let i = 0; i < n; i++) {
      const watch = await session.startTurn(threadId, `load test turn ${i + 1}`);
      const status = await finishTurn(ctx, watch);
      platform.check("turn completed", status === "completed");
      if (target.simUrl) platform.check("every scripted delta arrived", watch.deltas === target.deltas);
    }
    recordSeqs(ctx, session, threadId);
  } finally {
    await session.close();
  }
}
