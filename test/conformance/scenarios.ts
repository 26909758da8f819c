import type { ModelSim, SimFunctionCallOutput, SimResponse } from "@threadmesh/model-sim";
import { Conn } from "./sequence.ts";

type Json = Record<string, any>;

/** The server a scenario drives: the real codex app-server (recording) or Threadmesh (checking). */
export interface Target {
  readonly url: string;
  /** Stops the server and starts it again on the same store: every thread stored, none loaded. */
  restart(): Promise<void>;
  token?: string | null;
  /** Validate every server frame against the official schemas (Threadmesh). */
  validate: boolean;
  sim: ModelSim;
  /** Extra `thread/start` params (Codex: the scratch working directory). */
  threadParams: Json;
  /** The model's call of the target's shell tool (Codex: `exec_command`, Threadmesh: `shell`). */
  shell(command: string, escalate?: string): SimFunctionCallOutput;
}

export interface Scenario {
  name: string;
  /** Drives the target; returns the connections whose sequences are compared, by label. */
  run(t: Target, conns: Conn[]): Promise<Record<string, Conn>>;
}

const text = (s: string) => [{ type: "text", text: s, text_elements: [] }];
const say = (s: string): SimResponse => ({ output: [{ type: "message", text: s }] });
/** A reply streamed slowly enough to act on while it streams. */
const slow = (): SimResponse => ({ output: [{ type: "message", text: "one two three four five six seven eight nine ten eleven twelve" }], chunkDelayMs: 150 });

async function open(t: Target, conns: Conn[]): Promise<Conn> {
  const c = await Conn.open(t.url, { token: t.token ?? null, validate: t.validate });
  conns.push(c);
  return c;
}

async function startThread(t: Target, c: Conn, params: Json = {}): Promise<string> {
  const from = c.mark;
  const r = await c.call("thread/start", { ...t.threadParams, ...params });
  await c.waitFor("thread/started", from);
  return r.thread.id as string;
}

async function turn(c: Conn, threadId: string, prompt: string): Promise<string> {
  const from = c.mark;
  const r = await c.call("turn/start", { threadId, input: text(prompt) });
  await c.waitFor("turn/completed", from, (f) => f.params.turn.id === r.turn.id);
  return r.turn.id as string;
}

/** Runs a turn whose command needs approval and answers the request with `decision`. */
async function approvalTurn(t: Target, c: Conn, decision: string, escalate?: string): Promise<void> {
  const threadId = await startThread(t, c, escalate ? { approvalPolicy: "on-request", sandbox: "read-only" } : { approvalPolicy: "untrusted", sandbox: "workspace-write" });
  const replies = decision === "cancel" ? [{ output: [t.shell("touch approved.txt", escalate)] }] : [{ output: [t.shell("touch approved.txt", escalate)] }, say("done")];
  t.sim.script(threadId, replies);
  const from = c.mark;
  const r = await c.call("turn/start", { threadId, input: text("create approved.txt") });
  const ask = await c.waitFor("item/commandExecution/requestApproval", from);
  c.answer(ask, { decision });
  await c.waitFor("turn/completed", from, (f) => f.params.turn.id === r.turn.id);
}

export const SCENARIOS: Scenario[] = [
  {
    name: "handshake",
    async run(t, conns) {
      const a = await open(t, conns);
      await a.waitFor("remoteControl/status/changed");
      await startThread(t, a);
      return { a };
    },
  },
  {
    name: "text-turn",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [say("hello there")]);
      await turn(a, threadId, "hi");
      return { a };
    },
  },
  {
    name: "approval-accepted",
    async run(t, conns) {
      const a = await open(t, conns);
      await approvalTurn(t, a, "accept");
      return { a };
    },
  },
  {
    name: "approval-declined",
    async run(t, conns) {
      const a = await open(t, conns);
      await approvalTurn(t, a, "decline");
      return { a };
    },
  },
  {
    name: "approval-cancelled",
    async run(t, conns) {
      const a = await open(t, conns);
      await approvalTurn(t, a, "cancel");
      return { a };
    },
  },
  {
    name: "approval-escalated",
    async run(t, conns) {
      const a = await open(t, conns);
      await approvalTurn(t, a, "accept", "Needs to write outside the sandbox.");
      return { a };
    },
  },
  {
    name: "interrupt-streaming",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [slow()]);
      const from = a.mark;
      const r = await a.call("turn/start", { threadId, input: text("tell me a story") });
      await a.waitFor("item/agentMessage/delta", from);
      await a.call("turn/interrupt", { threadId, turnId: r.turn.id });
      await a.waitFor("turn/completed", from);
      return { a };
    },
  },
  {
    name: "interrupt-approval",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a, { approvalPolicy: "untrusted", sandbox: "workspace-write" });
      t.sim.script(threadId, [{ output: [t.shell("touch approved.txt")] }]);
      const from = a.mark;
      const r = await a.call("turn/start", { threadId, input: text("create approved.txt") });
      await a.waitFor("item/commandExecution/requestApproval", from);
      await a.call("turn/interrupt", { threadId, turnId: r.turn.id });
      await a.waitFor("turn/completed", from);
      await a.waitFor("serverRequest/resolved", from);
      return { a };
    },
  },
  {
    name: "list-read-resume-fork",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [say("first answer")]);
      await turn(a, threadId, "hi");
      await a.call("thread/list", {});
      await a.call("thread/read", { threadId, includeTurns: true });
      await a.call("thread/resume", { threadId });
      const from = a.mark;
      await a.call("thread/fork", { threadId });
      await a.waitFor("thread/started", from);
      return { a };
    },
  },
  {
    name: "archive-name",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [say("ok")]);
      await turn(a, threadId, "hi");
      let from = a.mark;
      await a.call("thread/name/set", { threadId, name: "Named" });
      await a.waitFor("thread/name/updated", from);
      from = a.mark;
      await a.call("thread/archive", { threadId });
      await a.waitFor("thread/archived", from);
      from = a.mark;
      await a.call("thread/unarchive", { threadId });
      await a.waitFor("thread/unarchived", from);
      return { a };
    },
  },
  {
    name: "bad-input",
    async run(t, conns) {
      const a = await open(t, conns);
      a.raw("{}", "{}");
      a.raw("42", "42");
      await a.request("no/such/method", {});
      await a.request("thread/start", { cwd: 42 });
      await a.request("turn/start", { threadId: "01a00000-0000-7000-8000-000000000000", input: text("hi") });
      const threadId = await startThread(t, a);
      await a.request("turn/interrupt", { threadId, turnId: "01a00000-0000-7000-8000-000000000000" });
      return { a };
    },
  },
  {
    name: "two-connections",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [say("first"), say("second")]);
      await turn(a, threadId, "hi");
      const b = await open(t, conns);
      let fromA = a.mark;
      const fromB = b.mark;
      await b.call("thread/resume", { threadId, excludeTurns: true });
      await a.waitFor("thread/goal/cleared", fromA);
      await b.waitFor("thread/goal/cleared", fromB);
      fromA = a.mark;
      await turn(b, threadId, "again");
      await a.waitFor("turn/completed", fromA);
      return { a, b };
    },
  },
  {
    name: "cold-read-resume",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [say("stored answer")]);
      await turn(a, threadId, "hi");
      await a.close();
      await t.restart();
      const b = await open(t, conns);
      await b.call("thread/read", { threadId, includeTurns: true });
      await b.call("thread/list", {});
      const from = b.mark;
      await b.call("thread/resume", { threadId });
      await b.waitFor("thread/goal/cleared", from);
      return { b };
    },
  },
  {
    name: "steer",
    async run(t, conns) {
      const a = await open(t, conns);
      const threadId = await startThread(t, a);
      t.sim.script(threadId, [slow(), say("steered answer")]);
      const from = a.mark;
      const r = await a.call("turn/start", { threadId, input: text("tell me a story") });
      await a.waitFor("item/agentMessage/delta", from);
      await a.call("turn/steer", { threadId, expectedTurnId: r.turn.id, input: text("make it short") });
      await a.waitFor("turn/completed", from);
      return { a };
    },
  },
];
