/** k6 script of the `reconnect` scenario: `k6 run -e ROUTER_URL=ws://… -e TOKEN=… -e SIM_URL=http://… loadtests/k6/reconnect.ts`. */
import { k6Iteration, k6Options } from "./k6-platform.ts";

export const options = k6Options("reconnect");
export default k6Iteration("reconnect");
export { handleSummary } from "./k6-platform.ts";
