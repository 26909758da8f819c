import type { Params } from "@threadmesh/protocol";
import type { z } from "zod";

/**
 * Parsed params of the methods a host serves. Derived from the protocol's schemas directly:
 * `ParamsOf<M>` resolves to `unknown` because the method table widens each schema to `z.ZodType`.
 */
export type ThreadStartParams = z.infer<typeof Params.ThreadStartParams>;
export type ThreadResumeParams = z.infer<typeof Params.ThreadResumeParams>;
export type ThreadForkParams = z.infer<typeof Params.ThreadForkParams>;
export type ThreadSetNameParams = z.infer<typeof Params.ThreadSetNameParams>;
export type ThreadShareSetParams = z.infer<typeof Params.ThreadShareSetParams>;
export type ThreadListParams = z.infer<typeof Params.ThreadListParams>;
export type ThreadSearchParams = z.infer<typeof Params.ThreadSearchParams>;
export type ThreadLoadedListParams = z.infer<typeof Params.ThreadLoadedListParams>;
export type ThreadReadParams = z.infer<typeof Params.ThreadReadParams>;
export type ThreadTurnsListParams = z.infer<typeof Params.ThreadTurnsListParams>;
export type ThreadItemsListParams = z.infer<typeof Params.ThreadItemsListParams>;
export type TurnStartParams = z.infer<typeof Params.TurnStartParams>;
export type TurnSteerParams = z.infer<typeof Params.TurnSteerParams>;
export type TurnInterruptParams = z.infer<typeof Params.TurnInterruptParams>;
