import type { TenantStatus } from "@threadmesh/protocol";

/** A tenant as the store keeps it. Times are Unix seconds. */
export interface TenantRecord {
  id: string;
  name: string;
  /** Plan id (see the rate limiter's plans). */
  plan: string;
  priorityClass: number;
  status: TenantStatus;
  createdAt: number;
  updatedAt: number;
}

export interface NewTenant {
  id: string;
  name: string;
  /** Default {@link DEFAULT_PLAN}. */
  plan?: string;
  /** Default {@link DEFAULT_PRIORITY_CLASS}. */
  priorityClass?: number;
}

export interface TenantPatch {
  name?: string;
  plan?: string;
  priorityClass?: number;
}

/** An API key without its secret: what listings show. Times are Unix seconds. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  /** The key's owner inside the tenant; null for a tenant-wide key. */
  userId: string | null;
  name: string;
  /** Visible start of the key, e.g. `tm_live_ab12cd34`. */
  prefix: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey {
  tenantId: string;
  name: string;
  userId?: string | null;
  /** Default: none. */
  scopes?: readonly string[];
}

/** A key just created: `secret` is the whole key the client presents, returned this once only. */
export interface CreatedApiKey {
  key: ApiKeyRecord;
  secret: string;
}

/** A key found by its secret, with its tenant. */
export interface ApiKeyMatch {
  key: ApiKeyRecord;
  tenant: TenantRecord;
}

export const DEFAULT_PLAN = "default";
export const DEFAULT_PRIORITY_CLASS = 1;
/** Largest page of `listTenants`. */
export const MAX_TENANT_PAGE = 1_000;

/**
 * Tenants and their API keys. Inputs are validated (a bad id, name, plan, priority class, user or scope
 * is a {@link TenancyInputError}); unknown tenants and keys are {@link UnknownTenantError} /
 * {@link UnknownApiKeyError}. Credential changes are stored here only: telling the routers is the
 * caller's job (`publishCredentialEvent` in `@threadmesh/mesh`).
 */
export interface TenantStore {
  /** Throws {@link TenantExistsError} when the id is taken. */
  createTenant(t: NewTenant): Promise<TenantRecord>;
  getTenant(id: string): Promise<TenantRecord | null>;
  /** Ordered by id; `after` continues after that id. */
  listTenants(opts?: { limit?: number; after?: string }): Promise<TenantRecord[]>;
  updateTenant(id: string, patch: TenantPatch): Promise<TenantRecord>;
  suspendTenant(id: string): Promise<TenantRecord>;
  resumeTenant(id: string): Promise<TenantRecord>;

  /** The tenant must exist. The secret is in the result and nowhere else. */
  createApiKey(k: NewApiKey): Promise<CreatedApiKey>;
  /** Newest first; revoked keys only with `includeRevoked`. */
  listApiKeys(tenantId: string, opts?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | null>;
  /** Idempotent: revoking a revoked key keeps its first revocation time. */
  revokeApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord>;
  /** The key whose whole secret this is, revoked or not, with its tenant; null when none. */
  findApiKeyBySecret(secret: string): Promise<ApiKeyMatch | null>;
  /**
   * Notes that the key was used now. Batched: written at most once per key per flush interval, never
   * on the caller's path.
   */
  touchApiKey(tenantId: string, keyId: string): void;
  /** Writes pending last-used times now. */
  flushLastUsed(): Promise<void>;
  /** Flushes, then releases the database when the store owns it. */
  close(): Promise<void>;
}

/** Bad input: `message` says which field and why. */
export class TenancyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TenancyInputError";
  }
}

export class TenantExistsError extends Error {
  readonly tenantId: string;
  constructor(tenantId: string) {
    super(`tenant ${JSON.stringify(tenantId)} already exists`);
    this.name = "TenantExistsError";
    this.tenantId = tenantId;
  }
}

export class UnknownTenantError extends Error {
  readonly tenantId: string;
  constructor(tenantId: string) {
    super(`no tenant ${JSON.stringify(tenantId)}`);
    this.name = "UnknownTenantError";
    this.tenantId = tenantId;
  }
}

export class UnknownApiKeyError extends Error {
  readonly keyId: string;
  constructor(tenantId: string, keyId: string) {
    super(`no API key ${JSON.stringify(keyId)} in tenant ${JSON.stringify(tenantId)}`);
    this.name = "UnknownApiKeyError";
    this.keyId = keyId;
  }
}
