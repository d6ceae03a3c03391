/**
 * @module server/options/resource-metrics
 * metrics.k8s.io's source, and for the kubelet source metrics-server's flags (`--kubelet-*`,
 * `--metric-resolution`, `--node-selector`), checked as metrics-server checks them
 * (providers/resource/kubelet-options.ts).
 */
import { Option } from "@commander-js/extra-typings";
import { KcmError } from "../../errors.ts";
import { DEFAULT_ADDRESS_TYPES } from "../../providers/resource/kubelet-scraper.ts";
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  kubeletFlagErrors,
} from "../../providers/resource/kubelet-options.ts";
import { duration, list, port } from "./parsers.ts";

export const resourceMetricsFlags = {
  source: () =>
    new Option(
      "--resource-metrics-source <source>",
      "serve metrics.k8s.io from Prometheus resourceRules or from kubelets (default: prometheus when the config has resourceRules, else metrics.k8s.io is not served)",
    ).choices(["prometheus", "kubelet"] as const),
  metricResolution: () =>
    new Option(
      "--metric-resolution <duration>",
      "kubelet source: how often kubelets are scraped (at least 10s and 10/9 of --kubelet-request-timeout, as metrics-server)",
    )
      .argParser(duration)
      .default(15_000, "15s"),
  preferredAddressTypes: () =>
    new Option(
      "--kubelet-preferred-address-types <list>",
      "kubelet source: node address types to connect to, in order",
    )
      .default([...DEFAULT_ADDRESS_TYPES])
      .argParser(list),
  port: () =>
    new Option("--kubelet-port <port>", "kubelet source: kubelet port")
      .default(10250)
      .argParser(port),
  useNodeStatusPort: () =>
    new Option(
      "--kubelet-use-node-status-port",
      "kubelet source: use the port in node.status.daemonEndpoints.kubeletEndpoint",
    ).default(false),
  scheme: () =>
    new Option(
      "--kubelet-scheme <scheme>",
      "kubelet source: http is only allowed to loopback addresses (local node agents)",
    )
      .choices(["https", "http"] as const)
      .default("https" as const),
  insecureTls: () =>
    new Option(
      "--kubelet-insecure-tls",
      "kubelet source: do not verify kubelet serving certificates",
    ).default(false),
  certificateAuthority: () =>
    new Option(
      "--kubelet-certificate-authority <file>",
      "kubelet source: CA bundle for kubelet serving certificates (default: the kubeconfig's)",
    ),
  clientCertificate: () =>
    new Option(
      "--kubelet-client-certificate <file>",
      "kubelet source: client certificate for kubelets (default: the kubeconfig's)",
    ),
  clientKey: () =>
    new Option(
      "--kubelet-client-key <file>",
      "kubelet source: key of --kubelet-client-certificate",
    ),
  requestTimeout: () =>
    new Option(
      "--kubelet-request-timeout <duration>",
      "kubelet source: how long one request to a kubelet may take, body included",
    )
      .argParser(duration)
      .default(DEFAULT_REQUEST_TIMEOUT_MS, "10s"),
  nodeSelector: () =>
    new Option(
      "-l, --node-selector <selector>",
      "kubelet source: only scrape the nodes this label selector picks",
    ),
};

export interface ResourceMetricsFlagValues {
  readonly resourceMetricsSource?: "prometheus" | "kubelet" | undefined;
  readonly metricResolution: number;
  readonly kubeletPreferredAddressTypes: readonly string[];
  readonly kubeletPort: number;
  readonly kubeletUseNodeStatusPort: boolean;
  readonly kubeletScheme: "https" | "http";
  readonly kubeletInsecureTls: boolean;
  readonly kubeletCertificateAuthority?: string | undefined;
  readonly kubeletClientCertificate?: string | undefined;
  readonly kubeletClientKey?: string | undefined;
  readonly kubeletRequestTimeout: number;
  readonly nodeSelector?: string | undefined;
  /** From the apis group: the kubelet flags are only checked when metrics.k8s.io is served. */
  readonly disableResourceMetrics: boolean;
}

export interface KubeletConfig {
  readonly scheme: "https" | "http";
  readonly port: number;
  readonly useNodeStatusPort: boolean;
  readonly preferredAddressTypes: readonly string[];
  readonly insecureTls: boolean;
  readonly caFile: string | undefined;
  readonly clientCertFile: string | undefined;
  readonly clientKeyFile: string | undefined;
  readonly nodeSelector: string | undefined;
  readonly timeoutMs: number;
  readonly resolutionMs: number;
}

export interface ResourceMetricsConfig {
  /** undefined: decided by the config (prometheus when it has resourceRules, else none). */
  readonly source: "prometheus" | "kubelet" | undefined;
  readonly kubelet: KubeletConfig;
}

/** Every kubelet flag problem at once, in metrics-server's words, joined by "; ". */
export function validateResourceMetrics(v: ResourceMetricsFlagValues): ResourceMetricsConfig {
  const kubelet: KubeletConfig = {
    scheme: v.kubeletScheme,
    port: v.kubeletPort,
    useNodeStatusPort: v.kubeletUseNodeStatusPort,
    preferredAddressTypes: v.kubeletPreferredAddressTypes,
    insecureTls: v.kubeletInsecureTls,
    caFile: v.kubeletCertificateAuthority,
    clientCertFile: v.kubeletClientCertificate,
    clientKeyFile: v.kubeletClientKey,
    nodeSelector: v.nodeSelector,
    timeoutMs: v.kubeletRequestTimeout,
    resolutionMs: v.metricResolution,
  };
  if (v.resourceMetricsSource === "kubelet" && !v.disableResourceMetrics) {
    const errors = kubeletFlagErrors({
      resolutionMs: kubelet.resolutionMs,
      requestTimeoutMs: kubelet.timeoutMs,
      insecureTls: kubelet.insecureTls,
      caFile: kubelet.caFile,
      clientCertFile: kubelet.clientCertFile,
      clientKeyFile: kubelet.clientKeyFile,
      nodeSelector: kubelet.nodeSelector,
    });
    if (errors.length > 0) throw new KcmError("KCM_ERR_USAGE", errors.join("; "));
  }
  return { source: v.resourceMetricsSource, kubelet };
}
