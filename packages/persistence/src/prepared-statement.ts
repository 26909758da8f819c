import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from "kysely";

/**
 * A query built and compiled once, then run many times with new values. kysely rebuilds and recompiles a
 * query on every call (tens of microseconds, as much as the SQLite write itself); the hot-path writes
 * skip that. `build` receives `param(name)`, a marker that stands for the value of `name`; every bound
 * value in the query must be a marker.
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
