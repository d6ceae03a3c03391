/**
 * @module test/support/objects
 * Kubernetes objects several real-process tests create: a throw-away namespaced CRD, and applying
 * a list of objects in one kubectl call.
 */
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { kubectl } from "./cluster.ts";

/** A namespaced `widgets.<group>` CRD with an open schema: a resource the API server learns late. */
export function widgetCrd(group: string): unknown {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
          },
        },
      ],
    },
  };
}

/** `kubectl apply` of `objects` as one List, in `namespace` when given. */
export async function applyObjects(
  info: ClusterInfo,
  objects: unknown[],
  namespace?: string,
): Promise<void> {
  await kubectl(
    info,
    [...(namespace === undefined ? [] : ["-n", namespace]), "apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
}

/** `namespace/name` of every Running pod in the cluster (what metrics.k8s.io serves). */
export async function runningPods(info: ClusterInfo): Promise<Set<string>> {
  const out = await kubectl(info, [
    "get",
    "pods",
    "-A",
    "--field-selector=status.phase=Running",
    "-o",
    "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}",
  ]);
  return new Set(out.split(" ").filter((s) => s !== ""));
}
