import type { ThreadRecord, TurnRecord } from "@threadmesh/persistence";
import { activePermissionProfile } from "./policy/permission-profiles.ts";
import { CODEX_COMPAT_VERSION, type AskForApproval, type SandboxPolicy, type ThreadSettingsView, type Thread, type ThreadItem, type ThreadStatus, type Turn } from "@threadmesh/protocol";

/** `cliVersion` reported on threads: the Codex release whose wire behaviour Threadmesh follows. */
export const CLI_VERSION = CODEX_COMPAT_VERSION;
/** `source` of threads created through the app-server protocol (observed on Codex 0.169.0). */
export const THREAD_SOURCE = "vscode";

/** The wire `Thread` of a stored thread. `loaded` threads report their environment; others report null. */
export function toWireThread(r: ThreadRecord, status: ThreadStatus, loaded: boolean, turns: Turn[] = []): Thread {
  return {
    id: r.id,
    sessionId: r.id,
    forkedFromId: r.forkedFromId,
    parentThreadId: null,
    attachedToThreadId: null,
    preview: r.preview,
    ephemeral: r.ephemeral,
    name: r.name,
    modelProvider: r.settings.modelProvider,
    model: r.settings.model,
    reasoningEffort: r.settings.reasoningEffort,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    recencyAt: r.updatedAt,
    status,
    path: null,
    cwd: r.cwd,
    cliVersion: CLI_VERSION,
    originator: r.originator,
    source: r.source,
    threadSource: null,
    agentNickname: null,
    agentRole: null,
    gitInfo: null,
    historyMode: "paginated",
    projectId: null,
    section: null,
    sectionEnteredAt: null,
    turns,
    environments: loaded ? [{ environmentId: "local", cwd: r.cwd, runtimeWorkspaceRoots: [r.cwd] }] : null,
    extra: null,
    canAcceptDirectInput: true,
    daybreakEnabled: null,
  };
}

/** The wire `Turn` of a stored turn with the given items. */
export function toWireTurn(t: TurnRecord, items: ThreadItem[], itemsView: Turn["itemsView"]): Turn {
  return {
    id: t.id,
    rootTurnId: t.id,
    items,
    itemsView,
    status: t.status,
    error: t.error,
    startedAt: t.startedAt,
    completedAt: t.completedAt,
    durationMs: t.durationMs,
  };
}

/** The items a `summary` view keeps: user messages and the final agent message. */
export function summaryItems(items: ThreadItem[]): ThreadItem[] {
  let lastAgent = -1;
  for (let i = items.length - 1; i >= 0; i--) {
    if (items[i]!.type === "agentMessage") {
      lastAgent = i;
      break;
    }
  }
  return items.filter((it, i) => it.type === "userMessage" || i === lastAgent);
}

/**
 * The fields shared by `ThreadStartResponse`, `ThreadResumeResponse` and `ThreadForkResponse`, with the
 * experimental ones Codex 0.169.0 also emits.
 */
export function threadSessionResponse(r: ThreadRecord, thread: Thread): Record<string, unknown> {
  const s = r.settings;
  return {
    thread,
    model: s.model,
    modelProvider: s.modelProvider,
    serviceTier: s.serviceTier,
    cwd: r.cwd,
    instructionSources: [],
    approvalPolicy: s.approvalPolicy as AskForApproval,
    approvalsReviewer: s.approvalsReviewer,
    sandbox: s.sandbox as SandboxPolicy,
    reasoningEffort: s.reasoningEffort,
    disabledPluginIds: [],
    runtimeWorkspaceRoots: [r.cwd],
    activePermissionProfile: activePermissionProfile(s.permissionProfile),
    multiAgentMode: "explicitRequestOnly",
  };
}

/** The thread's settings as `thread/settings/updated` reports them (the fields Codex 0.169.0 sends). */
export function threadSettingsView(r: ThreadRecord, summary: string | null): ThreadSettingsView {
  const s = r.settings;
  return {
    disabledPluginIds: [],
    cwd: r.cwd,
    environments: [{ environmentId: "local", cwd: r.cwd, runtimeWorkspaceRoots: [r.cwd] }],
    approvalPolicy: s.approvalPolicy as AskForApproval,
    approvalsReviewer: s.approvalsReviewer,
    sandboxPolicy: s.sandbox as SandboxPolicy,
    activePermissionProfile: activePermissionProfile(s.permissionProfile),
    model: s.model,
    modelProvider: s.modelProvider,
    serviceTier: s.serviceTier,
    effort: s.reasoningEffort,
    summary,
    collaborationMode: { mode: "default", settings: { model: s.model, reasoning_effort: null, developer_instructions: null } },
    multiAgentMode: "explicitRequestOnly",
    personality: null,
  };
}

/** `ThreadResumeResponse`: the session fields plus collaboration mode and (null) pagination cursors. */
export function threadResumeResponse(r: ThreadRecord, thread: Thread): Record<string, unknown> {
  return {
    ...threadSessionResponse(r, thread),
    collaborationMode: {
      mode: "default",
      settings: { model: r.settings.model, reasoning_effort: null, developer_instructions: null },
    },
    turnsBackwardsCursor: null,
    itemsBackwardsCursor: null,
    initialTurnsPage: null,
  };
}
