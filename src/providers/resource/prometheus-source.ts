/**
 * @module providers/resource/prometheus-source
 * Resource metrics from Prometheus with prometheus-adapter's `resourceRules`
 * (pkg/resourceprovider/provider.go): pods are queried per namespace, CPU and memory in parallel,
 * grouped by the pod label and the container label; nodes with one query each for all names. NaN
 * or negative values become 0; a pod lacking CPU or memory results is left out, a container
 * lacking one of them gets 0. CPU is a milli-quantity in DecimalSI, memory one in BinarySI. A
 * failed query is logged and leaves its objects out.
 *
 * With `k8sCustomMetrics.tenants` (ours, `tenants`), each namespace's pods are queried as that
 * namespace's tenant, as custom and external metrics are; nodes (cluster-scoped) as the default
 * tenant. A namespace without a tenant, or nodes without a default, are queried not at all: logged,
 * and their objects left out (metrics.k8s.io answers them as it does any object without metrics).
 */
import { Quantity } from "../../apimachinery/quantity.ts";
import { goFloatToInt64 } from "../../apimachinery/quantity-conversions.ts";
import type { ResourceRule, ResourceRules } from "../../config/schema.ts";
import { parsePromDuration } from "../../config/duration.ts";
import type { ResourceConverter, ResourceMapper } from "../../naming/resource-label.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Template } from "../../template/template.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { VectorSample } from "../../prometheus/api-types.ts";
import { buildCustomQuery } from "../prometheus/query-builder.ts";
import { compileQueryTemplate, compileResources } from "../prometheus/rules.ts";
import type {
  ContainerUsage,
  NodeRef,
  NodeUsage,
  PodRef,
  PodUsage,
  ResourceMetricsSource,
} from "./types.ts";

const PODS = { group: "", resource: "pods" };
const NODES = { group: "", resource: "nodes" };

/** All resource rules ask of Prometheus: instant queries at the request's time. */
export type PrometheusQuerier = Pick<PrometheusApi, "query">;

/** One compiled resource rule (cpu or memory). */
export interface ResourceQuery {
  readonly converter: ResourceConverter;
  readonly containerQuery: Template;
  readonly nodeQuery: Template;
  readonly containerLabel: string;
}

export function compileResourceQuery(
  rule: ResourceRule,
  origin: string,
  mapper: ResourceMapper,
): ResourceQuery {
  const converter = compileResources(rule.resources ?? {}, mapper);
  return {
    converter,
    containerQuery: compileQueryTemplate(rule.containerQuery, `${origin}.containerQuery`),
    nodeQuery: compileQueryTemplate(rule.nodeQuery, `${origin}.nodeQuery`),
    containerLabel: rule.containerLabel ?? "",
  };
}

/** Samples by object name (the resource label's value). */
type QueryResults = Map<string, VectorSample[]>;

/** The tenants of namespaces, and the client sending one (providers/prometheus/backends.ts). */
export interface ResourceTenants {
  /** The tenant of a namespace (`""`: cluster-scoped objects); throws when it has none. */
  tenantOf(namespace: string): Promise<string | undefined>;
  /** The client sending `tenant` (undefined: tenants are off). */
  querierFor(tenant: string | undefined): PrometheusQuerier;
}

export interface PrometheusResourceSourceOptions {
  readonly prometheus: PrometheusQuerier;
  /** With tenants: each namespace's queries go as its tenant, nodes' as the default tenant. */
  readonly tenants?: ResourceTenants | undefined;
  readonly rules: ResourceRules;
  readonly mapper: ResourceMapper;
  readonly log: Logger;
  readonly now?: () => Date;
}

/** A container's usage absent from one of the two queries (immutable, so shared). */
const ZERO_MEMORY = Quantity.fromMilli(0n, "BinarySI");

function milli(v: number, format: "DecimalSI" | "BinarySI"): Quantity {
  return Quantity.fromMilli(goFloatToInt64(v * 1000), format);
}

export class PrometheusResourceSource implements ResourceMetricsSource {
  readonly cpu: ResourceQuery;
  readonly memory: ResourceQuery;
  readonly windowNs: bigint;
  readonly #o: PrometheusResourceSourceOptions;

  constructor(o: PrometheusResourceSourceOptions) {
    this.#o = o;
    // An absent rule is Go's zero value: its queries fail at query time, as upstream's do.
    const absent = { containerQuery: "", nodeQuery: "" };
    this.cpu = compileResourceQuery(o.rules.cpu ?? absent, "resourceRules.cpu", o.mapper);
    this.memory = compileResourceQuery(o.rules.memory ?? absent, "resourceRules.memory", o.mapper);
    this.windowNs = BigInt(parsePromDuration(o.rules.window ?? "0")) * 1_000_000n;
  }

  /** The query for pods of one namespace (extra group-by: the container label) or for nodes. */
  buildQuery(
    q: ResourceQuery,
    namespace: string,
    names: readonly string[],
    nodes: boolean,
  ): string {
    if (nodes) {
      return buildCustomQuery(q.nodeQuery, q.converter, {
        series: "",
        groupResource: NODES,
        namespace: "",
        names,
        metricSelector: [],
      });
    }
    return buildCustomQuery(q.containerQuery, q.converter, {
      series: "",
      groupResource: PODS,
      namespace,
      names,
      metricSelector: [],
      extraGroupBy: q.containerLabel === "" ? [] : [q.containerLabel],
    });
  }

  async #run(
    prometheus: PrometheusQuerier,
    q: ResourceQuery,
    time: Date,
    namespace: string,
    names: readonly string[],
    nodes: boolean,
  ): Promise<QueryResults> {
    const query = this.buildQuery(q, namespace, names, nodes);
    const res = await prometheus.query(query, time);
    if (res.resultType !== "vector") {
      throw new Error(`invalid or empty value of non-vector type (${res.resultType}) returned`);
    }
    const label = q.converter.labelForResource(nodes ? NODES : PODS);
    const out: QueryResults = new Map();
    for (const s of res.result) {
      const v = s.value[1];
      const sample: VectorSample =
        Number.isNaN(v) || v < 0 ? { metric: s.metric, value: [s.value[0], 0] } : s;
      const key = s.metric[label] ?? "";
      const list = out.get(key);
      if (list) list.push(sample);
      else out.set(key, [sample]);
    }
    return out;
  }

  async #both(
    time: Date,
    namespace: string,
    names: readonly string[],
    nodes: boolean,
  ): Promise<{ cpu: QueryResults; mem: QueryResults } | undefined> {
    let tenant: string | undefined;
    try {
      // Nodes are cluster-scoped: the default tenant.
      const t = this.#o.tenants;
      tenant = t ? await t.tenantOf(nodes ? "" : namespace) : undefined;
      const prometheus = t ? t.querierFor(tenant) : this.#o.prometheus;
      const [cpu, mem] = await Promise.all([
        this.#run(prometheus, this.cpu, time, namespace, names, nodes),
        this.#run(prometheus, this.memory, time, namespace, names, nodes),
      ]);
      return { cpu, mem };
    } catch (e) {
      this.#o.log.error(
        { err: String(e), namespace, nodes, ...(tenant === undefined ? {} : { tenant }) },
        nodes ? "failed querying node metrics" : "unable to fetch metrics for pods in namespace",
      );
      return undefined;
    }
  }

  async podMetrics(pods: readonly PodRef[]): Promise<(PodUsage | undefined)[]> {
    if (pods.length === 0) return [];
    const byNs = new Map<string, string[]>();
    for (const p of pods) {
      const list = byNs.get(p.namespace);
      if (list) list.push(p.name);
      else byNs.set(p.namespace, [p.name]);
    }
    const time = (this.#o.now ?? (() => new Date()))();
    const results = new Map(
      await Promise.all(
        [...byNs].map(
          async ([ns, names]) => [ns, await this.#both(time, ns, names, false)] as const,
        ),
      ),
    );
    return pods.map((p) => {
      const r = results.get(p.namespace);
      const cpu = r?.cpu.get(p.name);
      const mem = r?.mem.get(p.name);
      if (!cpu || !mem) return undefined;
      return this.#assign(cpu, mem);
    });
  }

  #assign(cpu: readonly VectorSample[], mem: readonly VectorSample[]): PodUsage {
    // A pod has a few containers: parallel arrays searched in order, not a Map per pod (this
    // runs for every pod of every answer).
    const names: string[] = [];
    const usage: { cpu: Quantity | undefined; memory: Quantity | undefined }[] = [];
    let earliest = Infinity;
    const slot = (name: string) => {
      const i = names.indexOf(name);
      if (i >= 0) return usage[i] as (typeof usage)[number];
      const u = { cpu: undefined, memory: undefined };
      names.push(name);
      usage.push(u);
      return u;
    };
    for (const s of cpu) {
      slot(s.metric[this.cpu.containerLabel] ?? "").cpu = milli(s.value[1], "DecimalSI");
      earliest = Math.min(earliest, s.value[0]);
    }
    for (const s of mem) {
      slot(s.metric[this.memory.containerLabel] ?? "").memory = milli(s.value[1], "BinarySI");
      earliest = Math.min(earliest, s.value[0]);
    }
    const list: ContainerUsage[] = names.map((name, i) => {
      const u = usage[i];
      return { name, usage: { cpu: u?.cpu ?? ZERO_MEMORY, memory: u?.memory ?? ZERO_MEMORY } };
    });
    if (list.length > 1) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers: list, timestamp: new Date(earliest * 1000), windowNs: this.windowNs };
  }

  async nodeMetrics(nodes: readonly NodeRef[]): Promise<(NodeUsage | undefined)[]> {
    if (nodes.length === 0) return [];
    const time = (this.#o.now ?? (() => new Date()))();
    const r = await this.#both(
      time,
      "",
      nodes.map((n) => n.name),
      true,
    );
    return nodes.map((n) => {
      const cpu = r?.cpu.get(n.name)?.[0];
      const mem = r?.mem.get(n.name)?.[0];
      if (!cpu || !mem) return undefined;
      return {
        usage: { cpu: milli(cpu.value[1], "DecimalSI"), memory: milli(mem.value[1], "BinarySI") },
        timestamp: new Date(Math.min(cpu.value[0], mem.value[0]) * 1000),
        windowNs: this.windowNs,
      };
    });
  }
}
