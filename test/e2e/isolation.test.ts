import { describeIsolation } from "./isolation-suite.ts";

describeIsolation("embedded");
describeIsolation("distributed");
