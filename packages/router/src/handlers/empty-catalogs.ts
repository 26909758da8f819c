/** `collaborationMode/list` (experimental), `hooks/list`, `skills/list`: nothing configured. */
export function emptyList(): unknown {
  return { data: [] };
}

/** `plugin/installed`: no marketplaces. */
export function pluginInstalled(): unknown {
  return { marketplaces: [], marketplaceLoadErrors: [] };
}

/** `app/list`: no apps (connectors); the terminal client asks it for a plan account. */
export function appList(): unknown {
  return { data: [], nextCursor: null };
}

/** `app/installed`: no apps installed. */
export function appInstalled(): unknown {
  return { apps: [] };
}
