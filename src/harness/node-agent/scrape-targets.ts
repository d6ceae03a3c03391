/**
 * @module harness/node-agent/scrape-targets
 * Prometheus' file_sd file: the running pods that ask to be scraped (`prometheus.io/scrape`), one
 * target per Service that selects the pod, as Prometheus' endpoints discovery labels them.
 */
import { renameSync, writeFileSync } from "node:fs";
import type * as k8s from "@kubernetes/client-node";
import { podTargetsJson, type PodTarget } from "../prometheus-config.ts";
import type { PodRuntime } from "./runtime.ts";

interface SelectingService {
  readonly name: string;
  readonly selector: Record<string, string>;
}

/** namespace → services with a selector. */
function byNamespace(services: readonly k8s.V1Service[]): Map<string, SelectingService[]> {
  const out = new Map<string, SelectingService[]>();
  for (const svc of services) {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const ns = svc.metadata?.namespace ?? "";
    const list = out.get(ns) ?? [];
    list.push({ name: svc.metadata?.name ?? "", selector });
    out.set(ns, list);
  }
  return out;
}

/** The targets of these pods, sorted by address then Service. */
export function podTargets(
  pods: Iterable<PodRuntime>,
  services: readonly k8s.V1Service[],
): PodTarget[] {
  const selecting = byNamespace(services);
  const targets: PodTarget[] = [];
  for (const p of pods) {
    if (p.terminating || p.annotations["prometheus.io/scrape"] !== "true") continue;
    if (![...p.containers.values()].every((c) => c.child !== undefined)) continue;
    const first = [...p.containers.values()][0]?.spec.ports?.[0]?.containerPort;
    const port =
      p.annotations["prometheus.io/port"] ?? (first === undefined ? "80" : String(first));
    const base = {
      namespace: p.namespace,
      pod: p.name,
      address: `${p.ip}:${port}`,
      path: p.annotations["prometheus.io/path"] ?? "/metrics",
    };
    // Like Prometheus' endpoints discovery: one target per Service that selects the pod.
    const matching = (selecting.get(p.namespace) ?? []).filter((svc) =>
      Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v),
    );
    if (matching.length === 0) targets.push(base);
    for (const svc of matching) targets.push({ ...base, service: svc.name });
  }
  targets.sort((a, b) =>
    `${a.address} ${a.service ?? ""}`.localeCompare(`${b.address} ${b.service ?? ""}`),
  );
  return targets;
}

/** Writes the file_sd file, atomically, and only when its content changes. */
export class ScrapeTargetsWriter {
  readonly #file: string;
  #last = "";

  constructor(file: string) {
    this.#file = file;
  }

  write(pods: Iterable<PodRuntime>, services: readonly k8s.V1Service[]): void {
    const text = podTargetsJson(podTargets(pods, services));
    if (text === this.#last) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.#file);
    this.#last = text;
  }
}
