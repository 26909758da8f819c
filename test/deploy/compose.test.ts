import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadConfig, ConfigError } from "../../packages/cli/src/config.ts";
import { OPTIONS, type Command } from "../../packages/cli/src/options.ts";
import { interpolate } from "./compose-interpolate.ts";
import { readRepoFile, readYaml, repoPath, schemaErrors } from "./deploy-files.ts";

// What is checked here: deploy/compose.yaml against the Compose Specification's JSON schema, and what
// the schema cannot see: files, services and ports the file names exist and agree with each other, and
// every Threadmesh setting is a real option of its command with a valid value. No container runs here.

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  stop_grace_period?: string;
  security_opt?: string[];
  cap_drop?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE = "deploy/compose.yaml";
const DEPLOY = repoPath("deploy");
const raw = readYaml(COMPOSE);
const compose = interpolate(raw, {}) as ComposeFile;
const services = compose.services;
const IMAGE = "threadmesh:local";
const threadmesh = Object.entries(services).filter(([, s]) => s.image === IMAGE);
const byCommand = (c: Command) => threadmesh.filter(([, s]) => s.command?.[0] === c);
const envOf = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? "")]));
const seconds = (d: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  assert.ok(m, `duration ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] as "ms" | "s" | "m"];
};

test("compose.yaml is valid under the Compose Specification's JSON schema", () => {
  assert.deepEqual(schemaErrors("test/deploy/schemas/compose-spec.json", raw), []);
  // The check bites: a misspelt key and a wrong type are refused.
  const broken = structuredClone(raw) as { services: Record<string, Record<string, unknown>> };
  broken.services["router-1"]!.stop_grace_priod = "1s";
  broken.services["router-2"]!.ports = "8765";
  assert.ok(schemaErrors("test/deploy/schemas/compose-spec.json", broken).length >= 2);
});

test("the mesh is all there: 3 NATS nodes, PostgreSQL, Redis, 2 routers behind a proxy, 3 hosts, simulator, telemetry", () => {
  for (const name of ["nats-1", "nats-2", "nats-3", "postgres", "redis", "migrate", "model-sim", "router-1", "router-2", "host-1", "host-2", "host-3", "admin-server", "proxy", "otel-collector", "jaeger", "prometheus", "grafana"]) {
    assert.ok(services[name], `service ${name}`);
  }
  assert.equal(byCommand("router").length, 2);
  assert.equal(byCommand("host").length, 3);
});

test("every service has an image; builds, mounted files and named volumes exist", () => {
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.image, `${name} has an image`);
    if (s.build) {
      const b = typeof s.build === "string" ? { context: s.build } : s.build;
      const context = resolve(DEPLOY, b.context);
      assert.ok(statSync(context).isDirectory(), `${name}: build context ${context}`);
      assert.ok(existsSync(resolve(context, b.dockerfile ?? "Dockerfile")), `${name}: dockerfile`);
    }
    for (const v of s.volumes ?? []) {
      const [source] = v.split(":");
      if (source!.startsWith(".") || source!.startsWith("/")) assert.ok(existsSync(resolve(DEPLOY, source!)), `${name}: mounted ${source}`);
      else assert.ok(compose.volumes && source! in compose.volumes, `${name}: named volume ${source} is declared`);
    }
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) assert.ok(services[d], `${name} depends on ${d}, a service`);
  }
  const built = threadmesh.filter(([, s]) => s.build);
  assert.ok(built.length > 0, "the threadmesh image is built from deploy/Dockerfile");
});

test("every Threadmesh setting is a real option of the service's command and its value is valid", () => {
  const commands = new Set<string>(["dev", "router", "host", "migrate", "model-sim", "admin-server"]);
  for (const [name, s] of threadmesh) {
    const command = s.command?.[0];
    assert.ok(command && commands.has(command), `${name}: command ${String(command)}`);
    const env = envOf(s);
    for (const key of Object.keys(env)) {
      if (key.startsWith("OTEL_")) continue;
      const o = OPTIONS.find((x) => x.env === key);
      assert.ok(o, `${name}: ${key} is a configuration variable`);
      assert.ok(o.commands.includes(command as Command), `${name}: ${key} is read by \`threadmesh ${command}\``);
    }
    try {
      loadConfig(command as Command, s.command!.slice(1), env);
    } catch (e) {
      assert.fail(`${name}: ${e instanceof ConfigError ? e.message : String(e)}`);
    }
  }
});

test("the same settings pass when the tokens are given, and a required one missing is caught", () => {
  const withTokens = interpolate(raw, { THREADMESH_TOKEN: "t".repeat(48), THREADMESH_ADMIN_TOKEN: "a".repeat(48) }) as ComposeFile;
  assert.equal(envOf(withTokens.services["router-1"]!).THREADMESH_TOKEN, "t".repeat(48));
  assert.throws(() => interpolate("${X:?set X}", {}), /X: set X/);
});

test("routers and hosts reach NATS, PostgreSQL, Redis, the simulator and the collector by service name", () => {
  const nats = ["nats-1", "nats-2", "nats-3"];
  for (const n of nats) {
    const cmd = services[n]!.command!;
    assert.ok(cmd.includes("-js"), `${n} runs JetStream`);
    const routes = cmd[cmd.indexOf("--routes") + 1]!.split(",");
    assert.deepEqual(routes.map((r) => new URL(r).hostname).sort(), nats.filter((x) => x !== n));
    assert.equal(cmd[cmd.indexOf("--cluster_name") + 1], "threadmesh");
  }
  const pg = envOf(services.postgres!);
  for (const [name, s] of threadmesh) {
    const env = envOf(s);
    if (env.NATS_URL) {
      assert.deepEqual(env.NATS_URL.split(",").map((u) => new URL(u).host).sort(), nats.map((n) => `${n}:4222`));
      assert.ok(Number(env.THREADMESH_JETSTREAM_REPLICAS) <= nats.length, `${name}: replicas fit the cluster`);
    }
    if (env.DATABASE_URL) {
      const db = new URL(env.DATABASE_URL);
      assert.equal(db.hostname, "postgres");
      assert.equal(db.username, pg.POSTGRES_USER);
      assert.equal(db.password, pg.POSTGRES_PASSWORD);
      assert.equal(db.pathname, `/${pg.POSTGRES_DB}`);
    }
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT) assert.equal(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT).host, "otel-collector:4318");
  }
  const sim = envOf(services["model-sim"]!);
  assert.equal(sim.THREADMESH_SIM_HOST, "0.0.0.0");
  for (const [name, s] of byCommand("host")) {
    const env = envOf(s);
    assert.equal(env.OPENAI_BASE_URL, `http://model-sim:${sim.THREADMESH_SIM_PORT}/v1`, name);
    assert.equal(new URL(env.THREADMESH_REDIS_URL!).hostname, "redis", name);
  }
  assert.ok(services["model-sim"]!.healthcheck!.test!.join(" ").includes(`:${sim.THREADMESH_SIM_PORT}/healthz`));
  const collector = readYaml("deploy/compose/otel-collector.yaml") as { receivers: { otlp: { protocols: { http: { endpoint: string } } } }; exporters: Record<string, { endpoint: string }> };
  assert.equal(collector.receivers.otlp.protocols.http.endpoint, "0.0.0.0:4318");
  assert.equal(Object.values(collector.exporters)[0]!.endpoint, "jaeger:4317");
});

test("the proxy sends one port to both routers and checks their readiness; Prometheus scrapes every router and host", () => {
  const cfg = readRepoFile("deploy/compose/haproxy.cfg");
  const servers = [...cfg.matchAll(/^\s*server\s+(\S+)\s+([^:\s]+):(\d+)/gm)].map((m) => `${m[2]}:${m[3]}`).sort();
  assert.deepEqual(servers, byCommand("router").map(([name, s]) => `${name}:${envOf(s).THREADMESH_PORT}`).sort());
  assert.match(cfg, /option httpchk GET \/readyz/);
  assert.match(cfg, /timeout tunnel \d+h/);
  const bind = /^\s*bind\s+:(\d+)/m.exec(cfg)![1];
  assert.deepEqual(services.proxy!.ports, [`127.0.0.1:${bind}:${bind}`]);

  const prom = readYaml("deploy/prometheus/prometheus.yml") as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
  const targets = new Set(prom.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets)));
  for (const [name, s] of [...byCommand("router"), ...byCommand("host")]) {
    const env = envOf(s);
    assert.equal(env.THREADMESH_METRICS_HOST, "0.0.0.0", `${name} metrics reachable`);
    // The image's HEALTHCHECK probes /healthz on THREADMESH_METRICS_PORT (deploy/healthcheck.mjs).
    assert.ok(!s.healthcheck || !s.healthcheck.disable, `${name} keeps the image's health check`);
    assert.ok(targets.has(`${name}:${env.THREADMESH_METRICS_PORT}`), `Prometheus scrapes ${name}`);
  }
  const mounts = services.prometheus!.volumes!.map((v) => v.split(":")[0]);
  assert.ok(mounts.includes("./prometheus/prometheus.yml"));
});

test("Grafana is provisioned with the Prometheus datasource and the Threadmesh dashboard", () => {
  const ds = readYaml("deploy/grafana/provisioning/datasources/prometheus.yaml") as { datasources: { type: string; url: string }[] };
  assert.equal(ds.datasources[0]!.type, "prometheus");
  assert.equal(new URL(ds.datasources[0]!.url).hostname, "prometheus");
  const provider = readYaml("deploy/grafana/provisioning/dashboards/threadmesh.yaml") as { providers: { options: { path: string } }[] };
  const dashboardDir = provider.providers[0]!.options.path;
  const mount = services.grafana!.volumes!.find((v) => v.startsWith("./grafana/threadmesh-dashboard.json:"));
  assert.ok(mount, "dashboard mounted");
  assert.equal(dirname(mount.split(":")[1]!), dashboardDir);
  assert.equal((JSON.parse(readRepoFile("deploy/grafana/threadmesh-dashboard.json")) as { uid: string }).uid, "threadmesh");
});

test("stop grace periods cover the drain deadline, ports bind loopback, hosts may sandbox", () => {
  for (const [name, s] of [...byCommand("router"), ...byCommand("host")]) {
    const drainS = Number(envOf(s).THREADMESH_DRAIN_DEADLINE_MS) / 1000;
    // The process exits at most 1.5 s after its drain deadline.
    assert.ok(seconds(s.stop_grace_period!) >= drainS + 1.5, `${name}: stop_grace_period ${s.stop_grace_period} ≥ ${drainS + 1.5}s`);
    assert.deepEqual(s.cap_drop, ["ALL"]);
  }
  for (const [name, s] of byCommand("host")) {
    for (const opt of ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]) assert.ok(s.security_opt?.includes(opt), `${name}: ${opt}`);
  }
  for (const [name, s] of Object.entries(services)) {
    for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name} publishes ${p} on loopback only`);
  }
  assert.equal(services.migrate!.command![0], "migrate");
});
