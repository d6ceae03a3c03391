/**
 * @module test/support/series
 * OpenMetrics text for startPrometheus to backfill: {@link OpenMetricsWriter} takes samples in any
 * order and writes them grouped by metric name; {@link constantSeries} writes constant series that
 * hold their value every 30 s from 10 minutes ago to 20 minutes ahead, so an instant query at "now"
 * anywhere in a test run finds them, and discovery's `start` (now − max age) sees them.
 */

/** `[name, labels, value]`; a name ending in `_total` is typed a counter, others a gauge. */
export type ConstantSeries = readonly [string, Readonly<Record<string, string>>, string];

/**
 * Samples grouped by metric name, in the order names were first seen; each group is typed a
 * counter when its name ends in `_total`, else a gauge, and the text ends with `# EOF`.
 */
export class OpenMetricsWriter {
  readonly #byName = new Map<string, string[]>();

  /** One sample; `labels` as a map or as the text between the braces; `t` in Unix seconds. */
  sample(
    name: string,
    labels: Readonly<Record<string, string>> | string,
    value: number | string,
    t: number,
  ): this {
    const ls =
      typeof labels === "string"
        ? labels
        : Object.entries(labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",");
    let list = this.#byName.get(name);
    if (list === undefined) {
      list = [];
      this.#byName.set(name, list);
    }
    list.push(`${name}{${ls}} ${String(value)} ${String(t)}`);
    return this;
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, samples] of this.#byName) {
      lines.push(`# TYPE ${name} ${name.endsWith("_total") ? "counter" : "gauge"}`, ...samples);
    }
    lines.push("# EOF", "");
    return lines.join("\n");
  }
}

export function constantSeries(series: readonly ConstantSeries[], nowMs = Date.now()): string {
  const now = Math.floor(nowMs / 1000);
  const w = new OpenMetricsWriter();
  for (let t = now - 600; t <= now + 1200; t += 30) {
    for (const [name, labels, value] of series) w.sample(name, labels, value, t);
  }
  return w.text();
}
