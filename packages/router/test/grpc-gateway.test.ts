import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { InProcessBus, publishCredentialEvent } from "@threadmesh/mesh";
import { noopTelemetry } from "@threadmesh/telemetry";
import { CLOSE_CODE_TRAILER, CREDENTIAL_WITHDRAWN_CLOSE_CODE, Router, type Authenticator } from "@threadmesh/router";
import { decodeFrame, encodeFrame } from "../src/grpc-gateway/frame-codec.ts";
import { GrpcTestClient } from "../../../test/support/grpc-gateway-client.ts";
import { FakeHost, TENANT } from "./harness.ts";

const TOKEN = "grpc-gateway-test-token";

describe("partner gRPC gateway", () => {
  let bus: InProcessBus;
  let host: FakeHost;
  let router: Router;
  let address: string;
  const clients: GrpcTestClient[] = [];
  const connect = async (token: string | null = TOKEN): Promise<GrpcTestClient> => {
    const c = await GrpcTestClient.connect(address, { token });
    clients.push(c);
    return c;
  };

  before(async () => {
    bus = new InProcessBus();
    host = new FakeHost(bus);
    router = await Router.create({
      bus,
      telemetry: noopTelemetry(),
      routerId: "router-grpc-test",
      config: { tokens: [{ token: TOKEN, tenant: TENANT }], gatewayPort: 0, pingIntervalMs: 0, maxFrameBytes: 4096 },
    });
    const listening = await router.listen();
    assert.ok(listening.gatewayAddress, "the gateway is served when a port is configured");
    address = listening.gatewayAddress;
  });

  after(async () => {
    for (const c of clients) c.cancel();
    await router.close();
    host.close();
    await bus.close();
  });

  test("frames round-trip through the hand-written codec, unknown fields skipped", () => {
    const text = '{"method":"x","params":{"s":"é…"}}';
    assert.equal(decodeFrame(encodeFrame(text)).toString("utf8"), text);
    assert.equal(decodeFrame(encodeFrame(Buffer.from(text))).toString("utf8"), text);
    const long = "x".repeat(300);
    assert.equal(decodeFrame(encodeFrame(long)).toString("utf8"), long);
    // field 2 (varint 5) before field 1
    const withUnknown = Buffer.concat([Buffer.from([0x10, 0x05]), encodeFrame(text)]);
    assert.equal(decodeFrame(withUnknown).toString("utf8"), text);
    const truncated = encodeFrame(text).subarray(0, 5);
    assert.equal(decodeFrame(truncated), truncated, "a malformed Frame is handed on as is");
  });

  test("the handshake and a router-answered request over a stream", async () => {
    const c = await GrpcTestClient.initialized(address, { token: TOKEN });
    clients.push(c);
    const models = await c.call("model/list", {});
    assert.ok(Array.isArray(models.data) && models.data.length > 0);
    const end = await c.close();
    assert.equal(end.code, grpc.status.OK, "a half-close ends the call normally");
    assert.deepEqual(end.metadata.get(CLOSE_CODE_TRAILER), ["1000"]);
  });

  test("bad or missing credentials end the call with UNAUTHENTICATED before any frame", async () => {
    const bad = await connect("not-the-token");
    const end = await bad.waitEnd();
    assert.equal(end.code, grpc.status.UNAUTHENTICATED);
    assert.equal(bad.frames.length, 0);
    const none = await connect(null);
    const noneEnd = await none.waitEnd();
    assert.equal(noneEnd.code, grpc.status.UNAUTHENTICATED);
    assert.ok(noneEnd.details.length > 0, "the status says why");
  });

  test("a frame that is not JSON gets -32700 and the stream stays usable", async () => {
    const c = await connect();
    c.send("{nope");
    const f = await c.waitFor((x) => x.id === null);
    assert.equal(f.error.code, -32700);
    const r = await c.request("model/list", {});
    assert.deepEqual(r.error, { code: -32600, message: "Not initialized" });
    assert.equal(c.ended, null);
  });

  test("a call whose bytes are not a Frame gets a JSON-RPC error frame, not a crash", async () => {
    const Ctor = grpc.makeGenericClientConstructor(
      { Connect: { path: "/threadmesh.gateway.v1.Gateway/Connect", requestStream: true, responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
      "Gateway",
    );
    const raw = new Ctor(address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    const call = (raw as unknown as { Connect(md: grpc.Metadata): grpc.ClientDuplexStream<Buffer, Buffer> }).Connect(md);
    call.on("error", () => undefined);
    const first = new Promise<Buffer>((resolve) => call.once("data", resolve));
    call.write(Buffer.from([0x0a, 0x7f, 0x01]));
    const reply = JSON.parse(decodeFrame(await first).toString("utf8"));
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32700);
    call.cancel();
    raw.close();
  });

  test("a frame over the frame limit ends the call with RESOURCE_EXHAUSTED (1009)", async () => {
    const c = await connect();
    c.send(JSON.stringify({ id: 1, method: "model/list", params: { pad: "x".repeat(5000) } }));
    const end = await c.waitEnd();
    assert.equal(end.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  test("draining ends open calls with UNAVAILABLE (1001) and refuses new ones", async () => {
    const c = await GrpcTestClient.initialized(address, { token: TOKEN });
    clients.push(c);
    await router.drain({ deadlineMs: 100 });
    const end = await c.waitEnd();
    assert.equal(end.code, grpc.status.UNAVAILABLE);
    assert.deepEqual(end.metadata.get(CLOSE_CODE_TRAILER), ["1001"]);
    const late = await connect();
    assert.equal((await late.waitEnd()).code, grpc.status.UNAVAILABLE);
  });
});

describe("partner gRPC gateway: withdrawn credentials", () => {
  test("revoking the API key a stream authenticated with ends it with UNAUTHENTICATED (1008), as on the WebSocket path", async () => {
    const bus = new InProcessBus();
    const host = new FakeHost(bus);
    const authenticator: Authenticator = {
      authenticate: async ({ headers }) =>
        headers.authorization === "Bearer key-k1" ? { ok: true, principal: { tenant: TENANT, method: "apiKey", keyId: "k1" } } : { ok: false, message: "invalid credentials" },
    };
    const router = await Router.create({ bus, telemetry: noopTelemetry(), routerId: "router-grpc-revoke", authenticator, config: { gatewayPort: 0, pingIntervalMs: 0 } });
    const { gatewayAddress } = await router.listen();
    const c = await GrpcTestClient.initialized(gatewayAddress!, { token: "key-k1" });
    try {
      await publishCredentialEvent(bus, { kind: "keyRevoked", tenant: TENANT, keyId: "k1" });
      const end = await c.waitEnd();
      assert.equal(end.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(end.metadata.get(CLOSE_CODE_TRAILER), [String(CREDENTIAL_WITHDRAWN_CLOSE_CODE)]);
    } finally {
      c.cancel();
      await router.close();
      host.close();
      await bus.close();
    }
  });
});

describe("partner gRPC gateway: a partner that stops reading", () => {
  test("HTTP/2 flow control holds the router's writes back until the call is shed with UNAVAILABLE (1013) and a resume cursor", async () => {
    const bus = new InProcessBus();
    const host = new FakeHost(bus);
    const telemetry = noopTelemetry();
    const shed = async (): Promise<number> => {
      const m = telemetry.metrics.registry.getSingleMetric("tm_router_connections_closed_total");
      return m ? (await m.get()).values.filter((v) => v.labels.reason === "outboundFull").reduce((sum, v) => sum + v.value, 0) : 0;
    };
    const router = await Router.create({
      bus,
      telemetry,
      routerId: "router-grpc-slow",
      config: { tokens: [{ token: TOKEN, tenant: TENANT }], gatewayPort: 0, pingIntervalMs: 0, outboundHighWaterBytes: 16 * 1024, outboundMaxBytes: 256 * 1024, outboundGraceMs: 50 },
    });
    const { gatewayAddress } = await router.listen();
    const c = await GrpcTestClient.initialized(gatewayAddress!, { token: TOKEN });
    try {
      const threadId = (await c.call("thread/start", {})).thread.id as string;
      c.stream.pause();
      const delta = "x".repeat(16 * 1024);
      let rounds = 0;
      for (; rounds < 2_000 && (await shed()) === 0; rounds++) {
        host.batch(threadId, Array.from({ length: 16 }, (_, i) => ["item/agentMessage/delta", { threadId, turnId: "t", itemId: "m", delta: `<${rounds}.${i}>${delta}` }] as [string, unknown]));
        await bus.flush();
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(await shed(), 1, "the router shed the call that stopped reading");
      assert.equal(c.ended, null, "nothing reached the paused partner yet, the status included");
      // The partner reads again: what was written before the shed, then the status with the resume cursor.
      c.stream.resume();
      const end = await c.waitEnd();
      assert.equal(end.code, grpc.status.UNAVAILABLE);
      assert.deepEqual(end.metadata.get(CLOSE_CODE_TRAILER), ["1013"]);
      assert.match(decodeURIComponent(String(end.metadata.get("tm-close-reason")[0])), /resume with afterSeq=\d+/);
      assert.ok(rounds > 1, "the call was shed only once the router held more than the cap");
    } finally {
      c.cancel();
      await router.close();
      host.close();
      await bus.close();
    }
  });
});
