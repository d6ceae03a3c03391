/**
 * @module diagnostics/rule-probe/types
 * What `validate --prometheus-url` reports of each rule (its series, the names it keeps, the
 * metrics it gives and one example query each), what the probe is given, and the wording helpers
 * its findings share.
 */
import type { AdapterConfig, DiscoveryRule } from "../../config/schema.ts";
import type { RestMapper } from "../../kube/rest-mapper.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import type { CompiledRule } from "../../providers/prometheus/rules.ts";
import type { ConfigDocument, RuleList } from "../config-document.ts";
import type { Finding } from "../findings.ts";

export interface ExampleQuery {
  /** `pods default/web-1`, `namespaces kube-system`, or `namespace default` for external. */
  readonly object: string;
  readonly query: string;
  /** Samples the query returned. */
  readonly samples?: number;
  /** Custom metrics: samples whose resource label names the object (what the adapter answers). */
  readonly forObject?: number;
  readonly value?: number;
  readonly error?: string;
}

export interface MetricReport {
  readonly metric: string;
  readonly seriesName: string;
  /** Custom metrics: the resources it is listed for (`pods`, `namespaces`). */
  readonly resources: readonly string[];
  /** Whether an example query was attempted (false past --max-queries-per-rule). */
  readonly queried: boolean;
  readonly example?: ExampleQuery;
}

export interface RuleReport {
  /** `rules[0]`. */
  readonly rule: string;
  readonly line: number;
  readonly col: number;
  readonly seriesQuery: string;
  /** Series the seriesQuery selects within the metrics max age. */
  readonly series: number;
  /** Distinct series names among them. */
  readonly names: number;
  /** Names left after seriesFilters and name.matches. */
  readonly kept: number;
  readonly metrics: readonly MetricReport[];
  /** Metrics not queried because of the per-rule limit. */
  readonly notQueried: number;
  /** The `job` label values of the rule's series (for its scrape interval). */
  readonly jobs: readonly string[];
}

export interface ProbeInput {
  readonly config: AdapterConfig;
  readonly doc: ConfigDocument;
  readonly prometheus: PrometheusClient;
  readonly mapper: RestMapper;
  /** The mapper is the cluster's: an override naming a resource it lacks is a real problem. */
  readonly clusterMapper: boolean;
  /** Only series seen within this many ms count, as the adapter's `--metrics-max-age`. */
  readonly maxAgeMs: number;
  /** Example queries per rule, at most. */
  readonly maxQueriesPerRule: number;
  readonly now?: Date;
}

export interface ProbeResult {
  readonly rules: readonly RuleReport[];
  readonly findings: readonly Finding[];
}

/** A rule of the config, compiled as the adapter compiles it, with where it stands. */
export interface Rule {
  readonly list: RuleList;
  readonly index: number;
  readonly origin: string;
  readonly config: DiscoveryRule;
  readonly compiled: CompiledRule;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function sample(names: readonly string[], n = 3): string {
  const shown = names.slice(0, n).join(", ");
  return names.length > n ? `${shown}, … (${String(names.length)} in all)` : shown;
}
