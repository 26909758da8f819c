import type pg from "pg";
import { PostgresDialect } from "kysely";
import type { StoreBackend, StoreLogger } from "../store-backend.ts";

const INT8_OID = 20;
/** Connections per process unless the caller says otherwise. */
export const DEFAULT_PG_POOL_SIZE = 10;
/** Give up connecting after this many milliseconds instead of hanging a request. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Options of the PostgreSQL backend. */
export interface PostgresBackendOptions {
  /** Pool size; default `DEFAULT_PG_POOL_SIZE`. */
  poolSize?: number;
  log?: StoreLogger;
}

/**
 * A `pg` pool for `url`, reading BIGINT columns as numbers (every stored integer is below 2^53). `pg`
 * loads when the first query needs a connection, so a process on SQLite never loads it.
 */
export function postgresBackend(url: string, opts: PostgresBackendOptions = {}): StoreBackend {
  const pool = async (): Promise<pg.Pool> => {
    const { PreparingClient, pg } = await import("./preparing-client.ts");
    const created = new pg.Pool({
      connectionString: url,
      Client: PreparingClient,
      max: opts.poolSize ?? DEFAULT_PG_POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // Per pool, not pg.types.setTypeParser: that would change every other pg user in the process.
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === INT8_OID && format !== "binary"
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection emits on the pool; unhandled, that would crash the process.
    created.on("error", (err) => opts.log?.warn({ err }, "postgres idle client error"));
    return created;
  };
  return {
    kind: "postgres",
    dialect: new PostgresDialect({ pool }),
    rowLocks: true,
    positionFunction: "strpos",
  };
}
