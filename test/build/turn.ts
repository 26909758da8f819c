import { TestClient } from "../support/ws-client.ts";

/** Starts a thread and one turn on `url` and resolves with the turn's final status and the agent's text. */
export async function completeTurn(url: string, token: string | null, prompt = "say hello"): Promise<{ status: string; text: string }> {
  const c = await TestClient.initialized(url, { token, validate: false });
  try {
    const threadId = (await c.call("thread/start", { approvalPolicy: "never" })).thread.id as string;
    const from = c.frames.length;
    await c.call("turn/start", { threadId, input: [{ type: "text", text: prompt }] });
    const done = await c.waitFor((f) => f.method === "turn/completed" && f.params?.threadId === threadId, { from, timeoutMs: 60_000 });
    const text = c.frames
      .slice(from)
      .filter((f) => f.method === "item/agentMessage/delta" && f.params?.threadId === threadId)
      .map((f) => f.params.delta as string)
      .join("");
    return { status: done.params.turn.status as string, text };
  } finally {
    c.ws.terminate();
  }
}
