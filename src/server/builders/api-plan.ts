/**
 * @module server/builders/api-plan
 * Which API groups `serve` installs, from the flags and the compiled config, decided once at
 * startup (a reload cannot add or remove a group).
 */
import type { AdapterConfig } from "../../config/schema.ts";
import type { CompiledRules } from "../../providers/prometheus/rules.ts";
import type { ApisConfig } from "../options/apis.ts";

export interface ApiPlan {
  /** As upstream: a group without rules is not installed. */
  readonly custom: boolean;
  readonly external: boolean;
  /**
   * metrics.k8s.io's source: as upstream, prometheus only when the config has resourceRules,
   * unless a source is asked for; undefined: not served.
   */
  readonly resource: "prometheus" | "kubelet" | undefined;
  /** One of the served groups may list pods: worth a watched pod cache. */
  readonly listsPods: boolean;
}

export function planApis(
  apis: ApisConfig,
  source: "prometheus" | "kubelet" | undefined,
  config: AdapterConfig,
  rules: Pick<CompiledRules, "custom" | "external">,
): ApiPlan {
  const custom = apis.custom && rules.custom.length > 0;
  const chosen = source ?? (config.resourceRules ? "prometheus" : undefined);
  const resource = apis.resource ? chosen : undefined;
  return {
    custom,
    external: apis.external && rules.external.length > 0,
    resource,
    listsPods: custom || resource !== undefined,
  };
}
