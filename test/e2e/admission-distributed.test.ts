import { describeAdmission } from "./admission-suite.ts";

describeAdmission("distributed");
