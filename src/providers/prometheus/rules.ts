/**
 * @module providers/prometheus/rules
 * A config rule compiled once: filters, namer, resource converter and query template, so relists
 * and queries never parse anything.
 */
import type { ConfigIssue } from "../../config/errors.ts";
import { configIssueAt } from "../../config/load.ts";
import type { AdapterConfig, DiscoveryRule } from "../../config/schema.ts";
import { readDataOptions, type DataOptions } from "../../config/data-options.ts";
import { withMaxSampleAge } from "./sample-age.ts";
import { readServer, readTenancy, type ServerSpec, type Tenancy } from "./backends.ts";
import { createMetricNamer, type MetricNamer } from "../../naming/name-as.ts";
import {
  createResourceConverter,
  type ResourceConverter,
  type ResourceMapper,
  type ResourceMappingInput,
} from "../../naming/resource-label.ts";
import { filtersForRule, type SeriesFilter } from "../../naming/series-filter.ts";
import {
  ADAPTER_DELIMITERS,
  QUERY_TEMPLATE_FIELDS,
  RESOURCE_TEMPLATE_FIELDS,
  parseTemplate,
  type Template,
} from "../../template/template.ts";
import { resourceTemplateData } from "../../template/adapter-data.ts";
import type { RestMapper } from "../../kube/rest-mapper.ts";

/**
 * What discovery asks Prometheus with for a rule (discovery.ts): no naming, so it can be made
 * from the parsed config before the REST mapper is read (server/builders/early-discovery.ts).
 */
export interface FetchRule {
  /** Where the rule came from, for logs and `explain`: `rules[3]`. */
  readonly origin: string;
  readonly seriesQuery: string;
  readonly filters: readonly SeriesFilter[];
}

/** The part of {@link compileRule} discovery's requests need. Throws on a filter that does not compile. */
export function fetchRule(rule: DiscoveryRule, origin: string): FetchRule {
  return { origin, seriesQuery: rule.seriesQuery, filters: filtersForRule(rule) };
}

export interface CompiledRule extends FetchRule {
  readonly namer: MetricNamer;
  readonly resources: ResourceConverter;
  readonly metricsQuery: Template;
  /** externalRules only: whether the request namespace becomes a matcher (default true). */
  readonly namespaced: boolean;
  /** `k8sCustomMetrics` (ours): missing, stale and unreachable data; maxSampleAge is in the query. */
  readonly data?: DataOptions;
  /** `k8sCustomMetrics.server` (ours): this rule's own server instead of --prometheus-url. */
  readonly server?: ServerSpec | undefined;
}

/** The mapper as naming needs it: synchronous, on the latest discovery snapshot. */
export function namingMapper(mapper: RestMapper): ResourceMapper {
  return {
    normalize(gr) {
      const r = mapper.resourceForSync(gr);
      if (!r) throw new Error(`the server doesn't have a resource type "${gr.resource}"`);
      return { group: r.group, resource: r.resource };
    },
    singularize(resource) {
      const r = mapper.resources.find((x) => x.resource === resource);
      if (!r) throw new Error(`no singular form known for resource "${resource}"`);
      return r.singular;
    },
  };
}

/** For config checks at load time: parse any adapter template; render it with plain data. */
export function checkTemplate(text: string): (data: { Group: string; Resource: string }) => string {
  const t = parseTemplate(text, { ...ADAPTER_DELIMITERS, name: "config" });
  return (d) => t.execute(d);
}

/** Unknown fields fail when executed, not here: config/semantics warns about them at load. */
export function compileQueryTemplate(text: string, name: string): Template {
  return parseTemplate(text, {
    ...ADAPTER_DELIMITERS,
    name,
    fields: QUERY_TEMPLATE_FIELDS,
    checkFields: false,
  });
}

/**
 * A rule's `resources` block (discovery rules and `resourceRules` alike) as a converter, its
 * `template` in the adapter's Go-template subset.
 */
export function compileResources(
  resources: ResourceMappingInput,
  mapper: ResourceMapper,
): ResourceConverter {
  return createResourceConverter(resources, {
    compileTemplate: (text) => {
      const t = parseTemplate(text, {
        ...ADAPTER_DELIMITERS,
        name: "resource-label",
        fields: RESOURCE_TEMPLATE_FIELDS,
      });
      return (d) => t.execute(resourceTemplateData(d.Group, d.Resource));
    },
    mapper,
  });
}

export function compileRule(
  rule: DiscoveryRule,
  origin: string,
  mapper: ResourceMapper,
): CompiledRule {
  const data = readDataOptions(rule.k8sCustomMetrics).options;
  const query =
    data.maxSampleAgeMs === undefined
      ? rule.metricsQuery
      : withMaxSampleAge(
          rule.metricsQuery,
          data.maxSampleAgeMs,
          origin.startsWith("externalRules") ? "external" : "custom",
        );
  return {
    ...fetchRule(rule, origin),
    data,
    namer: createMetricNamer(rule.name ?? {}, rule.seriesQuery),
    resources: compileResources(rule.resources ?? {}, mapper),
    metricsQuery: compileQueryTemplate(query, "metrics-query"),
    namespaced: rule.resources?.namespaced ?? true,
    server: readServer(rule.k8sCustomMetrics?.server),
  };
}

export interface CompiledRules {
  readonly custom: readonly CompiledRule[];
  readonly external: readonly CompiledRule[];
  /**
   * Overrides naming resources the cluster does not serve yet (a CRD to come), as warnings at
   * their `file:line:col`: they work once the REST mapper knows the resource.
   */
  readonly pending: readonly ConfigIssue[];
  /** `k8sCustomMetrics.tenants` (ours); undefined: no tenant header, as upstream. */
  readonly tenancy?: Tenancy | undefined;
}

/** Every discovery rule of a loaded config, compiled; at startup and on each reload. */
export function compileRules(config: AdapterConfig, mapper: ResourceMapper): CompiledRules {
  const pending: ConfigIssue[] = [];
  const compile = (list: "rules" | "externalRules") =>
    (config[list] ?? []).map((r, i) => {
      const rule = compileRule(r, `${list}[${String(i)}]`, mapper);
      for (const u of rule.resources.unresolvedOverrides()) {
        pending.push(
          configIssueAt(
            config,
            [list, i, "resources", "overrides", u.label],
            `${rule.origin}.resources.overrides.${u.label}: ${u.reason}, so the label maps to nothing until the cluster serves ${u.resource}; install its CRD or fix the resource name`,
            "warning",
          ),
        );
      }
      return rule;
    });
  return {
    custom: compile("rules"),
    external: compile("externalRules"),
    pending,
    tenancy: readTenancy(config.k8sCustomMetrics?.tenants),
  };
}
