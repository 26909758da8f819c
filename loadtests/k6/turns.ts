/** k6 script of the `turns` scenario: `k6 run -e ROUTER_URL=ws://… -e TOKEN=… -e SIM_URL=http://… loadtests/k6/turns.ts`. */
import { k6Iteration, k6Options } from "./k6-platform.ts";

export const options = k6Options("turns");
export default k6Iteration("turns");
export { handleSummary } from "./k6-platform.ts";
