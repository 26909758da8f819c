import { MeshMethod, MethodNotFoundError, type CommandEnvelope } from "@threadmesh/protocol";
import { canSee } from "./access/thread-access.ts";
import type { CommandOutcome } from "./command-outcome.ts";
import {
  archiveLoaded,
  connectionClosed,
  deleteLoaded,
  nameSetLoaded,
  respondServerRequest,
  unarchiveLoaded,
  unsubscribeLoaded,
} from "./handlers/lifecycle-handlers.ts";
import { backgroundTerminalsClean, backgroundTerminalsList, backgroundTerminalsTerminate } from "./handlers/background-terminals.ts";
import { goalClear, goalGet, goalSet } from "./handlers/goal-handlers.ts";
import { listItems, listTurns, readThread, type ReadSource } from "./handlers/read-handlers.ts";
import { updateReadState } from "./handlers/read-state.ts";
import { recentEvents } from "./handlers/recent-events-handler.ts";
import { resumeLoaded } from "./handlers/resume-handler.ts";
import { shareLoaded } from "./handlers/share-handler.ts";
import { serveUnloaded } from "./handlers/unloaded-commands.ts";
import { turnInterrupt, turnStart, turnSteer } from "./handlers/turn-handlers.ts";
import type { ThreadActor } from "./thread-actor.ts";

// Params were validated by the router against the method table; handlers receive them parsed.
type Handler = (actor: ThreadActor, params: any, env: CommandEnvelope) => Promise<CommandOutcome> | CommandOutcome;

/** Reads of a loaded thread see every write issued before them. */
async function liveSource(actor: ThreadActor): Promise<ReadSource> {
  await actor.writer.flush();
  return { store: actor.services.store, tenant: actor.tenant, record: actor.record, status: actor.status, loaded: true };
}

/** Commands a loaded thread serves, by method. */
const HANDLERS: Record<string, Handler> = {
  "thread/resume": resumeLoaded,
  "thread/read": async (a, p, env) => readThread(await liveSource(a), p, env.origin),
  "thread/turns/list": async (a, p) => listTurns(await liveSource(a), p),
  "thread/items/list": async (a, p) => listItems(await liveSource(a), p),
  "thread/readState/update": async (a, p, env) => {
    await a.writer.flush();
    return updateReadState(a.services.store, a.tenant, env.origin, p);
  },
  "thread/name/set": nameSetLoaded,
  "thread/share/set": shareLoaded,
  "thread/archive": archiveLoaded,
  "thread/unarchive": unarchiveLoaded,
  "thread/delete": deleteLoaded,
  "thread/unsubscribe": unsubscribeLoaded,
  "thread/goal/get": goalGet,
  "thread/goal/set": goalSet,
  "thread/goal/clear": goalClear,
  "thread/backgroundTerminals/list": backgroundTerminalsList,
  "thread/backgroundTerminals/clean": backgroundTerminalsClean,
  "thread/backgroundTerminals/terminate": backgroundTerminalsTerminate,
  "turn/start": turnStart,
  "turn/steer": turnSteer,
  "turn/interrupt": turnInterrupt,
  [MeshMethod.RespondServerRequest]: respondServerRequest,
  [MeshMethod.ConnectionClosed]: connectionClosed,
  [MeshMethod.RecentEvents]: (a, p) => ({ result: recentEvents(a, p) }),
  [MeshMethod.FlushThread]: async (a) => {
    await a.writer.flush();
    return { result: {} };
  },
};

/** Mesh commands served whoever sent them: they carry no thread content back. */
const UNGATED = new Set<string>([MeshMethod.RespondServerRequest, MeshMethod.ConnectionClosed, MeshMethod.FlushThread]);

/** Serves one command of a loaded thread. */
export function threadCommand(actor: ThreadActor, env: CommandEnvelope): Promise<CommandOutcome> | CommandOutcome {
  const handler = HANDLERS[env.method];
  if (!handler) throw new MethodNotFoundError(env.method);
  // A thread the sender may not see answers as an unknown one does; answers to its server requests are checked on their own.
  if (!canSee(actor.record, env.origin) && !UNGATED.has(env.method)) return serveUnloaded(actor.services, actor.tenant, env);
  return handler(actor, env.params, env);
}
