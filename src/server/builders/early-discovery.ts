/**
 * @module server/builders/early-discovery
 * The first discovery pass's Prometheus requests, started from the parsed config as soon as the
 * Prometheus client exists: the REST mapper (API discovery), rule compilation and the rest of
 * start-up then happen while Prometheus answers, which at a million series is most of the
 * adapter's time to ready (issue #17 item 3). The first pass takes these requests instead of
 * sending them (providers/prometheus/discovery.ts EarlyRequests).
 */
import type { AdapterConfig, DiscoveryRule } from "../../config/schema.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import { startEarly, type EarlyRequests } from "../../providers/prometheus/discovery.ts";
import { fetchRule, type FetchRule } from "../../providers/prometheus/rules.ts";
import type { ApisConfig } from "../options/apis.ts";

/**
 * Starts them, or does nothing (undefined) when the first pass would not ask `prometheus` alone:
 * tenants (each pass asks a tenant's view of the client) or rules with their own server are
 * left to the pass, as is a rule whose filters do not compile (the config's compilation reports
 * it, with its place in the file).
 */
export function startEarlyDiscovery(
  prometheus: PrometheusApi,
  config: AdapterConfig,
  apis: Pick<ApisConfig, "custom" | "external">,
  maxAgeMs: number,
): EarlyRequests | undefined {
  if (config.k8sCustomMetrics?.tenants !== undefined) return undefined;
  const ofList = (list: readonly DiscoveryRule[] | undefined, key: string): FetchRule[] =>
    (list ?? []).flatMap((r, i) =>
      r.k8sCustomMetrics?.server === undefined ? [fetchRule(r, `${key}[${String(i)}]`)] : [],
    );
  let rules: { custom: FetchRule[]; external: FetchRule[] };
  try {
    rules = {
      custom: apis.custom ? ofList(config.rules, "rules") : [],
      external: apis.external ? ofList(config.externalRules, "externalRules") : [],
    };
  } catch {
    return undefined;
  }
  if (rules.custom.length + rules.external.length === 0) return undefined;
  return startEarly(prometheus, rules, { maxAgeMs });
}
