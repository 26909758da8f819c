/**
 * `approvals`: a thread with `approvalPolicy: untrusted` whose model runs a command that is not known
 * to be read-only, inside the read-only sandbox (no escalation, so a shared deployment's default caps
 * allow it); the auto-responder answers every approval request with `accept`, the command runs and the
 * model finishes with text. Without a simulator URL the turn asks for the command with the simulator's
 * `$ <command>` convention (an escalated call, which needs THREADMESH_ALLOW_ESCALATION on the hosts).
 */
import { CodexSession } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, startThread, textReply } from "./turn-flow.ts";

/** Not in the known read-only set, so `untrusted` asks before it runs. */
const COMMAND = "true loadtest";

export async function approvals(ctx: IterationContext): Promise<void> {
  const { target, platform } = ctx;
  const session = await CodexSession.open(platform, target);
  let answered = 0;
  session.onServerRequest((method) => {
    if (!method.endsWith("/requestApproval")) return null;
    answered++;
    platform.add("tm_approvals", 1);
    return { decision: "accept" };
  });
  try {
    const call = {
      output: [
        {
          type: "function_call",
          name: "shell",
          arguments: { command: ["bash", "-c", COMMAND] },
        },
      ],
    };
    const threadId = await startThread(ctx, session, { approvalPolicy: "untrusted", sandbox: "read-only" }, [call, textReply(target, target.deltas)]);
    const watch = await session.startTurn(threadId, `$ ${COMMAND}`);
    const status = await finishTurn(ctx, watch);
    platform.check("approval turn completed", status === "completed");
    platform.check("approval request answered", answered >= 1);
    recordSeqs(ctx, session, threadId);
  } finally {
    await session.close();
  }
}
