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

/**
 * `/apis` as the generic apiserver writes it for an extension server: no apiVersion, and each
 * group with the address clients reach it at (`:<port>` for any client CIDR).
 */
export function apiGroupList(groups: readonly ApiGroup[], serverAddress?: string): unknown {
  return {
    kind: "APIGroupList",
    groups: groups.map((g) => ({
      ...groupVersions(g),
      ...(serverAddress === undefined
        ? {}
        : { serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] }),
    })),
  };
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
