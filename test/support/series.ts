/**
 * @module test/support/series
 * OpenMetrics text of constant series for startPrometheus to backfill: each series holds its
 * value every 30 s from 10 minutes ago to 20 minutes ahead, so an instant query at "now" anywhere
 * in a test run finds it, and discovery's `start` (now − max age) sees it.
 */

/** `[name, labels, value]`; a name ending in `_total` is typed a counter, others a gauge. */
export type ConstantSeries = readonly [string, Readonly<Record<string, string>>, string];

export function constantSeries(series: readonly ConstantSeries[], nowMs = Date.now()): string {
  const now = Math.floor(nowMs / 1000);
  const byName = new Map<string, string[]>();
  for (let t = now - 600; t <= now + 1200; t += 30) {
    for (const [name, labels, value] of series) {
      const ls = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",");
      const list = byName.get(name) ?? [];
      list.push(`${name}{${ls}} ${value} ${String(t)}`);
      byName.set(name, list);
    }
  }
  const lines: string[] = [];
  for (const [name, samples] of byName) {
    lines.push(`# TYPE ${name} ${name.endsWith("_total") ? "counter" : "gauge"}`, ...samples);
  }
  lines.push("# EOF", "");
  return lines.join("\n");
}
