import { readFileSync } from "node:fs";
import { codexSchemaDir } from "../../../test/support/codex-schema.ts";
import AjvModule from "ajv";

const Ajv = AjvModule.default;
/** Numeric formats of the generated schema; ajv does not know them and they add nothing for these tests. */
const FORMATS = ["int32", "int64", "uint", "uint16", "uint32", "uint64", "double"];

const ajv = new Ajv({ strict: false, allErrors: true });
for (const f of FORMATS) ajv.addFormat(f, true);

/** Validates `value` against the official 0.169.0 schema `<dir>/<name>.json`; returns ajv's errors or null. */
export function schemaErrors(name: string, value: unknown, opts: { experimental?: boolean; dir?: "v1" | "v2" } = {}): string | null {
  const file = `${codexSchemaDir(opts.experimental ?? false)}/${opts.dir ?? "v2"}/${name}.json`;
  const schema = JSON.parse(readFileSync(file, "utf8")) as object;
  const validate = ajv.compile(schema);
  return validate(value) ? null : ajv.errorsText(validate.errors);
}
