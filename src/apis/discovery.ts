/**
 * @module apis/discovery
 * The discovery documents: `/apis` (APIGroupList), `/apis/<group>` (APIGroup) and
 * `/apis/<group>/<version>` (APIResourceList), shaped as metav1 serializes them.
 */
import type { ApiGroup } from "./types.ts";

export interface ApiResourceJson {
  readonly name: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
}

function groupVersions(g: ApiGroup) {
  const versions = g.advertisedVersions.map((v) => ({
    groupVersion: `${g.name}/${v}`,
    version: v,
  }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(groups: readonly ApiGroup[]): unknown {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(groupVersions) };
}

export function apiGroup(g: ApiGroup): unknown {
  return { kind: "APIGroup", apiVersion: "v1", ...groupVersions(g) };
}

export function apiResourceList(
  group: string,
  version: string,
  resources: readonly ApiResourceJson[],
): unknown {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${group}/${version}`,
    resources,
  };
}
