import { describeCodexClients } from "./codex-clients-suite.ts";

describeCodexClients("distributed");
