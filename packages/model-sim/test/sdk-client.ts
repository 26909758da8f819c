import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import type { ModelSim } from "@threadmesh/model-sim";

/** The official SDK pointed at the simulator, without retries so every request maps to one script. */
export function sdkClient(sim: ModelSim): OpenAI {
  return new OpenAI({ apiKey: "sim", baseURL: `${sim.url}/v1`, maxRetries: 0 });
}

/** Streams one response for `key` and returns every event the SDK yields. */
export async function streamEvents(client: OpenAI, key: string, input: string | unknown[] = "hi"): Promise<ResponseStreamEvent[]> {
  const stream = await client.responses.create({
    model: "sim-model",
    input: input as OpenAI.Responses.ResponseInput,
    stream: true,
    prompt_cache_key: key,
  });
  const events: ResponseStreamEvent[] = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

/** Narrows a stream event by its `type`. */
export function ofType<T extends ResponseStreamEvent["type"]>(
  events: readonly ResponseStreamEvent[],
  type: T,
): Array<Extract<ResponseStreamEvent, { type: T }>> {
  return events.filter((e): e is Extract<ResponseStreamEvent, { type: T }> => e.type === type);
}
