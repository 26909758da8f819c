import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/** JSON logger to stderr; `silent` in tests unless THREADMESH_LOG_LEVEL says otherwise. */
export function createLogger(opts: { service: string; level: LevelWithSilent }): Logger {
  return pino({ name: opts.service, level: opts.level, base: { service: opts.service } }, pino.destination(2));
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
