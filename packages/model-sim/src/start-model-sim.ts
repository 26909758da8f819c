import { HttpModelSim } from "./http-model-sim.ts";
import type { ModelSim, ModelSimOptions } from "./model-sim.ts";

/** Starts a simulator listening on `options.host`:`options.port` (default 127.0.0.1, a free port). */
export function startModelSim(options: ModelSimOptions = {}): Promise<ModelSim> {
  return HttpModelSim.create(options);
}
