import type { AdminServiceName } from "@threadmesh/admin/client";
import { DEFAULT_PLAN } from "@threadmesh/ratelimit";
import { AdminUsageError, parseCredits, parseInteger, parseTime } from "./admin-argv.ts";
import { credits, table, time } from "./admin-output.ts";

type Flags = Record<string, string | boolean | string[] | undefined>;
type Msg = Record<string, any>;

/** One `threadmesh admin <resource> <verb>`: its arguments, the call it makes and how its answer is shown. */
export interface AdminVerb {
  /** Positional arguments, in order (all required). */
  args: readonly string[];
  /** Flags: string (takes a value), boolean, or multiple (repeatable string). */
  flags: Readonly<Record<string, "string" | "boolean" | "multiple">>;
  summary: string;
  call(a: Record<string, string>, f: Flags, nowMs: number): { service: AdminServiceName; method: string; request: object };
  show(res: Msg): string;
  /** Exit code for an answer (default 0). */
  exitCode?(res: Msg): number;
}

const str = (f: Flags, k: string): string | undefined => (typeof f[k] === "string" ? (f[k] as string) : undefined);
const int = (f: Flags, k: string, min: number, max?: number): number | undefined => (str(f, k) === undefined ? undefined : parseInteger(str(f, k)!, `--${k}`, min, max));
const required = (f: Flags, k: string): string => {
  const v = str(f, k);
  if (v === undefined) throw new AdminUsageError(`--${k} is required`);
  return v;
};

const tenantRows = (ts: Msg[]) => table(["ID", "NAME", "PLAN", "PRIORITY", "STATUS", "CREATED"], ts.map((t) => [t.id, t.name, t.plan, t.priorityClass, t.status, time(t.createdAtMs)]));
const keyRows = (ks: Msg[]) => table(["ID", "PREFIX", "NAME", "USER", "SCOPES", "CREATED", "LAST USED", "REVOKED"], ks.map((k) => [k.id, k.prefix, k.name, k.userId, (k.scopes ?? []).join(","), time(k.createdAtMs), time(k.lastUsedAtMs), time(k.revokedAtMs)]));
const window = (w: Msg | undefined) => (w ? `${credits(w.budget)} / ${w.windowMins} min` : "");
const planRows = (ps: Msg[]) =>
  table(
    ["ID", "NAME", "TYPE", "PRIORITY", "UNLIMITED", "PRIMARY", "SECONDARY", "TURNS/TENANT", "TURNS/USER", "BURST/KEY", "BURST/TENANT"],
    ps.map((p) => [p.id, p.name, p.planType, p.priorityClass, p.unlimited ? "yes" : "no", window(p.primary), window(p.secondary), p.maxTurnsPerTenant, p.maxTurnsPerUser, p.burstPerKey, p.burstPerTenant]),
  );
const balanceText = (b: Msg) =>
  [
    `tenant ${b.tenantId}: balance ${credits(b.balance)} credits (${credits(b.reserved)} reserved), grants ${credits(b.grantsRemaining)} credits left`,
    ...(b.grants?.length ? ["", table(["GRANT", "AMOUNT", "REMAINING", "RESERVED", "EXPIRES"], (b.grants as Msg[]).map((g) => [g.id, credits(g.amount), credits(g.remaining), credits(g.reserved), time(g.expiresAtMs)]))] : []),
  ].join("\n");
const nextPage = (token: string | undefined) => (token ? `\nmore: --page-token ${token}` : "");

export const ADMIN_VERBS: Record<string, Record<string, AdminVerb>> = {
  tenants: {
    create: {
      args: ["id"],
      flags: { name: "string", plan: "string", "priority-class": "string" },
      summary: "create a tenant (--name required; --plan default `default`)",
      call: (a, f) => ({ service: "TenantService", method: "CreateTenant", request: { id: a.id, name: required(f, "name"), plan: str(f, "plan"), priorityClass: int(f, "priority-class", 0, 9) } }),
      show: (t) => tenantRows([t]),
    },
    get: { args: ["id"], flags: {}, summary: "show a tenant", call: (a) => ({ service: "TenantService", method: "GetTenant", request: { id: a.id } }), show: (t) => tenantRows([t]) },
    list: {
      args: [],
      flags: { "page-size": "string", "page-token": "string" },
      summary: "list tenants by id, a page at a time",
      call: (_a, f) => ({ service: "TenantService", method: "ListTenants", request: { pageSize: int(f, "page-size", 1, 1_000) ?? 0, pageToken: str(f, "page-token") ?? "" } }),
      show: (r) => tenantRows(r.tenants ?? []) + nextPage(r.nextPageToken),
    },
    update: {
      args: ["id"],
      flags: { name: "string", plan: "string", "priority-class": "string" },
      summary: "change a tenant's name, plan or priority class",
      call: (a, f) => ({ service: "TenantService", method: "UpdateTenant", request: { id: a.id, name: str(f, "name"), plan: str(f, "plan"), priorityClass: int(f, "priority-class", 0, 9) } }),
      show: (t) => tenantRows([t]),
    },
    suspend: { args: ["id"], flags: {}, summary: "suspend a tenant: its live connections are closed on every router", call: (a) => ({ service: "TenantService", method: "SuspendTenant", request: { id: a.id } }), show: (t) => tenantRows([t]) },
    resume: { args: ["id"], flags: {}, summary: "resume a suspended tenant", call: (a) => ({ service: "TenantService", method: "ResumeTenant", request: { id: a.id } }), show: (t) => tenantRows([t]) },
  },
  keys: {
    create: {
      args: ["tenant"],
      flags: { name: "string", user: "string", scope: "multiple" },
      summary: "create an API key (--name required); its secret is printed this once",
      call: (a, f) => ({ service: "ApiKeyService", method: "CreateApiKey", request: { tenantId: a.tenant, name: required(f, "name"), userId: str(f, "user"), scopes: (f.scope as string[] | undefined) ?? [] } }),
      show: (r) => `${keyRows([r.key])}\n\nsecret (shown this once): ${r.secret}`,
    },
    list: {
      args: ["tenant"],
      flags: { "include-revoked": "boolean" },
      summary: "list a tenant's API keys (never their secrets)",
      call: (a, f) => ({ service: "ApiKeyService", method: "ListApiKeys", request: { tenantId: a.tenant, includeRevoked: f["include-revoked"] === true } }),
      show: (r) => keyRows(r.keys ?? []),
    },
    revoke: {
      args: ["tenant", "keyId"],
      flags: {},
      summary: "revoke an API key: connections it authenticated are closed on every router",
      call: (a) => ({ service: "ApiKeyService", method: "RevokeApiKey", request: { tenantId: a.tenant, keyId: a.keyId } }),
      show: (k) => keyRows([k]),
    },
  },
  plans: {
    put: {
      args: ["id"],
      flags: {
        name: "string",
        "plan-type": "string",
        "priority-class": "string",
        unlimited: "boolean",
        "primary-window-mins": "string",
        "primary-budget": "string",
        "secondary-window-mins": "string",
        "secondary-budget": "string",
        "max-turns-per-tenant": "string",
        "max-turns-per-user": "string",
        "burst-per-key": "string",
        "burst-per-tenant": "string",
      },
      summary: "create or replace a plan; budgets in credits per window (e.g. --primary-budget 5 --primary-window-mins 300); unset limits take the default plan's",
      call: (a, f) => {
        const w = (kind: "primary" | "secondary") => {
          const budget = str(f, `${kind}-budget`);
          if (budget === undefined) return undefined;
          return { windowMins: int(f, `${kind}-window-mins`, 1) ?? (kind === "primary" ? 300 : 10_080), budget: parseCredits(budget, `--${kind}-budget`) };
        };
        return {
          service: "PlanService",
          method: "PutPlan",
          request: {
            plan: {
              id: a.id,
              name: str(f, "name") ?? a.id,
              planType: str(f, "plan-type") ?? DEFAULT_PLAN.planType,
              priorityClass: int(f, "priority-class", 0, 9) ?? DEFAULT_PLAN.priorityClass,
              unlimited: f.unlimited === true,
              primary: w("primary"),
              secondary: w("secondary"),
              maxTurnsPerTenant: int(f, "max-turns-per-tenant", 1) ?? DEFAULT_PLAN.maxTurnsPerTenant,
              maxTurnsPerUser: int(f, "max-turns-per-user", 1) ?? DEFAULT_PLAN.maxTurnsPerUser,
              burstPerKey: int(f, "burst-per-key", 1) ?? DEFAULT_PLAN.burstPerKey,
              burstPerTenant: int(f, "burst-per-tenant", 1) ?? DEFAULT_PLAN.burstPerTenant,
            },
          },
        };
      },
      show: (p) => planRows([p]),
    },
    get: { args: ["id"], flags: {}, summary: "show a plan", call: (a) => ({ service: "PlanService", method: "GetPlan", request: { id: a.id } }), show: (p) => planRows([p]) },
    list: { args: [], flags: {}, summary: "list plans", call: () => ({ service: "PlanService", method: "ListPlans", request: {} }), show: (r) => planRows(r.plans ?? []) },
  },
  credits: {
    grant: {
      args: ["tenant"],
      flags: { amount: "string", expires: "string", id: "string" },
      summary: "grant credits that expire (--amount credits, --expires ISO time or 30d; --id makes it idempotent)",
      call: (a, f, now) => ({
        service: "CreditService",
        method: "AddGrant",
        request: { tenantId: a.tenant, grantId: str(f, "id") ?? "", amount: parseCredits(required(f, "amount"), "--amount"), expiresAtMs: parseTime(required(f, "expires"), "--expires", now, "ahead") },
      }),
      show: (r) => `${r.applied ? "granted" : "already granted (nothing changed)"}: ${r.grantId}\n${balanceText(r.balance)}`,
    },
    "top-up": {
      args: ["tenant"],
      flags: { amount: "string", key: "string" },
      summary: "add purchased credits (--amount credits, negative takes back; --key makes it idempotent)",
      call: (a, f) => ({ service: "CreditService", method: "TopUp", request: { tenantId: a.tenant, amount: parseCredits(required(f, "amount"), "--amount"), idempotencyKey: str(f, "key") ?? "" } }),
      show: (r) => `${r.applied ? "topped up" : "already applied (nothing changed)"}: ${r.idempotencyKey}\n${balanceText(r.balance)}`,
    },
    balance: { args: ["tenant"], flags: {}, summary: "purchased credits and live grants", call: (a) => ({ service: "CreditService", method: "GetBalance", request: { tenantId: a.tenant } }), show: balanceText },
    ledger: {
      args: ["tenant"],
      flags: { "page-size": "string", "page-token": "string" },
      summary: "balance updates (top-ups, grants, settlements), oldest first, a page at a time",
      call: (a, f) => ({ service: "CreditService", method: "ListLedger", request: { tenantId: a.tenant, pageSize: int(f, "page-size", 1, 1_000) ?? 0, pageToken: str(f, "page-token") ?? "" } }),
      show: (r) => table(["TIME", "KIND", "ACCOUNT", "AMOUNT", "KEY"], (r.entries as Msg[]).map((e) => [time(e.createdAtMs), e.kind, e.account, credits(e.amount), e.idempotencyKey])) + nextPage(r.nextPageToken),
    },
  },
  usage: {
    show: {
      args: ["tenant"],
      flags: { user: "string", from: "string", to: "string" },
      summary: "usage and its cost per user (--user; --from and --to: ISO times, Unix ms or durations ago such as 7d)",
      call: (a, f, now) => ({
        service: "CreditService",
        method: "GetUsage",
        request: { tenantId: a.tenant, userId: str(f, "user") ?? "", fromMs: str(f, "from") === undefined ? 0 : parseTime(str(f, "from")!, "--from", now, "ago"), toMs: str(f, "to") === undefined ? 0 : parseTime(str(f, "to")!, "--to", now, "ago") },
      }),
      show: (r) =>
        table(
          ["USER", "ROUNDS", "INPUT", "CACHED", "OUTPUT", "COST", "PLAN", "GRANTS", "CREDITS", "UNCOLLECTED"],
          [...(r.users as Msg[]), { ...r.total, userId: "(total)" }].map((u) => [u.userId, u.rounds, u.inputTokens, u.cachedInputTokens, u.outputTokens, credits(u.cost), credits(u.fromWindow), credits(u.fromGrants), credits(u.fromBalance), credits(u.uncollected)]),
        ),
    },
  },
  reconcile: {
    run: {
      args: [],
      flags: { tenant: "string" },
      summary: "prove the three ledgers and the balances agree (every tenant, or --tenant); exits 1 when they do not",
      call: (_a, f) => ({ service: "CreditService", method: "Reconcile", request: { tenantId: str(f, "tenant") ?? "" } }),
      show: (r) =>
        [
          table(["TENANT", "OK", "USAGE EVENTS", "BILLED", "BALANCE", "IN FLIGHT"], (r.reports as Msg[]).map((x) => [x.tenantId, x.ok ? "yes" : "NO", x.usageEvents, credits(x.billed), credits(x.balance), credits(x.reservedInFlight)])),
          ...(r.reports as Msg[]).flatMap((x) => (x.problems as string[]).map((p) => `${x.tenantId}: ${p}`)),
          r.ok ? "ledgers agree" : "LEDGERS DISAGREE",
        ].join("\n"),
      exitCode: (r) => (r.ok ? 0 : 1),
    },
  },
  hosts: {
    list: {
      args: [],
      flags: {},
      summary: "live session hosts and their load",
      call: () => ({ service: "HostService", method: "ListHosts", request: {} }),
      show: (r) => table(["HOST", "THREADS", "CAPACITY", "ACTIVE TURNS", "DRAINING", "LAST HEARTBEAT"], (r.hosts as Msg[]).map((h) => [h.hostId, h.loadedThreads, h.capacity, h.activeTurns, h.draining ? "yes" : "no", time(h.lastHeartbeatMs)])),
    },
    drain: {
      args: ["hostId"],
      flags: { "deadline-ms": "string" },
      summary: "stop a host taking new threads and turns; running turns get --deadline-ms (default 10000) to finish, then move to another host",
      call: (a, f) => ({ service: "HostService", method: "DrainHost", request: { hostId: a.hostId, deadlineMs: int(f, "deadline-ms", 0, 600_000) ?? 0 } }),
      show: (r) => `host ${r.hostId} is draining`,
    },
  },
};

/** Resources whose only verb is implied: `threadmesh admin reconcile`, `threadmesh admin usage <tenant>`. */
export const IMPLIED_VERB: Readonly<Record<string, string>> = { reconcile: "run", usage: "show" };

/** The verb list for `--help`. */
export function verbHelp(): string {
  const lines: string[] = ["Resources and verbs (`--json` prints the answer as JSON):"];
  for (const [resource, verbs] of Object.entries(ADMIN_VERBS)) {
    for (const [name, v] of Object.entries(verbs)) {
      const words = IMPLIED_VERB[resource] === name ? resource : `${resource} ${name}`;
      const flags = Object.entries(v.flags).map(([k, kind]) => (kind === "boolean" ? `[--${k}]` : `[--${k} …]`));
      lines.push(`  ${[words, ...v.args.map((x) => `<${x}>`), ...flags].join(" ")}`, `      ${v.summary}`);
    }
  }
  return lines.join("\n");
}
