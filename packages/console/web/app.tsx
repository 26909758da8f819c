import { useEffect, useRef, useState } from "preact/hooks";
import { merge, viewOf, type ViewItem } from "./items.ts";
import { Limits } from "./limits.tsx";
import { Rpc, type ServerRequest } from "./rpc.ts";

type Raw = Record<string, unknown>;
interface ThreadRow {
  id: string;
  title: string;
  updatedAt: number;
}

const APPROVALS = new Set(["item/commandExecution/requestApproval", "item/fileChange/requestApproval", "execCommandApproval", "applyPatchApproval"]);

export function App() {
  const [rpc, setRpc] = useState<Rpc | null>(null);
  const [error, setError] = useState("");
  const [threads, setThreads] = useState<ThreadRow[]>([]);
  const [search, setSearch] = useState("");
  const [archived, setArchived] = useState(false);
  const [sortKey, setSortKey] = useState("updated_at");
  const [threadId, setThreadId] = useState<string | null>(null);
  const [items, setItems] = useState<ViewItem[]>([]);
  const [turnId, setTurnId] = useState<string | null>(null);
  const [plan, setPlan] = useState("");
  const [approvals, setApprovals] = useState<ServerRequest[]>([]);
  const [limits, setLimits] = useState<unknown>(null);
  const current = useRef<string | null>(null);
  const refreshSoon = useRef<() => void>(() => undefined);
  current.current = threadId;

  const upsert = (v: ViewItem) =>
    setItems((all) => {
      const i = all.findIndex((x) => x.id === v.id);
      if (i < 0) return [...all, v];
      const copy = all.slice();
      copy[i] = merge(all[i], v);
      return copy;
    });
  const append = (itemId: string, field: "text" | "output", delta: string) =>
    setItems((all) => all.map((x) => (x.id === itemId ? { ...x, [field]: (x[field] ?? "") + delta } : x)));

  const onNotification = (method: string, p: Raw) => {
    if (typeof p.threadId === "string" && p.threadId !== current.current) return;
    switch (method) {
      case "item/started":
      case "item/completed":
        upsert(viewOf(p.item as Raw));
        break;
      case "item/agentMessage/delta":
      case "item/reasoning/summaryTextDelta":
        append(String(p.itemId), "text", String(p.delta));
        break;
      case "item/commandExecution/outputDelta":
        append(String(p.itemId), "output", String(p.delta));
        break;
      case "turn/started":
        setTurnId(String((p.turn as Raw).id));
        break;
      case "turn/completed": {
        const status = String((p.turn as Raw | undefined)?.status ?? "completed");
        setItems((all) => all.map((x) => (x.status === "inProgress" ? { ...x, status } : x)));
        setTurnId(null);
        refreshSoon.current();
        break;
      }
      case "turn/plan/updated":
        setPlan(((p.plan as Raw[]) ?? []).map((s) => `[${String(s.status)}] ${String(s.step)}`).join("\n"));
        break;
      case "turn/diff/updated":
        upsert({ id: `diff-${String(p.turnId)}`, kind: "diff", text: String(p.diff) });
        break;
      case "serverRequest/resolved":
        setApprovals((all) => all.filter((a) => a.id !== p.requestId));
        break;
    }
  };

  const signIn = async (key: string) => {
    setError("");
    try {
      const r = await Rpc.connect(key, {
        notification: onNotification,
        request: (req) => (APPROVALS.has(req.method) ? setApprovals((all) => [...all, req]) : undefined),
        closed: (reason) => {
          setRpc(null);
          setError(reason);
        },
      });
      setRpc(r);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const refresh = async () => {
    if (!rpc) return;
    try {
      const params: Raw = { archived, sortKey, limit: 100 };
      if (search.trim()) params.searchTerm = search.trim();
      const res = await rpc.request<{ data: Raw[] }>("thread/list", params);
      setThreads(res.data.map((t) => ({ id: String(t.id), title: String(t.name ?? t.preview ?? "") || String(t.id), updatedAt: Number(t.updatedAt ?? 0) })));
      setLimits(await rpc.request("account/rateLimits/read").catch((e: Error) => ({ error: e.message })));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  refreshSoon.current = () => void refresh();
  useEffect(() => void refresh(), [rpc, archived, sortKey]);

  const open = async (id: string) => {
    if (!rpc) return;
    setThreadId(id);
    current.current = id;
    setItems([]);
    setPlan("");
    const res = await rpc.request<{ thread: Raw }>("thread/resume", { threadId: id });
    const turns = (res.thread.turns as Raw[]) ?? [];
    setItems(turns.flatMap((t) => ((t.items as Raw[]) ?? []).map(viewOf)));
    const running = turns.find((t) => t.status === "inProgress");
    setTurnId(running ? String(running.id) : null);
  };

  const send = async (text: string) => {
    if (!rpc || !text.trim()) return;
    setError("");
    try {
      let id = threadId;
      if (id === null) {
        const res = await rpc.request<{ thread: Raw }>("thread/start", {});
        id = String(res.thread.id);
        setThreadId(id);
        current.current = id;
        setItems([]);
      }
      const input = [{ type: "text", text, text_elements: [] }];
      if (turnId) await rpc.request("turn/steer", { threadId: id, input, expectedTurnId: turnId });
      else {
        const res = await rpc.request<{ turn: Raw }>("turn/start", { threadId: id, input });
        setTurnId(String(res.turn.id));
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const decide = (req: ServerRequest, decision: "accept" | "decline") => {
    rpc?.respond(req.id, { decision: req.method.endsWith("Approval") && !req.method.includes("/") ? (decision === "accept" ? "approved" : "denied") : decision });
    setApprovals((all) => all.filter((a) => a !== req));
  };

  if (!rpc) return <SignIn onSignIn={signIn} error={error} />;
  return (
    <div class="layout">
      <aside>
        <header>
          <b>Threadmesh</b> <span data-testid="tenant">{rpc.tenant}</span>
        </header>
        <form onSubmit={(e) => (e.preventDefault(), void refresh())}>
          <input data-testid="search" placeholder="Search threads" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </form>
        <label>
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.currentTarget.checked)} /> archived
        </label>
        <select value={sortKey} onChange={(e) => setSortKey(e.currentTarget.value)}>
          <option value="updated_at">recently updated</option>
          <option value="created_at">recently created</option>
        </select>
        <button data-testid="new-thread" onClick={() => (setThreadId(null), setItems([]), setTurnId(null))}>
          New thread
        </button>
        <ul data-testid="threads">
          {threads.map((t) => (
            <li key={t.id} class={t.id === threadId ? "active" : ""} onClick={() => void open(t.id)}>
              {t.title}
            </li>
          ))}
        </ul>
        <details open>
          <summary>Rate limits and credits</summary>
          <Limits value={limits} />
        </details>
      </aside>
      <main>
        {error && <p class="error">{error}</p>}
        <div data-testid="items" class="items">
          {items.map((it) => (
            <Item key={it.id} item={it} />
          ))}
        </div>
        {plan && <pre class="plan" data-testid="plan">{plan}</pre>}
        {approvals.map((a) => (
          <div class="approval" data-testid="approval" key={String(a.id)}>
            <p>
              Approve <code>{String(a.params.command ?? a.params.reason ?? a.method)}</code>?
            </p>
            <button data-testid="approve" onClick={() => decide(a, "accept")}>
              Approve
            </button>
            <button data-testid="decline" onClick={() => decide(a, "decline")}>
              Decline
            </button>
          </div>
        ))}
        <Composer running={turnId !== null} onSend={send} onInterrupt={() => void rpc.request("turn/interrupt", { threadId, turnId })} />
      </main>
    </div>
  );
}

function Item({ item }: { item: ViewItem }) {
  if (item.kind === "commandExecution")
    return (
      <div class="item command" data-testid="command">
        <code>$ {item.command}</code> <small>{item.status}</small>
        {item.output ? <pre data-testid="command-output">{item.output}</pre> : null}
      </div>
    );
  return (
    <div class={`item ${item.kind}`} data-testid={item.kind}>
      <pre>{item.text}</pre>
    </div>
  );
}

function Composer({ running, onSend, onInterrupt }: { running: boolean; onSend(text: string): Promise<void>; onInterrupt(): void }) {
  const [text, setText] = useState("");
  return (
    <form class="composer" onSubmit={(e) => (e.preventDefault(), void onSend(text).then(() => setText("")))}>
      <textarea data-testid="prompt" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={running ? "Steer the running turn" : "Start a turn"} />
      <button data-testid="send" type="submit">
        {running ? "Steer" : "Send"}
      </button>
      {running && (
        <button data-testid="interrupt" type="button" onClick={onInterrupt}>
          Interrupt
        </button>
      )}
    </form>
  );
}

function SignIn({ onSignIn, error }: { onSignIn(key: string): Promise<void>; error: string }) {
  const [key, setKey] = useState("");
  return (
    <form class="signin" onSubmit={(e) => (e.preventDefault(), void onSignIn(key))}>
      <h1>Threadmesh console</h1>
      <input data-testid="api-key" type="password" placeholder="API key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      <button data-testid="sign-in" type="submit">
        Sign in
      </button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
