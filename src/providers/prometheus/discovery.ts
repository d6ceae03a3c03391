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
 *
 * At a million series Prometheus' CPU, not the round trips, bounds a pass: each per-name call
 * re-reads the postings of every matcher (`pod!=""` merges one list per pod). So the per-name
 * selector drops the rule's `__name__` matchers (the name, listed by that very selector, satisfies
 * them), one limiter bounds the whole pass, and a rule's label lookups start as soon as its own
 * names are listed rather than after every rule's.
 */
import { goQuote } from "../../apimachinery/go-quote.ts";
import { filterSeries } from "../../naming/series-filter.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import { isPrometheusError, type PrometheusError } from "../../prometheus/errors.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

export interface DiscoveryOptions {
  /** Only series seen since now minus this count (`--metrics-max-age`). */
  readonly maxAgeMs: number;
  /** Prometheus requests of one pass in flight at once (default 16, the client's connections). */
  readonly concurrency?: number;
  readonly now?: Date;
}

export interface DiscoveryResult {
  readonly custom: CustomRegistry;
  readonly external: ExternalRegistry;
  /**
   * Rules Prometheus refused (a seriesQuery it cannot parse) or that cannot be asked (empty):
   * they list nothing this pass; the other rules are not held back by them.
   */
  readonly ruleErrors: readonly RuleDiscoveryError[];
  /** Prometheus requests this run made, by endpoint. */
  readonly requests: Readonly<Record<string, number>>;
  /** The same requests by server (its URL without credentials), then endpoint. */
  readonly serverRequests?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

const failedServers = new WeakMap<Error, string>();

/** The server (URL without credentials) whose request failed a discovery pass, if known. */
export function failedServerOf(e: unknown): string | undefined {
  return e instanceof Error ? failedServers.get(e) : undefined;
}

export const DEFAULT_DISCOVERY_CONCURRENCY = 16;

const SELECTOR = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s;

/**
 * One label matcher of PromQL's grammar (promql/parser/lex.go): a label name, an operator and a
 * string literal in double quotes, single quotes (both with backslash escapes) or backticks (raw).
 */
const MATCHER =
  /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(?:,|$)/sy;

/**
 * The matchers between a selector's braces, each with its label name and its text, or undefined
 * when the list does not follow the grammar exactly (then nothing is dropped from it).
 */
export function splitMatchers(inner: string): { label: string; text: string }[] | undefined {
  const out: { label: string; text: string }[] = [];
  const body = inner.trim();
  MATCHER.lastIndex = 0;
  while (MATCHER.lastIndex < body.length) {
    const m = MATCHER.exec(body);
    if (!m) return undefined;
    out.push({ label: m[1] ?? "", text: `${m[1] ?? ""}${m[2] ?? ""}${m[3] ?? ""}` });
  }
  return out;
}

/**
 * The rule's selector narrowed to one metric name, or undefined when the selector is not a plain
 * vector selector we can extend safely. `name` must come from this selector's own name listing:
 * it then satisfies every `__name__` matcher of the selector, so they are dropped (same series,
 * less work for Prometheus).
 */
export function selectorForName(seriesQuery: string, name: string): string | undefined {
  const m = SELECTOR.exec(seriesQuery);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  if (m[1] !== undefined) return m[1] === name ? seriesQuery : undefined;
  const inner = (m[2] ?? "").trim().replace(/,\s*$/, "");
  // A quoted `}` or `{` inside the braces would make our split unreliable.
  if (/[{}]/.test(inner)) return undefined;
  const matchers = splitMatchers(inner);
  const kept = matchers
    ? matchers.filter((x) => x.label !== "__name__").map((x) => x.text)
    : inner === ""
      ? []
      : [inner];
  return `{${[...kept, `__name__=${goQuote(name)}`].join(",")}}`;
}

/** Runs at most `limit` calls at once; the others wait, first come first served. */
export function limiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    // A finishing call hands its slot straight to the first waiter, so `active` never overshoots.
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
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

export interface RuleDiscoveryError {
  /** `rules[3]`, `externalRules[0]`. */
  readonly rule: string;
  readonly message: string;
}

/** A refusal of this one selector (HTTP 400 bad_data), not a failure of Prometheus. */
function isRuleRejection(e: unknown): e is PrometheusError {
  return isPrometheusError(e) && e.kind === "api_error" && e.errorType === "bad_data";
}

export interface NamedSeries {
  readonly name: string;
  readonly labels: readonly string[];
}

/**
 * Runs one discovery pass. A failed request fails the pass (the caller keeps the old result),
 * except Prometheus refusing one rule's selector: that rule lists nothing and is reported in
 * `ruleErrors`, as one bad rule must not hide every other rule's metrics.
 */
export async function discover(
  clients: PrometheusApi | ((rule: CompiledRule) => PrometheusApi),
  rules: { readonly custom: readonly CompiledRule[]; readonly external: readonly CompiledRule[] },
  o: DiscoveryOptions,
): Promise<DiscoveryResult> {
  // Each rule asks its own server (and tenant): requests are shared only within one client.
  const clientOf = typeof clients === "function" ? clients : () => clients;
  const ids = new Map<PrometheusApi, string>();
  const idOf = (c: PrometheusApi): string => {
    let id = ids.get(c);
    if (id === undefined) {
      id = String(ids.size);
      ids.set(c, id);
    }
    return id;
  };
  const keyOf = (rule: CompiledRule, ...parts: string[]) =>
    [idOf(clientOf(rule)), rule.seriesQuery, ...parts].join("\u0000");
  const now = o.now ?? new Date();
  const start = new Date(now.getTime() - o.maxAgeMs);
  const limited = limiter(Math.max(1, o.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY));
  // After the first failure the pass is lost: requests still queued are not sent.
  let failure: Error | undefined;
  const fail = (e: unknown, server: string) => {
    if (failure !== undefined) return;
    failure = e instanceof Error ? e : new Error(String(e));
    if (!failedServers.has(failure)) failedServers.set(failure, server);
  };
  const limit = <R>(server: string, fn: () => Promise<R>): Promise<R> =>
    limited(async () => {
      if (failure !== undefined) throw failure;
      try {
        return await fn();
      } catch (e) {
        if (!isRuleRejection(e)) fail(e, server);
        throw e;
      }
    });
  const requests: Record<string, number> = {};
  const serverRequests: Record<string, Record<string, number>> = {};
  const count = (endpoint: string, client: PrometheusApi) => {
    requests[endpoint] = (requests[endpoint] ?? 0) + 1;
    const per = (serverRequests[client.server] ??= {});
    per[endpoint] = (per[endpoint] ?? 0) + 1;
  };
  // Each request is asked once and may be awaited by several rules, or by none if the pass fails
  // first: mark it handled so a failure is reported once, by whoever awaits it.
  const once = <T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>) => {
    let p = map.get(key);
    if (!p) {
      p = make();
      p.catch(() => undefined);
      map.set(key, p);
    }
    return p;
  };

  // One name listing per distinct (client, seriesQuery), shared by custom and external rules.
  const namesByQuery = new Map<string, Promise<string[]>>();
  const namesFor = (rule: CompiledRule) =>
    once(namesByQuery, keyOf(rule), () => {
      const client = clientOf(rule);
      count("label_values", client);
      return limit(client.server, () =>
        client.labelValues("__name__", [rule.seriesQuery], start),
      ).then((n) => [...n].sort());
    });
  const ruleErrors: RuleDiscoveryError[] = [];
  const asked = (r: CompiledRule) => r.seriesQuery.trim() !== "";
  const allRules = [...rules.custom, ...rules.external].filter(asked);
  for (const r of allRules) void namesFor(r);
  /** The rule's part of the pass, or nothing when Prometheus refused its selector. */
  const perRule = async <T>(rule: CompiledRule, empty: T, run: () => Promise<T>): Promise<T> => {
    if (!asked(rule)) {
      ruleErrors.push({ rule: rule.origin, message: "seriesQuery is empty" });
      return empty;
    }
    try {
      return await run();
    } catch (e) {
      if (!isRuleRejection(e)) throw e;
      ruleErrors.push({
        rule: rule.origin,
        message: `Prometheus refused seriesQuery ${JSON.stringify(rule.seriesQuery)}: ${e.error ?? e.message}`,
      });
      return empty;
    }
  };

  // Label names per (seriesQuery, name), each asked once.
  const labelsByKey = new Map<string, Promise<string[]>>();
  const seriesFallback = new Map<string, Promise<NamedSeries[]>>();
  const seriesOf = async (rule: CompiledRule): Promise<NamedSeries[]> => {
    const names = filterSeries(
      rule.filters,
      (await namesFor(rule)).map((name) => ({ name })),
    ).map((s) => s.name);
    const selectors = names.map((n) => selectorForName(rule.seriesQuery, n));
    if (selectors.some((s) => s === undefined)) {
      const p = once(seriesFallback, keyOf(rule), () => {
        const client = clientOf(rule);
        count("series", client);
        return limit(client.server, () => client.series([rule.seriesQuery], start)).then((list) =>
          list.map((l) => ({
            name: l["__name__"] ?? "",
            labels: Object.keys(l).filter((k) => k !== "__name__"),
          })),
        );
      });
      return filterSeries(rule.filters, await p);
    }
    return Promise.all(
      names.map(async (name, i) => {
        const labels = await once(labelsByKey, keyOf(rule, name), () => {
          const client = clientOf(rule);
          count("labels", client);
          return limit(client.server, () => client.labelNames([selectors[i] ?? ""], start)).then(
            (ls) => ls.filter((l) => l !== "__name__"),
          );
        });
        return { name, labels };
      }),
    );
  };

  const custom = customRegistry(
    rules.custom,
    await Promise.all(rules.custom.map((r) => perRule(r, [], () => seriesOf(r)))),
  );

  // External metrics need names only: no label lookups.
  const external = new ExternalRegistry();
  for (const rule of rules.external) {
    const listed = await perRule(rule, [], () => namesFor(rule));
    const names = filterSeries(
      rule.filters,
      listed.map((name) => ({ name })),
    );
    for (const { name } of names) {
      const metric = rule.namer.metricNameFor(name);
      if (metric !== undefined) external.add(metric, { seriesName: name, rule });
    }
  }
  return { custom, external, requests, serverRequests, ruleErrors };
}
