import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse, parseAllDocuments } from "yaml";

/** Repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function repoPath(rel: string): string {
  return `${ROOT}${rel}`;
}

export function readRepoFile(rel: string): string {
  return readFileSync(repoPath(rel), "utf8");
}

/** A YAML file as Compose and Helm read it: anchors, aliases and `<<` merge keys resolved. */
export function readYaml(rel: string): unknown {
  return parse(readRepoFile(rel), { merge: true, maxAliasCount: -1 });
}

/** Every document of a multi-document YAML text (empty ones dropped). */
export function yamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true })
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join("; "));
      return d.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Validates `data` against a JSON schema file of the repository; returns readable errors (none = valid). */
export function schemaErrors(schemaRel: string, data: unknown): string[] {
  const schema = JSON.parse(readRepoFile(schemaRel)) as Record<string, unknown>;
  // Draft-07 schemas here name their meta-schema with an https URL ajv does not know: drop it.
  delete schema.$schema;
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const validate = ajv.compile(schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || "/"} ${e.message ?? "invalid"}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`;
}
