import type { CommandAction, DynamicToolCallOutputContentItem } from "./wire/items.ts";
import type { CommandExecutionApprovalDecision, FileChangeApprovalDecision } from "./wire/policy.ts";

interface OfTurnItem {
  threadId: string;
  turnId: string;
  itemId: string;
}

/**
 * Requests Threadmesh sends to clients, with the params they carry and the result they expect: the
 * shapes of the official schema's `<Name>Params` and `<Name>Response` definitions (a conformance
 * test holds the fields to the schema).
 */
export interface ServerRequests {
  "item/commandExecution/requestApproval": {
    params: OfTurnItem & {
      startedAtMs: number;
      kind?: "command" | "writeStdin" | "humanCommand";
      approvalId?: string | null;
      environmentId?: string | null;
      reason?: string | null;
      command?: string | null;
      cwd?: string | null;
      commandActions?: CommandAction[] | null;
      proposedExecpolicyAmendment?: string[] | null;
      /** Needs the `experimentalApi` capability. */
      availableDecisions?: CommandExecutionApprovalDecision[] | null;
    };
    result: { decision: CommandExecutionApprovalDecision };
  };
  "item/fileChange/requestApproval": {
    params: OfTurnItem & { startedAtMs: number; reason?: string | null; grantRoot?: string | null };
    result: { decision: FileChangeApprovalDecision };
  };
  "item/tool/call": {
    params: { threadId: string; turnId: string; callId: string; namespace?: string | null; tool: string; arguments: unknown };
    result: { contentItems: DynamicToolCallOutputContentItem[]; success: boolean };
  };
}

export type ServerRequestMethod = keyof ServerRequests;
export type ServerRequestParams<M extends ServerRequestMethod> = ServerRequests[M]["params"];
export type ServerRequestResult<M extends ServerRequestMethod> = ServerRequests[M]["result"];

/** Every server request method, at run time. */
export const SERVER_REQUEST_METHODS = ["item/commandExecution/requestApproval", "item/fileChange/requestApproval", "item/tool/call"] as const satisfies readonly ServerRequestMethod[];

/** Official schema definitions of each server request's params and result, for conformance tests. */
export const SERVER_REQUEST_SCHEMAS: { readonly [M in ServerRequestMethod]: { params: string; result: string } } = {
  "item/commandExecution/requestApproval": { params: "CommandExecutionRequestApprovalParams", result: "CommandExecutionRequestApprovalResponse" },
  "item/fileChange/requestApproval": { params: "FileChangeRequestApprovalParams", result: "FileChangeRequestApprovalResponse" },
  "item/tool/call": { params: "DynamicToolCallParams", result: "DynamicToolCallResponse" },
};
