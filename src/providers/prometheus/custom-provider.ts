/**
 * @module providers/prometheus/custom-provider
 * custom.metrics.k8s.io from Prometheus: find the rule and series for the requested metric, build
 * its query, run it, and match values to objects by the resource label. Behaviour and error
 * messages follow prometheus-adapter's pkg/custom-provider/provider.go.
 */
import type { Requirement } from "../../apimachinery/label-selector.ts";
import { PromqlMatcherError } from "../../promql/matchers.ts";
import { internalError, StatusError } from "../../apimachinery/status.ts";
import { metricNotFound } from "../errors.ts";
import type { KubeClient } from "../../kube/client.ts";
import { ListForbiddenError, listObjectNames } from "../../kube/lister.ts";
import type { PodCache } from "../../kube/pod-cache.ts";
import type { RestMapper, ResourceInfo } from "../../kube/rest-mapper.ts";
import type { Logger } from "../../observability/logger.ts";
import { countDataAnswer } from "../../observability/metrics.ts";
import {
  type CustomMetricInfo,
  type CustomMetricValue,
  type CustomMetricsProvider,
} from "../types.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { ArrivalTickets, Ticket } from "../arrival-ticket.ts";
import type { RuleClients } from "./backends.ts";
import { queryVector } from "./fetch.ts";
import { CustomShapes } from "./custom-shapes.ts";
import { buildCustomQuery } from "./query-builder.ts";
import { lazyMember, QueryGrouping, type QueryMode } from "./query-grouping.ts";
import type { QueryShape } from "./query-shape.ts";
import type { CustomRegistry } from "./registry.ts";
import { isOutage, LastGood, ThrottledLog } from "./last-good.ts";

/** Values by object name; `at` only for last good values answered during an outage. */
interface Answer {
  readonly values: Map<string, number>;
  readonly at?: Date;
}

export interface PrometheusCustomProviderDeps {
  readonly prometheus: PrometheusApi;
  readonly mapper: RestMapper;
  /** For `*` requests; undefined when no lister kubeconfig is available. */
  readonly kube: KubeClient | undefined;
  readonly registry: () => CustomRegistry;
  readonly log: Logger;
  readonly now?: () => Date;
  /**
   * Most distinct objects in one grouped query (query-grouping.ts); 0 or absent: one query per
   * request, as prometheus-adapter.
   */
  readonly groupingMaxObjects?: number;
  /** Most bytes of PromQL in one grouped query; 0: no limit (query-grouping.ts). */
  readonly maxQueryLength?: number;
  /**
   * Called per Prometheus query (`queries` 1) with the number of requests it answers, and per
   * request that joined an identical one in flight (`requests` 1, `queries` 0).
   */
  readonly onQuery?: (mode: QueryMode, requests: number, queries: 0 | 1) => void;
  /** Requests on their way to the query step (the server's tickets), for grouping to wait for. */
  readonly arrivals?: ArrivalTickets;
  /** Watched pods for `pods/*` requests; without it (or while unusable) pods are listed. */
  readonly podCache?: PodCache;
  /** Rules' own servers and tenants (backends.ts); without it every query goes to `prometheus`. */
  readonly backends?: RuleClients;
  /** What discovery found for a tenant (with `backends`); default: `registry`. */
  readonly registryFor?: (tenant: string | undefined) => CustomRegistry;
}

/** The request's tenant and what discovery found for it. */
interface Scope {
  readonly tenant: string | undefined;
  readonly registry: CustomRegistry;
}

/** The provider's 404 for `info` (providers/errors.ts). */
function notFoundFor(info: CustomMetricInfo, name?: string, why?: string): StatusError {
  return metricNotFound(info.groupResource, info.metric, { name, why });
}

/**
 * Why a rule cannot build its query, when the config is the cause (template, naming): safe to
 * show and it names the fix. A request's own bad selector keeps upstream's exact message.
 */
function queryBuildReason(e: unknown, rule: string): string | undefined {
  if (e instanceof PromqlMatcherError) return undefined;
  const text = e instanceof Error ? e.message : String(e);
  return `${rule} cannot build its query: ${text.replace(/^template: [^:]*:\d+:\d+: /, "")}`;
}

export class PrometheusCustomProvider implements CustomMetricsProvider {
  readonly #d: PrometheusCustomProviderDeps;
  /** One grouping per client (server and tenant): requests of different clients never merge. */
  readonly #groupings = new Map<PrometheusApi, QueryGrouping>();
  readonly #lastGood = new LastGood<number>();
  readonly #shapes = new CustomShapes();
  readonly #outageLog = new ThrottledLog();

  constructor(deps: PrometheusCustomProviderDeps) {
    this.#d = deps;
  }

  #grouping(prometheus: PrometheusApi): QueryGrouping | undefined {
    const deps = this.#d;
    const max = deps.groupingMaxObjects ?? 0;
    if (max <= 0) return undefined;
    let g = this.#groupings.get(prometheus);
    if (!g) {
      g = new QueryGrouping({
        prometheus,
        log: deps.log,
        maxObjects: max,
        ...(deps.maxQueryLength !== undefined ? { maxQueryLength: deps.maxQueryLength } : {}),
        ...(deps.onQuery ? { onQuery: deps.onQuery } : {}),
        ...(deps.arrivals ? { arrivals: deps.arrivals } : {}),
      });
      this.#groupings.set(prometheus, g);
    }
    return g;
  }

  /** The tenant of `namespace` (a 404 Status when it has none) and its discovered metrics. */
  async #scope(namespace: string): Promise<Scope> {
    const tenant = this.#d.backends ? await this.#d.backends.tenantOf(namespace) : undefined;
    const registry = this.#d.registryFor ? this.#d.registryFor(tenant) : this.#d.registry();
    return { tenant, registry };
  }

  listAllMetrics(): readonly CustomMetricInfo[] {
    return this.#d.registry().list();
  }

  #now(): Date {
    return this.#d.now ? this.#d.now() : new Date();
  }

  /**
   * Values by object name, and with the rule's `lastGoodValueFor`: each answered value is kept,
   * and while Prometheus is unavailable the kept ones young enough answer instead (logged, counted).
   */
  async #answer(
    scope: Scope,
    info: CustomMetricInfo,
    namespace: string,
    names: readonly string[],
    metricSelector: readonly Requirement[],
    ticket: Ticket | undefined,
  ): Promise<Answer> {
    const entry = scope.registry.get(info);
    const forMs = entry?.rule.data?.lastGoodValueForMs ?? 0;
    if (entry === undefined || forMs <= 0) {
      return { values: await this.#values(scope, info, namespace, names, metricSelector, ticket) };
    }
    const gr = info.groupResource;
    const prefix = JSON.stringify([
      scope.tenant ?? null,
      info.metric,
      gr.group,
      gr.resource,
      namespace,
      metricSelector,
    ]);
    const key = (name: string) => `${prefix}\u0000${name}`;
    try {
      const values = await this.#values(scope, info, namespace, names, metricSelector, ticket);
      const now = this.#now().getTime();
      for (const name of names) {
        const v = values.get(name);
        if (v !== undefined) this.#lastGood.put(key(name), v, forMs, now);
      }
      return { values };
    } catch (e) {
      if (!isOutage(e)) throw e;
      const now = this.#now().getTime();
      const values = new Map<string, number>();
      let oldest = now;
      for (const name of names) {
        const g = this.#lastGood.get(key(name), now);
        if (g === undefined) continue;
        values.set(name, g.value);
        oldest = Math.min(oldest, g.at);
      }
      if (values.size === 0) throw e;
      countDataAnswer("custom", "last_good_value", values.size);
      if (this.#outageLog.take(entry.rule.origin, now)) {
        this.#d.log.warn(
          {
            rule: entry.rule.origin,
            metric: info.metric,
            objects: values.size,
            ageSeconds: Math.round((now - oldest) / 1000),
            maxAgeSeconds: forMs / 1000,
            err: String(e instanceof Error && e.cause !== undefined ? e.cause : e),
          },
          "prometheus unavailable; answering last good values (k8sCustomMetrics.lastGoodValueFor; logged every 30s per rule)",
        );
      }
      return { values, at: new Date(oldest) };
    }
  }

  /** The rule's `valueWhenMissing`, counted when used. */
  #missing(scope: Scope, info: CustomMetricInfo, answer: Answer): number | undefined {
    // During an outage a missing object is unknown, not absent: no stand-in value.
    if (answer.at !== undefined) return undefined;
    const v = scope.registry.get(info)?.rule.data?.valueWhenMissing;
    if (v !== undefined) countDataAnswer("custom", "value_when_missing");
    return v;
  }

  /** Runs the query for `names` and returns value by object name (last sample wins, as upstream). */
  async #values(
    scope: Scope,
    info: CustomMetricInfo,
    namespace: string,
    names: readonly string[],
    metricSelector: readonly Requirement[],
    ticket: Ticket | undefined,
  ): Promise<Map<string, number>> {
    // This request has reached the query step: peers waiting for it need not wait any longer.
    if (ticket) this.#d.arrivals?.spend(ticket);
    const entry = scope.registry.get(info);
    if (!entry) throw notFoundFor(info);
    const prometheus = this.#d.backends
      ? this.#d.backends.client(entry.rule, scope.tenant)
      : this.#d.prometheus;
    // Upstream reports any failure to build a query as an unknown metric; the message also names
    // the rule and why, so the fix is found without the adapter's logs.
    const failed = (e: unknown): StatusError => {
      this.#d.log.warn(
        { err: String(e), metric: info.metric, rule: entry.rule.origin },
        "unable to build query",
      );
      return notFoundFor(info, undefined, queryBuildReason(e, entry.rule.origin));
    };
    const build = (): string => {
      try {
        return buildCustomQuery(entry.rule.metricsQuery, entry.rule.resources, {
          series: entry.seriesName,
          groupResource: info.groupResource,
          namespace,
          names,
          metricSelector,
        });
      } catch (e) {
        throw failed(e);
      }
    };
    let label: string;
    try {
      label = entry.rule.resources.labelForResource(info.groupResource);
    } catch (e) {
      throw failed(e);
    }
    const grouping = this.#grouping(prometheus);
    if (grouping) {
      let shape: QueryShape;
      try {
        shape = grouping.shape(
          this.#shapes.shape(entry, info.groupResource, namespace, metricSelector),
        );
      } catch {
        // A template that renders for real values but not for placeholders is not grouped.
        shape = { groupable: false, reason: "placeholders do not render" };
      }
      // A grouped request's own query is rendered only if it goes out alone (most do not).
      if (shape.groupable)
        return grouping.values(shape, lazyMember(namespace, names, build), ticket);
    }
    const query = build();
    this.#d.onQuery?.("single", 1, 1);
    const values = new Map<string, number>();
    for (const s of await queryVector(prometheus, this.#d.log, query)) {
      values.set(s.metric[label] ?? "", s.value[1]);
    }
    return values;
  }

  async #describe(info: CustomMetricInfo): Promise<ResourceInfo> {
    return this.#d.mapper.resourceFor(info.groupResource);
  }

  #value(
    ri: ResourceInfo,
    info: CustomMetricInfo,
    namespace: string,
    name: string,
    value: number,
    metricSelector: readonly Requirement[],
    at?: Date,
  ): CustomMetricValue {
    return {
      describedObject: {
        kind: ri.kind,
        ...(namespace === "" ? {} : { namespace }),
        name,
        apiVersion: `${ri.group}/${ri.version}`,
      },
      metric: info.metric,
      // Upstream stamps values with the adapter's clock (prometheus-adapter #545); a last good
      // value keeps the time it was answered.
      timestamp: at ?? this.#now(),
      value,
      selector: metricSelector,
    };
  }

  async getMetricByName(
    namespace: string,
    name: string,
    info: CustomMetricInfo,
    metricSelector: readonly Requirement[],
    ticket?: Ticket,
  ): Promise<CustomMetricValue> {
    const scope = await this.#scope(namespace);
    const answer = await this.#answer(scope, info, namespace, [name], metricSelector, ticket);
    const v = answer.values.get(name) ?? this.#missing(scope, info, answer);
    if (v === undefined) throw notFoundFor(info, name);
    return this.#value(
      await this.#describe(info),
      info,
      namespace,
      name,
      v,
      metricSelector,
      answer.at,
    );
  }

  async getMetricBySelector(
    namespace: string,
    selector: string,
    info: CustomMetricInfo,
    metricSelector: readonly Requirement[],
    ticket?: Ticket,
  ): Promise<CustomMetricValue[]> {
    const scope = await this.#scope(namespace);
    if (!scope.registry.get(info)) throw notFoundFor(info);
    const ri = await this.#describe(info);
    let names: string[];
    try {
      if (!this.#d.kube) throw new Error("no Kubernetes client configured (--lister-kubeconfig)");
      names = await listObjectNames(this.#d.kube, ri, namespace, selector, this.#d.podCache);
    } catch (e) {
      if (e instanceof ListForbiddenError) {
        // The adapter's RBAC, not the caller's, is short: say which rule to add. The client's
        // body leaves out the user name; the log names it.
        this.#d.log.error(
          {
            err: String(e.cause),
            user: e.user,
            group: e.group,
            resource: e.resource,
            namespace: e.namespace,
            rule: e.rule,
          },
          `unable to list matching resources: ${e.message}`,
        );
        throw new StatusError(
          internalError(`unable to list matching resources: ${e.publicReason}`),
          { cause: e },
        );
      }
      this.#d.log.error(
        { err: String(e), resource: ri.resource },
        "unable to list matching resource names",
      );
      throw new StatusError(internalError("unable to list matching resources"), { cause: e });
    }
    if (names.length === 0) throw notFoundFor(info);
    const answer = await this.#answer(scope, info, namespace, names, metricSelector, ticket);
    const out: CustomMetricValue[] = [];
    // One clock reading stamps all the answer's items.
    const at = answer.at ?? this.#now();
    for (const name of names) {
      const v = answer.values.get(name) ?? this.#missing(scope, info, answer);
      if (v !== undefined) {
        out.push(this.#value(ri, info, namespace, name, v, metricSelector, at));
      }
    }
    return out;
  }
}
