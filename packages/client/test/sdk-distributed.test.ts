import { describeSdk } from "./sdk-suite.ts";

describeSdk("distributed");
