import { readdirSync } from "node:fs";
import { Templates } from "./go-template.ts";
import { readRepoFile, readYaml, yamlDocuments } from "./deploy-files.ts";

export const CHART = "helm/threadmesh";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string> | null;
  [key: string]: unknown;
}

export interface Rendered {
  /** Objects by template file. */
  byFile: Map<string, K8sObject[]>;
  objects: K8sObject[];
  notes: string;
}

type Values = Record<string, unknown>;

/** Helm's merge of user values over the chart's: maps merge key by key, anything else replaces. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (isMap(base) && isMap(over)) {
    const out: Values = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
    return out;
  }
  return over === undefined ? base : over;
}

function isMap(v: unknown): v is Values {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function chartValues(overrides: Values = {}): Values {
  return mergeValues(readYaml(`${CHART}/values.yaml`), overrides) as Values;
}

/** Renders every template of the chart as `helm template <release> helm/threadmesh` would. */
export function renderChart(values: Values, release = "tm"): Rendered {
  const chart = readYaml(`${CHART}/Chart.yaml`) as { name: string; version: string; appVersion: string };
  const files = readdirSync(`${process.cwd()}/${CHART}/templates`).sort();
  const t = new Templates();
  for (const f of files) t.add(`${chart.name}/templates/${f}`, readRepoFile(`${CHART}/templates/${f}`));
  const root = {
    Values: values,
    Release: { Name: release, Namespace: "threadmesh", Service: "Helm", IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Capabilities: { KubeVersion: { Version: "v1.32.0", Major: "1", Minor: "32" } },
    Template: { BasePath: `${chart.name}/templates` },
  };
  const byFile = new Map<string, K8sObject[]>();
  let notes = "";
  for (const f of files) {
    if (f.startsWith("_")) continue;
    const name = `${chart.name}/templates/${f}`;
    const text = t.render(name, { ...root, Template: { ...root.Template, Name: name } });
    if (f === "NOTES.txt") notes = text;
    else byFile.set(f, yamlDocuments(text) as K8sObject[]);
  }
  return { byFile, objects: [...byFile.values()].flat(), notes };
}
