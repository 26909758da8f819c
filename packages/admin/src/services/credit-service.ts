import { randomUUID } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import { emptyTotals } from "@threadmesh/persistence";
import { TenantIdSchema, UserIdSchema } from "@threadmesh/protocol";
import { z } from "zod";
import { invalidArgument } from "../admin-errors.ts";
import { Int64, pageSize, unary, type HandlerContext } from "../unary.ts";
import { balanceMessage, reconcileMessage, usageMessage } from "../wire.ts";
import { tenantOrNotFound, type AdminDeps } from "./admin-deps.ts";

const IdempotencyKey = z.string().regex(/^[A-Za-z0-9_.:-]{0,128}$/, "must be at most 128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'");
const Grant = z.object({
  tenantId: TenantIdSchema,
  grantId: IdempotencyKey,
  amount: Int64.refine((n) => n > 0, "amount must be positive (micro-credits)"),
  expiresAtMs: Int64.refine((n) => n > 0, "expiresAtMs is required (Unix ms)"),
});
const TopUp = z.object({ tenantId: TenantIdSchema, amount: Int64.refine((n) => n !== 0, "amount must not be zero (micro-credits; negative takes credits back)"), idempotencyKey: IdempotencyKey });
const Tenant = z.object({ tenantId: TenantIdSchema });
const Ledger = z.object({ tenantId: TenantIdSchema, pageSize: pageSize(100, 1_000), pageToken: z.string().max(1024) });
const Usage = z
  .object({ tenantId: TenantIdSchema, userId: z.union([z.literal(""), UserIdSchema]), fromMs: Int64, toMs: Int64 })
  .refine((r) => r.fromMs >= 0 && r.toMs >= 0, "fromMs and toMs must not be negative")
  .refine((r) => r.toMs === 0 || r.toMs > r.fromMs, "toMs must be after fromMs");
const Reconcile = z.object({ tenantId: z.union([z.literal(""), TenantIdSchema]) });

/** CreditService: grants, top-ups, balances, the ledger, usage and reconciliation. */
export function creditService(ctx: HandlerContext, deps: AdminDeps): grpc.UntypedServiceImplementation {
  const now = deps.now ?? Date.now;
  const balance = async (tenantId: string) => balanceMessage(await deps.ledger.balance(tenantId, now()));
  return {
    AddGrant: unary(ctx, "AddGrant", Grant, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      const t = now();
      if (r.expiresAtMs <= t) throw invalidArgument(`expiresAtMs: ${new Date(r.expiresAtMs).toISOString()} is not in the future`);
      const grantId = r.grantId === "" ? `grant-${randomUUID()}` : r.grantId;
      const applied = await deps.credits.addGrant(r.tenantId, { id: grantId, amount: r.amount, expiresAtMs: r.expiresAtMs }, t);
      return { grantId, applied, balance: await balance(r.tenantId) };
    }),
    TopUp: unary(ctx, "TopUp", TopUp, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      const key = r.idempotencyKey === "" ? `topup-${randomUUID()}` : r.idempotencyKey;
      const applied = await deps.credits.topUp(r.tenantId, r.amount, key, now());
      return { idempotencyKey: key, applied, balance: await balance(r.tenantId) };
    }),
    GetBalance: unary(ctx, "GetBalance", Tenant, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      return balance(r.tenantId);
    }),
    ListLedger: unary(ctx, "ListLedger", Ledger, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      const page = await deps.ledger.ledger(r.tenantId, { pageSize: r.pageSize, pageToken: r.pageToken || undefined });
      return {
        entries: page.entries.map((e) => ({ idempotencyKey: e.idempotencyKey, account: e.account, kind: e.kind, amount: String(e.amount), createdAtMs: String(e.createdAtMs) })),
        nextPageToken: page.nextPageToken ?? "",
      };
    }),
    GetUsage: unary(ctx, "GetUsage", Usage, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      const users = await deps.ledger.usage({ tenantId: r.tenantId, userId: r.userId || undefined, fromMs: r.fromMs || undefined, toMs: r.toMs || undefined });
      const total = emptyTotals("");
      for (const u of users) {
        for (const k of ["rounds", "inputTokens", "cachedInputTokens", "outputTokens", "cost", "fromWindow", "fromGrants", "fromBalance", "uncollected"] as const) total[k] += u[k];
      }
      return { users: users.map(usageMessage), total: usageMessage(total) };
    }),
    Reconcile: unary(ctx, "Reconcile", Reconcile, async (r) => {
      if (r.tenantId !== "") await tenantOrNotFound(deps, r.tenantId);
      const reports = await deps.credits.reconcile(r.tenantId === "" ? undefined : r.tenantId);
      return { ok: reports.every((x) => x.ok), reports: reports.map(reconcileMessage) };
    }),
  };
}
