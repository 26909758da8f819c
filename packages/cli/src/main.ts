#!/usr/bin/env node
import { ConfigError, helpText, loadConfig } from "./config.ts";
import { describeStartupError } from "./startup-errors.ts";
import type { Command } from "./options.ts";

const COMMANDS: Record<Command, { summary: string; run: (argv: string[]) => Promise<void>; details?: () => Promise<string> }> = {
  dev: { summary: "embedded mesh: router + session host in one process, SQLite, model simulator when no provider is configured", run: async (a) => (await import("./commands/dev.ts")).runDev(config("dev", a)) },
  router: { summary: "a stateless WebSocket router connected to NATS", run: async (a) => (await import("./commands/router.ts")).runRouter(config("router", a)) },
  host: { summary: "a session host connected to NATS and the store", run: async (a) => (await import("./commands/host.ts")).runHost(config("host", a)) },
  migrate: { summary: "apply database migrations and exit", run: async (a) => (await import("./commands/migrate.ts")).runMigrate(config("migrate", a)) },
  "model-sim": { summary: "an OpenAI Responses API simulator (generative mode; scripts via its /_sim API)", run: async (a) => (await import("./commands/model-sim.ts")).runModelSim(config("model-sim", a)) },
  "admin-server": {
    summary: "the admin API (gRPC) of the distributed topology: its own process with the store and a NATS connection (dev serves it in-process)",
    run: async (a) => (await import("./commands/admin-server.ts")).runAdminServer(config("admin-server", a)),
  },
  admin: {
    summary: "call the admin API: threadmesh admin <resource> <verb> [args] [--json]",
    run: async (a) => (await import("./commands/admin.ts")).runAdmin(a, process.env),
    details: async () => (await import("./admin/admin-verbs.ts")).verbHelp(),
  },
};

function config(command: Command, argv: string[]) {
  return loadConfig(command, argv, process.env);
}

function usage(): string {
  const lines = ["Usage: threadmesh <command> [options]", "", "Commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run `threadmesh <command> --help` for its options.");
  return lines.join("\n");
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return;
  }
  const cmd = COMMANDS[name as Command];
  if (!cmd) {
    console.error(`threadmesh: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(name as Command, cmd.summary) + (cmd.details ? `\n\n${await cmd.details()}` : ""));
    return;
  }
  try {
    await cmd.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`threadmesh ${name}: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    const problem = describeStartupError(e);
    if (problem !== null) {
      console.error(`threadmesh ${name}: ${problem}`);
      // Open handles (a NATS connection retrying, a listener) must not keep a failed start alive.
      process.exit(1);
    }
    throw e;
  }
}

await main(process.argv.slice(2));
