import type { METHODS, MethodName, MethodResults, ResultOf, ReplayOutcome, ThreadSettingsResponse } from "@threadmesh/protocol";

/**
 * Request types, derived from the protocol package's method table: the params of every method are the
 * input type of its runtime schema (what a caller may send; defaults and nullish fields optional), and
 * its result the protocol package's `MethodResults` entry.
 */
type SchemaInput<S> = S extends { _zod: { input: infer I } } ? I : never;

export type { MethodName, ResultOf, ReplayOutcome };

/** What a caller passes as `params` of `method`. */
export type RequestParams<M extends MethodName> = SchemaInput<(typeof METHODS)[M]["params"]>;

/** The result of every method, by method. */
export type KnownResults = MethodResults;

/** The settings a thread runs with, as `thread/start`, `thread/resume` and `thread/fork` answer them. */
export type ThreadResponse = ThreadSettingsResponse;

/** Methods whose params may be omitted. */
export type OptionalParamsMethod = "account/rateLimits/read" | "configRequirements/read";
