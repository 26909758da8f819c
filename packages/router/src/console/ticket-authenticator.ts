import type { IncomingHttpHeaders } from "node:http";
import type { AuthRequest, AuthResult, Authenticator } from "../auth/authenticator.ts";
import type { ConsoleTickets } from "./tickets.ts";

/** Subprotocol prefix carrying a console ticket: `threadmesh.ticket.<ticket>`. */
export const TICKET_PROTOCOL_PREFIX = "threadmesh.ticket.";
/** Subprotocol the console offers first, so that the server echoes it rather than the ticket. */
export const CONSOLE_PROTOCOL = "threadmesh.console";

/** The console ticket an upgrade offers among its subprotocols, if any. */
export function ticketOf(headers: IncomingHttpHeaders): string | undefined {
  const offered = headers["sec-websocket-protocol"];
  if (typeof offered !== "string") return undefined;
  for (const p of offered.split(",")) {
    const protocol = p.trim();
    if (protocol.startsWith(TICKET_PROTOCOL_PREFIX)) return protocol.slice(TICKET_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

/**
 * Upgrades offering a console ticket are authenticated by the ticket alone (an unknown, used or
 * expired one gets 401); every other upgrade goes to the wrapped authenticator.
 */
export class TicketAuthenticator implements Authenticator {
  constructor(
    readonly inner: Authenticator,
    private readonly tickets: ConsoleTickets,
  ) {}

  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const ticket = ticketOf(req.headers);
    if (ticket === undefined) return this.inner.authenticate(req);
    const principal = await this.tickets.redeem(ticket);
    if (principal === undefined) return { ok: false, message: "console ticket is unknown, used or expired", reason: "invalid" };
    return { ok: true, principal };
  }
}
