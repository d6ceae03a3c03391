/**
 * @module test/support/objects
 * Kubernetes objects several real-process tests create: a throw-away namespaced CRD (and waiting
 * for it to be Established), and applying a list of objects in one kubectl call.
 */
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { kubectl, waitFor } from "./cluster.ts";

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

/** Waits until the CRD `name` (`<plural>.<group>`) has its Established condition True. */
export async function waitForCrdEstablished(info: ClusterInfo, name: string): Promise<void> {
  await waitFor("the CRD to be established", async () =>
    (
      await kubectl(info, [
        "get",
        "crd",
        name,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Established')].status}",
      ])
    ).trim() === "True"
      ? true
      : undefined,
  );
}

/** `objects` as one `kind: List` document, for kubectl's stdin. */
export function objectList(objects: readonly unknown[]): string {
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
}

/** `kubectl apply` of `objects` as one List, in `namespace` when given. */
export async function applyObjects(
  info: ClusterInfo,
  objects: readonly unknown[],
  namespace?: string,
): Promise<void> {
  await kubectl(
    info,
    [...(namespace === undefined ? [] : ["-n", namespace]), "apply", "-f", "-"],
    objectList(objects),
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
