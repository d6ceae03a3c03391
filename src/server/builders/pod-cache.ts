/**
 * @module server/builders/pod-cache
 * One watched pod cache for custom.metrics.k8s.io and metrics.k8s.io, built only when one of them
 * may list pods and `--pod-cache` is on (kube/pod-cache.ts).
 */
import type { KubeClient } from "../../kube/client.ts";
import { PodCache } from "../../kube/pod-cache.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AdapterMetrics } from "../../observability/metrics.ts";

export function buildPodCache(o: {
  readonly enabled: boolean;
  readonly kube: KubeClient;
  readonly log: Logger;
  readonly metrics: AdapterMetrics;
}): PodCache | undefined {
  if (!o.enabled) return undefined;
  return new PodCache({
    kube: o.kube,
    log: o.log,
    onEvent: (e) => {
      o.metrics.podCacheEvent(e);
    },
    onLookup: (source) => {
      o.metrics.podLookup(source);
    },
  });
}
