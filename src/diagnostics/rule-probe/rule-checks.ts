/**
 * @module diagnostics/rule-probe/rule-checks
 * Findings about how a rule names and maps its series: several series names becoming one metric,
 * labels that map to no resource, Prometheus' `job` label taken for Kubernetes Jobs, overrides
 * naming resources the cluster does not serve.
 */
import type { AdapterConfig } from "../../config/schema.ts";
import type { RestMapper } from "../../kube/rest-mapper.ts";
import type { Labels } from "../../prometheus/client.ts";
import type { CustomMetricInfo } from "../../providers/types.ts";
import type { ConfigDocument } from "../config-document.ts";
import type { Finding } from "../findings.ts";
import { compileEach, type Probe } from "./probe.ts";
import { sample, type Rule } from "./types.ts";

/** Series names of one rule that become the same metric: only one of them can answer. */
export function collisionsWithin(p: Probe, r: Rule, kept: readonly string[]): void {
  const byMetric = new Map<string, string[]>();
  for (const name of kept) {
    const metric = r.compiled.namer.metricNameFor(name);
    if (metric === undefined) continue;
    byMetric.set(metric, [...(byMetric.get(metric) ?? []), name]);
  }
  for (const [metric, names] of byMetric) {
    if (names.length < 2) continue;
    const path = r.config.name?.as
      ? ["name", "as"]
      : r.config.name?.matches
        ? ["name", "matches"]
        : ["seriesQuery"];
    p.add(
      "warning",
      "duplicate-metric",
      [r.list, r.index, ...path],
      `${r.origin} gives the metric ${JSON.stringify(metric)} for several series names (${sample(names)}); the adapter answers it from only one of them; use a capture group in name.matches and name.as (e.g. matches: "^(.*)_total$", as: "\${1}_per_second") or narrow the seriesQuery`,
    );
  }
}

/** The labels of a custom rule's series map to no resource: it lists nothing. */
export function noResource(
  p: Probe,
  r: Rule,
  keptSeries: readonly Labels[],
  produced: number,
): void {
  if (r.list !== "rules" || keptSeries.length === 0 || produced > 0) return;
  const labels = [...new Set(keptSeries.flatMap((s) => Object.keys(s)))]
    .filter((l) => l !== "__name__")
    .sort();
  p.add(
    "warning",
    "no-resource",
    r.config.resources ? [r.list, r.index, "resources"] : [r.list, r.index],
    `${r.origin}: none of its series' labels (${sample(labels, 8)}) maps to a Kubernetes resource, so custom.metrics.k8s.io lists none of its metrics; map the labels, e.g. resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}`,
  );
}

/**
 * Prometheus sets `job` to the scrape job's name; a template such as `<<.Resource>>` (the
 * config generator's default) maps it to Kubernetes Jobs, listing metrics for Jobs that do not
 * exist.
 */
export function jobLabel(p: Probe, r: Rule, infos: readonly CustomMetricInfo[]): void {
  const jobs = infos.some(
    (i) => i.groupResource.group === "batch" && i.groupResource.resource === "jobs",
  );
  if (!jobs || r.config.resources?.overrides?.["job"] !== undefined) return;
  let label: string;
  try {
    label = r.compiled.resources.labelForResource({ group: "batch", resource: "jobs" });
  } catch {
    return;
  }
  if (label !== "job") return;
  p.add(
    "warning",
    "label-mapping",
    [r.list, r.index, "resources", "template"],
    `${r.origin}.resources.template maps Prometheus' job label (the scrape job's name, e.g. kubernetes-pods) to Kubernetes Jobs (jobs.batch), so its metrics are listed for Jobs that do not exist; map only the labels you mean with resources.overrides, e.g. {namespace: {resource: namespace}, pod: {resource: pod}}`,
  );
}

type RuleAt = Pick<Rule, "list" | "index" | "origin" | "compiled">;

/** The overrides of `r` naming resources the mapper lacks: where, and what to say. */
function unresolved(r: RuleAt): { path: PropertyKey[]; message: string }[] {
  return r.compiled.resources.unresolvedOverrides().map((u) => ({
    path: [r.list, r.index, "resources", "overrides", u.label, "resource"],
    message: `${r.origin}.resources.overrides.${u.label} names ${u.resource}, which the cluster does not serve (${u.reason}); the label maps to nothing until it does; fix the resource name or install its CRD`,
  }));
}

export function unknownResources(p: Probe, r: Rule): void {
  if (!p.input.clusterMapper) return;
  for (const { path, message } of unresolved(r))
    p.add("warning", "unknown-resource", path, message);
}

/**
 * Without Prometheus (`validate --kubeconfig` offline): every rule's overrides against the
 * cluster's REST mapping. A rule that does not compile is the loader's to report.
 */
export function unknownOverrides(
  config: AdapterConfig,
  doc: ConfigDocument,
  mapper: RestMapper,
): Finding[] {
  return compileEach(config, mapper, () => undefined).flatMap((r) =>
    unresolved(r).map(({ path, message }): Finding => ({
      severity: "warning",
      check: "unknown-resource",
      file: doc.file,
      ...doc.position(path),
      message,
    })),
  );
}
