/** `TextElement`: a byte range of a text input that a UI rendered as a placeholder. */
export interface TextElement {
  byteRange: { start: number; end: number };
  placeholder?: string | null;
}

/** `UserInput`, tagged by `type`. Text parts always carry `text_elements` on output. */
export type UserInput =
  | { type: "text"; text: string; text_elements: TextElement[] }
  | { type: "image"; url?: string; fileId?: string; detail?: string | null }
  | { type: "localImage"; path: string; detail?: string | null }
  | { type: "audio"; url?: string; fileId?: string }
  | { type: "localAudio"; path: string }
  | { type: "skill"; name: string; path: string }
  | { type: "mention"; name: string; path: string };

export type CommandAction =
  | { type: "read"; command: string; name: string; path: string }
  | { type: "listFiles"; command: string; path: string | null }
  | { type: "search"; command: string; query: string | null; path: string | null }
  | { type: "unknown"; command: string };

export type PatchChangeKind = { type: "add" } | { type: "delete" } | { type: "update"; move_path: string | null };

export interface FileUpdateChange {
  path: string;
  kind: PatchChangeKind;
  diff: string;
}

export type DynamicToolCallOutputContentItem =
  | { type: "inputText"; text: string }
  | { type: "inputImage"; imageUrl: string }
  | { type: "inputAudio"; audioUrl: string };

interface ItemTimes {
  startedAtMs: number | null;
  completedAtMs: number | null;
}

export interface UserMessageItem extends ItemTimes {
  type: "userMessage";
  id: string;
  clientId: string | null;
  content: UserInput[];
}
export interface AgentMessageItem extends ItemTimes {
  type: "agentMessage";
  id: string;
  text: string;
  phase: "commentary" | "partial_answer" | "final_answer" | null;
  moderation: null;
  memoryCitation: null;
  delivery: null;
  questions: null;
}
export interface ReasoningItem extends ItemTimes {
  type: "reasoning";
  id: string;
  summary: string[];
  content: string[];
}
export type CommandExecutionStatus = "inProgress" | "completed" | "failed" | "declined";
export interface CommandExecutionItem extends ItemTimes {
  type: "commandExecution";
  id: string;
  command: string;
  cwd: string;
  processId: string | null;
  source: "agent" | "userShell" | "unifiedExecStartup" | "unifiedExecInteraction";
  status: CommandExecutionStatus;
  commandActions: CommandAction[];
  aggregatedOutput: string | null;
  exitCode: number | null;
  durationMs: number | null;
  pluginId: string | null;
  scriptPath: string | null;
}
export type PatchApplyStatus = "inProgress" | "completed" | "failed" | "declined";
export interface FileChangeItem extends ItemTimes {
  type: "fileChange";
  id: string;
  changes: FileUpdateChange[];
  status: PatchApplyStatus;
}
export interface DynamicToolCallItem extends ItemTimes {
  type: "dynamicToolCall";
  id: string;
  namespace: string | null;
  tool: string;
  arguments: unknown;
  status: "inProgress" | "completed" | "failed";
  contentItems: DynamicToolCallOutputContentItem[] | null;
  success: boolean | null;
  durationMs: number | null;
}
export interface PlanItem extends ItemTimes {
  type: "plan";
  id: string;
  text: string;
}

/** The `ThreadItem` variants Threadmesh produces. */
export type ThreadItem =
  | UserMessageItem
  | AgentMessageItem
  | ReasoningItem
  | CommandExecutionItem
  | FileChangeItem
  | DynamicToolCallItem
  | PlanItem;

export type ThreadItemType = ThreadItem["type"];
