import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateResponse, type GenerativeOptions } from "./generate-response.ts";
import { BodyTooLargeError, readBody, sendApiError, sendJson } from "./http-json.ts";
import { jsonResponse } from "./json-response.ts";
import type { ModelSim, ModelSimEvents, ModelSimOptions, RecordedRequest, SimRequestBody } from "./model-sim.ts";
import { parseSimResponses, SimScriptError } from "./parse-sim-responses.ts";
import { DEFAULT_MODEL, newId, planResponse } from "./response-plan.ts";
import { RequestLog } from "./request-log.ts";
import { DEFAULT_SCRIPT_KEY, ScriptBook } from "./script-book.ts";
import type { SimResponse } from "./sim-response.ts";
import { streamResponse } from "./stream-response.ts";

export const DEFAULT_HOST = "127.0.0.1";

/** {@link ModelSim} on a node `http` server. */
export class HttpModelSim extends EventEmitter<ModelSimEvents> implements ModelSim {
  readonly #server: Server;
  readonly #scripts = new ScriptBook();
  readonly #log: RequestLog;
  readonly #generative: GenerativeOptions;
  readonly #models: readonly string[];
  /** One controller per response in flight; aborted when its client goes away or on close. */
  readonly #active = new Set<AbortController>();
  #url = "";
  #seq = 0;
  #closing: Promise<void> | undefined;

  static async create(options: ModelSimOptions = {}): Promise<HttpModelSim> {
    const sim = new HttpModelSim(options);
    await sim.#listen(options.port ?? 0, options.host ?? DEFAULT_HOST);
    return sim;
  }

  private constructor(options: ModelSimOptions) {
    super();
    this.#log = new RequestLog(options.maxRequestsPerKey);
    this.#generative = { ...options.generative };
    this.#models = options.models?.length ? [...options.models] : [DEFAULT_MODEL];
    // Idle keep-alive sockets stay open longer than clients keep them (undici: 4 s), so a client never
    // sends a request on a socket the server is closing at that moment (a spurious "Connection error").
    this.#server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => void this.#handle(req, res));
  }

  get url(): string {
    return this.#url;
  }

  script(key: string, responses: readonly SimResponse[]): void {
    this.#scripts.append(key, parseSimResponses(responses));
  }

  requests(key?: string): SimRequestBody[] {
    return this.#log.list(key).map((r) => r.body);
  }

  reset(): void {
    this.#scripts.clear();
    this.#log.clear();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const ac of this.#active) ac.abort();
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  async #listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const bound = (this.#server.address() as AddressInfo).port;
    this.#url = `http://${urlHost(host)}:${bound}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://sim");
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case "POST /v1/responses":
          return await this.#responses(req, res);
        case "GET /v1/models":
          return sendJson(res, 200, {
            object: "list",
            data: this.#models.map((id) => ({ id, object: "model", created: 0, owned_by: "model-sim" })),
          });
        case "GET /healthz":
          return sendJson(res, 200, { status: "ok" });
        case "POST /_sim/script":
          return await this.#scriptRoute(req, res);
        case "GET /_sim/requests":
          return sendJson(res, 200, this.requests(url.searchParams.get("key") || undefined));
        case "POST /_sim/reset":
          this.reset();
          res.writeHead(204).end();
          return;
        default:
          return sendApiError(res, 404, { message: `no route for ${route}`, type: "invalid_request_error" });
      }
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendApiError(res, 413, { message: err.message }, { connection: "close" });
      if (!res.headersSent) sendApiError(res, 500, { message: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    }
  }

  async #responses(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const receivedAt = performance.timeOrigin + performance.now();
    const body = parseObject(raw);
    if (!body) return sendApiError(res, 400, { message: "request body must be a JSON object" });
    const cacheKey = body.prompt_cache_key;
    const key = typeof cacheKey === "string" && cacheKey !== "" ? cacheKey : DEFAULT_SCRIPT_KEY;
    const previous = this.#log.latest(key);
    const rec: RecordedRequest = { key, seq: ++this.#seq, responseId: newId("resp"), receivedAt, bytes: raw.length, body };
    const traceparent = req.headers.traceparent;
    if (typeof traceparent === "string") rec.traceparent = traceparent;
    this.#log.add(rec);
    this.emit("request", rec);

    const sim = this.#scripts.take(key) ?? generateResponse(body, this.#generative);
    const previousBytes = previous?.bytes ?? 0;
    const plan = planResponse(sim, { responseId: rec.responseId, key, body, bytes: rec.bytes, previousBytes });
    const ac = new AbortController();
    // `close` also follows a normal finish; aborting then would only allocate an unused reason.
    const onClose = (): void => {
      if (!res.writableFinished) ac.abort();
    };
    this.#active.add(ac);
    res.on("close", onClose);
    try {
      const answer = body.stream === true ? streamResponse : jsonResponse;
      const outcome = await answer(res, plan, ac.signal);
      this.emit("streamEnd", { key, responseId: rec.responseId, at: performance.timeOrigin + performance.now(), outcome });
    } finally {
      this.#active.delete(ac);
      res.off("close", onClose);
    }
  }

  async #scriptRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseObject(await readBody(req));
    if (!body) return sendApiError(res, 400, { message: "body must be a JSON object {key, responses}" });
    const key = body.key ?? DEFAULT_SCRIPT_KEY;
    if (typeof key !== "string" || key === "") {
      return sendApiError(res, 400, { message: "key: expected a non-empty string" });
    }
    try {
      const queued = this.#scripts.append(key, parseSimResponses(body.responses));
      sendJson(res, 200, { key, queued });
    } catch (err) {
      if (!(err instanceof SimScriptError)) throw err;
      sendApiError(res, 400, { message: err.message });
    }
  }
}

function parseObject(raw: Buffer): SimRequestBody | undefined {
  try {
    const v: unknown = JSON.parse(raw.toString("utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as SimRequestBody) : undefined;
  } catch {
    return undefined;
  }
}

/** A connectable host for the URL: wildcard binds map to loopback, IPv6 literals get brackets. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
