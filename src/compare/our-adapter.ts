/**
 * @module compare/our-adapter
 * The adapter's API groups built in-process from a config, as `serve` builds them (same
 * providers, same API layer), but not listening and not registered: `compare` calls each group's
 * handler directly. Discovery runs once at start; nothing is watched or re-listed.
 */
import { customMetricsApi } from "../apis/custom-metrics.ts";
import { externalMetricsApi } from "../apis/external-metrics.ts";
import { resourceMetricsApi } from "../apis/resource-metrics.ts";
import type { ApiGroup } from "../apis/types.ts";
import { defaultConfig } from "../config/defaults.ts";
import { formatIssue, type ConfigIssue } from "../config/errors.ts";
import { parseConfig, readConfigText } from "../config/load.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { KcmError } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import { PrometheusClient } from "../prometheus/client.ts";
import { PrometheusCustomProvider } from "../providers/prometheus/custom-provider.ts";
import { PrometheusExternalProvider } from "../providers/prometheus/external-provider.ts";
import { MetricLister } from "../providers/prometheus/metric-lister.ts";
import { DEFAULT_GROUPING_MAX_OBJECTS } from "../providers/prometheus/query-grouping.ts";
import { checkTemplate, compileRules, namingMapper } from "../providers/prometheus/rules.ts";
import { DEFAULT_ADDRESS_TYPES, KubeletScraper } from "../providers/resource/kubelet-scraper.ts";
import { KubeletSource } from "../providers/resource/kubelet-source.ts";
import { KubeResourceObjects } from "../providers/resource/objects.ts";
import { PrometheusResourceSource } from "../providers/resource/prometheus-source.ts";

export interface OurAdapterOptions {
  readonly config: string;
  readonly kube: KubeClient;
  readonly kubeconfig: string | undefined;
  readonly prometheus: {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    readonly bearerTokenFile?: string | undefined;
    readonly caFile?: string | undefined;
    readonly clientCertFile?: string | undefined;
    readonly clientKeyFile?: string | undefined;
  };
  /** Series seen within this age count in discovery (serve's --metrics-max-age). */
  readonly maxAgeMs: number;
  /** As serve's --resource-metrics-source; `none`: no metrics.k8s.io. */
  readonly resourceSource: "prometheus" | "kubelet" | "none" | undefined;
  readonly kubelet: {
    readonly scheme: "http" | "https";
    readonly port: number;
    readonly useNodeStatusPort: boolean;
    readonly insecureTls: boolean;
    readonly caFile?: string | undefined;
    readonly resolutionMs: number;
  };
  readonly log: Logger;
}

export interface OurAdapter {
  /** By group name; a group the config gives no rules for is absent, as in `serve`. */
  readonly groups: ReadonlyMap<string, ApiGroup>;
  /** Config warnings (rules that load but fail at query time), one line each. */
  readonly warnings: readonly string[];
  readonly mapper: RestMapper;
  close(): Promise<void>;
}

/** Resolves once the kubelet source has a rate for something (two scrape rounds), or times out. */
async function kubeletReady(src: KubeletSource, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!src.ready && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  return src.ready;
}

export async function buildOurAdapter(o: OurAdapterOptions): Promise<OurAdapter> {
  const issues: ConfigIssue[] = [];
  const text = await readConfigText(o.config);
  const config: AdapterConfig = parseConfig(text, o.config, {
    compileTemplate: checkTemplate,
    strict: false,
    onWarning: (w) => issues.push(w),
  });
  const mapper = new RestMapper(o.kube);
  await mapper.refresh().catch((e: unknown) => {
    throw new KcmError(
      "KCM_ERR_CLUSTER_UNREACHABLE",
      `cannot read API discovery from ${o.kube.server || "in-cluster"}: ${String(e)}`,
    );
  });
  const nm = namingMapper(mapper);
  const { custom, external, pending } = compileRules(config, nm);
  issues.push(...pending);
  const prometheus = await PrometheusClient.create({
    url: o.prometheus.url,
    verb: "GET",
    headers: o.prometheus.headers,
    timeoutMs: o.prometheus.timeoutMs,
    ...(o.prometheus.bearerTokenFile ? { bearerTokenFile: o.prometheus.bearerTokenFile } : {}),
    ...(o.prometheus.caFile ? { caFile: o.prometheus.caFile } : {}),
    ...(o.prometheus.clientCertFile ? { clientCertFile: o.prometheus.clientCertFile } : {}),
    ...(o.prometheus.clientKeyFile ? { clientKeyFile: o.prometheus.clientKeyFile } : {}),
  });
  const stops: (() => void)[] = [];
  const close = async () => {
    for (const s of stops) s();
    await prometheus.close();
  };
  try {
    const lister = new MetricLister(
      prometheus,
      { custom, external },
      { relistIntervalMs: o.maxAgeMs, maxAgeMs: o.maxAgeMs, log: o.log },
    );
    if ((custom.length > 0 || external.length > 0) && !(await lister.relist())) {
      throw new KcmError(
        "KCM_ERR_PROMETHEUS_UNREACHABLE",
        `metric discovery against ${o.prometheus.url} failed: ${lister.lastError ?? "unknown error"}`,
      );
    }
    const groups = new Map<string, ApiGroup>();
    if (custom.length > 0) {
      const g = customMetricsApi(
        new PrometheusCustomProvider({
          prometheus,
          mapper,
          kube: o.kube,
          registry: () => lister.custom,
          log: o.log,
          groupingMaxObjects: DEFAULT_GROUPING_MAX_OBJECTS,
        }),
        mapper,
      );
      groups.set(g.name, g);
    }
    if (external.length > 0) {
      const g = externalMetricsApi(
        new PrometheusExternalProvider({ prometheus, registry: () => lister.external, log: o.log }),
      );
      groups.set(g.name, g);
    }
    const sourceName =
      o.resourceSource ?? (config.resourceRules ? "prometheus" : ("none" as const));
    if (sourceName !== "none") {
      let source;
      if (sourceName === "prometheus") {
        const rules = config.resourceRules ?? defaultConfig().resourceRules;
        if (!rules) throw new KcmError("KCM_ERR_USAGE", "no resourceRules to serve");
        source = new PrometheusResourceSource({ prometheus, rules, mapper: nm, log: o.log });
      } else {
        const src = new KubeletSource({
          scraper: new KubeletScraper(o.kube, {
            scheme: o.kubelet.scheme,
            port: o.kubelet.port,
            useNodeStatusPort: o.kubelet.useNodeStatusPort,
            preferredAddressTypes: DEFAULT_ADDRESS_TYPES,
            insecureTls: o.kubelet.insecureTls,
            caFile: o.kubelet.caFile,
            kubeconfig: o.kubeconfig,
            timeoutMs: 10_000,
          }),
          resolutionMs: o.kubelet.resolutionMs,
          log: o.log,
        });
        src.start();
        stops.push(() => {
          src.stop();
        });
        // A rate needs two scrape rounds, one resolution apart.
        await kubeletReady(src, 3 * o.kubelet.resolutionMs + 10_000);
        source = src;
      }
      const g = resourceMetricsApi({
        objects: new KubeResourceObjects(o.kube),
        source,
        log: o.log,
      });
      groups.set(g.name, g);
    }
    return {
      groups,
      warnings: issues.map(formatIssue),
      mapper,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
