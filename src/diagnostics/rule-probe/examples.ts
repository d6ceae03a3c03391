/**
 * @module diagnostics/rule-probe/examples
 * One example query per metric, rendered as the adapter renders it for an object its series name
 * (live objects first), run against Prometheus, and the findings its result gives: an error, no
 * sample, no sample keeping the object's label, NaN.
 */
import { groupResourceString, type GroupResource } from "../../apimachinery/group-resource.ts";
import type { Labels } from "../../prometheus/client.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import { selectorForName } from "../../providers/prometheus/discovery.ts";
import { buildCustomQuery, buildExternalQuery } from "../../providers/prometheus/query-builder.ts";
import type { SeriesEntry } from "../../providers/prometheus/registry.ts";
import type { CustomMetricInfo } from "../../providers/types.ts";
import type { Probe } from "./probe.ts";
import { errorText, type ExampleQuery, type Rule } from "./types.ts";

const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

/** Objects tried per metric before concluding that its query returns nothing. */
const CANDIDATES_PER_METRIC = 3;

/** One query for the custom metric `info`, tried on a few objects its series name. */
export async function customExample(
  p: Probe,
  r: Rule,
  info: CustomMetricInfo,
  entry: SeriesEntry,
  series: readonly Labels[],
): Promise<ExampleQuery | undefined> {
  const res = r.compiled.resources;
  let label: string;
  let nsLabel: string | undefined;
  try {
    label = res.labelForResource(info.groupResource);
    nsLabel = info.namespaced ? res.labelForResource(NAMESPACES) : undefined;
  } catch {
    return undefined;
  }
  // Objects whose series are live now come first: the series listing also holds objects gone
  // within the max age (a deleted pod), whose query rightly returns nothing.
  const seen = new Set<string>();
  const candidates: { namespace: string; name: string }[] = [];
  const offer = (namespace: string, name: string) => {
    const key = `${namespace}/${name}`;
    if (name === "" || (nsLabel !== undefined && namespace === "") || seen.has(key)) return;
    seen.add(key);
    if (candidates.length < CANDIDATES_PER_METRIC) candidates.push({ namespace, name });
  };
  for (const s of await liveObjects(p, r, entry.seriesName, label, nsLabel)) {
    offer(nsLabel === undefined ? "" : (s[nsLabel] ?? ""), s[label] ?? "");
  }
  for (const s of series) {
    if (s["__name__"] !== entry.seriesName) continue;
    offer(nsLabel === undefined ? "" : (s[nsLabel] ?? ""), s[label] ?? "");
  }
  let last: ExampleQuery | undefined;
  for (const c of candidates) {
    const object = `${groupResourceString(info.groupResource)} ${c.namespace === "" ? c.name : `${c.namespace}/${c.name}`}`;
    let query: string;
    try {
      query = buildCustomQuery(r.compiled.metricsQuery, res, {
        series: entry.seriesName,
        groupResource: info.groupResource,
        namespace: c.namespace,
        names: [c.name],
        metricSelector: [],
      });
    } catch (e) {
      return { object, query: "", error: errorText(e) };
    }
    last = await runExample(p, object, query, (samples) => {
      const mine = samples.filter((s) => s.metric[label] === c.name);
      return { forObject: mine.length, value: mine[0]?.value[1] };
    });
    // Only an empty answer is worth another object: it may be one that is gone.
    if (last.error !== undefined || (last.samples ?? 0) > 0) return last;
  }
  return last;
}

/** Label sets (object label, namespace label) of the series present at the probe's time. */
async function liveObjects(
  p: Probe,
  r: Rule,
  seriesName: string,
  label: string,
  nsLabel: string | undefined,
): Promise<readonly Labels[]> {
  const selector = selectorForName(r.config.seriesQuery, seriesName);
  if (selector === undefined) return [];
  const by = [label, ...(nsLabel === undefined ? [] : [nsLabel])].join(",");
  try {
    const res = await p.limit(() =>
      p.input.prometheus.query(`group by (${by}) (${selector})`, p.now),
    );
    return res.resultType === "vector" ? res.result.map((x) => x.metric) : [];
  } catch {
    return [];
  }
}

export async function externalExample(
  p: Probe,
  r: Rule,
  entry: SeriesEntry,
  series: readonly Labels[],
): Promise<ExampleQuery | undefined> {
  let nsLabel: string | undefined;
  try {
    nsLabel = r.compiled.namespaced ? r.compiled.resources.labelForResource(NAMESPACES) : undefined;
  } catch {
    nsLabel = undefined;
  }
  const s = series.find(
    (x) =>
      x["__name__"] === entry.seriesName && (nsLabel === undefined || (x[nsLabel] ?? "") !== ""),
  );
  const namespace = nsLabel === undefined ? "" : (s?.[nsLabel] ?? "");
  const object = namespace === "" ? "any namespace" : `namespace ${namespace}`;
  let query: string;
  try {
    query = buildExternalQuery(r.compiled.metricsQuery, r.compiled.resources, {
      series: entry.seriesName,
      namespace,
      metricSelector: [],
      namespaced: r.compiled.namespaced,
    });
  } catch (e) {
    return { object, query: "", error: errorText(e) };
  }
  return runExample(p, object, query, (samples) => ({ value: samples[0]?.value[1] }));
}

async function runExample(
  p: Probe,
  object: string,
  query: string,
  pick: (samples: readonly { metric: Labels; value: readonly [number, number] }[]) => {
    forObject?: number;
    value: number | undefined;
  },
): Promise<ExampleQuery> {
  try {
    const result = await p.limit(() => p.input.prometheus.query(query, p.now));
    if (result.resultType !== "vector") {
      return { object, query, error: `Prometheus returned a ${result.resultType}, not a vector` };
    }
    const { forObject, value } = pick(result.result);
    return {
      object,
      query,
      samples: result.result.length,
      ...(forObject === undefined ? {} : { forObject }),
      ...(value === undefined ? {} : { value }),
    };
  } catch (e) {
    return { object, query, error: isPrometheusError(e) ? (e.error ?? e.message) : errorText(e) };
  }
}

/** Findings about one metric's example query. */
export function judge(p: Probe, r: Rule, metric: string, ex: ExampleQuery | undefined): void {
  if (ex === undefined) return;
  const at = [r.list, r.index, "metricsQuery"];
  const fix = "check the matchers, functions and windows in metricsQuery";
  if (ex.error !== undefined) {
    p.add(
      "error",
      "query",
      at,
      `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} fails: ${ex.error}; every request for the rule's metrics fails the same way; ${fix} (rendered: ${ex.query})`,
    );
  } else if (ex.samples === 0) {
    p.add(
      "warning",
      "query",
      at,
      `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns no sample although its series exist, so the metric has no value; ${fix} (a rate window shorter than two scrapes returns nothing) (rendered: ${ex.query})`,
    );
  } else if (ex.forObject === 0) {
    p.add(
      "warning",
      "query",
      at,
      `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns ${String(ex.samples)} sample(s) but none keeps the object's label, so the adapter finds no value for it; keep <<.GroupBy>> in the query's by (…) clause (rendered: ${ex.query})`,
    );
  } else if (ex.value !== undefined && Number.isNaN(ex.value)) {
    p.add(
      "warning",
      "query",
      at,
      `${r.origin}.metricsQuery rendered for ${metric} on ${ex.object} returns NaN (a division by zero, often a ratio of idle counters), which an HPA cannot use; guard the division, e.g. … / (… > 0) (rendered: ${ex.query})`,
    );
  }
}
