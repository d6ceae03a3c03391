/**
 * @module server/builders/config-watch
 * Hot reload of `--config` (a ConfigMap symlink swap, a file change, or SIGHUP): the new file is
 * parsed and compiled as at startup, swapped in whole and discovery rerun at once; a bad file
 * keeps the running config. The set of API groups served is fixed at startup.
 */
import { formatIssue } from "../../config/errors.ts";
import type { AdapterConfig } from "../../config/schema.ts";
import { watchConfig } from "../../config/watch.ts";
import type { ResourceMapper } from "../../naming/resource-label.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AdapterMetrics } from "../../observability/metrics.ts";
import type { CompiledRules } from "../../providers/prometheus/rules.ts";
import { reparseAdapterConfig } from "./adapter-config.ts";
import type { PrometheusProviders } from "./prometheus-providers.ts";

export interface ConfigWatchBuildOptions {
  readonly path: string;
  /** The text running now (read at startup). */
  readonly text: string;
  readonly strict: boolean;
  /** The running config and rules, to refuse changes a reload cannot make. */
  readonly config: AdapterConfig;
  readonly rules: Pick<CompiledRules, "custom" | "external">;
  readonly naming: ResourceMapper;
  readonly providers: Pick<PrometheusProviders, "setRules">;
  readonly metrics: AdapterMetrics;
  readonly log: Logger;
}

/** Watches from now on, and on SIGHUP; `stop()` ends both. */
export function startConfigWatch(o: ConfigWatchBuildOptions): { stop(): void } {
  const { log, metrics } = o;
  const reload = watchConfig({
    path: o.path,
    initialText: o.text,
    log,
    load: (text) => reparseAdapterConfig(text, o.path, o.naming, o.strict),
    apply: async ({ config, rules, warnings }) => {
      const groupsChange =
        o.rules.custom.length > 0 !== rules.custom.length > 0 ||
        o.rules.external.length > 0 !== rules.external.length > 0;
      if (groupsChange) {
        throw new Error(
          "the new config adds or removes all rules of an API group; restart the adapter for that",
        );
      }
      if (JSON.stringify(config.resourceRules) !== JSON.stringify(o.config.resourceRules)) {
        log.warn("config reload: resourceRules changed; they take effect at the next restart");
      }
      for (const w of warnings) log.warn({ configWarning: true }, formatIssue(w));
      metrics.configWarnings(warnings.length);
      await o.providers.setRules(rules);
    },
    onReload: (ok) => {
      metrics.configReload(ok);
    },
  });
  const onSighup = () => void reload.reload("SIGHUP");
  process.on("SIGHUP", onSighup);
  return {
    stop() {
      reload.close();
      process.off("SIGHUP", onSighup);
    },
  };
}
