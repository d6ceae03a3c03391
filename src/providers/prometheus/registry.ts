/**
 * @module providers/prometheus/registry
 * What discovery found: for each (resource, scope, metric) the series and rule that answer it.
 * Immutable; a relist builds a new one and swaps it in. Mirrors prometheus-adapter's
 * basicSeriesRegistry (pkg/custom-provider/series_registry.go): the last series seen wins.
 */
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { CustomMetricInfo, ExternalMetricInfo } from "../types.ts";
import type { CompiledRule } from "./rules.ts";

export interface SeriesEntry {
  readonly seriesName: string;
  readonly rule: CompiledRule;
}

function key(gr: GroupResource, namespaced: boolean, metric: string): string {
  return `${gr.group}\u0000${gr.resource}\u0000${namespaced ? "1" : "0"}\u0000${metric}`;
}

/** Namespaces and nodes are never namespaced, whatever other labels the series carry. */
function scoped(gr: GroupResource, namespaced: boolean): boolean {
  return gr.group === "" && (gr.resource === "namespaces" || gr.resource === "nodes")
    ? false
    : namespaced;
}

export class CustomRegistry {
  readonly #entries = new Map<string, { info: CustomMetricInfo; entry: SeriesEntry }>();

  add(gr: GroupResource, namespaced: boolean, metric: string, entry: SeriesEntry): void {
    const ns = scoped(gr, namespaced);
    this.#entries.set(key(gr, ns, metric), {
      info: { groupResource: gr, namespaced: ns, metric },
      entry,
    });
  }

  get(info: CustomMetricInfo): SeriesEntry | undefined {
    return this.#entries.get(key(info.groupResource, info.namespaced, info.metric))?.entry;
  }

  list(): CustomMetricInfo[] {
    return [...this.#entries.values()].map((e) => e.info);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export class ExternalRegistry {
  readonly #entries = new Map<string, SeriesEntry>();

  add(metric: string, entry: SeriesEntry): void {
    this.#entries.set(metric, entry);
  }

  get(metric: string): SeriesEntry | undefined {
    return this.#entries.get(metric);
  }

  list(): ExternalMetricInfo[] {
    return [...this.#entries.keys()].map((metric) => ({ metric }));
  }

  get size(): number {
    return this.#entries.size;
  }
}
