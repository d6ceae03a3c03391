/**
 * @module server/builders/api-handler
 * The routes behind the listener: the installed API groups, discovery, health (ready once the
 * first metric discovery pass is done), /version and the adapter's own /metrics.
 */
import type { ApiGroup } from "../../apis/types.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AdapterMetrics } from "../../observability/metrics.ts";
import { createApiHandler, type RequestHandler } from "../api-server.ts";

export function buildApiHandler(o: {
  readonly groups: readonly ApiGroup[];
  readonly ready: () => boolean;
  readonly version: string;
  readonly serverAddress: string;
  readonly metrics: AdapterMetrics;
  readonly log: Logger;
}): RequestHandler {
  const { metrics } = o;
  return createApiHandler({
    groups: o.groups,
    log: o.log,
    ready: o.ready,
    version: { gitVersion: o.version },
    serverAddress: o.serverAddress,
    metrics: {
      contentType: metrics.registry.contentType,
      text: () => metrics.registry.metrics(),
    },
    onResponse: (group, verb, code, seconds) => {
      metrics.request(group, verb, code, seconds);
    },
  });
}
