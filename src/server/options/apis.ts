/**
 * @module server/options/apis
 * Which of the three metrics APIs are served. A group without rules is not installed either
 * (as upstream); that is decided with the config, in server/builders.
 */
import { Option } from "@commander-js/extra-typings";

export const apisFlags = {
  disableCustomMetrics: () =>
    new Option("--disable-custom-metrics", "do not serve custom.metrics.k8s.io").default(false),
  disableExternalMetrics: () =>
    new Option("--disable-external-metrics", "do not serve external.metrics.k8s.io").default(false),
  disableResourceMetrics: () =>
    new Option("--disable-resource-metrics", "do not serve metrics.k8s.io").default(false),
};

export interface ApisFlagValues {
  readonly disableCustomMetrics: boolean;
  readonly disableExternalMetrics: boolean;
  readonly disableResourceMetrics: boolean;
}

export interface ApisConfig {
  readonly custom: boolean;
  readonly external: boolean;
  readonly resource: boolean;
}

/** Any combination is allowed, even none (the server then serves only health and /metrics). */
export function validateApis(v: ApisFlagValues): ApisConfig {
  return {
    custom: !v.disableCustomMetrics,
    external: !v.disableExternalMetrics,
    resource: !v.disableResourceMetrics,
  };
}
