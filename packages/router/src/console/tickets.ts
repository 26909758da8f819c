import { randomBytes } from "node:crypto";
import type { Principal } from "../auth/authenticator.ts";

/** How long a console ticket may wait for its WebSocket upgrade, in ms. */
export const CONSOLE_TICKET_TTL_MS = 30_000;
/** Redeemed tickets one router remembers until they expire; the oldest go first beyond it. */
const MAX_REDEEMED = 10_000;
/** Shortest ticket key, in bytes (RFC 7518 §3.2: at least the size of the HS256 hash). */
export const MIN_TICKET_SECRET_BYTES = 32;
const AUDIENCE = "threadmesh-console";
const ALG = "HS256";

/**
 * Short-lived tickets that let a browser open a WebSocket as the principal a `POST /console/ticket`
 * authenticated (browsers cannot set `Authorization` on a WebSocket). A ticket is a JWT signed with
 * HS256 carrying the principal, valid for {@link CONSOLE_TICKET_TTL_MS} on every router holding the same
 * key, so a ticket issued by one router behind a shared address is redeemed by any of them. Without a
 * configured key each router draws its own, and its tickets are valid on it alone. Each router
 * redeems a ticket once.
 */
export class ConsoleTickets {
  readonly #key: Uint8Array;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Redeemed ticket ids, with when they expire (ms), oldest first. */
  readonly #redeemed = new Map<string, number>();

  constructor(opts: { secret?: string; ttlMs?: number; now?: () => number } = {}) {
    this.#key = opts.secret === undefined ? randomBytes(MIN_TICKET_SECRET_BYTES) : new TextEncoder().encode(opts.secret);
    if (this.#key.byteLength < MIN_TICKET_SECRET_BYTES) throw new Error(`console ticket secret must be at least ${MIN_TICKET_SECRET_BYTES} bytes`);
    this.#ttlMs = opts.ttlMs ?? CONSOLE_TICKET_TTL_MS;
    this.#now = opts.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  async issue(principal: Principal): Promise<string> {
    // jose loads with the first ticket, off the router's start.
    const { SignJWT } = await import("jose");
    const now = this.#now();
    return new SignJWT({ principal: { ...principal } })
      .setProtectedHeader({ alg: ALG })
      .setAudience(AUDIENCE)
      .setJti(randomBytes(16).toString("base64url"))
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor((now + this.#ttlMs) / 1000))
      .sign(this.#key);
  }

  /** The ticket's principal, once per router; undefined when forged, malformed, used or expired. */
  async redeem(ticket: string): Promise<Principal | undefined> {
    const { jwtVerify } = await import("jose");
    const now = this.#now();
    let payload;
    try {
      ({ payload } = await jwtVerify(ticket, this.#key, { algorithms: [ALG], audience: AUDIENCE, currentDate: new Date(now), requiredClaims: ["jti", "exp"] }));
    } catch {
      return undefined;
    }
    const principal = principalOf(payload.principal);
    const jti = payload.jti!;
    if (principal === undefined) return undefined;
    this.#sweep(now);
    if (this.#redeemed.has(jti)) return undefined;
    while (this.#redeemed.size >= MAX_REDEEMED) {
      const oldest = this.#redeemed.keys().next().value;
      if (oldest === undefined) break;
      this.#redeemed.delete(oldest);
    }
    this.#redeemed.set(jti, payload.exp! * 1000);
    return principal;
  }

  #sweep(now: number): void {
    for (const [jti, expiresAt] of this.#redeemed) {
      if (expiresAt > now) break;
      this.#redeemed.delete(jti);
    }
  }
}

function principalOf(v: unknown): Principal | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p.tenant !== "string" || typeof p.method !== "string") return undefined;
  if (p.scopes !== undefined && !(Array.isArray(p.scopes) && p.scopes.every((s) => typeof s === "string"))) return undefined;
  return {
    tenant: p.tenant,
    method: p.method,
    ...(typeof p.user === "string" ? { user: p.user } : {}),
    ...(typeof p.keyId === "string" ? { keyId: p.keyId } : {}),
    ...(Array.isArray(p.scopes) ? { scopes: p.scopes as string[] } : {}),
    ...(typeof p.priorityClass === "number" ? { priorityClass: p.priorityClass } : {}),
  };
}
