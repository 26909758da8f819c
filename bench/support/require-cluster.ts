import { startCluster, type Cluster, type ClusterOptions } from "../../test/support/cluster.ts";

/** The test cluster (N routers, M hosts, nats-server with JetStream, PostgreSQL); a benchmark never skips. */
export async function requireCluster(opts: ClusterOptions): Promise<Cluster> {
  const cluster = await startCluster(opts);
  if (!cluster) throw new Error("the mesh benchmarks need nats-server (JetStream) and PostgreSQL");
  return cluster;
}
