import type { Migration, MigrationProvider } from "kysely";
import { migration0001Initial } from "./0001-initial.ts";
import { migration0002ServerRequests } from "./0002-server-requests.ts";
import { migration0003TurnOutputSchema } from "./0003-turn-output-schema.ts";
import { migration0004TenantsAndKeys } from "./0004-tenants-and-keys.ts";
import { migration0005Credits } from "./0005-credits.ts";
import { migration0006ThreadOwners } from "./0006-thread-owners.ts";
import { migration0007PolicyLimits } from "./0007-policy-limits.ts";
import { migration0008ReadStates } from "./0008-read-states.ts";

/**
 * Every migration, keyed by name. Names sort in apply order (kysely sorts them), so they are numbered;
 * add new ones here rather than relying on a folder scan, which would not survive bundling.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  "0001-initial": migration0001Initial,
  "0002-server-requests": migration0002ServerRequests,
  "0003-turn-output-schema": migration0003TurnOutputSchema,
  "0004-tenants-and-keys": migration0004TenantsAndKeys,
  "0005-credits": migration0005Credits,
  "0006-thread-owners": migration0006ThreadOwners,
  "0007-policy-limits": migration0007PolicyLimits,
  "0008-read-states": migration0008ReadStates,
});

/** Hands kysely's `Migrator` the static table above. */
export const staticMigrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
