/**
 * @module harness/prometheus-config
 * Prometheus configuration for the local cluster: the node agent's cAdvisor endpoint, and every
 * running pod that asks to be scraped (annotation `prometheus.io/scrape: "true"`, with
 * `prometheus.io/port` and `prometheus.io/path`), labelled with its namespace, pod and, when a
 * Service selects it, the service (as prometheus-operator's ServiceMonitors label them). Debian's Prometheus is built without Kubernetes
 * service discovery, so the node agent writes the pod targets to a file_sd file instead.
 */
import { stringify } from "yaml";

export interface PrometheusConfigOptions {
  readonly nodeName: string;
  readonly nodeAgent: string;
  readonly podTargetsFile: string;
  readonly scrapeIntervalSeconds: number;
}

export function prometheusConfig(o: PrometheusConfigOptions): string {
  const interval = `${String(o.scrapeIntervalSeconds)}s`;
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: [
      {
        job_name: "kubelet-cadvisor",
        metrics_path: "/metrics/cadvisor",
        static_configs: [{ targets: [o.nodeAgent] }],
        // The node's name as `instance` is what prometheus-adapter's resource rules expect.
        relabel_configs: [{ target_label: "instance", replacement: o.nodeName }],
      },
      {
        job_name: "kubernetes-pods",
        file_sd_configs: [{ files: [o.podTargetsFile], refresh_interval: "5s" }],
      },
    ],
  });
}

export interface PodTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly address: string;
  readonly path: string;
  /** The Service that selects the pod, when one does. */
  readonly service?: string;
}

/** The file_sd document: one group per pod, labelled as Kubernetes SD relabelling would. */
export function podTargetsJson(targets: readonly PodTarget[]): string {
  return JSON.stringify(
    targets.map((t) => ({
      targets: [t.address],
      labels: {
        namespace: t.namespace,
        pod: t.pod,
        ...(t.service === undefined ? {} : { service: t.service }),
        __metrics_path__: t.path,
      },
    })),
    null,
    2,
  );
}
