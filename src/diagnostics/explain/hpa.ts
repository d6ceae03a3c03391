/**
 * @module diagnostics/explain/hpa
 * `explain hpa`: the HPA's spec and its scale target (the selector the controller lists pods
 * with), then one chain per metric it scales on, built into the request the HPA controller sends
 * for it, then its conditions and events.
 */
import { KubeApiError } from "../../kube/client.ts";
import { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { apiServiceLink } from "./apiservice.ts";
import { hpaStatus } from "./hpa-status.ts";
import { targetOf } from "./hpa-controller.ts";
import type { Section } from "./report.ts";
import { externalAsk, isNamespaces } from "./request.ts";
import { errorText, podCounts, selectorString, targetText } from "./text.ts";
import {
  PODS,
  RESOURCE,
  type Ask,
  type HpaJson,
  type MetricSpec,
  type PodJson,
  type Scale,
} from "./types.ts";
import { walk } from "./walk.ts";

export async function explainHpa(
  cx: ExplainContext,
  namespace: string,
  name: string,
  sections: Section[],
): Promise<void> {
  const head = new Chain();
  sections.push({ title: `HPA ${namespace}/${name}`, links: head.links });
  let hpa: HpaJson;
  try {
    hpa = await cx.kube.json<HpaJson>(
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
    `spec: ${ref.kind} ${ref.name}, ${String(min)}..${String(max)} replicas, ${String(metrics.length)} metric(s): ${metrics.map(metricName).join(", ")}`,
  );
  // The scale subresource gives the selector the controller lists pods with.
  const scale = await scaleOf(cx, namespace, ref, head);
  let pods: PodJson[] = [];
  if (scale) {
    pods = await cx.pods(namespace, scale.selector);
    const text = `scale target ${ref.kind}/${ref.name}: ${String(scale.replicas)} replica(s), selector ${scale.selector || "(none)"}: ${String(pods.length)} pod(s), ${podCounts(pods)}`;
    if (scale.replicas === 0 && min > 0) {
      head.add("scale-target", "warn", text, {
        cause: "the target is scaled to 0, so the HPA does not act (ScalingDisabled)",
      });
    } else head.add("scale-target", "ok", text);
  }
  metrics.forEach((m, i) => {
    const t = targetOf(m);
    sections.push({
      title: `metric ${String(i + 1)}: ${m.type} ${metricName(m)}${t ? `, target ${targetText(t)}` : ""}`,
      links: [],
    });
  });
  for (const [i, m] of metrics.entries()) {
    const section = sections[sections.length - metrics.length + i];
    if (!section) continue;
    const chain = new Chain();
    await hpaMetric(cx, hpa, m, scale, pods, chain);
    section.links.push(...chain.links);
  }
  sections.push({ title: "HPA status", links: await hpaStatus(cx, hpa) });
}

function metricName(m: MetricSpec): string {
  return (
    m.pods?.metric.name ??
    m.object?.metric.name ??
    m.external?.metric.name ??
    m.resource?.name ??
    m.containerResource?.name ??
    "?"
  );
}

async function scaleOf(
  cx: ExplainContext,
  namespace: string,
  ref: HpaJson["spec"]["scaleTargetRef"],
  chain: Chain,
): Promise<Scale | undefined> {
  const apiVersion = ref.apiVersion ?? "apps/v1";
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  let resource: string | undefined;
  try {
    const list = await cx.kube.json<{ resources?: { name: string; kind: string }[] }>("GET", base);
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
  try {
    const s = await cx.kube.json<{
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

/** The request the HPA controller sends for one of the HPA's metrics, walked link by link. */
async function hpaMetric(
  cx: ExplainContext,
  hpa: HpaJson,
  m: MetricSpec,
  scale: Scale | undefined,
  pods: readonly PodJson[],
  chain: Chain,
): Promise<void> {
  const ns = hpa.metadata.namespace;
  if (m.resource || m.containerResource) {
    await resourceMetric(cx, ns, scale, chain);
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
    const groupResource = await cx.normalize(
      `${d.kind}${d.apiVersion?.includes("/") ? `.${d.apiVersion.split("/")[0] ?? ""}` : ""}`,
    );
    ask = {
      api: "custom",
      metric: m.object.metric.name,
      namespace: isNamespaces({ groupResource }) ? "" : ns,
      groupResource,
      object: d.name,
      labelSelector: "",
      metricSelector: selectorString(m.object.metric.selector),
    };
  } else if (m.external) {
    ask = externalAsk(m.external.metric.name, ns, selectorString(m.external.metric.selector));
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
  await walk(cx, ask, chain, { hpa, spec: m, scale, pods });
}

/** A Resource metric: metrics.k8s.io's APIService and its answer for the target's pods. */
async function resourceMetric(
  cx: ExplainContext,
  ns: string,
  scale: Scale | undefined,
  chain: Chain,
): Promise<void> {
  if (!(await apiServiceLink(cx, RESOURCE, chain))) return;
  try {
    const q = scale?.selector ? `?labelSelector=${encodeURIComponent(scale.selector)}` : "";
    const l = await cx.kube.json<{ items?: unknown[] }>(
      "GET",
      `/apis/${RESOURCE}/v1beta1/namespaces/${encodeURIComponent(ns)}/pods${q}`,
    );
    const n = l.items?.length ?? 0;
    chain.add(
      "answer",
      n > 0 ? "ok" : "fail",
      `${RESOURCE} answers ${String(n)} PodMetrics for the target's pods`,
      n > 0
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
