import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { createPooledFetch, nodeBodyOf } from "../src/model/pooled-fetch.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler = (_req, _body, res) => res.end();
const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => (body += c));
  req.on("end", () => handler(req, body, res));
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const pooled = createPooledFetch();
after(async () => {
  await pooled.close();
  server.close();
});

test("a POST carries method, headers and body; the response streams back with status and headers", async () => {
  handler = (req, body, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "set-cookie": ["a=1", "b=2"], "x-request-id": "req-1" });
    res.write(`data: ${JSON.stringify({ method: req.method, auth: req.headers.authorization, body })}\n\n`);
    setImmediate(() => res.end("data: [DONE]\n\n"));
  };
  const res = await pooled.fetch(`${base}/v1/responses`, { method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" }, body: '{"x":1}' });
  assert.equal(res.status, 200);
  assert.equal(res.ok, true);
  assert.equal(res.headers.get("x-request-id"), "req-1");
  assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
  const text = await res.text();
  assert.ok(text.startsWith(`data: {"method":"POST","auth":"Bearer k","body":"{\\"x\\":1}"}`));
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

test("the Node stream under a body is handed out once, and only while the web body is unread", async () => {
  handler = (_req, _body, res) => res.end("data: x\n\n");
  const direct = await pooled.fetch(`${base}/direct`);
  const stream = nodeBodyOf(direct.body!);
  assert.ok(stream);
  assert.equal(nodeBodyOf(direct.body!), undefined, "handed out once");
  stream.setEncoding("utf8");
  let text = "";
  for await (const c of stream) text += c;
  assert.equal(text, "data: x\n\n");

  const viaWeb = await pooled.fetch(`${base}/web`);
  assert.equal(await viaWeb.text(), "data: x\n\n");
  assert.equal(nodeBodyOf(viaWeb.body!), undefined, "the web body was read");
  assert.equal(nodeBodyOf(new Response("x").body!), undefined, "not a pooled body");
});

test("error statuses keep their body; bodiless statuses have none", async () => {
  handler = (_req, _body, res) => {
    res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
    res.end('{"error":{"message":"slow down"}}');
  };
  const limited = await pooled.fetch(`${base}/v1/responses`, { method: "POST", body: "{}" });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.deepEqual(await limited.json(), { error: { message: "slow down" } });

  handler = (_req, _body, res) => res.writeHead(204).end();
  const empty = await pooled.fetch(`${base}/v1/anything`, { method: "DELETE" });
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);
});

test("an abort while the body streams ends the body with an error; the next request still works", async () => {
  handler = (_req, _body, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n");
  };
  const controller = new AbortController();
  const res = await pooled.fetch(`${base}/v1/responses`, { method: "POST", body: "{}", signal: controller.signal });
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "data: first\n\n");
  controller.abort(new Error("stop"));
  await assert.rejects(reader.read());

  handler = (_req, _body, res) => res.end("ok");
  assert.equal(await (await pooled.fetch(`${base}/again`)).text(), "ok");
});

test("a refused connection rejects, as fetch does", async () => {
  const closed = createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, "close");
  await assert.rejects(pooled.fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" }));
});

test("a body sent with a content coding arrives decoded, as fetch delivers it", async () => {
  const { gzipSync, brotliCompressSync } = await import("node:zlib");
  const text = "data: " + "x".repeat(5_000) + "\n\n";
  for (const [coding, encode] of [["gzip", gzipSync], ["br", brotliCompressSync]] as const) {
    handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": coding });
      res.end(encode(Buffer.from(text)));
    };
    const res = await pooled.fetch(`${base}/v1/responses`, { method: "POST", body: "{}" });
    assert.equal(res.headers.get("content-encoding"), null);
    assert.equal(await res.text(), text, coding);
  }
});
