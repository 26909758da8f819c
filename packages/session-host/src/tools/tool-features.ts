/**
 * Built-in tools a thread's `config` switches off, by Codex's feature flags: `features.shell_tool =
 * false` (as Codex's own title threads ask) removes `shell`. Both the dotted key and a nested
 * `features` table are read, as config.toml allows either.
 */
const TOOL_FEATURES: Readonly<Record<string, string>> = {
  shell_tool: "shell",
  apply_patch_tool: "apply_patch",
  plan_tool: "update_plan",
};

/** Names of the built-in tools the thread's `config` overrides disable (empty when none). */
export function disabledTools(config: Record<string, unknown> | null | undefined): string[] {
  if (!config) return [];
  const nested = config["features"];
  const table = typeof nested === "object" && nested !== null ? (nested as Record<string, unknown>) : {};
  const out: string[] = [];
  for (const [feature, tool] of Object.entries(TOOL_FEATURES)) {
    if (config[`features.${feature}`] === false || table[feature] === false) out.push(tool);
  }
  return out;
}
