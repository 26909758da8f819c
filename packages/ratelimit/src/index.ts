/**
 * Reserved: this package is filled in by a later capability.
 */
export const PACKAGE = "@threadmesh/ratelimit";
