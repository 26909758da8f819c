// Follows a thread across several routers: reconnects with backoff, resumes with afterSeq, and
// answers approvals one by one (the first answer from any of the tenant's connections wins).
//   THREADMESH_URLS=ws://r1:4500,ws://r2:4500 THREADMESH_TOKEN=tm_… node --import tsx packages/client/examples/follow-and-approve.ts <threadId>
import { connect, type ServerRequest } from "@threadmesh/client";

const urls = (process.env.THREADMESH_URLS ?? "ws://127.0.0.1:4500").split(",");
const threadId = process.argv[2];
if (threadId === undefined) throw new Error("usage: follow-and-approve.ts <threadId>");

const client = await connect({ url: urls, token: process.env.THREADMESH_TOKEN, reconnect: { initialDelayMs: 250, maxDelayMs: 10_000 } });
client.onStateChange((state) => console.error(`[${state}]`));
client.onServerRequest((request: ServerRequest) => {
  if (request.method !== "item/commandExecution/requestApproval") return;
  const approval = request as ServerRequest<"item/commandExecution/requestApproval">;
  console.log(`approve? ${approval.params.command ?? "(command)"}`);
  approval.decide("accept");
  void approval.settled.then((outcome) => console.log(`approval ${outcome}`));
});

const thread = await client.thread.resume(threadId);
thread.onResync(({ thread: reloaded }) => console.error(`missed events beyond the replay window; reloaded ${reloaded.turns.length} turns`));
const abort = new AbortController();
process.once("SIGINT", () => abort.abort());
for await (const event of thread.events()) {
  if (abort.signal.aborted) break;
  if (event.method === "turn/completed") console.log(`turn ${event.params.turn.id} ${event.params.turn.status}`);
}
client.close();
