/**
 * @module server/builders/resource-metrics
 * metrics.k8s.io over one source: Prometheus `resourceRules` (the config generator's when the
 * config has none), or kubelets scraped like metrics-server (no Prometheus needed).
 */
import { resourceMetricsApi } from "../../apis/resource-metrics.ts";
import type { ApiGroup } from "../../apis/types.ts";
import { defaultConfig } from "../../config/defaults.ts";
import type { AdapterConfig } from "../../config/schema.ts";
import { KcmError } from "../../errors.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { PodCache } from "../../kube/pod-cache.ts";
import type { ResourceMapper } from "../../naming/resource-label.ts";
import type { Logger } from "../../observability/logger.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { KubeletScraper, nodesPath } from "../../providers/resource/kubelet-scraper.ts";
import { KubeletSource } from "../../providers/resource/kubelet-source.ts";
import { NodeTargets } from "../../providers/resource/node-targets.ts";
import { KubeResourceObjects } from "../../providers/resource/objects.ts";
import {
  PrometheusResourceSource,
  type ResourceTenants,
} from "../../providers/resource/prometheus-source.ts";
import type { KubeletConfig } from "../options/resource-metrics.ts";
import type { Component } from "./component.ts";

export interface ResourceMetrics extends Component {
  readonly group: ApiGroup;
}

export interface ResourceMetricsOptions {
  readonly source: "prometheus" | "kubelet";
  readonly config: AdapterConfig;
  readonly kubelet: KubeletConfig;
  /** The kubelet source's identity and CA default to this kubeconfig's. */
  readonly kubeconfig: string | undefined;
  readonly prometheus: PrometheusClient;
  readonly naming: ResourceMapper;
  readonly kube: KubeClient;
  readonly podCache: PodCache | undefined;
  /** The config's tenants for `resourceRules` (Backends.resourceTenants); without it, none. */
  readonly tenants?: ResourceTenants | undefined;
  readonly log: Logger;
}

export function buildResourceMetrics(o: ResourceMetricsOptions): ResourceMetrics {
  const { log } = o;
  let kubelet: KubeletSource | undefined;
  let nodes: NodeTargets | undefined;
  let source;
  if (o.source === "prometheus") {
    const rules = o.config.resourceRules ?? defaultConfig().resourceRules;
    if (!rules) throw new KcmError("KCM_ERR_USAGE", "no resourceRules to serve");
    source = new PrometheusResourceSource({
      prometheus: o.prometheus,
      tenants: o.tenants,
      rules,
      mapper: o.naming,
      log,
    });
  } else {
    const k = o.kubelet;
    nodes = new NodeTargets({ kube: o.kube, log, path: nodesPath(k.nodeSelector) });
    kubelet = new KubeletSource({
      scraper: new KubeletScraper(
        o.kube,
        {
          scheme: k.scheme,
          port: k.port,
          useNodeStatusPort: k.useNodeStatusPort,
          preferredAddressTypes: k.preferredAddressTypes,
          insecureTls: k.insecureTls,
          caFile: k.caFile,
          kubeconfig: o.kubeconfig,
          clientCertFile: k.clientCertFile,
          clientKeyFile: k.clientKeyFile,
          nodeSelector: k.nodeSelector,
          timeoutMs: k.timeoutMs,
        },
        nodes,
      ),
      resolutionMs: k.resolutionMs,
      log,
    });
    source = kubelet;
  }
  const group = resourceMetricsApi({
    objects: new KubeResourceObjects(o.kube, o.podCache),
    source,
    log,
  });
  return {
    group,
    start() {
      nodes?.start();
      kubelet?.start();
      log.info({ source: o.source }, "serving metrics.k8s.io");
    },
    stop() {
      kubelet?.stop();
      void nodes?.stop();
    },
  };
}
