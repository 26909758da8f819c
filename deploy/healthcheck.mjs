// Container health check: GET a health URL, exit 0 on 200 and 1 otherwise. The URL is the first
// argument, else the metrics listener's /healthz on THREADMESH_METRICS_PORT (default 9464).
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.THREADMESH_METRICS_PORT || "9464"}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_500) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
