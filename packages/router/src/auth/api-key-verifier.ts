import { hashApiKey, isApiKeyShaped, type ApiKeyMatch } from "@threadmesh/persistence";
import { refuse, type AuthResult, type TokenVerifier } from "./authenticator.ts";

/** What the API key verifier needs of the tenant store. */
export interface ApiKeyLookup {
  findApiKeyBySecret(secret: string): Promise<ApiKeyMatch | null>;
  touchApiKey(tenantId: string, keyId: string): void;
}

export interface ApiKeyVerifierOptions {
  store: ApiKeyLookup;
  /** How long a lookup's answer is reused, in ms; revocations and suspensions drop it at once. */
  cacheMs: number;
  /** Most answers kept; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

interface Cached {
  readonly result: AuthResult;
  readonly tenant: string | undefined;
  readonly keyId: string | undefined;
  readonly until: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * API keys (`tm_live_…`) looked up by their hash in the tenant store. Answers (accepted, revoked,
 * unknown, suspended tenant) are cached by hash for `cacheMs`, so a reconnect storm on one key costs one
 * query; concurrent lookups of one key share a query. {@link forgetKey} / {@link forgetTenant} drop
 * entries when a credential event arrives, so the cache never outlives a revocation.
 */
export class ApiKeyVerifier implements TokenVerifier {
  readonly #store: ApiKeyLookup;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<Cached>>();
  /** Bumped by every forget: a lookup that started before it must not be cached after it. */
  #generation = 0;

  constructor(opts: ApiKeyVerifierOptions) {
    this.#store = opts.store;
    this.#cacheMs = opts.cacheMs;
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = opts.now ?? Date.now;
  }

  async verify(token: string): Promise<AuthResult> {
    if (!isApiKeyShaped(token)) return refuse("malformed", "malformed API key");
    const hash = hashApiKey(token);
    let entry = this.#cache.get(hash);
    if (entry === undefined || entry.until <= this.#now()) {
      let pending = this.#inflight.get(hash);
      if (pending === undefined) {
        pending = this.#lookup(token, hash).finally(() => this.#inflight.delete(hash));
        this.#inflight.set(hash, pending);
      }
      entry = await pending;
    }
    if (entry.result.ok && entry.tenant !== undefined && entry.keyId !== undefined) this.#store.touchApiKey(entry.tenant, entry.keyId);
    return entry.result;
  }

  /** Drops what is cached for one key. */
  forgetKey(keyId: string): void {
    this.#generation++;
    for (const [hash, e] of this.#cache) if (e.keyId === keyId) this.#cache.delete(hash);
  }

  /** Drops what is cached for every key of a tenant. */
  forgetTenant(tenant: string): void {
    this.#generation++;
    for (const [hash, e] of this.#cache) if (e.tenant === tenant) this.#cache.delete(hash);
  }

  async #lookup(token: string, hash: string): Promise<Cached> {
    const generation = this.#generation;
    let match: ApiKeyMatch | null;
    try {
      match = await this.#store.findApiKeyBySecret(token);
    } catch {
      // Not cached: the next attempt asks the store again.
      return { result: refuse("unavailable", "credential store unavailable; retry later"), tenant: undefined, keyId: undefined, until: 0 };
    }
    const entry: Cached = { result: answer(match), tenant: match?.tenant.id, keyId: match?.key.id, until: this.#now() + this.#cacheMs };
    if (generation === this.#generation && this.#cacheMs > 0) {
      this.#cache.delete(hash);
      this.#cache.set(hash, entry);
      if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return entry;
  }
}

function answer(match: ApiKeyMatch | null): AuthResult {
  if (match === null) return refuse("unknown_key", "unknown API key");
  const { key, tenant } = match;
  if (key.revokedAt !== null) return refuse("revoked", `API key ${key.prefix}… was revoked`);
  if (tenant.status === "suspended") return refuse("suspended_tenant", `tenant ${tenant.id} is suspended`);
  return {
    ok: true,
    principal: {
      tenant: tenant.id,
      method: "apiKey",
      keyId: key.id,
      scopes: key.scopes,
      priorityClass: tenant.priorityClass,
      ...(key.userId === null ? {} : { user: key.userId }),
    },
  };
}
