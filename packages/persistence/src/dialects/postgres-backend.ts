import pg from "pg";
import { PostgresDialect } from "kysely";
import { preparedStatementName } from "../prepared-statement.ts";
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
 * A `pg` client that runs the store's prepared statements as named server-side statements: PostgreSQL
 * parses and plans each once per connection instead of on every write. Every other query is unchanged.
 */
export class PreparingClient extends pg.Client {
  // One signature for pg's overloads (hence `any`): every call is passed on unchanged but the named ones.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const query = super.query as unknown as (...a: unknown[]) => unknown;
    const [text, values, callback] = args;
    if (typeof text === "string" && Array.isArray(values) && callback === undefined) {
      const name = preparedStatementName(text);
      if (name !== undefined) return query.call(this, { name, text, values } satisfies pg.QueryConfig);
    }
    return query.apply(this, args);
  }
}

/** A `pg` pool for `url`, reading BIGINT columns as numbers (every stored integer is below 2^53). */
export function postgresBackend(url: string, opts: PostgresBackendOptions = {}): StoreBackend {
  const pool = new pg.Pool({
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
  pool.on("error", (err) => opts.log?.warn({ err }, "postgres idle client error"));
  return {
    kind: "postgres",
    dialect: new PostgresDialect({ pool }),
    rowLocks: true,
    positionFunction: "strpos",
  };
}
