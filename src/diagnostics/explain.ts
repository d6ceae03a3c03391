/**
 * @module diagnostics/explain
 * `explain`: walks one HPA's metrics, or one raw metrics request, link by link in the order a
 * request travels (HPA spec and scale target, the APIService, the metric in the adapter's
 * discovery, the rule that gives it, the objects asked for, the rendered PromQL and what
 * Prometheus returns, the adapter's answer, what the HPA controller computes from it), and stops
 * each chain at its first broken link, naming the cause and the fix. Everything is read with the
 * caller's credentials through the API server (plus Prometheus and the config when given), so it
 * never shows what the caller could not read with kubectl.
 */
import { StatusError } from "../apimachinery/status.ts";
import { groupResourceString, type GroupResource } from "../apimachinery/group-resource.ts";
import { parseQuantity } from "../apimachinery/quantity.ts";
import type { Requirement } from "../apimachinery/label-selector.ts";
import { parseRequirements } from "../apimachinery/label-selector-parser.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { closestKey } from "../config/suggest.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import { alternationRegex, labelMatcher, metricSelector } from "../promql/matchers.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import { isPrometheusError } from "../prometheus/errors.ts";
import type { PrometheusClientOptions } from "../prometheus/options.ts";
import { buildCustomQuery, buildExternalQuery } from "../providers/prometheus/query-builder.ts";
import { compileRule, namingMapper } from "../providers/prometheus/rules.ts";
import { Backends, readTenancy } from "../providers/prometheus/backends.ts";
import { maskHeaders } from "../prometheus/mask.ts";
import { DEFAULT_SERVER } from "../observability/server-label.ts";
import { decodeApiServiceFailure } from "./apiservice-failure.ts";
import type { ConfigDocument } from "./config-document.ts";
import {
  firstBroken,
  type Backend,
  type ExplainReport,
  type Link,
  type LinkStatus,
  type Section,
} from "./explain-report.ts";
import { decodeHpaFailure, type HpaCondition } from "./hpa-conditions.ts";
import { rateWindows } from "./rate-windows.ts";
import {
  averageValueReplicas,
  DEFAULT_TOLERANCE,
  hpaDecision,
  plainMetricReplicas,
  ReplicaError,
  symmetricTolerances,
  valueReplicas,
  type PodFacts,
  type PodSample,
  type Proposal,
} from "../hpa/replica-calculator.ts";
import { whyNotListed, type RuleInput, type RuleWhy } from "./rule-why.ts";
import { intervalForJobs, readScrapeIntervals } from "./scrape-intervals.ts";

const CUSTOM = "custom.metrics.k8s.io";
const EXTERNAL = "external.metrics.k8s.io";
const RESOURCE = "metrics.k8s.io";
const PODS: GroupResource = { group: "", resource: "pods" };
const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

export interface ExplainOptions {
  readonly kube: KubeClient;
  /** Prometheus as the adapter asks it; without it the query links are not checked. */
  readonly prometheus?: PrometheusClient | undefined;
  readonly prometheusOptions?: PrometheusClientOptions | undefined;
  /** The adapter's config; without it the rule links are not checked. */
  readonly config?: { readonly config: AdapterConfig; readonly doc: ConfigDocument } | undefined;
  /** `--metrics-max-age` of the adapter: series seen within it count. */
  readonly maxAgeMs: number;
  readonly tolerance?: number;
  readonly now?: Date;
}

export type ExplainTarget =
  | { readonly kind: "hpa"; readonly namespace: string; readonly name: string }
  | {
      readonly kind: "metric";
      readonly metric: string;
      readonly namespace: string;
      /** Custom: the resource (`pods`, `deployments.apps`, `namespaces`) and object (`*`). */
      readonly resource?: string | undefined;
      readonly object?: string | undefined;
      readonly external: boolean;
      /** Selects the objects (custom `*`) or the series (external). */
      readonly labelSelector?: string | undefined;
      /** Custom: `metricLabelSelector`. */
      readonly metricSelector?: string | undefined;
    };

/** What the query judgement needs of the rule: its name, template text and namespace label. */
interface QueryRule {
  readonly origin: string;
  readonly template: string;
  readonly nsLabel: string | undefined;
  /** The client its queries go through (its server, the tenant) and how to name it. */
  readonly client?: PrometheusClient | undefined;
  readonly backend?: Backend | undefined;
}

/** The adapter's own view of a request (server/debug-routes.ts), when it serves it. */
interface DebugQuery {
  readonly rule: string;
  readonly series: string;
  readonly label?: string;
  readonly namespaceLabel?: string;
  readonly template: string;
  readonly query: string;
}

/** A metric in the adapter's debug/metrics: its rule, series and server (older adapters: none). */
interface DebugRule {
  readonly rule: string;
  readonly series: string;
  readonly server?: string;
  readonly url?: string;
  readonly headers?: Record<string, string>;
}

/** One request as the HPA controller (or a user) sends it. */
interface Ask {
  readonly api: "custom" | "external";
  readonly metric: string;
  readonly namespace: string;
  /** Custom: the object's resource and name (`*` with a selector). */
  readonly groupResource: GroupResource;
  readonly object: string;
  /** Custom `*`: selects the objects; external: selects the series. */
  readonly labelSelector: string;
  readonly metricSelector: string;
}

interface HpaJson {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec: {
    readonly scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly metrics?: readonly MetricSpec[];
  };
  readonly status?: {
    readonly currentReplicas?: number;
    readonly desiredReplicas?: number;
    readonly conditions?: readonly (HpaCondition & { lastTransitionTime?: string })[];
  };
}

interface SelectorJson {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
}

interface Target {
  readonly type: "Utilization" | "Value" | "AverageValue";
  readonly value?: string;
  readonly averageValue?: string;
  readonly averageUtilization?: number;
}

interface MetricSpec {
  readonly type: string;
  readonly pods?: { metric: { name: string; selector?: SelectorJson }; target: Target };
  readonly object?: {
    metric: { name: string; selector?: SelectorJson };
    describedObject: { apiVersion?: string; kind: string; name: string };
    target: Target;
  };
  readonly external?: { metric: { name: string; selector?: SelectorJson }; target: Target };
  readonly resource?: { name: string; target: Target };
  readonly containerResource?: { name: string; container: string; target: Target };
}

interface PodJson {
  readonly metadata: { name: string; deletionTimestamp?: string };
  readonly status?: {
    phase?: string;
    startTime?: string;
    conditions?: readonly { type: string; status: string; lastTransitionTime?: string }[];
  };
}

interface Answer {
  readonly values: Map<string, number>;
}

function errorText(e: unknown): string {
  if (isPrometheusError(e)) return e.error ?? e.message;
  if (e instanceof KubeApiError) return statusMessage(e);
  return e instanceof Error ? e.message : String(e);
}

/** The message of a Kubernetes Status body, else the body. */
function statusMessage(e: KubeApiError): string {
  try {
    const s = JSON.parse(e.body) as { message?: string };
    if (typeof s.message === "string") return s.message;
  } catch {
    // not a Status
  }
  return e.body.trim().slice(0, 400) || e.message;
}

/** A LabelSelector object as the string form the metrics APIs take. */
export function selectorString(s: SelectorJson | undefined | null): string {
  if (!s) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

function milli(q: string): number {
  return Number(parseQuantity(q).milliValue());
}

function targetText(t: Target): string {
  if (t.type === "Utilization") return `Utilization ${String(t.averageUtilization ?? "?")}%`;
  return `${t.type} ${t.type === "Value" ? (t.value ?? "?") : (t.averageValue ?? "?")}`;
}

function sample(xs: readonly string[], n = 5): string {
  const shown = xs.slice(0, n).join(", ");
  return xs.length > n ? `${shown}, … (${String(xs.length)} in all)` : shown;
}

function podReady(p: PodJson): boolean {
  return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** What the replica calculator reads of a pod; explain has no Resource metrics, so no requests. */
function podFacts(p: PodJson): PodFacts {
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));
  return {
    name: p.metadata.name,
    phase: p.status?.phase ?? "Unknown",
    deleting: p.metadata.deletionTimestamp !== undefined,
    ready: ready && { status: ready.status, lastTransitionMs: ms(ready.lastTransitionTime) ?? 0 },
    startTimeMs: ms(p.status?.startTime),
  };
}

const VALIDATE = "k8s-custom-metrics validate --config FILE --prometheus-url URL";

class Chain {
  readonly links: Link[] = [];
  broken = false;

  add(step: string, status: LinkStatus, title: string, more: Partial<Link> = {}): void {
    this.links.push({ step, status, title, ...more });
    if (status === "fail") this.broken = true;
  }

  fail(
    step: string,
    title: string,
    kind: string,
    cause: string,
    fix: string,
    more: Partial<Link> = {},
  ): void {
    this.add(step, "fail", title, { kind, cause, fix, ...more });
  }

  /** The links not walked after the first broken one. */
  rest(steps: readonly string[]): void {
    const left = steps.filter((s) => !this.links.some((l) => l.step === s));
    if (left.length > 0) {
      this.links.push({
        step: "not-checked",
        status: "skip",
        title: `not checked after the first broken link: ${left.join(", ")}`,
      });
    }
  }
}

const STEPS = ["apiservice", "listed", "rule", "objects", "query", "answer", "hpa-controller"];

export class Explainer {
  readonly #o: ExplainOptions;
  readonly #now: Date;
  #mapper: RestMapper | undefined;
  #rules: { custom: RuleInput[]; external: RuleInput[] } | undefined;
  #backends: Promise<Backends | undefined> | undefined;
  /** Rules whose own server's client cannot be made (a TLS file unreadable), with why. */
  readonly #serverErrors = new Map<string, string>();

  constructor(o: ExplainOptions) {
    this.#o = o;
    this.#now = o.now ?? new Date();
  }

  get kube(): KubeClient {
    return this.#o.kube;
  }

  async run(target: ExplainTarget): Promise<ExplainReport> {
    const sections: Section[] = [];
    let subject: string;
    if (target.kind === "hpa") {
      subject = `hpa ${target.namespace}/${target.name}`;
      await this.#hpa(target.namespace, target.name, sections);
    } else {
      const ask = await this.#askOf(target);
      subject = `metric ${this.#askText(ask)}`;
      const chain = new Chain();
      await this.#walk(ask, chain, undefined);
      sections.push({ title: `request ${this.#path(ask, "v1beta2")}`, links: chain.links });
    }
    const fb = firstBroken(sections);
    return { subject, sections, ...(fb ? { firstBroken: fb } : {}) };
  }

  #askText(a: Ask): string {
    if (a.api === "external") {
      return `external ${a.metric} in ${a.namespace}${a.labelSelector ? ` (selector ${a.labelSelector})` : ""}`;
    }
    const obj =
      a.groupResource.resource === "namespaces" && a.groupResource.group === ""
        ? `namespace ${a.object}`
        : `${groupResourceString(a.groupResource)}/${a.object}${a.namespace ? ` in ${a.namespace}` : ""}`;
    return `${a.metric} for ${obj}${a.labelSelector ? ` (selector ${a.labelSelector})` : ""}${a.metricSelector ? ` (metric selector ${a.metricSelector})` : ""}`;
  }

  async #askOf(t: Extract<ExplainTarget, { kind: "metric" }>): Promise<Ask> {
    if (t.external) {
      return {
        api: "external",
        metric: t.metric,
        namespace: t.namespace,
        groupResource: NAMESPACES,
        object: "",
        labelSelector: t.labelSelector ?? "",
        metricSelector: "",
      };
    }
    const gr = await this.#normalize(t.resource ?? "pods");
    const isNs = gr.group === "" && gr.resource === "namespaces";
    return {
      api: "custom",
      metric: t.metric,
      namespace: isNs ? "" : t.namespace,
      groupResource: gr,
      object: isNs ? (t.object ?? t.namespace) : (t.object ?? "*"),
      labelSelector: t.labelSelector ?? "",
      metricSelector: t.metricSelector ?? "",
    };
  }

  async #mapperReady(): Promise<RestMapper> {
    if (!this.#mapper) {
      const m = new RestMapper(this.kube);
      await m.refresh();
      this.#mapper = m;
    }
    return this.#mapper;
  }

  /** `pods`, `pod`, `deployments.apps`, `Deployment` → the resource as the cluster serves it. */
  async #normalize(resource: string): Promise<GroupResource> {
    const [name = "", ...group] = resource.split(".");
    const gr = { group: group.join("."), resource: name };
    try {
      const m = await this.#mapperReady();
      const r =
        m.resourceForSync(gr) ??
        m.resources.find(
          (x) =>
            (x.singular === name || x.kind.toLowerCase() === name.toLowerCase()) &&
            (gr.group === "" || x.group === gr.group),
        );
      return r ? { group: r.group, resource: r.resource } : gr;
    } catch {
      return gr;
    }
  }

  /** The path the HPA controller's metrics client asks. */
  #path(a: Ask, version: string): string {
    const q = new URLSearchParams();
    if (a.labelSelector) q.set("labelSelector", a.labelSelector);
    if (a.metricSelector && a.api === "custom") q.set("metricLabelSelector", a.metricSelector);
    const qs = q.size > 0 ? `?${q.toString()}` : "";
    if (a.api === "external") {
      return `/apis/${EXTERNAL}/${version}/namespaces/${a.namespace}/${a.metric}${qs}`;
    }
    const r = groupResourceString(a.groupResource);
    if (a.groupResource.group === "" && a.groupResource.resource === "namespaces") {
      return `/apis/${CUSTOM}/${version}/namespaces/${a.object}/metrics/${a.metric}${qs}`;
    }
    return a.namespace
      ? `/apis/${CUSTOM}/${version}/namespaces/${a.namespace}/${r}/${a.object}/${a.metric}${qs}`
      : `/apis/${CUSTOM}/${version}/${r}/${a.object}/${a.metric}${qs}`;
  }

  // ---------------------------------------------------------------- HPA

  async #hpa(namespace: string, name: string, sections: Section[]): Promise<void> {
    const head = new Chain();
    sections.push({ title: `HPA ${namespace}/${name}`, links: head.links });
    let hpa: HpaJson;
    try {
      hpa = await this.kube.json<HpaJson>(
        "GET",
        `/apis/autoscaling/v2/namespaces/${encodeURIComponent(namespace)}/horizontalpodautoscalers/${encodeURIComponent(name)}`,
      );
    } catch (e) {
      const notFound = e instanceof KubeApiError && e.status === 404;
      head.fail(
        "spec",
        `HorizontalPodAutoscaler ${namespace}/${name}: ${notFound ? "not found" : errorText(e)}`,
        notFound ? "hpa-not-found" : "hpa-unreadable",
        notFound ? "there is no such HPA" : errorText(e),
        notFound
          ? `kubectl get hpa -n ${namespace}`
          : "use a kubeconfig allowed to get horizontalpodautoscalers in that namespace",
      );
      return;
    }
    const ref = hpa.spec.scaleTargetRef;
    const min = hpa.spec.minReplicas ?? 1;
    const max = hpa.spec.maxReplicas;
    const metrics = hpa.spec.metrics ?? [];
    head.add(
      "spec",
      "ok",
      `spec: ${ref.kind} ${ref.name}, ${String(min)}..${String(max)} replicas, ${String(metrics.length)} metric(s): ${metrics.map((m) => this.#metricName(m)).join(", ")}`,
    );
    // The scale subresource gives the selector the controller lists pods with.
    const scale = await this.#scale(namespace, ref, head);
    let pods: PodJson[] = [];
    if (scale) {
      pods = await this.#pods(namespace, scale.selector);
      const running = pods.filter((p) => p.status?.phase === "Running").length;
      const ready = pods.filter(podReady).length;
      const text = `scale target ${ref.kind}/${ref.name}: ${String(scale.replicas)} replica(s), selector ${scale.selector || "(none)"}: ${String(pods.length)} pod(s), ${String(running)} Running, ${String(ready)} Ready`;
      if (scale.replicas === 0 && min > 0) {
        head.add("scale-target", "warn", text, {
          cause: "the target is scaled to 0, so the HPA does not act (ScalingDisabled)",
        });
      } else head.add("scale-target", "ok", text);
    }
    metrics.forEach((m, i) => {
      sections.push({
        title: `metric ${String(i + 1)}: ${m.type} ${this.#metricName(m)}${this.#targetOf(m) ? `, target ${targetText(this.#targetOf(m) as Target)}` : ""}`,
        links: [],
      });
    });
    for (const [i, m] of metrics.entries()) {
      const section = sections[sections.length - metrics.length + i];
      if (!section) continue;
      const chain = new Chain();
      await this.#hpaMetric(hpa, m, scale, pods, chain);
      section.links.push(...chain.links);
    }
    sections.push({ title: "HPA status", links: await this.#status(hpa) });
  }

  #metricName(m: MetricSpec): string {
    return (
      m.pods?.metric.name ??
      m.object?.metric.name ??
      m.external?.metric.name ??
      m.resource?.name ??
      m.containerResource?.name ??
      "?"
    );
  }

  #targetOf(m: MetricSpec): Target | undefined {
    return (
      m.pods?.target ??
      m.object?.target ??
      m.external?.target ??
      m.resource?.target ??
      m.containerResource?.target
    );
  }

  async #scale(
    namespace: string,
    ref: HpaJson["spec"]["scaleTargetRef"],
    chain: Chain,
  ): Promise<{ selector: string; replicas: number } | undefined> {
    const apiVersion = ref.apiVersion ?? "apps/v1";
    let resource: string | undefined;
    try {
      const list = await this.kube.json<{ resources?: { name: string; kind: string }[] }>(
        "GET",
        apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`,
      );
      resource = list.resources?.find((r) => r.kind === ref.kind && !r.name.includes("/"))?.name;
    } catch {
      resource = undefined;
    }
    if (resource === undefined) {
      chain.fail(
        "scale-target",
        `scale target ${apiVersion} ${ref.kind}: the API server serves no such kind`,
        "scale-target",
        `spec.scaleTargetRef names ${ref.kind} in ${apiVersion}, which the cluster does not serve (FailedGetScale)`,
        "fix spec.scaleTargetRef (apiVersion, kind, name)",
      );
      return undefined;
    }
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    try {
      const s = await this.kube.json<{
        spec?: { replicas?: number };
        status?: { selector?: string };
      }>(
        "GET",
        `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(ref.name)}/scale`,
      );
      return { selector: s.status?.selector ?? "", replicas: s.spec?.replicas ?? 0 };
    } catch (e) {
      chain.fail(
        "scale-target",
        `scale target ${ref.kind}/${ref.name}: ${errorText(e)}`,
        "scale-target",
        `the HPA controller cannot read the target's scale either (FailedGetScale): ${errorText(e)}`,
        "fix spec.scaleTargetRef, or create the target",
      );
      return undefined;
    }
  }

  async #pods(namespace: string, selector: string): Promise<PodJson[]> {
    const q = selector ? `?labelSelector=${encodeURIComponent(selector)}` : "";
    const list = await this.kube.json<{ items?: PodJson[] }>(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${q}`,
    );
    return list.items ?? [];
  }

  async #hpaMetric(
    hpa: HpaJson,
    m: MetricSpec,
    scale: { selector: string; replicas: number } | undefined,
    pods: readonly PodJson[],
    chain: Chain,
  ): Promise<void> {
    const ns = hpa.metadata.namespace;
    if (m.resource || m.containerResource) {
      await this.#resourceMetric(ns, scale, chain);
      return;
    }
    let ask: Ask;
    if (m.pods) {
      ask = {
        api: "custom",
        metric: m.pods.metric.name,
        namespace: ns,
        groupResource: PODS,
        object: "*",
        labelSelector: scale?.selector ?? "",
        metricSelector: selectorString(m.pods.metric.selector),
      };
    } else if (m.object) {
      const d = m.object.describedObject;
      const gr = await this.#normalize(
        `${d.kind}${d.apiVersion?.includes("/") ? `.${d.apiVersion.split("/")[0] ?? ""}` : ""}`,
      );
      const isNs = gr.group === "" && gr.resource === "namespaces";
      ask = {
        api: "custom",
        metric: m.object.metric.name,
        namespace: isNs ? "" : ns,
        groupResource: gr,
        object: d.name,
        labelSelector: "",
        metricSelector: selectorString(m.object.metric.selector),
      };
    } else if (m.external) {
      ask = {
        api: "external",
        metric: m.external.metric.name,
        namespace: ns,
        groupResource: NAMESPACES,
        object: "",
        labelSelector: selectorString(m.external.metric.selector),
        metricSelector: "",
      };
    } else {
      chain.fail(
        "spec",
        `metric type ${m.type} is not one the HPA controller knows`,
        "invalid-metric",
        "spec.metrics[].type must be Resource, ContainerResource, Pods, Object or External",
        "fix spec.metrics[].type",
      );
      return;
    }
    if (!scale) {
      chain.add("not-checked", "skip", "not checked: the scale target is broken (see above)");
      return;
    }
    await this.#walk(ask, chain, { hpa, spec: m, scale, pods });
  }

  async #resourceMetric(
    ns: string,
    scale: { selector: string } | undefined,
    chain: Chain,
  ): Promise<void> {
    if (!(await this.#apiService(RESOURCE, chain))) return;
    try {
      const q = scale?.selector ? `?labelSelector=${encodeURIComponent(scale.selector)}` : "";
      const l = await this.kube.json<{ items?: unknown[] }>(
        "GET",
        `/apis/${RESOURCE}/v1beta1/namespaces/${encodeURIComponent(ns)}/pods${q}`,
      );
      chain.add(
        "answer",
        (l.items?.length ?? 0) > 0 ? "ok" : "fail",
        `${RESOURCE} answers ${String(l.items?.length ?? 0)} PodMetrics for the target's pods`,
        (l.items?.length ?? 0) > 0
          ? {}
          : {
              kind: "no-samples",
              cause:
                "no resource metrics for these pods yet (just started, or the kubelet source fails)",
              fix: "kubectl top pods; read the adapter's log",
            },
      );
    } catch (e) {
      chain.fail(
        "answer",
        `${RESOURCE} refuses: ${errorText(e)}`,
        "answer-error",
        errorText(e),
        "k8s-custom-metrics doctor",
      );
    }
  }

  // ---------------------------------------------------------------- the chain

  /** The APIService serving `group`; its version, or undefined (a ✗ added) when it cannot serve. */
  async #apiService(group: string, chain: Chain): Promise<string | undefined> {
    let version: string | undefined;
    try {
      const g = await this.kube.json<{ preferredVersion?: { version?: string } }>(
        "GET",
        `/apis/${group}`,
      );
      version = g.preferredVersion?.version;
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) {
        chain.fail(
          "apiservice",
          `GET /apis/${group}: ${errorText(e)}`,
          "discovery-failed",
          errorText(e),
          "k8s-custom-metrics doctor",
        );
        return undefined;
      }
    }
    const candidates = version
      ? [version]
      : group === EXTERNAL || group === RESOURCE
        ? ["v1beta1"]
        : ["v1beta2", "v1beta1"];
    let api:
      | {
          metadata: { name: string };
          spec: { service?: { namespace?: string; name?: string; port?: number } | null };
          status?: {
            conditions?: { type: string; status: string; reason?: string; message?: string }[];
          };
        }
      | undefined;
    let readError: string | undefined;
    for (const v of candidates) {
      try {
        api = await this.kube.json(
          "GET",
          `/apis/apiregistration.k8s.io/v1/apiservices/${v}.${group}`,
        );
        break;
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 404)) readError = errorText(e);
      }
    }
    if (!api) {
      if (readError !== undefined && version) {
        // The caller may not read APIServices, but the group is served: carry on.
        chain.add(
          "apiservice",
          "skip",
          `APIService ${version}.${group}: cannot read it (${readError})`,
        );
        return version;
      }
      chain.fail(
        "apiservice",
        `no APIService registers ${group}`,
        "api-not-registered",
        `nothing serves ${group}, so the HPA controller gets "the server could not find the requested resource"`,
        "apply the adapter's APIServices (deploy/base/apiservices.yaml)",
      );
      return undefined;
    }
    const s = api.spec.service;
    const where = s?.name
      ? `${s.namespace ?? ""}/${s.name}:${String(s.port ?? 443)}`
      : "the API server itself";
    const avail = api.status?.conditions?.find((c) => c.type === "Available");
    const [v = "", ...g] = api.metadata.name.split(".");
    if (avail?.status !== "True") {
      const d = decodeApiServiceFailure(avail ?? { reason: "", message: "" }, {
        name: api.metadata.name,
        group: g.join("."),
        version: v,
        service: s?.namespace && s.name ? { namespace: s.namespace, name: s.name } : undefined,
        serviceAccount: undefined,
      });
      chain.fail(
        "apiservice",
        `APIService ${api.metadata.name} → ${where}: not Available (${avail?.reason ?? "no condition yet"})`,
        d.kind,
        d.cause,
        d.fix,
        avail?.message ? { details: [`message: ${avail.message}`] } : {},
      );
      return undefined;
    }
    chain.add("apiservice", "ok", `APIService ${api.metadata.name} → ${where}: Available`);
    return version ?? v;
  }

  /** The rules of the config, compiled as the adapter compiles them. */
  async #ruleInputs(): Promise<{ custom: RuleInput[]; external: RuleInput[] } | undefined> {
    const c = this.#o.config;
    if (!c) return undefined;
    if (this.#rules) return this.#rules;
    let nm;
    try {
      nm = namingMapper(await this.#mapperReady());
    } catch {
      return undefined;
    }
    const inputs = (list: "rules" | "externalRules"): RuleInput[] =>
      (c.config[list] ?? []).flatMap((config, i) => {
        const origin = `${list}[${String(i)}]`;
        const pos = c.doc.position([list, i]);
        try {
          return [
            {
              origin,
              at: `${c.doc.file}:${String(pos.line)}:${String(pos.col)}`,
              config,
              compiled: compileRule(config, origin, nm),
            },
          ];
        } catch {
          return [];
        }
      });
    this.#rules = { custom: inputs("rules"), external: inputs("externalRules") };
    return this.#rules;
  }

  /**
   * Rules' own servers and the config's tenants, as the adapter reaches them (backends.ts): a
   * rule's server is asked even without --prometheus-url. Namespace labels are read with the
   * caller's credentials.
   */
  #backendsReady(): Promise<Backends | undefined> {
    this.#backends ??= (async () => {
      const c = this.#o.config;
      const rules = await this.#ruleInputs();
      if (!c || !rules) return undefined;
      type Ns = { metadata?: { labels?: Record<string, string> } };
      const b = new Backends({
        main: this.#o.prometheus,
        tenancy: readTenancy(c.config.k8sCustomMetrics?.tenants),
        namespaceLabels: async (ns) => {
          try {
            const n = await this.kube.json<Ns>(
              "GET",
              `/api/v1/namespaces/${encodeURIComponent(ns)}`,
            );
            return n.metadata?.labels ?? {};
          } catch (e) {
            if (e instanceof KubeApiError && e.status === 404) return undefined;
            throw e;
          }
        },
        allNamespaceLabels: async () => {
          const l = await this.kube.json<{ items?: Ns[] }>("GET", "/api/v1/namespaces");
          return (l.items ?? []).map((i) => i.metadata?.labels ?? {});
        },
      });
      for (const r of [...rules.custom, ...rules.external]) {
        try {
          await b.prepare([r.compiled]);
        } catch (e) {
          this.#serverErrors.set(r.origin, errorText(e));
        }
      }
      return b;
    })();
    return this.#backends;
  }

  /** The clients `explain` made for rules' own servers. */
  async close(): Promise<void> {
    await (await this.#backends)?.close();
  }

  /** The client a rule's requests go through for `tenant`, as in the adapter; undefined: none. */
  #clientOf(
    b: Backends | undefined,
    rule: RuleInput,
    tenant: string | undefined,
  ): PrometheusClient | undefined {
    if (!b) return rule.compiled.server ? undefined : this.#o.prometheus;
    if (this.#serverErrors.has(rule.origin)) return undefined;
    try {
      return b.client(rule.compiled, tenant);
    } catch {
      return undefined;
    }
  }

  /** Which server a rule asks and as which tenant; secret header values masked. */
  #backendOf(
    b: Backends | undefined,
    rule: RuleInput | undefined,
    tenant: string | undefined,
  ): Backend {
    const s = rule?.compiled.server;
    const client = rule ? this.#clientOf(b, rule, tenant) : this.#o.prometheus;
    const t = b?.tenancy;
    const shown =
      client?.shownHeaders ?? (s?.options.headers ? maskHeaders(s.options.headers) : {});
    const headers = Object.fromEntries(
      Object.entries(shown).filter(([k]) => k.toLowerCase() !== "user-agent"),
    );
    return {
      server: s?.label ?? DEFAULT_SERVER,
      url: s?.name ?? this.#o.prometheus?.server ?? "--prometheus-url",
      ...(t !== undefined && tenant !== undefined ? { tenant, tenantHeader: t.header } : {}),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
  }

  async #walk(
    ask: Ask,
    chain: Chain,
    hpa:
      | {
          hpa: HpaJson;
          spec: MetricSpec;
          scale: { selector: string; replicas: number };
          pods: readonly PodJson[];
        }
      | undefined,
  ): Promise<void> {
    const group = ask.api === "external" ? EXTERNAL : CUSTOM;
    const steps = hpa ? STEPS : STEPS.filter((s) => s !== "hpa-controller");
    const version = await this.#apiService(group, chain);
    if (version === undefined) {
      chain.rest(steps);
      return;
    }
    const path = this.#path(ask, version);
    chain.links[chain.links.length - 1] = {
      ...(chain.links[chain.links.length - 1] as Link),
      details: [`the request: GET ${path}`],
    };

    // Listed in discovery?
    const listedName =
      ask.api === "external"
        ? ask.metric
        : `${groupResourceString(ask.groupResource)}/${ask.metric}`;
    let listed: string[];
    try {
      const l = await this.kube.json<{ resources?: { name?: string }[] }>(
        "GET",
        `/apis/${group}/${version}`,
      );
      listed = (l.resources ?? []).map((r) => r.name ?? "");
    } catch (e) {
      chain.fail(
        "listed",
        `GET /apis/${group}/${version}: ${errorText(e)}`,
        "discovery-failed",
        errorText(e),
        "k8s-custom-metrics doctor",
      );
      chain.rest(steps);
      return;
    }
    const rules = await this.#ruleInputs();
    const ruleList = rules ? (ask.api === "external" ? rules.external : rules.custom) : undefined;
    const prom = this.#o.prometheus;
    const backends = ruleList ? await this.#backendsReady() : undefined;
    // The tenant of the request's namespace, as the adapter works it out (the config's mapping,
    // the namespace's label, the default); none: the adapter answers 404 and asks nothing.
    let tenant: string | undefined;
    let noTenant: string | undefined;
    let tenantUnread: string | undefined;
    if (backends?.tenancy) {
      try {
        tenant = await backends.tenantOf(ask.namespace);
      } catch (e) {
        if (e instanceof StatusError && e.status.code === 404) noTenant = e.message;
        else tenantUnread = errorText(e instanceof StatusError && e.cause ? e.cause : e);
      }
    }
    const clientOf = (r: RuleInput) => this.#clientOf(backends, r, tenant);
    const since = new Date(this.#now.getTime() - this.#o.maxAgeMs);
    const whyTarget =
      ask.api === "external"
        ? ({ kind: "external" } as const)
        : ({ kind: "custom", groupResource: ask.groupResource } as const);
    let verdicts: RuleWhy[] | undefined;
    // A server that does not answer is named where the adapter meets it, at the query; the
    // verdicts of its rules, which need its series, are then not worked out. Each rule asks its
    // own server (or --prometheus-url) as the request's tenant.
    // A namespace without a tenant: the adapter sends nothing for it, and neither does explain.
    const clients =
      noTenant !== undefined
        ? []
        : ruleList
          ? [...new Set(ruleList.map(clientOf).filter((c) => c !== undefined))]
          : prom
            ? [prom]
            : [];
    const down = new Map<PrometheusClient, string>();
    await Promise.all(
      clients.map(async (c) => {
        try {
          await c.query("vector(1)", this.#now);
        } catch (e) {
          if (isPrometheusError(e) && (e.kind === "unreachable" || e.kind === "timeout")) {
            down.set(c, errorText(e));
          }
        }
      }),
    );
    const allDown = clients.length > 0 && clients.every((c) => down.has(c));
    const firstDown = allDown ? clients[0] : undefined;
    const promDown = firstDown ? down.get(firstDown) : undefined;
    // Which rule's server that is, to name it (undefined: --prometheus-url).
    const downRule = firstDown
      ? ruleList?.find((r) => clientOf(r) === firstDown && r.compiled.server)
      : undefined;
    const judge = (t: string | undefined) => (r: RuleInput) => {
      const c = this.#clientOf(backends, r, t);
      return c === undefined || down.has(c) ? undefined : c;
    };
    if (ruleList && clients.length > 0 && !allDown) {
      try {
        verdicts = await whyNotListed(ruleList, judge(tenant), ask.metric, whyTarget, since);
        for (const r of ruleList) {
          const c = clientOf(r);
          const why =
            this.#serverErrors.get(r.origin) ??
            (c && down.has(c) ? `does not answer: ${down.get(c) ?? ""}` : undefined);
          if (why === undefined) continue;
          verdicts.push({
            origin: r.origin,
            at: r.at,
            verdict: "unreachable",
            message: `its server ${r.compiled.server?.name ?? c?.server ?? "--prometheus-url"} ${why}`,
          });
        }
      } catch {
        verdicts = undefined;
      }
    }
    // With tenants: the tenants whose discovery would give the metric when this one's does not.
    const otherTenants: string[] = [];
    if (
      backends?.tenancy &&
      ruleList &&
      verdicts !== undefined &&
      !verdicts.some((w) => w.verdict === "gives")
    ) {
      const t = backends.tenancy;
      let all: (string | undefined)[];
      try {
        all = await backends.tenants();
      } catch {
        all = [...new Set([...t.namespaces.values(), ...(t.default ? [t.default] : [])])];
      }
      for (const other of all) {
        if (other === undefined || other === tenant) continue;
        try {
          const w = await whyNotListed(ruleList, judge(other), ask.metric, whyTarget, since);
          if (w.some((x) => x.verdict === "gives")) otherTenants.push(other);
        } catch {
          // That tenant is not judged.
        }
      }
    }
    const tenantHeader = backends?.tenancy?.header ?? "X-Scope-OrgID";
    if (!listed.includes(listedName)) {
      const same = listed
        .filter((n) =>
          ask.api === "external"
            ? true
            : n.startsWith(`${groupResourceString(ask.groupResource)}/`),
        )
        .map((n) => (ask.api === "external" ? n : n.slice(n.indexOf("/") + 1)));
      const guess = closestKey(ask.metric, same);
      const elsewhere = listed.filter((n) => n.endsWith(`/${ask.metric}`));
      const details = (verdicts ?? []).map((w) => `${w.origin} at ${w.at}: ${w.message}`);
      const top = verdicts?.[0];
      let cause = `${group}/${version} lists no metric ${JSON.stringify(listedName)}${guess !== undefined && guess !== ask.metric ? `; did you mean ${JSON.stringify(guess)}?` : ""}${elsewhere.length > 0 ? ` (it is listed for ${elsewhere.map((n) => n.split("/")[0]).join(", ")})` : ""}`;
      let kind = "metric-not-found";
      let fix = `fix the metric name, or make a rule give it (run \`${VALIDATE}\`)`;
      if (top) {
        cause += `; no rule gives it: ${top.origin} comes closest: ${top.message}`;
        kind = `rule-${top.verdict}`;
        if (top.verdict === "gives") {
          cause = `${group}/${version} does not list ${JSON.stringify(listedName)} yet, although ${top.origin} gives it from the series Prometheus has now`;
          kind = "not-relisted";
          fix =
            "wait for the adapter's next relist (--metrics-relist-interval), or check that it runs this config";
        } else if (top.verdict === "missing-label" || top.verdict === "no-mapping") {
          fix =
            "make the series carry the label, or map a label they have to the resource (resources.overrides)";
        } else if (top.verdict === "filtered") {
          fix = `loosen ${top.origin}.seriesFilters`;
        } else if (top.verdict === "no-series" || top.verdict === "rejected") {
          fix = `fix ${top.origin}.seriesQuery so it selects the series`;
        } else if (top.closest !== undefined && top.closest !== ask.metric) {
          fix = `use the metric name ${JSON.stringify(top.closest)}, or change ${top.origin}.name so it gives ${JSON.stringify(ask.metric)}`;
        }
      } else if (!ruleList || clients.length === 0) {
        details.push(
          "pass --config (the adapter's config) and --prometheus-url to see which rule could give it and why none does",
        );
      }
      if (otherTenants.length > 0) {
        cause += `; tenant ${otherTenants.join(", ")} has its series, not tenant ${tenant ?? ""} of ${ask.namespace === "" ? "cluster-scoped objects" : `namespace ${ask.namespace}`}`;
        kind = "metric-other-tenant";
      }
      if (noTenant !== undefined) details.push(noTenant);
      chain.fail("listed", `not listed: ${listedName} in ${group}/${version}`, kind, cause, fix, {
        details,
      });
      chain.rest(steps);
      return;
    }
    // Listed (the documents list every tenant's metrics), but not for this namespace's tenant.
    if (noTenant !== undefined) {
      chain.add("listed", "ok", `listed: ${listedName} in ${group}/${version}`);
      chain.fail(
        "rule",
        `tenant: none for ${ask.namespace === "" ? "cluster-scoped objects" : `namespace ${ask.namespace}`}`,
        "no-tenant",
        `${noTenant}; the adapter answers 404 and sends nothing to the backend`,
        `map the namespace in k8sCustomMetrics.tenants.namespaces${backends?.tenancy?.namespaceLabel === undefined ? "" : `, label it ${backends.tenancy.namespaceLabel}=<tenant>`} or set k8sCustomMetrics.tenants.default`,
      );
      chain.rest(steps);
      return;
    }
    if (otherTenants.length > 0 && tenant !== undefined) {
      const where = ask.namespace === "" ? "cluster-scoped objects" : `namespace ${ask.namespace}`;
      chain.fail(
        "listed",
        `listed: ${listedName} in ${group}/${version}, but not for tenant ${tenant} (${where})`,
        "metric-other-tenant",
        `the adapter answers ${where} from tenant ${tenant}'s discovery (${tenantHeader}: ${tenant}), which has no series for ${JSON.stringify(ask.metric)}; only tenant ${otherTenants.join(", ")} has them, so the request is 404 "the server could not find the metric"`,
        `ask from a namespace of tenant ${otherTenants.join(", ")}, map ${ask.namespace || "it"} to that tenant (k8sCustomMetrics.tenants.namespaces${backends?.tenancy?.namespaceLabel === undefined ? "" : ` or the namespace label ${backends.tenancy.namespaceLabel}`}), or make tenant ${tenant}'s backend have the series`,
        {
          backend: this.#backendOf(backends, undefined, tenant),
          details: (verdicts ?? []).map((w) => `${w.origin} at ${w.at}: ${w.message}`),
        },
      );
      chain.rest(steps);
      return;
    }
    chain.add(
      "listed",
      "ok",
      `listed: ${listedName} in ${group}/${version}`,
      tenantUnread === undefined
        ? {}
        : { details: [`tenant of ${ask.namespace}: not worked out (${tenantUnread})`] },
    );

    // The rule that answers it: the last rule giving it wins, as in the registry.
    const giving = (verdicts ?? []).filter((w) => w.verdict === "gives");
    const rule =
      giving.length > 0
        ? ruleList?.find((r) => r.origin === giving[giving.length - 1]?.origin)
        : undefined;
    const entrySeries = giving[giving.length - 1]?.series;
    const seriesName = entrySeries?.[entrySeries.length - 1];
    let label: string | undefined;
    let debugRule: DebugRule | undefined;
    if ((!rule || seriesName === undefined) && !ruleList && promDown === undefined) {
      debugRule = await this.#debugRule(ask);
    }
    if (debugRule) {
      chain.add(
        "rule",
        "ok",
        `rule: ${debugRule.rule} gives it from series ${debugRule.series} (the adapter's debug/metrics)`,
        debugRule.server === undefined
          ? {}
          : {
              backend: {
                server: debugRule.server,
                url: debugRule.url ?? "",
                ...(debugRule.headers ? { headers: debugRule.headers } : {}),
              },
            },
      );
    } else if (
      (!rule || seriesName === undefined) &&
      promDown === undefined &&
      verdicts?.some((w) => w.verdict === "unreachable")
    ) {
      // Listed, and no rule whose server answers gives it: it comes from a rule whose server does
      // not answer (unless the adapter runs another config); the adapter's requests for it fail.
      const off = verdicts.filter((w) => w.verdict === "unreachable");
      const first = ruleList?.find((r) => r.origin === off[0]?.origin);
      chain.fail(
        "rule",
        `rule: ${off.map((w) => w.origin).join(", ")}: its server does not answer`,
        "prometheus-unreachable",
        `no rule whose server answers gives ${JSON.stringify(ask.metric)}, so it comes from ${off.map((w) => w.origin).join(" or ")}: ${off.map((w) => w.message).join("; ")}; the adapter's queries of its rules fail (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last lists until the server is back`,
        first?.compiled.server
          ? `start that server, or fix ${first.origin}.k8sCustomMetrics.server.url (and the adapter's network path to it)`
          : "start Prometheus, or fix the adapter's --prometheus-url (and its network path to Prometheus)",
        { backend: this.#backendOf(backends, first, tenant) },
      );
      chain.rest(steps);
      return;
    } else if (!rule || seriesName === undefined) {
      chain.add(
        "rule",
        "skip",
        promDown !== undefined
          ? "rule: not checked (Prometheus does not answer)"
          : ruleList && clients.length > 0
            ? "rule: none of the given config's rules gives it (the adapter runs another config?)"
            : "rule: not checked (pass --config and --prometheus-url)",
      );
    } else {
      let mapping = "";
      if (ask.api === "custom") {
        try {
          label = rule.compiled.resources.labelForResource(ask.groupResource);
          mapping = `, label ${label} → ${groupResourceString(ask.groupResource)}`;
        } catch {
          mapping = "";
        }
      }
      chain.add(
        "rule",
        "ok",
        `rule: ${rule.origin} at ${rule.at} gives it from series ${seriesName}${mapping}${
          giving.length > 1
            ? ` (also given by ${giving
                .slice(0, -1)
                .map((g) => g.origin)
                .join(", ")}; the last wins)`
            : ""
        }`,
        { backend: this.#backendOf(backends, rule, tenant) },
      );
    }

    // The objects asked for.
    let names: string[] = [];
    let podList: readonly PodJson[] = hpa?.pods ?? [];
    if (ask.api === "custom") {
      const objects = await this.#objects(ask, chain, hpa?.pods);
      if (objects === undefined) {
        chain.rest(steps);
        return;
      }
      names = objects.names;
      podList = objects.pods ?? podList;
    }

    // The rendered query and Prometheus' answer.
    if (promDown !== undefined) {
      const b = this.#backendOf(backends, downRule, tenant);
      const others = [...new Set([...down.keys()].map((c) => c.server))];
      chain.fail(
        "query",
        downRule
          ? `query: ${downRule.origin}'s server does not answer`
          : "query: Prometheus does not answer",
        "prometheus-unreachable",
        downRule
          ? `${downRule.origin}'s server ${b.url} cannot be reached: ${promDown}; the adapter's queries of its rules fail the same way (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last lists (of every server) until it is back`
          : `Prometheus cannot be reached: ${promDown}; the adapter's queries fail the same way (HTTP 500 "unable to fetch metrics"), and its discovery keeps the last list until Prometheus is back`,
        downRule
          ? `start that server, or fix ${downRule.origin}.k8sCustomMetrics.server.url (and the adapter's network path to it)`
          : "start Prometheus, or fix the adapter's --prometheus-url (and its network path to Prometheus)",
        {
          backend: b,
          ...(others.length > 1 ? { details: [`not answering: ${others.join(", ")}`] } : {}),
        },
      );
      chain.rest(steps);
      return;
    }
    if (debugRule) {
      const ok = await this.#debugQuery(ask, names, chain);
      if (!ok) {
        chain.rest(steps);
        return;
      }
    } else if (rule && seriesName !== undefined && clientOf(rule)) {
      const ok = await this.#query(
        ask,
        rule,
        seriesName,
        label,
        names,
        chain,
        clientOf(rule),
        this.#backendOf(backends, rule, tenant),
      );
      if (!ok) {
        chain.rest(steps);
        return;
      }
    } else {
      chain.add("query", "skip", "query: not checked (pass --config and --prometheus-url)");
    }

    // The adapter's answer, asked as the HPA controller asks.
    const answer = await this.#answer(ask, path, names, chain);
    if (!answer) {
      chain.rest(steps);
      return;
    }
    if (hpa) this.#compute(hpa, answer, podList, chain);
  }

  /** GET one of the adapter's debug routes (server/debug-routes.ts) through the aggregator. */
  async #debug(route: string): Promise<{ ok: unknown } | { status: number; message: string }> {
    let last: { status: number; message: string } = { status: 404, message: "" };
    for (const v of ["v1beta2", "v1beta1"]) {
      try {
        return { ok: await this.kube.json<unknown>("GET", `/apis/${CUSTOM}/${v}/debug/${route}`) };
      } catch (e) {
        if (!(e instanceof KubeApiError)) return { status: 0, message: errorText(e) };
        last = { status: e.status, message: statusMessage(e) };
        if (e.status !== 404 && e.status !== 503) return last;
      }
    }
    return last;
  }

  /** The rule and series the adapter answers the metric from, from its debug/metrics. */
  async #debugRule(ask: Ask): Promise<DebugRule | undefined> {
    const r = await this.#debug("metrics");
    if (!("ok" in r)) return undefined;
    const body = r.ok as {
      custom?: (DebugRule & { resource: string; metric: string })[];
      external?: (DebugRule & { metric: string })[];
    };
    if (ask.api === "external") return body.external?.find((m) => m.metric === ask.metric);
    const res = groupResourceString(ask.groupResource);
    return body.custom?.find((m) => m.metric === ask.metric && m.resource === res);
  }

  /** The query the adapter itself renders for the request (debug/query), run when possible. */
  async #debugQuery(ask: Ask, names: readonly string[], chain: Chain): Promise<boolean> {
    const q = new URLSearchParams({ metric: ask.metric, namespace: ask.namespace });
    if (ask.api === "external") {
      q.set("external", "true");
      if (ask.labelSelector) q.set("labelSelector", ask.labelSelector);
    } else {
      q.set("resource", groupResourceString(ask.groupResource));
      q.set("names", names.join(","));
      if (ask.metricSelector) q.set("metricLabelSelector", ask.metricSelector);
    }
    const r = await this.#debug(`query?${q.toString()}`);
    if (!("ok" in r)) {
      if (r.status === 400) {
        chain.fail(
          "query",
          "query: the adapter cannot render its query for this request",
          "query-not-rendered",
          r.message,
          "fix the HPA's metric selector (spec.metrics[].*.metric.selector) so every key is a Prometheus label name, or fix the rule's metricsQuery",
        );
        return false;
      }
      chain.add(
        "query",
        "skip",
        `query: not checked (debug/query: ${r.message || `HTTP ${String(r.status)}`})`,
      );
      return true;
    }
    const d = r.ok as DebugQuery;
    if (!this.#o.prometheus) {
      chain.add(
        "query",
        "skip",
        "query: rendered by the adapter; pass --prometheus-url to run it",
        {
          details: [d.query],
        },
      );
      return true;
    }
    return this.#runQuery(
      ask,
      { origin: d.rule, template: d.template, nsLabel: d.namespaceLabel },
      d.series,
      d.label,
      names,
      d.query,
      chain,
    );
  }

  async #objects(
    ask: Ask,
    chain: Chain,
    hpaPods: readonly PodJson[] | undefined,
  ): Promise<{ names: string[]; pods?: readonly PodJson[] } | undefined> {
    const gr = groupResourceString(ask.groupResource);
    if (ask.object !== "*") {
      try {
        const m = await this.#mapperReady();
        const ri = m.resourceForSync(ask.groupResource);
        const base = ri
          ? ri.group === ""
            ? `/api/${ri.version}`
            : `/apis/${ri.group}/${ri.version}`
          : undefined;
        if (base) {
          const ns = ask.namespace ? `/namespaces/${encodeURIComponent(ask.namespace)}` : "";
          await this.kube.json(
            "GET",
            `${base}${ns}/${ri?.resource ?? ""}/${encodeURIComponent(ask.object)}`,
          );
        }
        chain.add(
          "objects",
          "ok",
          `object: ${gr} ${ask.namespace ? `${ask.namespace}/` : ""}${ask.object} exists`,
        );
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) {
          chain.fail(
            "objects",
            `object: ${gr} ${ask.namespace ? `${ask.namespace}/` : ""}${ask.object} does not exist`,
            "object-not-found",
            "the metric is asked for an object that does not exist",
            "fix the object's name (describedObject of an Object metric)",
          );
          return undefined;
        }
        chain.add("objects", "skip", `object: cannot read it (${errorText(e)})`);
      }
      return { names: [ask.object] };
    }
    let pods: readonly PodJson[] | undefined;
    let names: string[];
    try {
      if (ask.groupResource.group === "" && ask.groupResource.resource === "pods") {
        pods = hpaPods ?? (await this.#pods(ask.namespace, ask.labelSelector));
        names = pods.map((p) => p.metadata.name);
      } else {
        const m = await this.#mapperReady();
        const ri = m.resourceForSync(ask.groupResource);
        if (!ri) throw new Error(`the cluster serves no ${gr}`);
        const base = ri.group === "" ? `/api/${ri.version}` : `/apis/${ri.group}/${ri.version}`;
        const q = ask.labelSelector
          ? `?labelSelector=${encodeURIComponent(ask.labelSelector)}`
          : "";
        const l = await this.kube.json<{ items?: { metadata: { name: string } }[] }>(
          "GET",
          `${base}${ask.namespace ? `/namespaces/${encodeURIComponent(ask.namespace)}` : ""}/${ri.resource}${q}`,
        );
        names = (l.items ?? []).map((x) => x.metadata.name);
      }
    } catch (e) {
      chain.add("objects", "skip", `objects: cannot list ${gr} (${errorText(e)})`);
      return { names: [] };
    }
    const sel = ask.labelSelector || "(everything)";
    if (names.length === 0) {
      chain.fail(
        "objects",
        `objects: selector ${sel} matches no ${gr} in ${ask.namespace}`,
        "no-pods",
        `the ${gr} the request selects do not exist, so there is nothing to ask Prometheus about (the HPA controller reports "no pods returned by selector")`,
        `check that the workload's pods exist and carry the labels of its selector: kubectl get ${gr} -n ${ask.namespace} -l '${ask.labelSelector}'`,
      );
      return undefined;
    }
    const extra = pods
      ? `, ${String(pods.filter((p) => p.status?.phase === "Running").length)} Running, ${String(pods.filter(podReady).length)} Ready`
      : "";
    chain.add(
      "objects",
      "ok",
      `objects: selector ${sel} matches ${String(names.length)} ${gr}${extra}: ${sample(names)}`,
    );
    return pods ? { names, pods } : { names };
  }

  /** Renders the query as the adapter does and runs it; false when this link is broken. */
  async #query(
    ask: Ask,
    rule: RuleInput,
    seriesName: string,
    label: string | undefined,
    names: readonly string[],
    chain: Chain,
    client: PrometheusClient | undefined,
    backend: Backend,
  ): Promise<boolean> {
    if (!client) return true;
    let query: string;
    let reqs: Requirement[];
    try {
      const sel = ask.api === "external" ? ask.labelSelector : ask.metricSelector;
      reqs = sel ? parseRequirements(sel) : [];
      query =
        ask.api === "external"
          ? buildExternalQuery(rule.compiled.metricsQuery, rule.compiled.resources, {
              series: seriesName,
              namespace: ask.namespace,
              metricSelector: reqs,
              namespaced: rule.compiled.namespaced,
            })
          : buildCustomQuery(rule.compiled.metricsQuery, rule.compiled.resources, {
              series: seriesName,
              groupResource: ask.groupResource,
              namespace: ask.namespace,
              names,
              metricSelector: reqs,
            });
    } catch (e) {
      chain.fail(
        "query",
        `query: ${rule.origin}.metricsQuery cannot be rendered for this request`,
        "query-not-rendered",
        `${errorText(e)}${ask.metricSelector || ask.labelSelector ? " (a selector key must be a valid Prometheus label name: letters, digits and _, not . or /)" : ""}`,
        "fix the HPA's metric selector (spec.metrics[].*.metric.selector) so every key is a Prometheus label name, or fix the rule's metricsQuery",
      );
      return false;
    }
    let nsLabel: string | undefined;
    try {
      nsLabel = rule.compiled.resources.labelForResource(NAMESPACES);
    } catch {
      nsLabel = undefined;
    }
    return this.#runQuery(
      ask,
      { origin: rule.origin, template: rule.config.metricsQuery, nsLabel, client, backend },
      seriesName,
      label,
      names,
      query,
      chain,
    );
  }

  /** Runs a rendered query and judges the answer; false when this link is broken. */
  async #runQuery(
    ask: Ask,
    qr: QueryRule,
    seriesName: string,
    label: string | undefined,
    names: readonly string[],
    query: string,
    chain: Chain,
  ): Promise<boolean> {
    const prom = qr.client ?? this.#o.prometheus;
    if (!prom) return true;
    const start = chain.links.length;
    const ok = await this.#judgeQuery(prom, ask, qr, seriesName, label, names, query, chain);
    // Every link of this step says which server (and tenant) it asked.
    if (qr.backend) {
      for (let i = start; i < chain.links.length; i++) {
        const l = chain.links[i];
        if (l && l.step === "query" && !l.backend) chain.links[i] = { ...l, backend: qr.backend };
      }
    }
    return ok;
  }

  async #judgeQuery(
    prom: PrometheusClient,
    ask: Ask,
    qr: QueryRule,
    seriesName: string,
    label: string | undefined,
    names: readonly string[],
    query: string,
    chain: Chain,
  ): Promise<boolean> {
    let result;
    try {
      result = await prom.query(query, this.#now);
    } catch (e) {
      const unreachable =
        isPrometheusError(e) && (e.kind === "unreachable" || e.kind === "timeout");
      const own = qr.backend !== undefined && qr.backend.server !== DEFAULT_SERVER;
      const refused = isPrometheusError(e) && (e.httpStatus === 401 || e.httpStatus === 403);
      const tenantNote =
        refused && qr.backend?.tenant !== undefined
          ? ` (sent as tenant ${qr.backend.tenant} in ${qr.backend.tenantHeader ?? "X-Scope-OrgID"}: the backend refuses that tenant)`
          : "";
      chain.fail(
        "query",
        unreachable
          ? own
            ? `query: ${qr.origin}'s server does not answer`
            : "query: Prometheus does not answer"
          : "query: Prometheus rejects the rendered query",
        unreachable ? "prometheus-unreachable" : "query-rejected",
        unreachable
          ? own
            ? `${qr.origin}'s server ${qr.backend.url} cannot be reached: ${errorText(e)}; the adapter's queries of its rules fail the same way (HTTP 500 "unable to fetch metrics")`
            : `Prometheus cannot be reached: ${errorText(e)}; the adapter's queries fail the same way (HTTP 500 "unable to fetch metrics")`
          : `Prometheus answers: ${errorText(e)}${tenantNote}`,
        unreachable
          ? own
            ? `start that server, or fix ${qr.origin}.k8sCustomMetrics.server.url (and the adapter's network path to it)`
            : "start Prometheus, or fix the adapter's --prometheus-url (and its network path to Prometheus)"
          : `fix ${qr.origin}.metricsQuery (or the selector that rendered into it)`,
        { details: [query] },
      );
      return false;
    }
    if (result.resultType !== "vector") {
      chain.fail(
        "query",
        `query: Prometheus returns a ${result.resultType}, not a vector`,
        "query-not-vector",
        "the adapter can only read an instant vector",
        `make ${qr.origin}.metricsQuery return an instant vector`,
        { details: [query] },
      );
      return false;
    }
    const samples = result.result;
    const details = [query];
    if (ask.api === "external") {
      if (samples.length === 0) {
        chain.fail(
          "query",
          "query: returns no sample",
          "no-samples",
          "Prometheus has no series for this metric, namespace and selector now",
          "check the series exist with these labels; the external selector and namespace become matchers",
          { details },
        );
        return false;
      }
      const nan = samples.filter((s) => Number.isNaN(s.value[1]));
      chain.add(
        "query",
        nan.length > 0 ? "warn" : "ok",
        `query: ${String(samples.length)} sample(s)${nan.length > 0 ? `, ${String(nan.length)} NaN` : ""}`,
        { details },
      );
      return true;
    }
    const lbl = label ?? "";
    const byObject = new Map<string, number>();
    for (const s of samples) byObject.set(s.metric[lbl] ?? "", s.value[1]);
    const without = names.filter((n) => !byObject.has(n));
    const nan = names.filter((n) => Number.isNaN(byObject.get(n) ?? 0));
    const raw = await this.#rawSeries(ask, qr.nsLabel, seriesName, lbl, names);
    const stale = raw
      ? names.filter((n) => {
          const age = raw.age.get(n);
          return age !== undefined && age > 2 * (raw.intervalMs ?? 60_000);
        })
      : [];
    const counts = `${String(samples.length)} sample(s), ${String(names.length - without.length)} of ${String(names.length)} object(s) with a value`;
    if (without.length === names.length) {
      const withRaw = raw ? names.filter((n) => raw.age.has(n)) : [];
      let cause: string;
      let kind: string;
      let fix: string;
      const short =
        raw?.intervalMs !== undefined
          ? rateWindows(qr.template).filter((w) => w.ms < 2 * (raw.intervalMs ?? 0))
          : [];
      if (withRaw.length === 0) {
        kind = "pods-without-samples";
        cause = `Prometheus has no ${seriesName} series for any of them (${sample(names)}): they are not scraped, or their series do not carry the labels ${lbl}${ask.namespace ? " and namespace" : ""} with their names`;
        fix =
          "make Prometheus scrape the pods (prometheus.io/scrape annotations, a PodMonitor or ServiceMonitor) and keep the namespace and pod labels";
      } else if (short.length > 0) {
        kind = "rate-window-short";
        const w = short[0];
        cause = `the series exist, but ${w?.fn ?? "rate"}(…[${w?.text ?? "?"}]) covers less than two scrape intervals (${String((raw?.intervalMs ?? 0) / 1000)}s, ${raw?.intervalSource ?? ""}), so it holds fewer than two samples and returns nothing`;
        fix = `widen the window in ${qr.origin}.metricsQuery to at least ${String((2 * (raw?.intervalMs ?? 0)) / 1000)}s (four scrape intervals is safer), or use $__rate_interval-style windows`;
      } else {
        kind = "query-empty";
        cause = `the series exist for ${sample(withRaw)}, but the rendered query returns nothing for them (a matcher in metricsQuery excludes them, or the by (…) clause drops the ${lbl} label)`;
        fix = `keep <<.GroupBy>> in the by (…) clause of ${qr.origin}.metricsQuery and check its matchers`;
      }
      chain.fail("query", `query: ${counts}`, kind, cause, fix, { details });
      return false;
    }
    if (nan.length > 0) {
      chain.fail(
        "query",
        `query: ${counts}; NaN for ${sample(nan)}`,
        "nan",
        "the query divides by zero (a ratio of idle counters); NaN is no usable value for an HPA",
        `guard the division in ${qr.origin}.metricsQuery, e.g. … / (… > 0)`,
        { details },
      );
      return false;
    }
    if (without.length > 0)
      details.push(`no sample for: ${sample(without)} (the HPA controller treats them as missing)`);
    if (stale.length > 0)
      details.push(
        `stale: the last sample of ${sample(stale)} is older than two scrape intervals (Prometheus keeps answering a series for 5 minutes after it stops)`,
      );
    chain.add("query", without.length > 0 || stale.length > 0 ? "warn" : "ok", `query: ${counts}`, {
      details,
    });
    return true;
  }

  /** Per object, the age of the newest raw sample of the series, and the scrape interval. */
  async #rawSeries(
    ask: Ask,
    nsLabel: string | undefined,
    seriesName: string,
    label: string,
    names: readonly string[],
  ): Promise<
    { age: Map<string, number>; intervalMs?: number; intervalSource?: string } | undefined
  > {
    const prom = this.#o.prometheus;
    if (!prom || label === "") return undefined;
    try {
      const matchers = [labelMatcher(label, "=~", alternationRegex(names))];
      if (ask.namespace && nsLabel !== undefined) {
        matchers.push(labelMatcher(nsLabel, "=", ask.namespace));
      }
      const sel = metricSelector(seriesName, matchers);
      const r = await prom.query(`max by (${label}, job) (time() - timestamp(${sel}))`, this.#now);
      const age = new Map<string, number>();
      const jobs = new Set<string>();
      if (r.resultType === "vector") {
        for (const s of r.result) {
          age.set(s.metric[label] ?? "", s.value[1] * 1000);
          if (s.metric["job"]) jobs.add(s.metric["job"]);
        }
      }
      let interval;
      if (this.#o.prometheusOptions) {
        const all = await readScrapeIntervals(this.#o.prometheusOptions).catch(() => undefined);
        interval = all ? intervalForJobs(all, [...jobs]) : undefined;
      }
      return {
        age,
        ...(interval ? { intervalMs: interval.ms, intervalSource: interval.source } : {}),
      };
    } catch {
      return undefined;
    }
  }

  async #answer(
    ask: Ask,
    path: string,
    names: readonly string[],
    chain: Chain,
  ): Promise<Answer | undefined> {
    let body: {
      items?: {
        describedObject?: { name?: string };
        metricLabels?: Record<string, string>;
        value?: string;
      }[];
    };
    try {
      body = await this.kube.json("GET", path);
    } catch (e) {
      const msg = errorText(e);
      const status = e instanceof KubeApiError ? e.status : 0;
      let kind = "answer-error";
      let cause = `the adapter answers HTTP ${String(status)}: ${msg}`;
      let fix = "read the adapter's log for this request";
      if (/unable to list matching resources/.test(msg)) {
        kind = "adapter-list-forbidden";
        const what =
          /may not list "([^"]+)"/.exec(msg)?.[1] ?? groupResourceString(ask.groupResource);
        cause = `the adapter may not list the ${what} the request selects: ${msg}`;
        fix = `give the adapter's service account list on ${what}: a ClusterRole rule bound to it (deploy/base/rbac.yaml, k8s-custom-metrics-resource-reader), then retry`;
      } else if (/unable to fetch metrics/.test(msg)) {
        kind = "adapter-query-failed";
        cause = `the adapter's query to Prometheus fails: ${msg}`;
        fix =
          "check Prometheus is up and reachable from the adapter (--prometheus-url); read the adapter's log for the query";
      } else if (status === 403) {
        kind = "forbidden";
        cause = `you may not read this metric: ${msg}`;
        fix = `ask for get on ${ask.api === "external" ? EXTERNAL : CUSTOM} (the HPA controller has it through system:controller:horizontal-pod-autoscaler)`;
      } else if (status === 503) {
        kind = "api-unavailable";
        cause = `the API server cannot reach the adapter: ${msg}`;
        fix = "k8s-custom-metrics doctor";
      } else if (status === 404) {
        kind = "no-samples";
        const badKey = (ask.metricSelector || (ask.api === "external" ? ask.labelSelector : ""))
          .split(",")
          .map((r) => /^\s*!?\s*([^=!<>\s(]+)/.exec(r)?.[1] ?? "")
          .find((k) => k !== "" && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k));
        cause = `the adapter finds no value for ${ask.object === "*" ? "any of the objects" : ask.object}: ${msg}${badKey === undefined ? "" : `; the metric selector's key ${JSON.stringify(badKey)} is no Prometheus label name, so no query can be built for it`}`;
        fix = `run \`${VALIDATE}\`, or pass --config and --prometheus-url to see the rendered query and its result`;
      }
      chain.fail("answer", `the adapter answers HTTP ${String(status)}`, kind, cause, fix, {
        details: [`GET ${path}`],
      });
      return undefined;
    }
    const values = new Map<string, number>();
    const lines: string[] = [];
    for (const it of body.items ?? []) {
      const name = it.describedObject?.name ?? JSON.stringify(it.metricLabels ?? {});
      const m = milli(it.value ?? "0");
      values.set(name, (values.get(name) ?? 0) + m);
      lines.push(`${name} = ${it.value ?? "?"}`);
    }
    if (values.size === 0) {
      chain.fail(
        "answer",
        "the adapter answers an empty list",
        "no-samples",
        "no value for any of the objects asked",
        `pass --config and --prometheus-url to see the rendered query and its result`,
        { details: [`GET ${path}`] },
      );
      return undefined;
    }
    const missing =
      ask.api === "custom" && ask.object === "*" ? names.filter((n) => !values.has(n)) : [];
    chain.add(
      "answer",
      missing.length > 0 ? "warn" : "ok",
      `the adapter answers ${String(body.items?.length ?? 0)} value(s)${missing.length > 0 ? `, none for ${sample(missing)}` : ""}`,
      { details: [`GET ${path}`, ...lines.slice(0, 10)] },
    );
    return { values };
  }

  #compute(
    h: { hpa: HpaJson; spec: MetricSpec; scale: { replicas: number }; pods: readonly PodJson[] },
    answer: Answer,
    pods: readonly PodJson[],
    chain: Chain,
  ): void {
    const tolerance = this.#o.tolerance ?? DEFAULT_TOLERANCE;
    const tolerances = symmetricTolerances(tolerance);
    const current = h.scale.replicas;
    const min = h.hpa.spec.minReplicas ?? 1;
    const max = h.hpa.spec.maxReplicas;
    const t = this.#targetOf(h.spec);
    if (!t) return;
    let calc: Proposal;
    try {
      if (h.spec.pods) {
        if (t.type !== "AverageValue") {
          chain.fail(
            "hpa-controller",
            `HPA controller: a Pods metric needs an AverageValue target, not ${t.type}`,
            "invalid-metric",
            "the API server rejects other target types for Pods metrics",
            "set target.type: AverageValue",
          );
          return;
        }
        const nowMs = Date.now();
        // The sample time and window only matter for cpu, which a Pods metric never is.
        const metrics = new Map<string, PodSample>(
          [...answer.values].map(([pod, v]) => [
            pod,
            { valueMilli: v, timestampMs: nowMs, windowMs: 0 },
          ]),
        );
        calc = plainMetricReplicas({
          metrics,
          pods: pods.map(podFacts),
          current,
          targetMilli: milli(t.averageValue ?? "0"),
          tolerances,
          nowMs,
        });
      } else {
        // Object: the object's value; External: the sum of the values.
        let usage = 0;
        for (const v of answer.values.values()) usage += v;
        calc =
          t.type === "Value"
            ? valueReplicas({
                valueMilli: usage,
                targetMilli: milli(t.value ?? "0"),
                current,
                pods: pods.map(podFacts),
                tolerances,
              })
            : averageValueReplicas({
                valueMilli: usage,
                targetMilli: milli(t.averageValue ?? "0"),
                statusReplicas: current,
                tolerances,
              });
      }
    } catch (e) {
      if (e instanceof ReplicaError) {
        chain.fail(
          "hpa-controller",
          `HPA controller: ${e.message}`,
          /no pods/.test(e.message) ? "no-pods" : "pods-without-samples",
          e.message,
          "see the objects and query links above",
          { details: [...e.steps] },
        );
        return;
      }
      chain.add("hpa-controller", "skip", `HPA controller: not computed (${errorText(e)})`);
      return;
    }
    const c = hpaDecision({ current, min, max, proposals: [calc.replicas], failed: false });
    chain.add(
      "hpa-controller",
      "ok",
      `HPA controller: ${String(current)} → ${String(c.replicas)} replica(s) (tolerance ${String(tolerance)}; pkg/controller/podautoscaler/replica_calculator.go)`,
      {
        details: [
          ...calc.steps,
          c.step,
          "the scale itself then follows spec.behavior (stabilization window, rate policies)",
        ],
      },
    );
  }

  async #status(hpa: HpaJson): Promise<Link[]> {
    const links: Link[] = [];
    const conditions = hpa.status?.conditions ?? [];
    if (conditions.length === 0) {
      links.push({
        step: "conditions",
        status: "skip",
        title: "no conditions yet: the HPA controller has not evaluated it",
      });
    }
    const failure = decodeHpaFailure(conditions);
    for (const c of conditions) {
      const bad =
        (c.type === "ScalingActive" && c.status === "False" && c.reason !== "ScalingDisabled") ||
        (c.type === "AbleToScale" && c.status === "False");
      const title = `${c.type}=${c.status} ${c.reason ?? ""}: ${c.message ?? ""}`.trim();
      if (bad && failure) {
        links.push({
          step: "conditions",
          status: "fail",
          title,
          kind: failure.kind,
          cause: failure.cause,
          fix: failure.fix,
        });
      } else {
        links.push({
          step: "conditions",
          status: c.type === "ScalingLimited" && c.status === "True" ? "warn" : "info",
          title,
        });
      }
    }
    try {
      const ev = await this.kube.json<{
        items?: {
          type?: string;
          reason?: string;
          message?: string;
          lastTimestamp?: string;
          eventTime?: string;
          count?: number;
        }[];
      }>(
        "GET",
        `/api/v1/namespaces/${encodeURIComponent(hpa.metadata.namespace)}/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${hpa.metadata.name}`)}`,
      );
      const items = (ev.items ?? [])
        .map((e) => ({ ...e, at: e.lastTimestamp ?? e.eventTime ?? "" }))
        .sort((a, b) => b.at.localeCompare(a.at))
        .slice(0, 5);
      for (const e of items) {
        links.push({
          step: "events",
          status: "info",
          title: `event ${e.type ?? ""} ${e.reason ?? ""}${e.count && e.count > 1 ? ` ×${String(e.count)}` : ""} (${e.at}): ${e.message ?? ""}`,
        });
      }
      if (items.length === 0)
        links.push({ step: "events", status: "info", title: "no recent events" });
    } catch (e) {
      links.push({ step: "events", status: "skip", title: `events: ${errorText(e)}` });
    }
    return links;
  }
}

export async function runExplain(o: ExplainOptions, target: ExplainTarget): Promise<ExplainReport> {
  const e = new Explainer(o);
  try {
    return await e.run(target);
  } finally {
    await e.close();
  }
}
