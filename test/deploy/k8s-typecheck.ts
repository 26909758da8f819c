/**
 * Checks Kubernetes objects against the TypeScript interfaces of kubernetes-models, generated from the
 * same OpenAPI: `satisfies` applies excess-property checks, so a misspelt or misplaced field anywhere in
 * an object is reported, which the JSON schemas (open to unknown fields) let through. The objects are
 * compiled as one virtual module; nothing is written to disk.
 */
import ts from "typescript";
import { ROOT } from "./deploy-files.ts";

const MODULES: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

/** Type errors per object, keyed `<kind>/<name>`; objects without errors are absent. */
export function typeErrors(objects: readonly { apiVersion: string; kind: string; metadata: { name: string } }[]): Map<string, string[]> {
  const file = `${ROOT}test/deploy/__rendered_objects__.ts`;
  const lines: string[] = [];
  const names: string[] = [];
  objects.forEach((o, i) => {
    const mod = MODULES[o.apiVersion];
    if (!mod) throw new Error(`no types for apiVersion ${o.apiVersion}`);
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(mod)};`);
    names.push(`${o.kind}/${o.metadata.name}`);
  });
  objects.forEach((o, i) => lines.push(`export const o${i} = ${JSON.stringify(o, null, 1)} satisfies T${i};`));
  const source = lines.join("\n");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const out = new Map<string, string[]>();
  const sf = program.getSourceFile(file)!;
  const starts = objects.map((_o, i) => source.indexOf(`export const o${i} =`));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    let key = "(module)";
    if (d.file === sf && d.start !== undefined) {
      let i = starts.length - 1;
      while (i > 0 && starts[i]! > d.start) i--;
      if (d.start >= starts[0]!) key = names[i]!;
      const { line } = sf.getLineAndCharacterOfPosition(d.start);
      out.set(key, [...(out.get(key) ?? []), `${message} (at: ${sf.text.split("\n")[line]!.trim()})`]);
    } else out.set(key, [...(out.get(key) ?? []), message]);
  }
  return out;
}
