import { z } from "zod";

/**
 * Shapes of tenants and credentials shared by the store, the routers and the admin layer. A tenant id
 * becomes a NATS subject token (`tm.v1.<tenant>.…`), so it has that token's alphabet and length.
 */
export const TenantIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "tenant id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'");
export const TenantNameSchema = z.string().trim().min(1, "tenant name must not be empty").max(200, "tenant name must be at most 200 characters");
/** A plan id as the rate limiter names plans. */
export const PlanIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "plan must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' or '-'");
/** Shedding order: lower classes are refused first under pressure. */
export const PriorityClassSchema = z.number().int("priority class must be an integer").min(0, "priority class must be 0 to 9").max(9, "priority class must be 0 to 9");
export const TenantStatusSchema = z.enum(["active", "suspended"]);
/** A user inside a tenant: a JWT subject or a key's owner. */
export const UserIdSchema = z.string().min(1, "user id must not be empty").max(256, "user id must be at most 256 characters");
export const ApiKeyNameSchema = z.string().trim().min(1, "key name must not be empty").max(200, "key name must be at most 200 characters");
export const ScopeSchema = z.string().regex(/^[a-z][a-z0-9:._-]{0,63}$/, "scope must be 1 to 64 characters of a-z, 0-9, ':', '.', '_' or '-', starting with a letter");
export const ScopesSchema = z.array(ScopeSchema).max(64, "at most 64 scopes");

/** The highest sandbox mode a tenant or a plan allows (narrowing the server's cap, never widening it). */
export const MaxSandboxSchema = z.enum(["read-only", "workspace-write", "danger-full-access"]);
/** An approval policy as a cap names it; `granular` stands for every granular policy. */
export const ApprovalPolicyNameSchema = z.enum(["untrusted", "on-request", "never", "granular"]);
/**
 * Policy limits of a tenant or a plan: each null field leaves the cap above it as it is. The effective
 * caps of a tenant are the server's narrowed by its plan's and then by its own.
 */
export const PolicyLimitsSchema = z.object({
  maxSandbox: MaxSandboxSchema.nullable(),
  approvalPolicies: z.array(ApprovalPolicyNameSchema).max(4).nullable(),
});

export type TenantStatus = z.infer<typeof TenantStatusSchema>;
export type PolicyLimits = z.infer<typeof PolicyLimitsSchema>;

/** First issue of a zod failure, as one line for an error message. */
export function firstIssue(error: { issues: ReadonlyArray<{ message: string }> }): string {
  return error.issues[0]?.message ?? "invalid value";
}

/**
 * Credential changes every router must apply at once (subject {@link CREDENTIAL_EVENTS_SUBJECT}): drop
 * cached credentials and close the connections they authenticated.
 * - `keyRevoked`: one API key.
 * - `tenantSuspended`: every credential of the tenant.
 * - `tenantResumed`: cached refusals of the tenant are dropped.
 */
export const CredentialEventSchema = z.discriminatedUnion("kind", [
  z.object({ v: z.literal(1), kind: z.literal("keyRevoked"), tenant: TenantIdSchema, keyId: z.string().min(1).max(128) }),
  z.object({ v: z.literal(1), kind: z.literal("tenantSuspended"), tenant: TenantIdSchema }),
  z.object({ v: z.literal(1), kind: z.literal("tenantResumed"), tenant: TenantIdSchema }),
]);
export type CredentialEvent = z.infer<typeof CredentialEventSchema>;

/** Core NATS subject of {@link CredentialEvent}s, outside the tenant-scoped `tm.v1.` tree. */
export const CREDENTIAL_EVENTS_SUBJECT = "tm.ctl.v1.credentials";
