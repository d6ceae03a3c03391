/**
 * @module diagnostics/explain/hpa-status
 * The HPA's own account: its conditions (a failing one decoded into cause and fix, as `doctor`
 * does) and its five most recent events.
 */
import { decodeHpaFailure } from "../hpa-conditions.ts";
import type { ExplainContext } from "./context.ts";
import type { Link } from "./report.ts";
import { errorText } from "./text.ts";
import type { HpaJson } from "./types.ts";

interface EventJson {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

export async function hpaStatus(cx: ExplainContext, hpa: HpaJson): Promise<Link[]> {
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
    const ev = await cx.kube.json<{ items?: EventJson[] }>(
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
