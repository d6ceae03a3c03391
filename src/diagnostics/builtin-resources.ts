/**
 * @module diagnostics/builtin-resources
 * The resources every cluster serves, for `validate --prometheus-url` without `--kubeconfig`:
 * enough to map the labels of the usual rules (pod, namespace, node, service, workloads). Custom
 * resources need the real REST mapper, from a kubeconfig.
 */
import type { ResourceInfo } from "../kube/rest-mapper.ts";

type Row = readonly [group: string, version: string, resource: string, kind: string, ns: boolean];

const ROWS: readonly Row[] = [
  ["", "v1", "pods", "Pod", true],
  ["", "v1", "namespaces", "Namespace", false],
  ["", "v1", "nodes", "Node", false],
  ["", "v1", "services", "Service", true],
  ["", "v1", "endpoints", "Endpoints", true],
  ["", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true],
  ["", "v1", "persistentvolumes", "PersistentVolume", false],
  ["", "v1", "replicationcontrollers", "ReplicationController", true],
  ["", "v1", "configmaps", "ConfigMap", true],
  ["apps", "v1", "deployments", "Deployment", true],
  ["apps", "v1", "statefulsets", "StatefulSet", true],
  ["apps", "v1", "daemonsets", "DaemonSet", true],
  ["apps", "v1", "replicasets", "ReplicaSet", true],
  ["batch", "v1", "jobs", "Job", true],
  ["batch", "v1", "cronjobs", "CronJob", true],
  ["networking.k8s.io", "v1", "ingresses", "Ingress", true],
  ["autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true],
  ["policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true],
];

export const BUILTIN_RESOURCES: readonly ResourceInfo[] = ROWS.map(
  ([group, version, resource, kind, namespaced]) => ({
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    verbs: ["get", "list", "watch"],
  }),
);
