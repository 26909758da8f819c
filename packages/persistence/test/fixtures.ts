import { randomUUID } from "node:crypto";
import type { AgentMessageItem } from "@threadmesh/protocol";
import type { HistoryRecord, ItemRecord, ThreadRecord, TurnRecord } from "../src/index.ts";

/** Records for store tests: a fresh tenant and thread id unless overridden. */
export function thread(o: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    tenantId: randomUUID(),
    id: randomUUID(),
    forkedFromId: null,
    name: null,
    preview: "hello",
    cwd: "/work",
    ephemeral: false,
    archived: false,
    materialized: true,
    status: { type: "notLoaded" },
    settings: {
      model: "gpt-test",
      modelProvider: "openai",
      reasoningEffort: null,
      approvalPolicy: "never",
      approvalsReviewer: "user",
      sandbox: { type: "dangerFullAccess" },
      baseInstructions: null,
      developerInstructions: null,
      serviceTier: null,
      dynamicTools: null,
    },
    tokenUsage: null,
    originator: null,
    source: "appServer",
    createdAt: 1_000,
    updatedAt: 1_000,
    ownerEpoch: 1,
    lastSeq: 0,
    ownerUser: null,
    sharedWith: [],
    approvers: [],
    ...o,
  };
}

export function turn(t: ThreadRecord, id: string, ordinal: number): TurnRecord {
  return {
    tenantId: t.tenantId,
    threadId: t.id,
    id,
    ordinal,
    status: "completed",
    error: null,
    startedAt: 10 + ordinal,
    completedAt: 11 + ordinal,
    durationMs: 1_000,
    outputSchema: null,
    startedBy: null,
  };
}

export function item(t: ThreadRecord, turnId: string, id: string, ordinal: number, text = id): ItemRecord {
  const body: AgentMessageItem = {
    type: "agentMessage",
    id,
    text,
    phase: "final_answer",
    moderation: null,
    memoryCitation: null,
    delivery: null,
    questions: null,
    startedAtMs: 1,
    completedAtMs: 2,
  };
  return { tenantId: t.tenantId, threadId: t.id, turnId, ordinal, item: body };
}

export function history(t: ThreadRecord, turnId: string, ordinal: number): HistoryRecord {
  return { tenantId: t.tenantId, threadId: t.id, turnId, ordinal, entry: { type: "message", role: "user", n: ordinal } };
}
