import type { ModelConfig } from "../config.ts";
import type { ModelClient, ModelRequest, ModelResponse, ModelStreamSink } from "./model-client.ts";

type ResponsesModelModule = typeof import("./openai-responses-model.ts");

let loading: Promise<ResponsesModelModule> | null = null;

/**
 * Loads the Responses API client (the `openai` SDK and undici: hundreds of modules) once. A process
 * calls it after it listens, so that the first model request does not wait for it; the first request
 * loads it otherwise.
 */
export function preloadResponsesModel(): Promise<ResponsesModelModule> {
  loading ??= import("./openai-responses-model.ts").catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

/**
 * {@link ModelClient} over the OpenAI Responses API whose implementation (OpenAIResponsesModel) is
 * loaded at the first request or by {@link preloadResponsesModel}, off the path to listening.
 */
export class LazyResponsesModel implements ModelClient {
  readonly #config: Pick<ModelConfig, "baseURL" | "apiKey" | "maxRetries" | "idleTimeoutMs">;
  #client: ModelClient | null = null;

  constructor(config: Pick<ModelConfig, "baseURL" | "apiKey" | "maxRetries" | "idleTimeoutMs">) {
    this.#config = config;
  }

  stream(request: ModelRequest, sink: ModelStreamSink, signal: AbortSignal): Promise<ModelResponse> {
    if (this.#client) return this.#client.stream(request, sink, signal);
    return preloadResponsesModel().then((m) => {
      this.#client ??= new m.OpenAIResponsesModel(this.#config);
      return this.#client.stream(request, sink, signal);
    });
  }
}
