import { describeE2E } from "./suite.ts";

describeE2E("embedded");
