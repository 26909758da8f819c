type Raw = Record<string, unknown>;

function windowLine(label: string, w: unknown) {
  if (w === null || typeof w !== "object") return null;
  const win = w as Raw;
  const resets = typeof win.resetsAt === "number" ? new Date(win.resetsAt * 1000).toLocaleTimeString() : "—";
  return (
    <li>
      {label}: {String(win.usedPercent ?? 0)}% used
      {win.windowDurationMins != null ? ` of ${String(win.windowDurationMins)} min` : ""}, resets {resets}
    </li>
  );
}

/** The tenant's rate-limit windows and credits, as `account/rateLimits/read` reports them. */
export function Limits({ value }: { value: unknown }) {
  const snapshot = (value as Raw | null)?.rateLimits as Raw | undefined;
  if (snapshot === undefined) return <p data-testid="rate-limits">{(value as Raw | null)?.error ? String((value as Raw).error) : "…"}</p>;
  const credits = snapshot.credits as Raw | null | undefined;
  return (
    <ul data-testid="rate-limits" class="limits">
      <li>
        plan: {String(snapshot.planType ?? "—")} ({String(snapshot.limitName ?? snapshot.limitId ?? "")})
      </li>
      {windowLine("primary", snapshot.primary) ?? <li>primary: no limit</li>}
      {windowLine("secondary", snapshot.secondary) ?? <li>secondary: no limit</li>}
      <li data-testid="credits">
        credits: {credits ? (credits.unlimited ? "unlimited" : `${String(credits.balance ?? "0")}${credits.hasCredits ? "" : " (none left)"}`) : "—"}
      </li>
      {snapshot.rateLimitReachedType ? <li class="error">limit reached: {String(snapshot.rateLimitReachedType)}</li> : null}
    </ul>
  );
}
