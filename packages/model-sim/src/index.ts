export { startModelSim } from "./start-model-sim.ts";
export { runModelSimCli, ModelSimArgsError, DEFAULT_CLI_PORT } from "./run-model-sim-cli.ts";
export { parseSimResponses, SimScriptError } from "./parse-sim-responses.ts";
export { DEFAULT_SCRIPT_KEY } from "./script-book.ts";

export type {
  ModelSim,
  ModelSimOptions,
  ModelSimEvents,
  RecordedRequest,
  SimRequestBody,
  StreamEnd,
  StreamOutcome,
} from "./model-sim.ts";
export type { GenerativeOptions } from "./generate-response.ts";
export type { ModelSimCliIo } from "./run-model-sim-cli.ts";
export type {
  SimResponse,
  SimOutput,
  SimMessageOutput,
  SimReasoningOutput,
  SimFunctionCallOutput,
  SimUsage,
  SimFailure,
  SimFailureKind,
} from "./sim-response.ts";
