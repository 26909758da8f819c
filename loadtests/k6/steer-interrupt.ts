/** k6 script of the `steer-interrupt` scenario: `k6 run -e ROUTER_URL=ws://… -e TOKEN=… -e SIM_URL=http://… loadtests/k6/steer-interrupt.ts`. */
import { k6Iteration, k6Options } from "./k6-platform.ts";

export const options = k6Options("steer-interrupt");
export default k6Iteration("steer-interrupt");
export { handleSummary } from "./k6-platform.ts";
