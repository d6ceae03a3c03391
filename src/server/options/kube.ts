/**
 * @module server/options/kube
 * The adapter's own view of the cluster: which kubeconfig lists objects, how often API discovery
 * is refreshed, and whether pods come from a watched cache.
 */
import { Option } from "@commander-js/extra-typings";
import { bool, duration } from "./parsers.ts";

export const kubeFlags = {
  listerKubeconfig: () =>
    new Option(
      "--lister-kubeconfig <file>",
      "kubeconfig for discovery and for listing objects (default: in-cluster)",
    ),
  discoveryInterval: () =>
    new Option(
      "--discovery-interval <duration>",
      "how often to refresh the REST mapping from API discovery (also refreshed on a miss)",
    )
      .argParser(duration)
      .default(600_000, "10m"),
  podCache: () =>
    new Option(
      "--pod-cache [bool]",
      "read pods for pods/* and metrics.k8s.io from a watched cache instead of listing them per request (--pod-cache=false or --no-pod-cache: always list)",
    )
      .argParser(bool)
      .default(true),
  noPodCache: () => new Option("--no-pod-cache", "always list pods from the API server").hideHelp(),
};

export interface KubeFlagValues {
  readonly listerKubeconfig?: string | undefined;
  readonly discoveryInterval: number;
  readonly podCache: boolean;
}

export interface KubeAccessConfig {
  /** undefined: in-cluster (the service account). */
  readonly kubeconfig: string | undefined;
  readonly discoveryIntervalMs: number;
  readonly podCache: boolean;
}

/** Nothing here can be wrong on its own: the kubeconfig is read when the client is built. */
export function validateKube(v: KubeFlagValues): KubeAccessConfig {
  return {
    kubeconfig: v.listerKubeconfig,
    discoveryIntervalMs: v.discoveryInterval,
    podCache: v.podCache,
  };
}
