/**
 * Validates a Kubernetes object against the OpenAPI schema of its apiVersion and kind, as compiled
 * into kubernetes-models (core APIs) and @kubernetes-models/prometheus-operator (ServiceMonitor).
 */
const MODULES: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import("kubernetes-models/v1"),
  "apps/v1": () => import("kubernetes-models/apps/v1"),
  "batch/v1": () => import("kubernetes-models/batch/v1"),
  "autoscaling/v2": () => import("kubernetes-models/autoscaling/v2"),
  "policy/v1": () => import("kubernetes-models/policy/v1"),
  "networking.k8s.io/v1": () => import("kubernetes-models/networking.k8s.io/v1"),
  "monitoring.coreos.com/v1": () => import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"),
};

type ModelClass = new (data: unknown) => { validate(): void };

/** Schema errors of `obj` (none = valid); an unknown apiVersion or kind is an error too. */
export async function validateObject(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  const load = MODULES[obj.apiVersion];
  if (!load) return [`no schema for apiVersion ${obj.apiVersion}`];
  const Model = (await load())[obj.kind] as ModelClass | undefined;
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}
