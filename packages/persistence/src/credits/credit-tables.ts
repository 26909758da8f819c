/**
 * Row shapes of the credit tables (migration 0005), as kysely sees them. Money is integer micro-credits,
 * times are Unix milliseconds, booleans 0/1.
 */
export interface CreditTables {
  plans: PlansTable;
  credit_balances: CreditBalancesTable;
  credit_grants: CreditGrantsTable;
  credit_windows: CreditWindowsTable;
  credit_reservations: CreditReservationsTable;
  turn_slots: TurnSlotsTable;
  usage_events: UsageEventsTable;
  billable_events: BillableEventsTable;
  balance_updates: BalanceUpdatesTable;
}

export interface PlansTable {
  id: string;
  name: string;
  plan_type: string;
  priority_class: number;
  unlimited: number;
  primary_window_mins: number | null;
  primary_budget: number | null;
  secondary_window_mins: number | null;
  secondary_budget: number | null;
  max_turns_per_tenant: number;
  max_turns_per_user: number;
  burst_per_key: number;
  burst_per_tenant: number;
  updated_at_ms: number;
}

export interface CreditBalancesTable {
  tenant_id: string;
  balance: number;
  reserved: number;
  /** Bumped by every change of the tenant's credits (not by slot renewals or turn ends). */
  version: number;
  updated_at_ms: number;
}

export interface CreditGrantsTable {
  tenant_id: string;
  id: string;
  amount: number;
  remaining: number;
  reserved: number;
  expires_at_ms: number;
  created_at_ms: number;
}

export interface CreditWindowsTable {
  tenant_id: string;
  /** `primary` | `secondary` */
  kind: string;
  start_ms: number;
  used: number;
  reserved: number;
}

export interface CreditReservationsTable {
  key: string;
  tenant_id: string;
  amount: number;
  /** JSON `ReservationParts`. */
  parts: string;
  state: "held" | "settled" | "released";
  created_at_ms: number;
  expires_at_ms: number;
}

export interface TurnSlotsTable {
  tenant_id: string;
  turn_id: string;
  user_id: string;
  expires_at_ms: number;
}

export interface UsageEventsTable {
  idempotency_key: string;
  tenant_id: string;
  user_id: string;
  turn_id: string;
  round: number;
  model: string;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  created_at_ms: number;
}

export interface BillableEventsTable {
  idempotency_key: string;
  tenant_id: string;
  user_id: string;
  model: string;
  input_price: number;
  cached_input_price: number;
  output_price: number;
  cost: number;
  from_window: number;
  primary_start_ms: number | null;
  secondary_start_ms: number | null;
  from_grants: number;
  from_balance: number;
  uncollected: number;
  created_at_ms: number;
}

export interface BalanceUpdatesTable {
  idempotency_key: string;
  tenant_id: string;
  /** `balance` or `grant:<id>` */
  account: string;
  kind: "topUp" | "grant" | "settlement";
  amount: number;
  created_at_ms: number;
}
