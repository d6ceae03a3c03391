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
import type { CompiledRule, FetchRule } from "./rules.ts";

export interface DiscoveryOptions {
  /** Only series seen since now minus this count (`--metrics-max-age`). */
  readonly maxAgeMs: number;
  /** Prometheus requests of one pass in flight at once (default 16, the client's connections). */
  readonly concurrency?: number;
  readonly now?: Date;
  /** Requests started ahead of this pass ({@link startEarly}): taken instead of sent again. */
  readonly early?: EarlyRequests;
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
 * Discovery requests started ahead of a pass: at start-up, before the REST mapper is read and the
 * rules compiled, so Prometheus works while the adapter starts (issue #17 item 3). A pass given
 * them takes each request it would send to the same client, once, instead of sending it again;
 * one that failed is sent again. Requests no pass takes are dropped with the object.
 */
export class EarlyRequests {
  readonly #byClient = new Map<PrometheusApi, Map<string, Promise<unknown>>>();

  /** The request `key` of `client`, if started early and not taken yet. */
  take(client: PrometheusApi, key: string): Promise<unknown> | undefined {
    const m = this.#byClient.get(client);
    const p = m?.get(key);
    m?.delete(key);
    return p;
  }

  record(client: PrometheusApi, key: string, p: Promise<unknown>): void {
    let m = this.#byClient.get(client);
    if (!m) this.#byClient.set(client, (m = new Map<string, Promise<unknown>>()));
    m.set(key, p);
  }

  /** Requests started and not taken, e.g. for a test. */
  get size(): number {
    let n = 0;
    for (const m of this.#byClient.values()) n += m.size;
    return n;
  }
}

/**
 * Starts, with `client`, the requests a discovery pass over `rules` would send, and returns them
 * for that pass ({@link DiscoveryOptions.early}). Never rejects: failures are the pass's to see.
 */
export function startEarly(
  client: PrometheusApi,
  rules: { readonly custom: readonly FetchRule[]; readonly external: readonly FetchRule[] },
  o: Omit<DiscoveryOptions, "early">,
): EarlyRequests {
  const early = new EarlyRequests();
  fetchRules(client, rules, { ...o, record: early }).catch(() => undefined);
  return early;
}

/** What Prometheus answered for each rule of a pass, before naming. */
interface Fetched {
  /** Per custom rule, its series' names (filtered) and label names. */
  readonly custom: readonly (readonly NamedSeries[])[];
  /** Per external rule, its series names (filtered). */
  readonly external: readonly (readonly string[])[];
  readonly ruleErrors: readonly RuleDiscoveryError[];
  readonly requests: Readonly<Record<string, number>>;
  readonly serverRequests: Readonly<Record<string, Readonly<Record<string, number>>>>;
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
  const f = await fetchRules(clients, rules, o);
  const custom = customRegistry(rules.custom, f.custom);
  const external = new ExternalRegistry();
  rules.external.forEach((rule, i) => {
    for (const name of f.external[i] ?? []) {
      const metric = rule.namer.metricNameFor(name);
      if (metric !== undefined) external.add(metric, { seriesName: name, rule });
    }
  });
  return {
    custom,
    external,
    requests: f.requests,
    serverRequests: f.serverRequests,
    ruleErrors: f.ruleErrors,
  };
}

/** The Prometheus half of a pass: each rule's names and label names, nothing named yet. */
async function fetchRules<R extends FetchRule>(
  clients: PrometheusApi | ((rule: R) => PrometheusApi),
  rules: { readonly custom: readonly R[]; readonly external: readonly R[] },
  o: DiscoveryOptions & { readonly record?: EarlyRequests },
): Promise<Fetched> {
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
  const limit = <T>(server: string, fn: () => Promise<T>): Promise<T> =>
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
  const shared = new Map<string, Promise<unknown>>();
  /**
   * Request `endpoint` of `rule`'s client for `parts`, once per pass however many rules await it
   * (or none, if the pass fails first: marked handled so a failure is reported once, by whoever
   * awaits it); taken from the early requests when one was started.
   */
  const once = <T>(endpoint: string, rule: R, parts: string[], ask: () => Promise<T>) => {
    const client = clientOf(rule);
    const key = [endpoint, rule.seriesQuery, ...parts].join("\u0000");
    const passKey = `${idOf(client)}\u0000${key}`;
    let p = shared.get(passKey) as Promise<T> | undefined;
    if (!p) {
      requests[endpoint] = (requests[endpoint] ?? 0) + 1;
      const per = (serverRequests[client.server] ??= {});
      per[endpoint] = (per[endpoint] ?? 0) + 1;
      const send = () => limit(client.server, ask);
      const early = o.early?.take(client, key) as Promise<T> | undefined;
      // An early request Prometheus refused (a bad selector) is not asked again; any other
      // failure is.
      p = early
        ? early.catch((e: unknown) => (isRuleRejection(e) ? Promise.reject(e) : send()))
        : send();
      p.catch(() => undefined);
      o.record?.record(client, key, p);
      shared.set(passKey, p);
    }
    return p;
  };

  // One name listing per distinct (client, seriesQuery), shared by custom and external rules.
  const namesFor = (rule: R) =>
    once("label_values", rule, [], () =>
      clientOf(rule)
        .labelValues("__name__", [rule.seriesQuery], start)
        .then((n) => [...n].sort()),
    );
  const ruleErrors: RuleDiscoveryError[] = [];
  const asked = (r: R) => r.seriesQuery.trim() !== "";
  for (const r of [...rules.custom, ...rules.external].filter(asked)) void namesFor(r);
  /** The rule's part of the pass, or nothing when Prometheus refused its selector. */
  const perRule = async <T>(rule: R, empty: T, run: () => Promise<T>): Promise<T> => {
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
  const filteredNames = async (rule: R) =>
    filterSeries(
      rule.filters,
      (await namesFor(rule)).map((name) => ({ name })),
    ).map((s) => s.name);

  // Label names per (seriesQuery, name), each asked once.
  const seriesOf = async (rule: R): Promise<NamedSeries[]> => {
    const names = await filteredNames(rule);
    const selectors = names.map((n) => selectorForName(rule.seriesQuery, n));
    if (selectors.some((s) => s === undefined)) {
      const listed = await once("series", rule, [], () =>
        clientOf(rule)
          .series([rule.seriesQuery], start)
          .then((list) =>
            list.map((l) => ({
              name: l["__name__"] ?? "",
              labels: Object.keys(l).filter((k) => k !== "__name__"),
            })),
          ),
      );
      return filterSeries(rule.filters, listed);
    }
    return Promise.all(
      names.map(async (name, i) => ({
        name,
        labels: await once("labels", rule, [name], () =>
          clientOf(rule)
            .labelNames([selectors[i] ?? ""], start)
            .then((ls) => ls.filter((l) => l !== "__name__")),
        ),
      })),
    );
  };

  const custom = await Promise.all(rules.custom.map((r) => perRule(r, [], () => seriesOf(r))));
  // External metrics need names only: no label lookups.
  const external: string[][] = [];
  for (const rule of rules.external)
    external.push(await perRule(rule, [], () => filteredNames(rule)));
  return { custom, external, requests, serverRequests, ruleErrors };
}
