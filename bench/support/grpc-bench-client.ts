import * as grpc from "@grpc/grpc-js";
import { decodeFrame, encodeFrame } from "../../packages/router/src/grpc-gateway/frame-codec.ts";
import { now } from "./bench-client.ts";

const DELTA_PREFIX = '{"method":"item/agentMessage/delta"';
const COMPLETED_PREFIX = '{"method":"turn/completed"';
const ITEM_COMPLETED_PREFIX = '{"method":"item/completed"';

/** `threadmesh.gateway.v1.Gateway/Connect` with frames kept as their JSON text (no message objects on the client). */
const GatewayClient = grpc.makeGenericClientConstructor(
  {
    Connect: {
      path: "/threadmesh.gateway.v1.Gateway/Connect",
      requestStream: true,
      responseStream: true,
      requestSerialize: (json: string) => encodeFrame(json),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => decodeFrame(b).toString("utf8"),
    },
  },
  "Gateway",
);

/**
 * The gRPC twin of {@link BenchClient} (same methods, same lean frame handling: only responses and
 * turn/completed are parsed; deltas are counted by prefix and kept as text for the delivery audit),
 * over one gateway call.
 */
export class GrpcBenchClient {
  #id = 1;
  readonly #pending = new Map<number, (r: any) => void>();
  deltas = 0;
  readonly turnStatuses: Record<string, number> = {};
  readonly #turnWaiters = new Map<string, (at: number) => void>();
  readonly #early = new Map<string, number>();
  #kept: string[] = [];
  readonly #ended: Promise<void>;

  private constructor(
    private readonly client: grpc.Client,
    private readonly stream: grpc.ClientDuplexStream<string, string>,
  ) {
    this.#ended = new Promise((r) => stream.once("status", () => r()));
    stream.on("error", () => undefined);
    stream.on("data", (s: string) => {
      if (s.startsWith(DELTA_PREFIX)) {
        this.deltas++;
        this.#kept.push(s);
        return;
      }
      if (s.startsWith('{"id":')) {
        const f = JSON.parse(s);
        this.#pending.get(f.id)?.(f);
        this.#pending.delete(f.id);
        return;
      }
      if (s.startsWith(ITEM_COMPLETED_PREFIX)) this.#kept.push(s);
      if (s.startsWith(COMPLETED_PREFIX)) {
        this.#kept.push(s);
        const at = now();
        const f = JSON.parse(s);
        const status = String(f.params.turn.status);
        this.turnStatuses[status] = (this.turnStatuses[status] ?? 0) + 1;
        const w = this.#turnWaiters.get(f.params.turn.id);
        if (w) w(at);
        else this.#early.set(f.params.turn.id, at);
        this.#turnWaiters.delete(f.params.turn.id);
      }
    });
  }

  static async connect(address: string, token: string): Promise<GrpcBenchClient> {
    const client = new GatewayClient(address, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    const stream = (client as unknown as { Connect(md: grpc.Metadata): grpc.ClientDuplexStream<string, string> }).Connect(md);
    const c = new GrpcBenchClient(client, stream);
    await c.call("initialize", { clientInfo: { name: "bench-grpc", version: "1" }, capabilities: { optOutNotificationMethods: [] } });
    stream.write(JSON.stringify({ method: "initialized" }));
    return c;
  }

  call(method: string, params: unknown): Promise<any> {
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (f) => (f.error ? reject(new Error(`${method}: ${f.error.message}`)) : resolve(f.result)));
      this.stream.write(JSON.stringify({ id, method, params }));
    });
  }

  auditFrames(): Array<Record<string, any>> {
    const out = this.#kept.map((s) => JSON.parse(s) as Record<string, any>);
    this.#kept = [];
    return out;
  }

  async turn(threadId: string, text: string): Promise<{ turnId: string; sentAt: number; completedAt: Promise<number> }> {
    const sentAt = now();
    let resolveDone!: (at: number) => void;
    const completedAt = new Promise<number>((r) => (resolveDone = r));
    const r = await this.call("turn/start", { threadId, input: [{ type: "text", text }] });
    const early = this.#early.get(r.turn.id);
    if (early !== undefined) {
      this.#early.delete(r.turn.id);
      resolveDone(early);
    } else this.#turnWaiters.set(r.turn.id, resolveDone);
    return { turnId: r.turn.id as string, sentAt, completedAt };
  }

  async close(): Promise<void> {
    this.stream.end();
    await this.#ended;
    this.client.close();
  }
}
