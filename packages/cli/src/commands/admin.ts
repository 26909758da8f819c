import { parseArgs } from "node:util";
import { AdminCallError, AdminClient } from "@threadmesh/admin/client";
import { loadConfig } from "../config.ts";
import { AdminUsageError, splitAdminArgv } from "../admin/admin-argv.ts";
import { ADMIN_VERBS, IMPLIED_VERB } from "../admin/admin-verbs.ts";

/**
 * `threadmesh admin <resource> <verb> [args] [--json]`: one call to the admin API over gRPC, its answer
 * printed as a table (or JSON). Exit codes: 0 done, 1 the call failed (or `reconcile` found the
 * ledgers disagree), 2 a mistake in the command line. Errors are one line on stderr.
 */
export async function runAdmin(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const split = splitAdminArgv(argv);
  let call: { service: Parameters<AdminClient["call"]>[0]; method: string; request: object };
  let verb: (typeof ADMIN_VERBS)[string][string];
  let json: boolean;
  try {
    const [resource, ...rest] = split.verb;
    const verbs = resource === undefined ? undefined : ADMIN_VERBS[resource];
    if (!verbs) throw new AdminUsageError(resource === undefined ? "name a resource: tenants, keys, plans, credits, usage, reconcile, hosts" : `unknown resource ${JSON.stringify(resource)} (tenants, keys, plans, credits, usage, reconcile, hosts)`);
    const implied = IMPLIED_VERB[resource!];
    const verbName = implied ?? rest.shift();
    const found = verbName === undefined ? undefined : verbs[verbName];
    if (!found) throw new AdminUsageError(`${resource} needs a verb: ${Object.keys(verbs).join(", ")}${verbName === undefined ? "" : ` (got ${JSON.stringify(verbName)})`}`);
    verb = found;
    const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { json: { type: "boolean" } };
    for (const [k, kind] of Object.entries(verb.flags)) options[k] = kind === "multiple" ? { type: "string", multiple: true } : { type: kind };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new AdminUsageError((err as Error).message.split(/\n|\. To specify/)[0]!);
    }
    const words = implied ? resource! : `${resource} ${verbName}`;
    if (parsed.positionals.length !== verb.args.length) throw new AdminUsageError(`${words} takes ${verb.args.length ? verb.args.map((a) => `<${a}>`).join(" ") : "no arguments"} (got ${parsed.positionals.length ? parsed.positionals.map((p) => JSON.stringify(p)).join(" ") : "none"})`);
    const args = Object.fromEntries(verb.args.map((name, i) => [name, parsed.positionals[i]!]));
    json = parsed.values.json === true;
    call = verb.call(args, parsed.values as Record<string, string | boolean | string[] | undefined>, Date.now());
  } catch (err) {
    if (!(err instanceof AdminUsageError)) throw err;
    console.error(`threadmesh admin: ${err.message} (see \`threadmesh admin --help\`)`);
    process.exitCode = 2;
    return;
  }

  const config = loadConfig("admin", split.config, env);
  const address = `${config.adminHost.includes(":") ? `[${config.adminHost}]` : config.adminHost}:${config.adminPort}`;
  const client = new AdminClient({ address, token: config.adminToken, tls: config.adminTlsCa || config.adminTlsCert ? { ca: config.adminTlsCa, cert: config.adminTlsCert, key: config.adminTlsKey } : null });
  try {
    const res = (await client.call(call.service, call.method, call.request)) as Record<string, unknown>;
    console.log(json ? JSON.stringify(res, null, 2) : verb.show(res));
    process.exitCode = verb.exitCode?.(res) ?? 0;
  } catch (err) {
    if (!(err instanceof AdminCallError)) throw err;
    const hint = err.codeName === "UNAVAILABLE" ? ` (is the admin API listening on ${address}?)` : "";
    console.error(`threadmesh admin: ${err.codeName}: ${err.message.split("\n")[0]!.replace(/\s*Resolution note:.*$/, "")}${hint}`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}
