import pg from "pg";
import { preparedStatementName } from "../prepared-statement.ts";

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

export { pg };
