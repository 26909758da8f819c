/** One scrape of a Prometheus text endpoint: every sample line by metric name. */
export class MetricsSnapshot {
  constructor(private readonly body: string) {}

  /**
   * Sum of every series of `name` (all label sets). A metric that is declared (`# TYPE`) but has no
   * series yet counts 0; one the endpoint does not know at all is an error, not a silent 0.
   */
  sum(name: string): number {
    let declared = false;
    let n = 0;
    for (const line of this.body.split("\n")) {
      if (line.startsWith(`# TYPE ${name} `)) declared = true;
      else if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        declared = true;
        n += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    if (!declared) throw new Error(`no metric ${name} on this endpoint`);
    return n;
  }

  /** Every series of `name` by the value of its label `label` (series without it are left out). */
  byLabel(name: string, label: string): Record<string, number> {
    const out: Record<string, number> = {};
    const re = new RegExp(`[{,]${label}="([^"]*)"`);
    for (const line of this.body.split("\n")) {
      if (!line.startsWith(name + "{")) continue;
      const m = re.exec(line.slice(0, line.lastIndexOf("}") + 1));
      if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return out;
  }
}

/** Scrapes `<baseUrl>/metrics` (a metrics listener as printed by `metrics on <url>/metrics`). */
export async function scrapeMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
  return new MetricsSnapshot(await res.text());
}

/** Sum of `name` over several endpoints (e.g. every router of a mesh). */
export async function scrapeSum(baseUrls: readonly string[], name: string): Promise<number> {
  const all = await Promise.all(baseUrls.map((u) => scrapeMetrics(u)));
  return all.reduce((n, s) => n + s.sum(name), 0);
}
