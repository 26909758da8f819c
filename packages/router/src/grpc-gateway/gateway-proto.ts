import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import type * as protoLoader from "@grpc/proto-loader";
import { decodeFrame, encodeFrame } from "./frame-codec.ts";

/** The partner gateway's one source of truth, in the repository's `proto/` tree. */
export const GATEWAY_PROTO_PATH = fileURLToPath(new URL("../../../../proto/threadmesh/gateway/v1/gateway.proto", import.meta.url));

const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

/** What a client of the gateway sends and receives (proto-loader's shape of `Frame`). */
export interface FrameMessage {
  json: string;
}

let client: grpc.ServiceClientConstructor | null = null;

/** The generated client constructor of `threadmesh.gateway.v1.Gateway` (tests, benchmarks, partners in Node). */
export function gatewayClient(): grpc.ServiceClientConstructor {
  if (client) return client;
  // Required here rather than imported: the router's index re-exports this module, and a router without
  // a gateway port must not load gRPC.
  const require = createRequire(import.meta.url);
  const { loadSync } = require("@grpc/proto-loader") as typeof protoLoader;
  const { loadPackageDefinition } = require("@grpc/grpc-js") as typeof grpc;
  const def = loadSync(GATEWAY_PROTO_PATH, LOADER_OPTIONS);
  const pkg = loadPackageDefinition(def) as unknown as { threadmesh: { gateway: { v1: { Gateway?: grpc.ServiceClientConstructor } } } };
  const ctor = pkg.threadmesh.gateway.v1.Gateway;
  if (!ctor) throw new Error(`${GATEWAY_PROTO_PATH} has no service Gateway`);
  client = ctor;
  return ctor;
}

/**
 * The server side of the service: the proto's method, with frames read as the bytes of their `json`
 * field and written from the JSON text or bytes the router already holds.
 */
export function gatewayServiceDefinition(): grpc.ServiceDefinition {
  const connect = gatewayClient().service["Connect"];
  if (!connect) throw new Error(`${GATEWAY_PROTO_PATH} has no method Connect`);
  return {
    Connect: {
      ...connect,
      requestDeserialize: decodeFrame,
      responseSerialize: (frame: string | Uint8Array) => encodeFrame(frame),
    },
  };
}
