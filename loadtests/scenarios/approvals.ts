/**
 * `approvals`: a turn whose model asks to run a command outside the sandbox; the auto-responder answers
 * every approval request with `accept`, the command runs and the model finishes with text. Without a
 * simulator URL the turn asks for it with the simulator's `$ <command>` convention.
 */
import { CodexSession } from "./codex-session.ts";
import type { IterationContext } from "./platform.ts";
import { finishTurn, recordSeqs, startThread, textReply } from "./turn-flow.ts";

const COMMAND = "echo loadtest";

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
          arguments: { command: ["bash", "-c", COMMAND], sandbox_permissions: "require_escalated", justification: "load test approval" },
        },
      ],
    };
    const threadId = await startThread(ctx, session, { approvalPolicy: "on-request", sandbox: "read-only" }, [call, textReply(target, target.deltas)]);
    const watch = await session.startTurn(threadId, `$ ${COMMAND}`);
    const status = await finishTurn(ctx, watch);
    platform.check("approval turn completed", status === "completed");
    platform.check("approval request answered", answered >= 1);
    recordSeqs(ctx, session, threadId);
  } finally {
    await session.close();
  }
}
