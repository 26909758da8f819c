// The protocol package's notification, server request and result types against the official Codex
// schemas of every tracked release: each type is read with the TypeScript compiler and its fields
// compared with the schema's definition. Also: every method the server serves has a result type, and
// every notification and server request the server's sources send has a params type.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { METHODS, NOTIFICATION_METHODS, NOTIFICATION_SCHEMAS, SERVER_REQUEST_METHODS, SERVER_REQUEST_SCHEMAS } from "@threadmesh/protocol";
import { CODEX_VERSIONS, codexSchemaDir } from "../../../test/support/codex-schema.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const SRC = join(ROOT, "packages/protocol/src");

type Json = Record<string, unknown>;
interface Fields {
  required: Set<string>;
  all: Set<string>;
}
/** Fields Threadmesh adds to a Codex shape, by `<method>`. */
const EXTENSIONS: Record<string, readonly string[]> = { "thread/resume": ["replay"] };

/** The members of `interfaceName` in `file`, each with the fields (required and all) of its type or of its `member` property. */
function typeFields(file: string, interfaceName: string, member?: string): Map<string, Fields> {
  const program = ts.createProgram([join(SRC, file)], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(SRC, file))!;
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === interfaceName);
  assert.ok(decl, `${interfaceName} in ${file}`);
  const out = new Map<string, Fields>();
  for (const prop of checker.getPropertiesOfType(checker.getTypeAtLocation(decl))) {
    let t = checker.getTypeOfSymbolAtLocation(prop, decl);
    if (member !== undefined) t = checker.getTypeOfSymbolAtLocation(t.getProperty(member)!, decl);
    const open = checker.getIndexInfosOfType(t).filter((i) => (i.type.flags & ts.TypeFlags.Never) === 0);
    assert.equal(open.length, 0, `${prop.name}: no index signature hides a field`);
    const fields: Fields = { required: new Set(), all: new Set() };
    for (const f of checker.getPropertiesOfType(t)) {
      fields.all.add(f.name);
      if ((f.flags & ts.SymbolFlags.Optional) === 0) fields.required.add(f.name);
    }
    out.set(prop.name, fields);
  }
  return out;
}

interface Release {
  version: string;
  notifications: Map<string, string>;
  requests: Map<string, string>;
  defs: Json;
  dirs: string[];
}

function loadRelease(version: string): Release {
  const dirs = [codexSchemaDir(false, version), codexSchemaDir(true, version)];
  const notifications = new Map<string, string>();
  const requests = new Map<string, string>();
  const defs: Json = {};
  for (const dir of dirs) {
    for (const [file, map] of [
      ["ServerNotification.json", notifications],
      ["ServerRequest.json", requests],
    ] as const) {
      const s = JSON.parse(readFileSync(join(dir, file), "utf8")) as { definitions: Json; oneOf: Json[] };
      Object.assign(defs, s.definitions);
      for (const o of s.oneOf) {
        const props = o.properties as Json;
        const ref = (props.params as Json | undefined)?.$ref as string | undefined;
        if (ref) map.set(((props.method as Json).enum as string[])[0]!, ref.split("/").pop()!);
      }
    }
  }
  return { version, notifications, requests, defs, dirs };
}

/**
 * The schema file `name` of a release: the stable one's required fields, with the properties of the
 * stable and the experimental one (experimental fields are sent to clients that opt in).
 */
function schemaFile(r: Release, name: string): Json | undefined {
  const found = r.dirs.flatMap((dir) => {
    const p = [join(dir, "v2", `${name}.json`), join(dir, "v1", `${name}.json`), join(dir, `${name}.json`)].find((f) => existsSync(f));
    return p === undefined ? [] : [JSON.parse(readFileSync(p, "utf8")) as Json];
  });
  if (found.length === 0) return undefined;
  return { required: found[0]!.required, properties: Object.assign({}, ...found.map((f) => f.properties ?? {})) as Json };
}

/** Differences between a type's fields and a schema object definition; empty when they agree. */
function compare(what: string, ours: Fields, schema: Json, extensions: readonly string[] = []): string[] {
  const props = new Set(Object.keys((schema.properties as Json | undefined) ?? {}));
  const required = (schema.required as string[] | undefined) ?? [];
  const problems: string[] = [];
  for (const f of required) if (!ours.required.has(f)) problems.push(`${what}: the schema requires ${f}, the type ${ours.all.has(f) ? "has it optional" : "lacks it"}`);
  for (const f of ours.all) if (!props.has(f) && !extensions.includes(f)) problems.push(`${what}: the type has ${f}, the schema does not`);
  return problems;
}

const releases = CODEX_VERSIONS.map(loadRelease);

test("every notification type matches its schema in each release that defines it", () => {
  const types = typeFields("notifications.ts", "NotificationParams");
  assert.deepEqual([...types.keys()].sort(), [...NOTIFICATION_METHODS].sort());
  const problems: string[] = [];
  for (const method of NOTIFICATION_METHODS) {
    const defining = releases.filter((r) => r.notifications.has(method));
    if (defining.length === 0) problems.push(`${method}: no tracked release defines it`);
    for (const r of defining) {
      const def = r.notifications.get(method)!;
      if (def !== NOTIFICATION_SCHEMAS[method]) problems.push(`${method}: ${r.version} names its params ${def}, NOTIFICATION_SCHEMAS ${NOTIFICATION_SCHEMAS[method]}`);
      problems.push(...compare(`${r.version} ${method}`, types.get(method)!, r.defs[def] as Json));
    }
  }
  assert.deepEqual(problems, []);
});

test("every server request type matches its params and result schemas", () => {
  const params = typeFields("server-requests.ts", "ServerRequests", "params");
  const results = typeFields("server-requests.ts", "ServerRequests", "result");
  assert.deepEqual([...params.keys()].sort(), [...SERVER_REQUEST_METHODS].sort());
  const problems: string[] = [];
  for (const method of SERVER_REQUEST_METHODS) {
    const defining = releases.filter((r) => r.requests.has(method));
    if (defining.length === 0) problems.push(`${method}: no tracked release defines it`);
    for (const r of defining) {
      const { params: p, result } = SERVER_REQUEST_SCHEMAS[method];
      assert.equal(r.requests.get(method), p);
      problems.push(...compare(`${r.version} ${method} params`, params.get(method)!, r.defs[p] as Json));
      const resultSchema = schemaFile(r, result);
      if (!resultSchema) problems.push(`${r.version} ${method}: no schema ${result}`);
      else problems.push(...compare(`${r.version} ${method} result`, results.get(method)!, resultSchema));
    }
  }
  assert.deepEqual(problems, []);
});

test("every method Threadmesh serves has a result type matching its schema", () => {
  const types = typeFields("results.ts", "MethodResults");
  assert.deepEqual([...types.keys()].sort(), Object.keys(METHODS).sort());
  const problems: string[] = [];
  for (const [method, spec] of Object.entries(METHODS)) {
    if (spec.resultSchema === "") continue; // a Threadmesh extension
    const defining = releases.map((r) => ({ r, schema: schemaFile(r, spec.resultSchema) })).filter((x) => x.schema !== undefined);
    if (defining.length === 0) problems.push(`${method}: no tracked release has ${spec.resultSchema}`);
    for (const { r, schema } of defining) problems.push(...compare(`${r.version} ${method}`, types.get(method)!, schema!, EXTENSIONS[method]));
  }
  assert.deepEqual(problems, []);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("every notification and server request the server's sources send has a type", () => {
  const sources = ["packages/session-host/src", "packages/router/src"].flatMap((d) => sourceFiles(join(ROOT, d))).map((p) => readFileSync(p, "utf8"));
  const sent = (pattern: RegExp): Set<string> => new Set(sources.flatMap((s) => [...s.matchAll(pattern)].map((m) => (m[1] ?? m[2])!)));
  // Notifications built as events (`emit`, `notify`, `requesterNotification`) or written as raw frames.
  const notifications = sent(/(?:\bemit|\bnotify|requesterNotification)\(\s*"([A-Za-z/]+)"|\{"method":"([A-Za-z/]+)","params"/g);
  const requests = sent(/(?:pending\.request\(\s*|requestApproval\([^)]*?,\s*)"([A-Za-z/]+)"/g);
  assert.ok(notifications.size >= 15, `the scan finds the server's notifications (${notifications.size})`);
  assert.ok(requests.size >= 3, `the scan finds the server's requests (${[...requests].join(", ")})`);
  assert.deepEqual([...notifications].filter((m) => !NOTIFICATION_METHODS.includes(m as never)), []);
  assert.deepEqual([...requests].filter((m) => !SERVER_REQUEST_METHODS.includes(m as never)), []);
});
