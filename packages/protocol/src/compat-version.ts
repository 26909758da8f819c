/**
 * The Codex release whose wire protocol Threadmesh follows, reported in `initialize.userAgent` and in
 * `Thread.cliVersion`. Codex 0.171 clients warn when the server reports an older release; 0.169
 * clients accept a newer one, so the newest tracked release is reported.
 */
export const CODEX_COMPAT_VERSION = "0.171.0";
