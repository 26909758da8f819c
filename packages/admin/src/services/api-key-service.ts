import type * as grpc from "@grpc/grpc-js";
import { ApiKeyNameSchema, ScopesSchema, TenantIdSchema, UserIdSchema } from "@threadmesh/protocol";
import { z } from "zod";
import { notFound } from "../admin-errors.ts";
import { unary, type HandlerContext } from "../unary.ts";
import { apiKeyMessage } from "../wire.ts";
import { broadcast, tenantOrNotFound, type AdminDeps } from "./admin-deps.ts";

const Create = z.object({ tenantId: TenantIdSchema, name: ApiKeyNameSchema, userId: UserIdSchema.optional(), scopes: ScopesSchema });
const List = z.object({ tenantId: TenantIdSchema, includeRevoked: z.boolean() });
const Revoke = z.object({ tenantId: TenantIdSchema, keyId: z.string().min(1, "keyId must not be empty").max(128, "keyId must be at most 128 characters") });

/** ApiKeyService: create (the secret returned this once), list, revoke (closing its connections on every router). */
export function apiKeyService(ctx: HandlerContext, deps: AdminDeps): grpc.UntypedServiceImplementation {
  return {
    CreateApiKey: unary(ctx, "CreateApiKey", Create, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      const { key, secret } = await deps.tenants.createApiKey({ tenantId: r.tenantId, name: r.name, userId: r.userId ?? null, scopes: r.scopes });
      return { key: apiKeyMessage(key), secret };
    }),
    ListApiKeys: unary(ctx, "ListApiKeys", List, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      return { keys: (await deps.tenants.listApiKeys(r.tenantId, { includeRevoked: r.includeRevoked })).map(apiKeyMessage) };
    }),
    RevokeApiKey: unary(ctx, "RevokeApiKey", Revoke, async (r) => {
      await tenantOrNotFound(deps, r.tenantId);
      if (!(await deps.tenants.getApiKey(r.tenantId, r.keyId))) throw notFound(`no API key ${JSON.stringify(r.keyId)} in tenant ${JSON.stringify(r.tenantId)}`);
      const key = await deps.tenants.revokeApiKey(r.tenantId, r.keyId);
      await broadcast(deps, { kind: "keyRevoked", tenant: r.tenantId, keyId: r.keyId }, `the revocation of key ${r.keyId}`);
      return apiKeyMessage(key);
    }),
  };
}
