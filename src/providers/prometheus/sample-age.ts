/**
 * @module providers/prometheus/sample-age
 * A rule's `k8sCustomMetrics.maxSampleAge` as PromQL: the rule's own query, kept only for objects
 * whose newest raw sample of the rule's series is recent enough. `timestamp()` on a plain vector
 * selector gives the sample's own time, not the evaluation time, so this is the data's age.
 */

/**
 * The metricsQuery template text with the age condition appended. Custom rules match per object
 * (`on(<<.GroupBy>>)`); external queries have no object label, so there the newest sample of all
 * the request's series decides. Newlines keep a trailing PromQL `#` comment from eating the `)`.
 */
export function withMaxSampleAge(
  metricsQuery: string,
  maxAgeMs: number,
  kind: "custom" | "external",
): string {
  if (metricsQuery.trim() === "") return metricsQuery;
  const seconds = String(maxAgeMs / 1000);
  const fresh =
    kind === "custom"
      ? `max by (<<.GroupBy>>) (timestamp(<<.Series>>{<<.LabelMatchers>>}))`
      : `max(timestamp(<<.Series>>{<<.LabelMatchers>>}))`;
  const on = kind === "custom" ? "on(<<.GroupBy>>)" : "on()";
  return `(\n${metricsQuery}\n) and ${on} (\n${fresh} > time() - ${seconds}\n)`;
}
