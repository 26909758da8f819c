/**
 * `reconnect`: halfway through a paced turn the client drops its connection, opens a new one and
 * resumes with `thread/resume {afterSeq: <last seq it saw>}`. The turn must complete on the new
 * connection with every delta exactly once: the seq tracker carried across both connections counts
 * any gap or repeat, and the deltas must add up to the scripted reply.
 */
import { CodexSession, type TurnWatch } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, startThread, textReply, THREAD_DEFAULTS } from "./turn-flow.ts";

/** Pace when the run streams as fast as it can, so the turn is still running at the reconnect. */
const MIN_CHUNK_DELAY_MS = 5;

export async function reconnect(ctx: IterationContext): Promise<void> {
  const { target, platform } = ctx;
  const first = await CodexSession.open(platform, target);
  const pace = Math.max(MIN_CHUNK_DELAY_MS, target.tokensPerSecond > 0 ? 1000 / target.tokensPerSecond : 0);
  let threadId: string;
  let watch: TurnWatch;
  try {
    threadId = await startThread(ctx, first, { ...THREAD_DEFAULTS }, [textReply(target, target.deltas, pace)]);
    watch = await first.startTurn(threadId, "load test turn to reconnect");
    await watch.deltasReached(Math.ceil(target.deltas / 2));
  } finally {
    await first.close();
  }
  const seqs = first.seqs(threadId);
  const t0 = platform.now();
  const second = await CodexSession.open(platform, target);
  try {
    second.adopt(threadId, watch, seqs);
    const afterSeq = Math.max(0, seqs.last);
    seqs.anchor(afterSeq);
    const r = await second.request("thread/resume", { threadId, afterSeq, excludeTurns: true });
    platform.add("tm_resume_ms", platform.now() - t0);
    platform.add("tm_reconnects", 1);
    platform.check("resume recovered the gap", r.replay === undefined || r.replay === null || r.replay.recovered === true);
    const status = await finishTurn(ctx, watch);
    platform.check("resumed turn completed", status === "completed");
    if (target.simUrl) platform.check("every delta exactly once across the reconnect", watch.deltas === target.deltas);
    recordSeqs(ctx, second, threadId);
  } finally {
    await second.close();
  }
}
