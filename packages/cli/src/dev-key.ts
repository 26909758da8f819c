import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TenantExistsError, type TenantStore } from "@threadmesh/persistence";

/** File, next to the SQLite database, holding the API key `threadmesh dev` prints. */
export const DEV_KEY_FILE = "dev-api-key";

/**
 * The default tenant and an API key for it, for `threadmesh dev`. The key is created on the first start
 * and kept in `<data dir>/dev-api-key` (mode 0600, as an SSH key would be), so later starts print the
 * same working key; the store itself only holds its hash. A key that was revoked or deleted, or whose
 * file was removed, is replaced by a new one. `created` says which happened.
 */
export async function ensureDevApiKey(store: TenantStore, opts: { tenant: string; databaseUrl: string }): Promise<{ secret: string; keyFile: string; created: boolean }> {
  try {
    await store.createTenant({ id: opts.tenant, name: opts.tenant === "default" ? "Default" : opts.tenant });
  } catch (err) {
    if (!(err instanceof TenantExistsError)) throw err;
  }
  const keyFile = join(dataDirOf(opts.databaseUrl), DEV_KEY_FILE);
  const saved = readSaved(keyFile);
  if (saved !== null) {
    const match = await store.findApiKeyBySecret(saved);
    if (match && match.key.revokedAt === null && match.tenant.id === opts.tenant) return { secret: saved, keyFile, created: false };
  }
  const { secret } = await store.createApiKey({ tenantId: opts.tenant, name: "threadmesh dev" });
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${secret}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return { secret, keyFile, created: true };
}

/** The SQLite file's directory, else `./data`. */
function dataDirOf(databaseUrl: string): string {
  const m = /^sqlite:(.+)$/.exec(databaseUrl);
  if (m && m[1] !== ":memory:") return dirname(resolve(m[1]!));
  return resolve("./data");
}

function readSaved(file: string): string | null {
  try {
    const s = readFileSync(file, "utf8").trim();
    return s.length > 0 ? s : null;
  } catch {
    return null;
  }
}
