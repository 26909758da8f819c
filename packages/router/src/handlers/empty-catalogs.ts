/** `collaborationMode/list` (experimental), `hooks/list`, `skills/list`: nothing configured. */
export function emptyList(): unknown {
  return { data: [] };
}

/** `plugin/installed`: no marketplaces. */
export function pluginInstalled(): unknown {
  return { marketplaces: [], marketplaceLoadErrors: [] };
}
