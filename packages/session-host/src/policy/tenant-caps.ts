import { InternalError, type PolicyLimits } from "@threadmesh/protocol";
import { SANDBOX_MODES, type PolicyCaps, type PolicyCapsLookup } from "./policy-caps.ts";

/** Where a host reads the policy limits of a tenant and of its plan (the tenant policy store). */
export interface TenantPolicySource {
  /** Null for a tenant the store does not know: it runs with the server's caps. */
  limitsOf(tenant: string): Promise<{ tenant: PolicyLimits; plan: PolicyLimits } | null>;
}

/** Default of how long a tenant's resolved caps are used before they are read again, in ms. */
export const DEFAULT_TENANT_CAPS_TTL_MS = 5_000;

/**
 * The server's caps narrowed by each set of limits in turn (a plan's, then a tenant's): the lower
 * highest sandbox mode, the approval policies every level allows. Limits never widen the caps.
 */
export function narrowCaps(server: PolicyCaps, ...limits: readonly PolicyLimits[]): PolicyCaps {
  let maxSandbox = server.maxSandbox;
  let approvalPolicies = [...server.approvalPolicies];
  for (const l of limits) {
    if (l.maxSandbox !== null && SANDBOX_MODES.indexOf(l.maxSandbox) < SANDBOX_MODES.indexOf(maxSandbox)) maxSandbox = l.maxSandbox;
    if (l.approvalPolicies !== null) approvalPolicies = approvalPolicies.filter((p) => l.approvalPolicies!.includes(p));
  }
  return Object.freeze({ ...server, maxSandbox, approvalPolicies: Object.freeze(approvalPolicies) });
}

interface Entry {
  caps: PolicyCaps;
  readAt: number;
  refreshing: Promise<void> | null;
}

/**
 * Per-tenant caps for the synchronous {@link PolicyCapsLookup} the handlers call: the host calls
 * {@link prepare} before it serves a command from the placement group or loads a thread, which reads the
 * tenant's limits when it has none or they are older than the time to live (a lookup of older ones reads
 * them again in the background); a lookup of a tenant never prepared is refused rather than served with
 * the server's wider caps.
 */
export class TenantCapsCache {
  readonly #server: PolicyCaps;
  readonly #source: TenantPolicySource;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: { server: PolicyCaps; source: TenantPolicySource; ttlMs?: number; now?: () => number }) {
    this.#server = opts.server;
    this.#source = opts.source;
    this.#ttlMs = opts.ttlMs ?? DEFAULT_TENANT_CAPS_TTL_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Reads the tenant's limits unless fresh ones are held; a read in progress is shared. */
  prepare(tenant: string): Promise<void> {
    const e = this.#entries.get(tenant);
    if (e !== undefined && this.#now() - e.readAt < this.#ttlMs) return Promise.resolve();
    if (e?.refreshing) return e.refreshing;
    const refreshing = this.#read(tenant);
    if (e !== undefined) e.refreshing = refreshing;
    else this.#entries.set(tenant, { caps: this.#server, readAt: -Infinity, refreshing });
    return refreshing;
  }

  readonly lookup: PolicyCapsLookup = (tenant) => {
    const e = this.#entries.get(tenant);
    if (e === undefined || e.readAt === -Infinity) throw new InternalError(`policy caps of tenant ${tenant} are not loaded yet; retry`);
    // Commands sent straight to a loaded thread pass no prepare: an old entry is read again behind them.
    if (this.#now() - e.readAt >= this.#ttlMs && e.refreshing === null) this.prepare(tenant).catch(() => undefined);
    return e.caps;
  };

  async #read(tenant: string): Promise<void> {
    try {
      const limits = await this.#source.limitsOf(tenant);
      const caps = limits === null ? this.#server : narrowCaps(this.#server, limits.plan, limits.tenant);
      this.#entries.set(tenant, { caps, readAt: this.#now(), refreshing: null });
    } catch (err) {
      const e = this.#entries.get(tenant);
      if (e !== undefined) e.refreshing = null;
      // Caps read before stay in force; a tenant never read stays refused.
      if (e === undefined || e.readAt === -Infinity) throw err;
    }
  }
}
