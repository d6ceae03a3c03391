/**
 * @module diagnostics/doctor/types
 * What `doctor` is given (the caller's client and credentials, the adapter's Service and service
 * account when named) and the shapes it reads: APIServices and HPAs.
 */
import type { KubeClient } from "../../kube/client.ts";
import type { KubeCredentials } from "../../kube/kubeconfig.ts";
import type { ServiceAccountRef } from "../adapter-rbac.ts";
import { METRICS_API_SERVICES, type ApiServiceSummary, type ServiceRef } from "../group-owners.ts";
import type { HpaCondition } from "../hpa-conditions.ts";

export interface DoctorOptions {
  readonly kube: KubeClient;
  /** The caller's credentials, to ask the adapter directly as the API server would let them. */
  readonly credentials: KubeCredentials;
  /** HPAs of this namespace only; all namespaces when undefined. */
  readonly namespace?: string | undefined;
  /** The adapter's Service; default: the one behind custom.metrics.k8s.io. */
  readonly adapterService?: ServiceRef | undefined;
  /** The adapter's identity; default: its pods' service account, or the one named like its Service. */
  readonly adapterServiceAccount?: ServiceAccountRef | undefined;
  readonly now?: Date;
  /** Timeout of a direct connection to the adapter. */
  readonly timeoutMs?: number;
}

/** The default adapter Service of deploy/base, when no APIService names one. */
export const DEFAULT_SERVICE: ServiceRef = {
  namespace: "custom-metrics",
  name: "k8s-custom-metrics",
};

export interface ApiServiceJson {
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly group?: string;
    readonly version?: string;
    readonly service?: {
      readonly namespace?: string;
      readonly name?: string;
      readonly port?: number;
    } | null;
    readonly caBundle?: string;
    readonly insecureSkipTLSVerify?: boolean;
  };
  readonly status?: {
    readonly conditions?: readonly {
      type: string;
      status: string;
      reason?: string;
      message?: string;
    }[];
  };
}

export interface HpaJson {
  readonly metadata: { readonly namespace: string; readonly name: string };
  readonly spec?: {
    readonly metrics?: readonly {
      readonly type?: string;
      readonly pods?: { readonly metric?: { readonly name?: string } };
      readonly object?: { readonly metric?: { readonly name?: string } };
      readonly external?: { readonly metric?: { readonly name?: string } };
      readonly resource?: { readonly name?: string };
    }[];
  };
  readonly status?: { readonly conditions?: readonly HpaCondition[] };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function summary(a: ApiServiceJson): ApiServiceSummary & { readonly port: number } {
  const s = a.spec.service;
  return {
    name: a.metadata.name,
    group: a.spec.group ?? "",
    version: a.spec.version ?? "",
    service: s?.namespace && s.name ? { namespace: s.namespace, name: s.name } : undefined,
    port: s?.port ?? 443,
  };
}

/** Known metrics APIServices first, in their usual order, then any other version found. */
export function order(a: ApiServiceJson, b: ApiServiceJson): number {
  const rank = (x: ApiServiceJson) => {
    const i = (METRICS_API_SERVICES as readonly string[]).indexOf(x.metadata.name);
    return i < 0 ? METRICS_API_SERVICES.length : i;
  };
  return rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name);
}
