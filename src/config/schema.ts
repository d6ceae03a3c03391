/**
 * @module config/schema
 * The adapter config file, key for key as prometheus-adapter v0.12.0 reads it (upstream
 * pkg/config/config.go, yaml tags), plus our own `k8sCustomMetrics` key on a rule (data
 * options, the rule's server) and at the top (tenants). Objects are strict because upstream loads with yaml.v2 UnmarshalStrict. Checks a schema cannot express (regexes, is/isNot, `as`) live in
 * config/semantics.ts so the JSON Schema stays a faithful description of the file shape.
 */
import { z } from "zod";

export const GroupResourceSchema = z
  .strictObject({
    group: z
      .string()
      .optional()
      .describe('API group; empty or absent for the core group (e.g. "apps").'),
    resource: z
      .string()
      .describe('Resource name, singular or plural (e.g. "pod"); normalized at startup.'),
  })
  .describe("A Kubernetes group-resource that a Prometheus label names.");

export const ResourceMappingSchema = z
  .strictObject({
    template: z
      .string()
      .optional()
      .describe(
        "Go template (delimiters << >>) turning .Group/.Resource into a label name, e.g. kube_<<.Group>>_<<.Resource>>.",
      ),
    overrides: z
      .record(z.string(), GroupResourceSchema)
      .optional()
      .describe("Label name → group-resource, taking precedence over the template."),
    namespaced: z
      .boolean()
      .optional()
      .describe(
        "externalRules only: false leaves the request namespace out of the query (default true).",
      ),
  })
  .meta({ id: "ResourceMapping", description: "How series labels map to Kubernetes resources." });

export const RegexFilterSchema = z
  .strictObject({
    is: z.string().optional().describe("Keep series whose name matches this RE2 regex."),
    isNot: z.string().optional().describe("Drop series whose name matches this RE2 regex."),
  })
  .describe("Exactly one of is / isNot; unanchored RE2 on the series name.");

export const NameMappingSchema = z
  .strictObject({
    matches: z
      .string()
      .optional()
      .describe("RE2 regex on the series name (default .*); also filters series."),
    as: z
      .string()
      .optional()
      .describe(
        "Metric name with $1 / ${1} / $name expansion; default $0 (no groups) or $1 (one group).",
      ),
  })
  .describe("How a series name becomes the API metric name.");

/** A value written as a YAML number or text; the loader hands over the source text. */
const NumberOrText = z.union([z.string(), z.number()]);

export const PrometheusServerSchema = z
  .strictObject({
    url: z
      .string()
      .describe(
        "Base URL of this rule's Prometheus-compatible API, e.g. http://prometheus-b:9090.",
      ),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe("Headers sent on every request to this server (not the --prometheus-header ones)."),
    caFile: z.string().optional().describe("CA bundle to verify the server's certificate."),
    clientCertFile: z
      .string()
      .optional()
      .describe("Client certificate (mTLS); needs clientKeyFile."),
    clientKeyFile: z.string().optional().describe("Client key (mTLS); needs clientCertFile."),
    insecureSkipVerify: z.boolean().optional().describe("Do not verify the server's certificate."),
    timeout: NumberOrText.optional().describe(
      "Prometheus duration (e.g. 5s) bounding each request to this server. Default 10s.",
    ),
  })
  .meta({
    id: "PrometheusServer",
    description:
      "k8s-custom-metrics only: the server this rule's discovery and queries go to instead of --prometheus-url; nothing of the global --prometheus-* options is inherited. See docs/config.md.",
  });

export const DataOptionsSchema = z
  .strictObject({
    server: PrometheusServerSchema.optional(),
    valueWhenMissing: NumberOrText.optional().describe(
      "Answer this value (a decimal number, e.g. 0) for an object the query returns no sample for, instead of 404 (custom) or an empty list (external). Absent: as prometheus-adapter.",
    ),
    maxSampleAge: NumberOrText.optional().describe(
      "Prometheus duration (e.g. 2m): an object whose newest sample of the rule's series is older counts as missing. Absent: Prometheus' lookback (5m by default) alone decides.",
    ),
    lastGoodValueFor: NumberOrText.optional().describe(
      "Prometheus duration (e.g. 2m): while Prometheus cannot answer, answer each object's last good value if it is at most this old. Absent or 0: off (a 500 Status, as prometheus-adapter).",
    ),
  })
  .meta({
    id: "DataOptions",
    description:
      "k8s-custom-metrics only (prometheus-adapter refuses this key): what to answer for missing, stale or unreachable data, and the rule's own server. See docs/config.md.",
  });

export const DiscoveryRuleSchema = z
  .strictObject({
    seriesQuery: z
      .string()
      // Absent reads as "" (Go's zero value): upstream starts and its discovery fails.
      .default("")
      .describe('Prometheus series selector sent to /api/v1/series, e.g. {__name__=~"^http_.*"}.'),
    seriesFilters: z
      .array(RegexFilterSchema)
      .optional()
      .describe("Extra name filters, AND-ed, applied after the series query."),
    resources: ResourceMappingSchema.optional(),
    name: NameMappingSchema.optional(),
    metricsQuery: z
      .string()
      // Absent reads as "" (Go's zero value): upstream starts and fails each request.
      .default("")
      .describe(
        "Go template (<< >>) for the PromQL query; fields .Series, .LabelMatchers, .LabelValuesByName, .GroupBy, .GroupBySlice.",
      ),
    k8sCustomMetrics: DataOptionsSchema.optional(),
  })
  .meta({
    id: "DiscoveryRule",
    description: "One discovery rule: which series to list and how to name and query them.",
  });

export const ResourceRuleSchema = z
  .strictObject({
    containerQuery: z
      .string()
      .describe("Go template (<< >>) for per-container usage; grouped by pod and container."),
    nodeQuery: z.string().describe("Go template (<< >>) for per-node usage."),
    resources: ResourceMappingSchema.optional(),
    containerLabel: z
      .string()
      .optional()
      .describe("Label holding the container name (e.g. container)."),
  })
  .meta({ id: "ResourceRule", description: "Queries for one resource metric (cpu or memory)." });

export const ResourceRulesSchema = z
  .strictObject({
    // Absent reads as an empty rule (Go's zero value): upstream starts; those queries fail.
    cpu: ResourceRuleSchema.optional(),
    memory: ResourceRuleSchema.optional(),
    window: z
      .string()
      .optional()
      .describe("Prometheus duration reported as the metrics window (e.g. 5m); 0 if absent."),
  })
  .describe("metrics.k8s.io (kubectl top, HPA cpu/memory) from Prometheus.");

export const TenantsSchema = z
  .strictObject({
    header: z
      .string()
      .optional()
      .describe("Header carrying the tenant on every Prometheus request (default X-Scope-OrgID)."),
    namespaceLabel: z
      .string()
      .optional()
      .describe("Namespace label whose value is the namespace's tenant, e.g. tenant."),
    namespaces: z
      .record(z.string(), z.string())
      .optional()
      .describe("Namespace → tenant; takes precedence over namespaceLabel."),
    default: z
      .string()
      .optional()
      .describe(
        "Tenant of namespaces with neither, and of cluster-scoped objects (nodes, namespaces). Absent: such requests are refused.",
      ),
  })
  .meta({
    id: "Tenants",
    description:
      "k8s-custom-metrics only: send a tenant header per namespace (Mimir, Cortex, Thanos with a tenancy proxy). The tenant comes from the request's namespace, never from request input. See docs/backends.md.",
  });

export const AdapterExtensionsSchema = z
  .strictObject({ tenants: TenantsSchema.optional() })
  .describe("k8s-custom-metrics only (prometheus-adapter refuses this key).");

export const AdapterConfigSchema = z
  .strictObject({
    rules: z
      .array(DiscoveryRuleSchema)
      .optional()
      .describe("custom.metrics.k8s.io rules; none leaves that API uninstalled."),
    resourceRules: ResourceRulesSchema.optional(),
    externalRules: z
      .array(DiscoveryRuleSchema)
      .optional()
      .describe("external.metrics.k8s.io rules; none leaves that API uninstalled."),
    k8sCustomMetrics: AdapterExtensionsSchema.optional(),
  })
  .meta({
    title: "k8s-custom-metrics adapter config",
    description:
      "prometheus-adapter compatible configuration (--config). Unknown and duplicate keys are errors.",
  });

export type GroupResourceConfig = z.infer<typeof GroupResourceSchema>;
export type ResourceMapping = z.infer<typeof ResourceMappingSchema>;
export type RegexFilter = z.infer<typeof RegexFilterSchema>;
export type NameMapping = z.infer<typeof NameMappingSchema>;
export type PrometheusServerConfig = z.infer<typeof PrometheusServerSchema>;
export type TenantsConfig = z.infer<typeof TenantsSchema>;
export type DataOptionsConfig = z.infer<typeof DataOptionsSchema>;
export type DiscoveryRule = z.infer<typeof DiscoveryRuleSchema>;
export type ResourceRule = z.infer<typeof ResourceRuleSchema>;
export type ResourceRules = z.infer<typeof ResourceRulesSchema>;
export type AdapterConfig = z.infer<typeof AdapterConfigSchema>;
