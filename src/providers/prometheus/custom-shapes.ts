/**
 * @module providers/prometheus/custom-shapes
 * The placeholder rendering of a rule's query (query-builder.ts {@link buildCustomQueryShape}) that
 * query grouping batches by, kept instead of rendered for every request. It depends only on the
 * series entry (rule and series name), the resource, whether the request names a namespace (not
 * which one: that is a placeholder) and the metric selector; an HPA fleet asks for a few of them,
 * and rendering a template was a tenth of what a request allocated.
 *
 * Kept per series entry, which a relist replaces: a new rule or series is rendered anew, and
 * what belonged to the old registry goes with it (WeakMap).
 */
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { buildCustomQueryShape, type CustomQueryShape } from "./query-builder.ts";
import type { SeriesEntry } from "./registry.ts";

/** Bound on shapes kept per entry: metric selectors are the caller's, so they can vary. */
export const SHAPES_PER_ENTRY = 1024;

export class CustomShapes {
  readonly #byEntry = new WeakMap<SeriesEntry, Map<string, CustomQueryShape>>();

  /** The shape of `entry`'s query for such a request; throws what rendering throws, kept nothing. */
  shape(
    entry: SeriesEntry,
    groupResource: GroupResource,
    namespace: string,
    metricSelector: readonly Requirement[],
  ): CustomQueryShape {
    let shapes = this.#byEntry.get(entry);
    if (!shapes) {
      shapes = new Map();
      this.#byEntry.set(entry, shapes);
    }
    const key = JSON.stringify([
      groupResource.group,
      groupResource.resource,
      namespace !== "",
      metricSelector,
    ]);
    const kept = shapes.get(key);
    if (kept) return kept;
    const shape = buildCustomQueryShape(entry.rule.metricsQuery, entry.rule.resources, {
      series: entry.seriesName,
      groupResource,
      namespace,
      metricSelector,
    });
    if (shapes.size >= SHAPES_PER_ENTRY) shapes.clear();
    shapes.set(key, shape);
    return shape;
  }
}
