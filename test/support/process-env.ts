/**
 * What every Threadmesh process under test runs with: the model simulator as its model (no retries),
 * the capability token, workspaces under `workspaceRoot`, and ephemeral metrics and admin ports so processes of
 * concurrent test runs do not compete for the default ones.
 */
export function processEnv(opts: { simUrl: string; token: string; workspaceRoot: string }): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${opts.simUrl}/v1`,
    OPENAI_API_KEY: "sim",
    THREADMESH_TOKEN: opts.token,
    THREADMESH_WORKSPACE_ROOT: opts.workspaceRoot,
    THREADMESH_MODEL_MAX_RETRIES: "0",
    THREADMESH_METRICS_PORT: "0",
    THREADMESH_ADMIN_PORT: "0",
  };
}
