import type * as grpc from "@grpc/grpc-js";
import { PlanIdSchema, PriorityClassSchema, TenantIdSchema, TenantNameSchema } from "@threadmesh/protocol";
import { z } from "zod";
import { invalidArgument } from "../admin-errors.ts";
import { pageSize, unary, type HandlerContext } from "../unary.ts";
import { tenantMessage } from "../wire.ts";
import { broadcast, planOrNotFound, tenantOrNotFound, type AdminDeps } from "./admin-deps.ts";

const Id = z.object({ id: TenantIdSchema });
const Create = z.object({ id: TenantIdSchema, name: TenantNameSchema, plan: PlanIdSchema.optional(), priorityClass: PriorityClassSchema.optional() });
const Update = z.object({ id: TenantIdSchema, name: TenantNameSchema.optional(), plan: PlanIdSchema.optional(), priorityClass: PriorityClassSchema.optional() });
/** Largest page of ListTenants (the tenant store's own limit). */
const MAX_TENANT_PAGE = 1_000;
const List = z.object({ pageSize: pageSize(100, MAX_TENANT_PAGE), pageToken: z.string().max(1024) });

/** TenantService: create, read, list, update, suspend (closing the tenant's connections on every router) and resume. */
export function tenantService(ctx: HandlerContext, deps: AdminDeps): grpc.UntypedServiceImplementation {
  return {
    CreateTenant: unary(ctx, "CreateTenant", Create, async (r) => {
      if (r.plan !== undefined) await planOrNotFound(deps, r.plan);
      return tenantMessage(await deps.tenants.createTenant(r));
    }),
    GetTenant: unary(ctx, "GetTenant", Id, async (r) => tenantMessage(await tenantOrNotFound(deps, r.id))),
    ListTenants: unary(ctx, "ListTenants", List, async (r) => {
      const after = r.pageToken === "" ? undefined : decodeAfter(r.pageToken);
      // One more than the page tells whether another follows; a full page of the store's largest size may be followed by an empty one.
      const rows = await deps.tenants.listTenants({ limit: Math.min(r.pageSize + 1, MAX_TENANT_PAGE), ...(after === undefined ? {} : { after }) });
      const page = rows.slice(0, r.pageSize);
      const more = rows.length > r.pageSize || page.length === MAX_TENANT_PAGE;
      return { tenants: page.map(tenantMessage), nextPageToken: more ? Buffer.from(page[page.length - 1]!.id, "utf8").toString("base64url") : "" };
    }),
    UpdateTenant: unary(ctx, "UpdateTenant", Update, async ({ id, ...patch }) => {
      await tenantOrNotFound(deps, id);
      if (patch.plan !== undefined) await planOrNotFound(deps, patch.plan);
      return tenantMessage(await deps.tenants.updateTenant(id, patch));
    }),
    SuspendTenant: unary(ctx, "SuspendTenant", Id, async (r) => {
      await tenantOrNotFound(deps, r.id);
      const t = await deps.tenants.suspendTenant(r.id);
      await broadcast(deps, { kind: "tenantSuspended", tenant: r.id }, `the suspension of tenant ${r.id}`);
      return tenantMessage(t);
    }),
    ResumeTenant: unary(ctx, "ResumeTenant", Id, async (r) => {
      await tenantOrNotFound(deps, r.id);
      const t = await deps.tenants.resumeTenant(r.id);
      await broadcast(deps, { kind: "tenantResumed", tenant: r.id }, `the resumption of tenant ${r.id}`);
      return tenantMessage(t);
    }),
  };
}

function decodeAfter(token: string): string {
  const id = Buffer.from(token, "base64url").toString("utf8");
  if (!TenantIdSchema.safeParse(id).success) throw invalidArgument("pageToken: not a page token this server handed out");
  return id;
}
