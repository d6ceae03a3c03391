/**
 * @module compare/sides
 * The two sides `compare` asks: the cluster's metrics APIs through the API server (the GETs the HPA
 * controller makes), and our adapter's API groups called in-process; their answers as readings.
 */
import { StatusError } from "../apimachinery/status.ts";
import { bodyValue, type ApiGroup } from "../apis/types.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import type { MetricProbe, MetricRequest } from "./hpa-metrics.ts";
import { readBody, type Reading } from "./readings.ts";

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly message: string;
}

/** The cluster's side: the same GETs the HPA controller makes, through the API server. */
export class ClusterSide {
  readonly #kube: KubeClient;
  constructor(kube: KubeClient) {
    this.#kube = kube;
  }

  async get(path: string): Promise<Answer> {
    try {
      return { status: 200, body: await this.#kube.json("GET", path), message: "" };
    } catch (e) {
      if (!(e instanceof KubeApiError)) throw e;
      let body: unknown;
      try {
        body = JSON.parse(e.body);
      } catch {
        body = undefined;
      }
      return { status: e.status, body, message: e.apiMessage ?? e.message };
    }
  }
}

/** Our side: the API groups' handlers, called in-process. */
export async function oursGet(
  groups: ReadonlyMap<string, ApiGroup>,
  r: MetricRequest,
  version: string,
): Promise<Answer> {
  const g = groups.get(r.group);
  if (!g) {
    return { status: 404, body: undefined, message: `ours serves no ${r.group} with this config` };
  }
  try {
    const res = await g.handle(version, {
      method: "GET",
      segments: r.segments,
      query: new URLSearchParams(r.query),
    });
    return { status: res.status, body: bodyValue(res.body), message: "" };
  } catch (e) {
    if (e instanceof StatusError) {
      return { status: e.status.code, body: e.status, message: e.status.message };
    }
    return { status: 500, body: undefined, message: e instanceof Error ? e.message : String(e) };
  }
}

export function reading(probe: MetricProbe, a: Answer): Reading {
  if (a.status !== 200) return { ok: false, error: `${String(a.status)}: ${a.message}` };
  return readBody(probe, a.body);
}

export async function servedBy(
  cluster: ClusterSide,
  group: string,
  version: string,
): Promise<string> {
  const a = await cluster.get(`/apis/apiregistration.k8s.io/v1/apiservices/${version}.${group}`);
  if (a.status === 404) return "none";
  if (a.status !== 200) return "unknown";
  const svc = (a.body as { spec?: { service?: { namespace?: string; name?: string } | null } }).spec
    ?.service;
  return svc ? `${svc.namespace ?? ""}/${svc.name ?? ""}` : "the API server itself";
}

export async function listed(get: () => Promise<Answer>): Promise<readonly string[] | undefined> {
  const a = await get();
  if (a.status !== 200) return undefined;
  return ((a.body as { resources?: { name: string }[] }).resources ?? []).map((r) => r.name);
}
