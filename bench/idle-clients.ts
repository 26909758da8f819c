/**
 * Child process of bench/connections.ts: opens WebSocket connections, completes `initialize` on each and
 * holds them idle until the parent says `close`. Runs apart from the router so its memory is not counted.
 * IPC: receives {url, token, count, concurrency}; sends {ready, opened, failed}; then {close} → exits.
 */
import { WebSocket } from "ws";

interface Job {
  url: string;
  token: string;
  count: number;
  concurrency: number;
}

const sockets: WebSocket[] = [];

function openOne(job: Job): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(job.url, { headers: { authorization: `Bearer ${job.token}` }, perMessageDeflate: false });
    const fail = (err: unknown) => {
      ws.terminate();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("open", () => {
      ws.once("message", (data) => {
        const reply = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
        if (reply.id !== 1 || reply.error) return fail(new Error(`initialize failed: ${data.toString().slice(0, 200)}`));
        ws.send(JSON.stringify({ method: "initialized" }));
        ws.removeListener("error", fail);
        // An idle client keeps its socket; errors after the handshake only mean the server went away.
        ws.on("error", () => {});
        resolve(ws);
      });
      ws.send(JSON.stringify({ id: 1, method: "initialize", params: { clientInfo: { name: "bench-idle", version: "1" }, capabilities: { optOutNotificationMethods: [] } } }));
    });
  });
}

async function open(job: Job): Promise<{ opened: number; failed: number; firstError?: string }> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < job.count) {
      next++;
      try {
        sockets.push(await openOne(job));
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, worker));
  return { opened: sockets.length, failed, firstError };
}

async function closeAll(): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const t = setTimeout(() => (ws.terminate(), resolve()), 2_000);
          ws.once("close", () => (clearTimeout(t), resolve()));
          ws.close(1000);
        }),
    ),
  );
}

process.on("message", (msg: { close?: true } & Partial<Job>) => {
  if (msg.close) {
    void closeAll().then(() => process.exit(0));
    return;
  }
  void open(msg as Job).then((r) => process.send!({ ready: true, ...r }));
});
process.on("disconnect", () => process.exit(0));
