import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from "kysely";

/** Names of the prepared statements' SQL texts, for backends that keep server-side prepared statements. */
const STATEMENT_NAMES = new Map<string, string>();

/** The server-side name for a prepared statement's SQL, or undefined for any other query. */
export function preparedStatementName(sql: string): string | undefined {
  return STATEMENT_NAMES.get(sql);
}

/**
 * A query built and compiled once, then run many times with new values. kysely rebuilds and recompiles a
 * query on every call (tens of microseconds, as much as the SQLite write itself); the hot-path writes
 * skip that. `build` receives `param(name)`, a marker that stands for the value of `name`; every bound
 * value in the query must be a marker. On PostgreSQL each connection also parses and plans it only once
 * (a named server-side statement, see {@link preparedStatementName}).
 */
export class PreparedStatement<P extends string> {
  readonly #sql: string;
  readonly #order: readonly P[];

  constructor(build: (param: (name: P) => never) => Compilable) {
    const markers = new Map<unknown, P>();
    const param = (name: P): never => {
      const marker = { preparedParam: name };
      markers.set(marker, name);
      // The marker stands in for a value of whatever type the column needs.
      return marker as never;
    };
    const compiled = build(param).compile();
    this.#sql = compiled.sql;
    if (!STATEMENT_NAMES.has(compiled.sql)) STATEMENT_NAMES.set(compiled.sql, `tm_stmt_${STATEMENT_NAMES.size + 1}`);
    this.#order = compiled.parameters.map((p) => {
      const name = markers.get(p);
      if (name === undefined) throw new Error(`prepared statement binds a literal value: ${compiled.sql}`);
      return name;
    });
  }

  execute<DB>(db: Kysely<DB>, values: Readonly<Record<P, unknown>>): Promise<QueryResult<unknown>> {
    return db.executeQuery(CompiledQuery.raw(this.#sql, this.#order.map((name) => values[name])));
  }
}
