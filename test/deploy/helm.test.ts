import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { loadConfig, ConfigError } from "../../packages/cli/src/config.ts";
import { OPTIONS, type Command } from "../../packages/cli/src/options.ts";
import { readRepoFile, readYaml, repoPath, schemaErrors } from "./deploy-files.ts";
import { CHART, chartValues, renderChart, type K8sObject } from "./helm-render.ts";
import { validateObject } from "./k8s-validate.ts";
import { typeErrors } from "./k8s-typecheck.ts";

// What is checked: values.yaml (and the value sets below) against values.schema.json; every template
// rendered by test/deploy/go-template.ts (Go text/template with the Helm/Sprig functions the chart
// uses) for a minimal and a full value set; every rendered object against the Kubernetes OpenAPI
// schemas of kubernetes-models (types, required fields, formats) and the prometheus-operator CRD schema;
// against kubernetes-models' TypeScript interfaces of the same APIs, whose excess-property checks flag
// unknown or misplaced fields that the schemas let through; and the wiring between objects,
// ports, probes and the real configuration options. Not checked: `helm install` against a cluster,
// the API server's admission, prometheus-adapter serving the custom metrics.

const SCHEMA = `${CHART}/values.schema.json`;
const DB = "postgres://threadmesh:secret@postgres.db:5432/threadmesh";
const MINIMAL = { database: { url: DB } };
const FULL = {
  database: { url: DB },
  model: { apiKey: "sk-test" },
  auth: { token: "t".repeat(40) },
  redis: { url: "redis://redis:6379" },
  tracing: { otlpEndpoint: "http://otel-collector.observability:4318" },
  extraEnv: { THREADMESH_ADMISSION: "true", THREADMESH_SANDBOX: "workspace-write" },
  router: { ingress: { enabled: true, tls: [{ hosts: ["threadmesh.example.com"], secretName: "tls" }] }, autoscaling: { connectionsPerPod: 2000 }, env: { THREADMESH_ALLOWED_ORIGINS: "https://app.example.com" } },
  host: { env: { THREADMESH_COMMAND_TIMEOUT_MS: 120000 }, workspaces: { existingClaim: "workspaces" } },
  adminServer: { enabled: true, token: "a".repeat(40) },
  modelSim: { enabled: true },
  serviceMonitor: { enabled: true, labels: { release: "prometheus" } },
  networkPolicy: { egress: { enabled: true, to: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ port: 4222 }, { port: 5432 }] }] } },
};
const full = renderChart(chartValues(FULL));
const minimal = renderChart(chartValues(MINIMAL));
const find = (objs: K8sObject[], kind: string, suffix: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.endsWith(suffix));
  assert.ok(o, `${kind} …${suffix}`);
  return o;
};
const podSpecs = (objs: K8sObject[]) => objs.filter((o) => o.kind === "Deployment" || o.kind === "Job").map((o) => ({ o, spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels ?? {} }));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

test("values.yaml and the test value sets are valid under values.schema.json; mistakes are refused", () => {
  assert.deepEqual(schemaErrors(SCHEMA, readYaml(`${CHART}/values.yaml`)), []);
  assert.deepEqual(schemaErrors(SCHEMA, chartValues(FULL)), []);
  assert.ok(schemaErrors(SCHEMA, chartValues({ router: { replica: 3 } })).length > 0, "misspelt key");
  assert.ok(schemaErrors(SCHEMA, chartValues({ host: { drainDeadlineMs: "30s" } })).length > 0, "wrong type");
  assert.ok(schemaErrors(SCHEMA, chartValues({ nats: { url: "http://nats:4222" } })).length > 0, "not a NATS URL");
  assert.ok(schemaErrors(SCHEMA, chartValues({ extraEnv: { NOT_A_SETTING: "1" } })).length > 0, "unknown variable");
});

test("every template renders, and every template file yields objects in the full value set", () => {
  const files = readdirSync(repoPath(`${CHART}/templates`)).filter((f) => f.endsWith(".yaml"));
  for (const f of files) assert.ok((full.byFile.get(f) ?? []).length > 0, `${f} renders objects`);
  assert.match(full.notes, /drain for 30000 ms/);
  // Optional parts stay off by default.
  for (const f of ["ingress.yaml", "servicemonitor.yaml", "admin-server.yaml", "model-sim.yaml"]) assert.deepEqual(minimal.byFile.get(f), [], f);
  assert.throws(() => renderChart(chartValues({})), /database\.url or database\.existingSecret is required/);
  assert.throws(() => renderChart(chartValues({ ...MINIMAL, adminServer: { enabled: true } })), /adminServer\.token or adminServer\.existingSecret/);
});

test("every rendered object is valid under its Kubernetes schema", async () => {
  for (const set of [minimal, full]) {
    for (const o of set.objects) {
      const errors = await validateObject(o);
      assert.deepEqual(errors, [], `${o.kind}/${o.metadata.name}`);
    }
  }
  // The check bites.
  const broken = structuredClone(find(full.objects, "Deployment", "-router"));
  broken.spec.template.spec.containers[0].ports[0].containerPort = "8765";
  assert.ok((await validateObject(broken)).length > 0);
});

test("no rendered object has a field the Kubernetes API types do not know", () => {
  // One compilation: both value sets, and a broken copy to show the check bites (a misplaced field
  // deep inside a pod template is reported).
  const broken = structuredClone(find(full.objects, "Deployment", "-host"));
  broken.metadata.name = "broken";
  broken.spec.template.spec.containers[0].terminationGracePeriodSeconds = 30;
  const errors = typeErrors([...minimal.objects, ...full.objects, broken]);
  assert.match(String(errors.get("Deployment/broken")), /terminationGracePeriodSeconds/);
  errors.delete("Deployment/broken");
  assert.deepEqual(Object.fromEntries(errors), {});
});

test("every environment variable is a real option of the container's command, and the settings load", () => {
  const config = find(full.objects, "ConfigMap", "-config").data!;
  const secretValue: Record<string, string> = { DATABASE_URL: DB, OPENAI_API_KEY: "sk-test", THREADMESH_TOKEN: "t".repeat(40), THREADMESH_ADMIN_TOKEN: "a".repeat(40) };
  for (const { o, spec } of podSpecs(full.objects)) {
    for (const c of spec.containers as { name: string; args: string[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string }; fieldRef?: unknown } }[]; envFrom?: unknown[] }[]) {
      const command = c.args[0] as Command;
      const env: Record<string, string> = c.envFrom?.length ? { ...config } : {};
      for (const e of c.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? secretValue[e.valueFrom.secretKeyRef.key]! : `${o.metadata.name}-pod`);
      for (const name of Object.keys(env)) {
        if (name.startsWith("OTEL_")) continue;
        const opt = OPTIONS.find((x) => x.env === name);
        assert.ok(opt, `${o.metadata.name}: ${name} is a configuration variable`);
        assert.ok(opt.commands.includes(command), `${o.metadata.name}: ${name} is read by \`threadmesh ${command}\``);
      }
      try {
        loadConfig(command, c.args.slice(1), env);
      } catch (e) {
        assert.fail(`${o.metadata.name}: ${e instanceof ConfigError ? e.message : String(e)}`);
      }
    }
  }
});

test("session hosts drain within their grace period; routers too", () => {
  for (const [suffix, values] of [["-host", chartValues(FULL).host], ["-router", chartValues(FULL).router]] as const) {
    const v = values as { drainDeadlineMs: number; preStopSleepSeconds: number; terminationMarginSeconds: number };
    const spec = find(full.objects, "Deployment", suffix).spec.template.spec;
    const c = spec.containers[0];
    const drainMs = Number(c.env.find((e: { name: string }) => e.name === "THREADMESH_DRAIN_DEADLINE_MS").value);
    assert.equal(drainMs, v.drainDeadlineMs);
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    assert.equal(preStop, v.preStopSleepSeconds);
    // The kubelet's grace period covers preStop, then SIGTERM: drain deadline + up to 1.5 s to exit.
    assert.ok(spec.terminationGracePeriodSeconds >= preStop + drainMs / 1000 + 1.5, `${suffix}: ${spec.terminationGracePeriodSeconds}s`);
    assert.ok(spec.terminationGracePeriodSeconds <= preStop + drainMs / 1000 + 2 + v.terminationMarginSeconds);
  }
  const custom = renderChart(chartValues({ ...MINIMAL, host: { drainDeadlineMs: 120500, preStopSleepSeconds: 0, terminationMarginSeconds: 0 } }));
  assert.equal(find(custom.objects, "Deployment", "-host").spec.template.spec.terminationGracePeriodSeconds, 123);
});

test("services, probes, PDBs, HPAs, the ingress and the ServiceMonitor point at things that exist", () => {
  const pods = podSpecs(full.objects);
  const portsOf = (labels: Record<string, string>) => pods.filter((p) => matches(labels, p.labels)).flatMap((p) => p.spec.containers.flatMap((c: { ports?: { name: string }[] }) => (c.ports ?? []).map((x) => x.name)));
  for (const { o, spec } of pods) {
    for (const c of spec.containers) {
      const names = (c.ports ?? []).map((p: { name: string }) => p.name);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
        const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
        assert.ok(names.includes(port), `${o.metadata.name}: probe port ${port}`);
      }
    }
  }
  const services = full.objects.filter((o) => o.kind === "Service");
  for (const s of services) {
    const ports = portsOf(s.spec.selector);
    assert.ok(ports.length > 0, `${s.metadata.name} selects pods`);
    for (const p of s.spec.ports) assert.ok(ports.includes(p.targetPort), `${s.metadata.name}: targetPort ${p.targetPort}`);
  }
  for (const pdb of full.objects.filter((o) => o.kind === "PodDisruptionBudget")) assert.ok(portsOf(pdb.spec.selector.matchLabels).length > 0, pdb.metadata.name);
  for (const hpa of full.objects.filter((o) => o.kind === "HorizontalPodAutoscaler")) {
    const target = find(full.objects, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
    assert.equal(target.metadata.name, hpa.spec.scaleTargetRef.name);
    assert.equal(target.spec.replicas, undefined, "an autoscaled Deployment leaves replicas to the HPA");
  }
  // Custom metrics the HPAs ask for are metrics the processes export.
  const hostHpa = find(full.objects, "HorizontalPodAutoscaler", "-host");
  const custom = [...hostHpa.spec.metrics, ...find(full.objects, "HorizontalPodAutoscaler", "-router").spec.metrics].filter((m: { type: string }) => m.type === "Pods").map((m: { pods: { metric: { name: string } } }) => m.pods.metric.name);
  assert.deepEqual(custom.sort(), ["tm_host_turns_active", "tm_router_connections"]);
  const sources = execFileSync("grep", ["-rhoE", "\"tm_(host_turns_active|router_connections)\"", repoPath("packages")], { encoding: "utf8" });
  for (const m of custom) assert.ok(sources.includes(`"${m}"`), `${m} is exported`);

  const ingress = find(full.objects, "Ingress", "");
  const backend = ingress.spec.rules[0].http.paths[0].backend.service;
  const routerSvc = find(services, "Service", "-router");
  assert.equal(backend.name, routerSvc.metadata.name);
  assert.ok(routerSvc.spec.ports.some((p: { name: string }) => p.name === backend.port.name));
  assert.equal(ingress.metadata.annotations!["nginx.ingress.kubernetes.io/proxy-read-timeout"], "3600");
  assert.equal(ingress.metadata.annotations!["nginx.ingress.kubernetes.io/proxy-send-timeout"], "3600");

  const sm = find(full.objects, "ServiceMonitor", "");
  const scraped = services.filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels ?? {}) && sm.spec.selector.matchExpressions[0].values.includes(s.metadata.labels!["app.kubernetes.io/component"]));
  assert.deepEqual(scraped.map((s) => s.metadata.name).sort(), ["tm-threadmesh-host", "tm-threadmesh-router"]);
  for (const s of scraped) assert.ok(s.spec.ports.some((p: { name: string }) => p.name === sm.spec.endpoints[0].port));
  assert.equal(sm.metadata.labels!.release, "prometheus");
});

test("network policies cover every component's pods and name ports they expose", () => {
  const pods = podSpecs(full.objects).filter((p) => p.o.kind === "Deployment");
  const policies = full.objects.filter((o) => o.kind === "NetworkPolicy");
  for (const p of pods) assert.ok(policies.some((np) => matches(np.spec.podSelector.matchLabels, p.labels)), `${p.o.metadata.name} has a policy`);
  for (const np of policies) {
    const selected = pods.filter((p) => matches(np.spec.podSelector.matchLabels, p.labels));
    const names = selected.flatMap((p) => p.spec.containers.flatMap((c: { ports?: { name: string }[] }) => (c.ports ?? []).map((x) => x.name)));
    for (const rule of np.spec.ingress) for (const port of rule.ports) assert.ok(names.includes(port.port), `${np.metadata.name}: port ${port.port}`);
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
  }
  const host = policies.find((np) => np.metadata.name.endsWith("-host"))!;
  assert.deepEqual(host.spec.ingress.map((r: { ports: { port: string }[] }) => r.ports[0]!.port), ["metrics"], "hosts take no traffic but scrapes");
  assert.deepEqual(find(minimal.objects, "NetworkPolicy", "-host").spec.policyTypes, ["Ingress"]);
});

test("migrations run as a hook before the workloads, with the credentials created before them", () => {
  const job = find(full.objects, "Job", "-migrate");
  const secret = find(full.objects, "Secret", "-credentials");
  assert.equal(job.metadata.annotations!["helm.sh/hook"], "pre-install,pre-upgrade");
  assert.equal(secret.metadata.annotations!["helm.sh/hook"], "pre-install,pre-upgrade");
  assert.ok(Number(secret.metadata.annotations!["helm.sh/hook-weight"]) < Number(job.metadata.annotations!["helm.sh/hook-weight"]));
  assert.deepEqual(job.spec.template.spec.containers[0].args, ["migrate"]);
  assert.equal(Buffer.from(secret.data!.DATABASE_URL!, "base64").toString(), DB);
  // An existing secret replaces the chart's value everywhere.
  const ext = renderChart(chartValues({ database: { url: "", existingSecret: "pg", existingSecretKey: "url" } }));
  for (const { o, spec } of podSpecs(ext.objects)) {
    const ref = spec.containers[0].env.find((e: { name: string }) => e.name === "DATABASE_URL").valueFrom.secretKeyRef;
    assert.deepEqual(ref, { name: "pg", key: "url" }, o.metadata.name);
  }
  assert.equal(find(ext.objects, "Secret", "-credentials").data, null);
});

test("pods run as non-root; only the session host loosens seccomp and /proc, for the sandbox", () => {
  for (const { o, spec } of podSpecs(full.objects)) {
    assert.equal(spec.securityContext.runAsNonRoot, true, o.metadata.name);
    assert.equal(spec.automountServiceAccountToken, false, o.metadata.name);
    for (const c of spec.containers) {
      assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.ok(c.resources.requests && c.resources.limits, `${o.metadata.name}: resources`);
      const sandboxed = o.metadata.name.endsWith("-host");
      assert.equal(c.securityContext.seccompProfile.type, sandboxed ? "Unconfined" : "RuntimeDefault", o.metadata.name);
      assert.equal(c.securityContext.procMount, sandboxed ? "Unmasked" : undefined);
    }
  }
  assert.equal(find(full.objects, "Deployment", "-host").spec.template.spec.hostUsers, false);
  const off = renderChart(chartValues({ ...MINIMAL, host: { sandbox: { enabled: false } } }));
  const c = find(off.objects, "Deployment", "-host").spec.template.spec.containers[0];
  assert.equal(c.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.equal(c.securityContext.procMount, undefined);
});

test("the chart README documents every value of values.yaml", () => {
  const readme = readRepoFile(`${CHART}/README.md`);
  const leaves: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0 && !/(resources|podSecurityContext|annotations|labels|nodeSelector|affinity)$/.test(path)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else leaves.push(path);
  };
  walk(readYaml(`${CHART}/values.yaml`), "");
  const missing = leaves.filter((l) => !readme.includes(`| \`${l}\` |`));
  assert.deepEqual(missing, []);
});
