/**
 * @module diagnostics/group-owners
 * Which Service answers each metrics API group. Only one program can hold a group: KEDA,
 * prometheus-adapter, the Datadog agent and this adapter all want external.metrics.k8s.io, and
 * metrics-server wants metrics.k8s.io. An APIService per version can even split one group between
 * two programs, and then HPAs get whichever the preferred version points at.
 */

import type { Check } from "./checks.ts";

export const METRICS_GROUPS = [
  "custom.metrics.k8s.io",
  "external.metrics.k8s.io",
  "metrics.k8s.io",
] as const;

export type MetricsGroup = (typeof METRICS_GROUPS)[number];

/** The metrics APIServices a full install registers. */
export const METRICS_API_SERVICES = [
  "v1beta2.custom.metrics.k8s.io",
  "v1beta1.custom.metrics.k8s.io",
  "v1beta1.external.metrics.k8s.io",
  "v1beta1.metrics.k8s.io",
] as const;

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ApiServiceSummary {
  readonly name: string;
  readonly group: string;
  readonly version: string;
  /** Undefined for an APIService the API server serves itself. */
  readonly service: ServiceRef | undefined;
}

export function serviceKey(s: ServiceRef | undefined): string {
  return s === undefined ? "the API server itself" : `${s.namespace}/${s.name}`;
}

/** The product a Service usually belongs to, from its name, for messages. */
export function knownProduct(s: ServiceRef | undefined): string | undefined {
  if (s === undefined) return undefined;
  const n = `${s.namespace}/${s.name}`.toLowerCase();
  if (s.name.toLowerCase().includes("keda")) return "KEDA";
  if (s.name.toLowerCase().includes("metrics-server")) return "metrics-server";
  if (s.name.toLowerCase().includes("prometheus-adapter")) return "prometheus-adapter";
  if (n.includes("datadog")) return "the Datadog Cluster Agent";
  if (s.name.toLowerCase().includes("k8s-custom-metrics")) return "k8s-custom-metrics";
  if (n.includes("stackdriver")) return "the Stackdriver adapter";
  return undefined;
}

export function describeService(s: ServiceRef | undefined): string {
  const product = knownProduct(s);
  return product === undefined ? serviceKey(s) : `${serviceKey(s)} (${product})`;
}

export interface GroupOwnership {
  readonly group: string;
  /** Services in version order of the APIServices; more than one is a split group. */
  readonly owners: readonly {
    readonly service: ServiceRef | undefined;
    readonly versions: readonly string[];
  }[];
}

/** Who answers each metrics group, from the APIServices that register it. */
export function groupOwnership(apiServices: readonly ApiServiceSummary[]): GroupOwnership[] {
  return METRICS_GROUPS.map((group) => {
    const owners: { service: ServiceRef | undefined; versions: string[] }[] = [];
    for (const a of apiServices.filter((x) => x.group === group)) {
      const key = serviceKey(a.service);
      const o = owners.find((x) => serviceKey(x.service) === key);
      if (o) o.versions.push(a.version);
      else owners.push({ service: a.service, versions: [a.version] });
    }
    return { group, owners };
  });
}

export function sameService(a: ServiceRef | undefined, b: ServiceRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.namespace === b.namespace && a.name === b.name;
}

/**
 * One check per metrics group. A group split between services fails; a group held by another
 * service fails only when this adapter serves that group too (its rules for it are then unused),
 * else it is reported for information. `served`: the groups the adapter itself serves, when it
 * could be asked.
 */
export function ownershipChecks(
  ownership: readonly GroupOwnership[],
  ours: ServiceRef,
  served: ReadonlySet<string> | undefined,
): Check[] {
  const section = "metrics API groups";
  return ownership.map((g): Check => {
    if (g.owners.length === 0) {
      const served_ = served?.has(g.group) === true;
      return {
        section,
        status: served_ ? "fail" : "skip",
        title: `${g.group}: no APIService registers it`,
        ...(served_
          ? {
              kind: "group-not-registered",
              cause: `the adapter ${serviceKey(ours)} serves ${g.group}, but no APIService sends requests to it`,
              fix: "apply the adapter's APIServices (deploy/base/apiservices.yaml)",
            }
          : {}),
      };
    }
    const list = g.owners
      .map((o) => `${o.versions.join(", ")} → ${describeService(o.service)}`)
      .join("; ");
    if (g.owners.length > 1) {
      return {
        section,
        status: "fail",
        kind: "group-split",
        title: `${g.group} is split between services: ${list}`,
        cause:
          "each version of the group goes to a different program; clients use the preferred version (highest versionPriority) and get that program's metrics only",
        fix: "point every version's APIService at one Service, and delete the others' APIServices",
      };
    }
    const owner = g.owners[0]?.service;
    if (sameService(owner, ours)) {
      return { section, status: "ok", title: `${g.group} → ${serviceKey(owner)} (this adapter)` };
    }
    if (served?.has(g.group) === true) {
      return {
        section,
        status: "fail",
        kind: "group-owned-elsewhere",
        title: `${g.group} → ${describeService(owner)}, not this adapter`,
        cause: `this adapter (${serviceKey(ours)}) serves ${g.group} too, but the APIService sends the group to ${describeService(owner)}: requests never reach this adapter, so its rules for ${g.group} are unused`,
        fix: `choose one owner: point the APIService at ${serviceKey(ours)} (kubectl patch apiservice … --type=merge -p '{"spec":{"service":{"namespace":"${ours.namespace}","name":"${ours.name}"}}}'), or stop serving ${g.group} from this adapter`,
      };
    }
    return {
      section,
      status: "skip",
      title: `${g.group} → ${describeService(owner)}${served === undefined ? "" : " (this adapter does not serve it)"}`,
    };
  });
}
