/**
 * @module providers/prometheus/discovery
 * Finds the metrics each rule exposes and the resources each is attached to.
 *
 * prometheus-adapter lists every series of every rule (`/api/v1/series`), which costs memory and
 * time in proportion to the number of series (#221). The result only depends on, per metric name,
 * the set of label *names* its series carry (a label maps to a resource on its own), so we ask
 * Prometheus for the names (`/api/v1/label/__name__/values`) and then, per name, for its label
 * names (`/api/v1/labels`): the cost grows with metric names, not series. A rule whose
 * seriesQuery is not a plain vector selector falls back to the series listing.
 */
import { goQuote } from "../../apimachinery/go-quote.ts";
import { filterSeries } from "../../naming/series-filter.ts";
import type { PrometheusClient } from "./client.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

export interface DiscoveryOptions {
  /** Only series seen since now minus this count (`--metrics-max-age`). */
  readonly maxAgeMs: number;
  /** Label-name lookups in flight at once. */
  readonly concurrency?: number;
  readonly now?: Date;
}

export interface DiscoveryResult {
  readonly custom: CustomRegistry;
  readonly external: ExternalRegistry;
  /** Prometheus requests this run made, by endpoint. */
  readonly requests: Readonly<Record<string, number>>;
}

const SELECTOR = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s;

/**
 * The rule's selector narrowed to one metric name, or undefined when the selector is not a plain
 * vector selector we can extend safely.
 */
export function selectorForName(seriesQuery: string, name: string): string | undefined {
  const m = SELECTOR.exec(seriesQuery);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  if (m[1] !== undefined) return m[1] === name ? seriesQuery : undefined;
  const inner = (m[2] ?? "").trim().replace(/,\s*$/, "");
  // A quoted `}` or `{` inside the braces would make our split unreliable.
  if (/[{}]/.test(inner)) return undefined;
  return `{${inner === "" ? "" : `${inner},`}__name__=${goQuote(name)}}`;
}

async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The registry for each rule's (already filtered) series: prometheus-adapter's
 * basicSeriesRegistry.SetSeries (pkg/custom-provider/series_registry.go). Later wins.
 */
export function customRegistry(
  rules: readonly CompiledRule[],
  seriesPerRule: readonly (readonly NamedSeries[])[],
): CustomRegistry {
  const custom = new CustomRegistry();
  rules.forEach((rule, i) => {
    for (const s of seriesPerRule[i] ?? []) {
      const metric = rule.namer.metricNameFor(s.name);
      if (metric === undefined) continue;
      const { resources, namespaced } = rule.resources.resourcesForLabels(s.labels);
      for (const gr of resources) custom.add(gr, namespaced, metric, { seriesName: s.name, rule });
    }
  });
  return custom;
}

export interface NamedSeries {
  readonly name: string;
  readonly labels: readonly string[];
}

/** Runs one discovery pass. Any failed request fails the pass: the caller keeps the old result. */
export async function discover(
  client: PrometheusClient,
  rules: { readonly custom: readonly CompiledRule[]; readonly external: readonly CompiledRule[] },
  o: DiscoveryOptions,
): Promise<DiscoveryResult> {
  const now = o.now ?? new Date();
  const start = new Date(now.getTime() - o.maxAgeMs);
  const concurrency = o.concurrency ?? 16;
  const requests: Record<string, number> = {};
  const count = (endpoint: string) => {
    requests[endpoint] = (requests[endpoint] ?? 0) + 1;
  };

  // One name listing per distinct seriesQuery, shared by custom and external rules.
  const namesByQuery = new Map<string, Promise<string[]>>();
  const namesFor = (q: string) => {
    let p = namesByQuery.get(q);
    if (!p) {
      count("label_values");
      p = client.labelValues("__name__", [q], start).then((n) => [...n].sort());
      namesByQuery.set(q, p);
    }
    return p;
  };
  const allRules = [...rules.custom, ...rules.external];
  await Promise.all(allRules.map((r) => namesFor(r.seriesQuery)));

  // Label names per (seriesQuery, name), each asked once.
  const labelsByKey = new Map<string, Promise<string[]>>();
  const seriesFallback = new Map<string, Promise<NamedSeries[]>>();
  const seriesOf = async (rule: CompiledRule): Promise<NamedSeries[]> => {
    const names = filterSeries(
      rule.filters,
      (await namesFor(rule.seriesQuery)).map((name) => ({ name })),
    ).map((s) => s.name);
    if (names.some((n) => selectorForName(rule.seriesQuery, n) === undefined)) {
      let p = seriesFallback.get(rule.seriesQuery);
      if (!p) {
        count("series");
        p = client.series([rule.seriesQuery], start).then((list) =>
          list.map((l) => ({
            name: l["__name__"] ?? "",
            labels: Object.keys(l).filter((k) => k !== "__name__"),
          })),
        );
        seriesFallback.set(rule.seriesQuery, p);
      }
      return filterSeries(rule.filters, await p);
    }
    return pool(names, concurrency, async (name) => {
      const k = `${rule.seriesQuery}\u0000${name}`;
      let p = labelsByKey.get(k);
      if (!p) {
        count("labels");
        p = client
          .labelNames([selectorForName(rule.seriesQuery, name) ?? ""], start)
          .then((ls) => ls.filter((l) => l !== "__name__"));
        labelsByKey.set(k, p);
      }
      return { name, labels: await p };
    });
  };

  const custom = customRegistry(rules.custom, await Promise.all(rules.custom.map(seriesOf)));

  // External metrics need names only: no label lookups.
  const external = new ExternalRegistry();
  for (const rule of rules.external) {
    const names = filterSeries(
      rule.filters,
      (await namesFor(rule.seriesQuery)).map((name) => ({ name })),
    );
    for (const { name } of names) {
      const metric = rule.namer.metricNameFor(name);
      if (metric !== undefined) external.add(metric, { seriesName: name, rule });
    }
  }
  return { custom, external, requests };
}
