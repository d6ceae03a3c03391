/**
 * @module server/builders/prometheus-providers
 * custom.metrics.k8s.io and external.metrics.k8s.io from Prometheus: the metric lister (discovery
 * of series, relisted on an interval), the arrivals tickets query grouping waits on, the rules'
 * own servers and namespaces' tenants (backends), and the two API groups over their providers.
 */
import { customMetricArrivalKey, customMetricsApi } from "../../apis/custom-metrics.ts";
import { externalMetricsApi } from "../../apis/external-metrics.ts";
import type { ApiGroup } from "../../apis/types.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { PodCache } from "../../kube/pod-cache.ts";
import type { RestMapper } from "../../kube/rest-mapper.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AdapterMetrics } from "../../observability/metrics.ts";
import { Backends } from "../../providers/prometheus/backends.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { PrometheusCustomProvider } from "../../providers/prometheus/custom-provider.ts";
import { PrometheusExternalProvider } from "../../providers/prometheus/external-provider.ts";
import type { EarlyRequests } from "../../providers/prometheus/discovery.ts";
import { MetricLister } from "../../providers/prometheus/metric-lister.ts";
import type { CompiledRules } from "../../providers/prometheus/rules.ts";
import { Arrivals } from "../arrivals.ts";
import type { ApisConfig } from "../options/apis.ts";
import type { PrometheusConfig } from "../options/prometheus.ts";
import type { ApiPlan } from "./api-plan.ts";
import type { Component } from "./component.ts";

export interface PrometheusProviders extends Component {
  readonly lister: MetricLister;
  /** Installed groups, custom first. */
  readonly groups: readonly ApiGroup[];
  /** Set when grouped queries wait for requests still being authorized. */
  readonly arrivals: Arrivals | undefined;
  /** Rules' own servers and the tenants of namespaces. */
  readonly backends: Backends;
  /** New rules (and tenants) from a config reload; a disabled API keeps none. */
  setRules(rules: Pick<CompiledRules, "custom" | "external" | "tenancy">): Promise<boolean>;
}

interface NamespaceList {
  readonly items?: readonly { readonly metadata?: { readonly labels?: Record<string, string> } }[];
}

/** Labels of namespaces through the adapter's own `list namespaces` permission (deploy/base/rbac.yaml). */
function namespaceLabelReaders(kube: KubeClient) {
  const list = (query: string) =>
    kube
      .json<NamespaceList>("GET", `/api/v1/namespaces${query}`)
      .then((l) => (l.items ?? []).map((i) => i.metadata?.labels ?? {}));
  return {
    namespaceLabels: async (name: string) =>
      (await list(`?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`))[0],
    allNamespaceLabels: () => list(""),
  };
}

export interface PrometheusProvidersOptions {
  readonly prometheus: PrometheusClient;
  readonly rules: CompiledRules;
  readonly apis: ApisConfig;
  readonly plan: ApiPlan;
  readonly config: PrometheusConfig;
  readonly kube: KubeClient;
  readonly mapper: RestMapper;
  readonly podCache: PodCache | undefined;
  readonly metrics: AdapterMetrics;
  readonly log: Logger;
  /** The first discovery pass's requests, started at start-up (early-discovery.ts). */
  readonly early?: EarlyRequests | undefined;
}

export function buildPrometheusProviders(o: PrometheusProvidersOptions): PrometheusProviders {
  const { metrics, log, prometheus } = o;
  const enabled = (rules: Pick<CompiledRules, "custom" | "external">) => ({
    custom: o.apis.custom ? rules.custom : [],
    external: o.apis.external ? rules.external : [],
  });
  // Per-rule servers and tenants; a config with neither sends everything to `prometheus`, as before.
  const backends = new Backends({
    main: prometheus,
    tenancy: o.rules.tenancy,
    ...namespaceLabelReaders(o.kube),
    onRequest: (endpoint, ms, outcome) => {
      metrics.prometheusRequest(endpoint, ms / 1000, outcome);
    },
  });
  const lister = new MetricLister(prometheus, enabled(o.rules), {
    backends,
    ...(o.early === undefined ? {} : { early: o.early }),
    relistIntervalMs: o.config.relist.intervalMs,
    maxAgeMs: o.config.relist.maxAgeMs,
    log,
    onRelist: (outcome, ms, result) => {
      metrics.relist(
        outcome,
        ms / 1000,
        result && { custom: result.custom.size, external: result.external.size },
      );
    },
  });
  // Tickets for custom-metrics requests on their way to the query step, so a grouped query can
  // wait for peers of its burst (server/arrivals.ts); the custom-metrics API says which.
  const arrivals =
    o.config.grouping.waitMs > 0
      ? new Arrivals(o.config.grouping.waitMs, [customMetricArrivalKey])
      : undefined;
  const groups: ApiGroup[] = [];
  if (o.plan.custom) {
    groups.push(
      customMetricsApi(
        new PrometheusCustomProvider({
          prometheus,
          mapper: o.mapper,
          kube: o.kube,
          registry: () => lister.custom,
          registryFor: (tenant) => lister.customFor(tenant),
          backends,
          log,
          groupingMaxObjects: o.config.grouping.maxObjects,
          maxQueryLength: o.config.grouping.maxQueryLength,
          onQuery: (mode, requests, queries) => {
            metrics.customQuery(mode, requests, queries);
          },
          ...(arrivals ? { arrivals } : {}),
          ...(o.podCache ? { podCache: o.podCache } : {}),
        }),
        o.mapper,
      ),
    );
  }
  if (o.plan.external) {
    groups.push(
      externalMetricsApi(
        new PrometheusExternalProvider({
          prometheus,
          registry: () => lister.external,
          registryFor: (tenant) => lister.externalFor(tenant),
          backends,
          log,
        }),
      ),
    );
  }
  return {
    lister,
    groups,
    arrivals,
    backends,
    setRules: (rules) => {
      backends.setTenancy(rules.tenancy);
      return lister.setRules(enabled(rules));
    },
    start() {
      // Readiness waits for the first pass; failures are retried by the lister itself.
      void lister.start();
    },
    stop() {
      lister.stop();
      void backends.close();
    },
  };
}
