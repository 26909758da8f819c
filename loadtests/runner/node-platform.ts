/** The scenarios' {@link Platform} on Node: `ws` for WebSockets, `fetch` for the simulator, the runner's {@link Recorder}. */
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocket } from "ws";
import type { LoadSocket, Platform } from "../scenarios/platform.ts";
import type { Recorder } from "./recorder.ts";

/** Longest wait for a WebSocket upgrade, ms. */
const CONNECT_TIMEOUT_MS = 30_000;

export function nodePlatform(recorder: Recorder): Platform {
  return {
    connect(url, headers) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
        ws.once("error", (err) => reject(new Error(`WebSocket to ${url} failed: ${err.message}`)));
        ws.once("unexpected-response", (_req, res) => {
          reject(new Error(`WebSocket to ${url} refused: HTTP ${res.statusCode}`));
          ws.terminate();
        });
        ws.once("open", () => {
          ws.removeAllListeners("error");
          // Errors after the upgrade end in a close event, which the session reports.
          ws.on("error", () => {});
          const socket: LoadSocket = {
            send: (t) => ws.send(t),
            close: () => ws.close(),
            onMessage: (h) => void ws.on("message", (data) => h(data.toString())),
            onClose: (h) => void ws.once("close", (code) => h(code)),
          };
          resolve(socket);
        });
      });
    },
    async post(url, body) {
      try {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        await r.arrayBuffer();
        return r.status;
      } catch {
        return 0;
      }
    },
    sleep: (ms) => sleep(ms),
    now: () => performance.now(),
    add: (metric, value) => recorder.add(metric, value),
    check(name, ok) {
      recorder.check(name, ok);
      return ok;
    },
  };
}
