// Streams one turn's answer to stdout and approves the commands it asks to run.
//   THREADMESH_URL=ws://127.0.0.1:4500 THREADMESH_TOKEN=tm_… node --import tsx packages/client/examples/stream-a-turn.ts
import { connect, QuotaError, RetryableError } from "@threadmesh/client";

const client = await connect({
  url: process.env.THREADMESH_URL ?? "ws://127.0.0.1:4500",
  token: process.env.THREADMESH_TOKEN,
  retry: { maxAttempts: 5 }, // -32001 answers are retried after their retryAfterMs
  onApproval: (request) => (request.method === "item/commandExecution/requestApproval" ? "accept" : "decline"),
});

try {
  const thread = await client.thread.start({ approvalPolicy: "on-request", sandbox: "workspace-write" });
  const turn = await thread.turn.start("List the files here, then summarise them.");
  for await (const event of turn) {
    if (event.method === "item/agentMessage/delta") process.stdout.write(event.params.delta);
    if (event.method === "item/commandExecution/outputDelta") process.stderr.write(event.params.delta);
  }
  const done = await turn.completed;
  console.log(`\nturn ${done.id}: ${done.status}`);
} catch (err) {
  if (err instanceof QuotaError) console.error(`quota: ${err.reason}, credits ${JSON.stringify(err.rateLimits.credits)}`);
  else if (err instanceof RetryableError) console.error(`busy, retry in ${err.retryAfterMs} ms`);
  else throw err;
} finally {
  client.close();
}
