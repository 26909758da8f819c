import type { MethodName } from "@threadmesh/protocol";
import type { ResolvedRouterConfig } from "./config.ts";
import { accountRead, accountUsageRead, bedrockGovCloudCheck, rateLimitsRead } from "./handlers/account-reads.ts";
import { configRead, configRequirementsRead, type ConfigReadParams } from "./handlers/config-read.ts";
import { appInstalled, appList, emptyList, pluginInstalled } from "./handlers/empty-catalogs.ts";
import { modelList, type ModelListParams } from "./handlers/model-list.ts";
import { modelProviderDefaultSet } from "./handlers/model-provider-default.ts";

/** A request the router answers itself (route `router`), from validated params. May throw an RpcError. */
export type LocalHandler = (params: unknown, config: ResolvedRouterConfig) => unknown;

/** Handlers of route-`router` methods other than `initialize`, which changes connection state. */
export const LOCAL_HANDLERS: Readonly<Partial<Record<MethodName, LocalHandler>>> = {
  "model/list": (p, c) => modelList(c.models, p as ModelListParams | undefined),
  "modelProvider/default/set": (p, c) => modelProviderDefaultSet(p as { providerId: string }, c.defaults.modelProvider, c.codexHome),
  "config/read": (p, c) => configRead(c.defaults, p as ConfigReadParams | undefined),
  "configRequirements/read": configRequirementsRead,
  "account/read": accountRead,
  "account/rateLimits/read": rateLimitsRead,
  "account/usage/read": accountUsageRead,
  "account/bedrock/checkGovCloudRequirements": bedrockGovCloudCheck,
  "collaborationMode/list": emptyList,
  "hooks/list": emptyList,
  "skills/list": emptyList,
  "plugin/installed": pluginInstalled,
  "app/list": appList,
  "app/installed": appInstalled,
};
