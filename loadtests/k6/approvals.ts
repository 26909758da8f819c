/** k6 script of the `approvals` scenario: `k6 run -e ROUTER_URL=ws://… -e TOKEN=… -e SIM_URL=http://… loadtests/k6/approvals.ts`. */
import { k6Iteration, k6Options } from "./k6-platform.ts";

export const options = k6Options("approvals");
export default k6Iteration("approvals");
export { handleSummary } from "./k6-platform.ts";
