import { randomBytes } from "node:crypto";
import type { Principal } from "../auth/authenticator.ts";

/** How long a console ticket may wait for its WebSocket upgrade, in ms. */
export const CONSOLE_TICKET_TTL_MS = 30_000;
/** Unredeemed tickets one router keeps; the oldest go first beyond it. */
const MAX_TICKETS = 10_000;

/**
 * Short-lived, single-use tickets that let a browser open a WebSocket as the principal a
 * `POST /console/ticket` authenticated (browsers cannot set `Authorization` on a WebSocket). A ticket
 * is valid on the router that issued it only, for {@link CONSOLE_TICKET_TTL_MS}.
 */
export class ConsoleTickets {
  readonly #tickets = new Map<string, { principal: Principal; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? CONSOLE_TICKET_TTL_MS;
    this.#now = opts.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  issue(principal: Principal): string {
    this.#sweep();
    while (this.#tickets.size >= MAX_TICKETS) {
      const oldest = this.#tickets.keys().next().value;
      if (oldest === undefined) break;
      this.#tickets.delete(oldest);
    }
    const ticket = randomBytes(24).toString("base64url");
    this.#tickets.set(ticket, { principal, expiresAt: this.#now() + this.#ttlMs });
    return ticket;
  }

  /** The ticket's principal, once; undefined when unknown, used or expired. */
  redeem(ticket: string): Principal | undefined {
    const entry = this.#tickets.get(ticket);
    if (entry === undefined) return undefined;
    this.#tickets.delete(ticket);
    return entry.expiresAt > this.#now() ? entry.principal : undefined;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [ticket, entry] of this.#tickets) {
      if (entry.expiresAt > now) break;
      this.#tickets.delete(ticket);
    }
  }
}
