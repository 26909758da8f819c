/**
 * Compose variable interpolation (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
 * `${VAR?err}`, `$$`), applied to every string of a parsed compose file as `docker compose config`
 * does. Unset variables with no default become "" (Compose warns); `:?` / `?` throw.
 */
export function interpolate(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === "string") return interpolateString(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

const PATTERN = /\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g;

function interpolateString(s: string, env: Readonly<Record<string, string | undefined>>): string {
  return s.replace(PATTERN, (_m, dollar: string | undefined, bare: string | undefined, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (dollar) return "$";
    const key = (bare ?? name)!;
    const v = env[key];
    if (!op) return v ?? "";
    const missing = op.startsWith(":") ? v === undefined || v === "" : v === undefined;
    if (op.endsWith("-")) return missing ? arg! : v!;
    if (missing) throw new Error(`${key}: ${arg || "required"}`);
    return v!;
  });
}
