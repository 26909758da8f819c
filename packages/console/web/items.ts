/** The console's view of a thread's items: what each kind shows, updated by events as they arrive. */
export interface ViewItem {
  id: string;
  kind: string;
  /** Agent text, user text, reasoning summary, diff, plan: what the item shows as text. */
  text: string;
  /** Command line of a command execution. */
  command?: string;
  /** Command output, streamed. */
  output?: string;
  status?: string;
}

type Raw = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** A protocol item (from thread history or item/started, item/completed) as the console shows it. */
export function viewOf(item: Raw): ViewItem {
  const id = str(item.id);
  const kind = str(item.type);
  switch (kind) {
    case "userMessage": {
      const content = Array.isArray(item.content) ? (item.content as Raw[]) : [];
      return { id, kind, text: content.map((c) => str(c.text)).join("\n") };
    }
    case "agentMessage":
      return { id, kind, text: str(item.text) };
    case "reasoning":
      return { id, kind, text: Array.isArray(item.summary) ? (item.summary as unknown[]).map(str).join("\n") : "" };
    case "commandExecution":
      return { id, kind, text: "", command: str(item.command), output: str(item.aggregatedOutput), status: str(item.status) };
    case "fileChange": {
      const changes = Array.isArray(item.changes) ? (item.changes as Raw[]) : [];
      return { id, kind, text: changes.map((c) => `${str(c.path)}\n${str(c.diff)}`).join("\n"), status: str(item.status) };
    }
    default:
      return { id, kind, text: JSON.stringify(item) };
  }
}

/** Merges a completed item into the one already shown, keeping streamed text the final form lacks. */
export function merge(prev: ViewItem | undefined, next: ViewItem): ViewItem {
  if (prev === undefined) return next;
  return {
    ...next,
    text: next.text || prev.text,
    ...(next.output !== undefined || prev.output !== undefined ? { output: next.output || prev.output || "" } : {}),
  };
}
