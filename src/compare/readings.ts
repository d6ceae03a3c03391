/**
 * @module compare/readings
 * A metrics API answer as the HPA controller reads it (pkg/controller/podautoscaler/metrics:
 * rest_metrics_client.go): per pod for Pods and Resource metrics, one value for Object, the sum
 * for External, all in milli-units (Quantity.MilliValue); and whether two readings are the same.
 */
import { parseGoDuration } from "../apimachinery/go-duration.ts";
import { parseQuantity } from "../apimachinery/quantity.ts";
import type { MetricProbe } from "./hpa-metrics.ts";
import type { PodSample } from "../hpa/pod-groups.ts";

export type Reading =
  | { readonly ok: true; readonly pods: ReadonlyMap<string, PodSample> }
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly error: string };

function milli(q: unknown): number {
  // Bare JSON numbers parse as quantities too (kube's Quantity UnmarshalJSON).
  return Number(parseQuantity(String(q)).milliValue());
}

function time(t: unknown): number {
  const ms = typeof t === "string" ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

interface CustomItem {
  describedObject?: { kind?: string; name?: string };
  value?: unknown;
  timestamp?: unknown;
  windowSeconds?: number;
}

interface PodMetricsItem {
  metadata?: { name?: string };
  timestamp?: unknown;
  window?: unknown;
  containers?: { name?: string; usage?: Record<string, unknown> }[];
}

function items<T>(body: unknown): T[] {
  const list = (body as { items?: unknown } | null)?.items;
  return Array.isArray(list) ? (list as T[]) : [];
}

/** Turns a 200 body into what the controller would use; its errors use the controller's words. */
export function readBody(probe: MetricProbe, body: unknown): Reading {
  try {
    switch (probe.kind) {
      case "Pods": {
        const list = items<CustomItem>(body);
        if (list.length === 0)
          return { ok: false, error: "no metrics returned from custom metrics API" };
        const pods = new Map<string, PodSample>();
        for (const i of list) {
          pods.set(i.describedObject?.name ?? "", {
            valueMilli: milli(i.value),
            timestampMs: time(i.timestamp),
            windowMs: (i.windowSeconds ?? 60) * 1000,
          });
        }
        return { ok: true, pods };
      }
      case "Object": {
        const list = items<CustomItem>(body);
        if (list.length !== 1) {
          return {
            ok: false,
            error:
              list.length === 0
                ? "no metrics returned from custom metrics API"
                : `expected exactly one metric value, got ${String(list.length)}`,
          };
        }
        return { ok: true, value: milli(list[0]?.value) };
      }
      case "External": {
        const list = items<CustomItem>(body);
        if (list.length === 0) {
          return { ok: false, error: "no metrics returned from external metrics API" };
        }
        return { ok: true, value: list.reduce((s, i) => s + milli(i.value), 0) };
      }
      case "Resource":
      case "ContainerResource": {
        const list = items<PodMetricsItem>(body);
        if (list.length === 0) {
          return { ok: false, error: "no metrics returned from resource metrics API" };
        }
        const pods = new Map<string, PodSample>();
        for (const p of list) {
          const containers = (p.containers ?? []).filter(
            (c) => probe.container === undefined || c.name === probe.container,
          );
          // A pod without containers, or a container without the resource, has no sample.
          if (containers.length === 0) continue;
          let sum = 0;
          let complete = true;
          for (const c of containers) {
            const u = c.usage?.[probe.name];
            if (u === undefined) complete = false;
            else sum += milli(u);
          }
          if (!complete) continue;
          let windowMs = 0;
          try {
            windowMs = typeof p.window === "string" ? parseGoDuration(p.window) : 0;
          } catch {
            // Leave 0: only the CPU warm-up rule reads it.
          }
          pods.set(p.metadata?.name ?? "", {
            valueMilli: sum,
            timestampMs: time(p.timestamp),
            windowMs,
          });
        }
        return { ok: true, pods };
      }
    }
  } catch (e) {
    return { ok: false, error: `unreadable answer: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Whether two values are the same up to sample timing: equal within 1 milli-unit (the rounding
 * of MilliValue), within `relative` of the larger, or `theirs` lies between our two reads (made
 * just before and just after theirs).
 */
export function sameValue(
  ours: number,
  theirs: number,
  relative: number,
  oursAfter?: number,
): boolean {
  if (Math.abs(ours - theirs) <= Math.max(1, relative * Math.max(Math.abs(ours), Math.abs(theirs))))
    return true;
  if (oursAfter === undefined) return false;
  return Math.min(ours, oursAfter) <= theirs && theirs <= Math.max(ours, oursAfter);
}
