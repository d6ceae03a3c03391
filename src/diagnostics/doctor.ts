/**
 * @module diagnostics/doctor
 * The cluster-side checklist, in the order a request travels: the aggregation layer, each metrics
 * APIService, who owns each metrics group, the adapter behind them (certificate, readiness,
 * version, RBAC), then every HPA whose metric fails. Reads only; every call is one the caller
 * could make with kubectl.
 */
import { KcmError } from "../errors.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import type { KubeCredentials } from "../kube/kubeconfig.ts";
import { judgeAggregationLayer } from "./aggregation-layer.ts";
import { checkAdapterRbac, type ServiceAccountRef } from "./adapter-rbac.ts";
import {
  directAddress,
  getDirect,
  getViaProxy,
  type DirectAddress,
  type HttpAnswer,
  type ServiceJson,
} from "./adapter-endpoint.ts";
import { decodeApiServiceFailure } from "./apiservice-failure.ts";
import type { Check } from "./checks.ts";
import {
  groupOwnership,
  METRICS_API_SERVICES,
  METRICS_GROUPS,
  ownershipChecks,
  sameService,
  serviceKey,
  type ApiServiceSummary,
  type ServiceRef,
} from "./group-owners.ts";
import { decodeHpaFailure, type HpaCondition } from "./hpa-conditions.ts";
import {
  certFacts,
  fetchPeerCertificate,
  judgeServingCert,
  type ChainVerdict,
} from "./serving-cert.ts";

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
const DEFAULT_SERVICE: ServiceRef = { namespace: "custom-metrics", name: "k8s-custom-metrics" };

interface ApiServiceJson {
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

interface HpaJson {
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

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function summary(a: ApiServiceJson): ApiServiceSummary & { readonly port: number } {
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
function order(a: ApiServiceJson, b: ApiServiceJson): number {
  const rank = (x: ApiServiceJson) => {
    const i = (METRICS_API_SERVICES as readonly string[]).indexOf(x.metadata.name);
    return i < 0 ? METRICS_API_SERVICES.length : i;
  };
  return rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name);
}

class Doctor {
  readonly checks: Check[] = [];
  readonly #o: DoctorOptions;
  readonly #now: Date;
  #serviceError: string | undefined;

  constructor(o: DoctorOptions) {
    this.#o = o;
    this.#now = o.now ?? new Date();
  }

  get kube(): KubeClient {
    return this.#o.kube;
  }

  async reachable(): Promise<void> {
    try {
      await this.kube.json("GET", "/version");
    } catch (e) {
      throw new KcmError(
        "KCM_ERR_CLUSTER_UNREACHABLE",
        `cannot reach the API server at ${this.kube.server}: ${errorText(e)}`,
        { cause: e },
      );
    }
  }

  async aggregationLayer(): Promise<void> {
    let data: Record<string, string> | undefined;
    let error: string | undefined;
    try {
      const cm = await this.kube.json<{ data?: Record<string, string> }>(
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
      );
      data = cm.data ?? {};
    } catch (e) {
      error = errorText(e);
    }
    this.checks.push(...judgeAggregationLayer(data, error, this.#now));
  }

  async apiServices(): Promise<ApiServiceJson[]> {
    let list: { items?: ApiServiceJson[] };
    try {
      list = await this.kube.json("GET", "/apis/apiregistration.k8s.io/v1/apiservices");
    } catch (e) {
      this.checks.push({
        section: "APIServices",
        status: "fail",
        kind: "apiservices-unreadable",
        title: "cannot list APIServices",
        cause: errorText(e),
        fix: "run doctor with a kubeconfig allowed to read apiservices.apiregistration.k8s.io (cluster-admin, or the view role plus that resource)",
      });
      return [];
    }
    const ours = (list.items ?? [])
      .filter((a) => (METRICS_GROUPS as readonly string[]).includes(a.spec.group ?? ""))
      .sort(order);
    return ours;
  }

  /** The Service that serves custom metrics, taken as the adapter's unless told otherwise. */
  adapterService(apis: readonly ApiServiceJson[]): ServiceRef {
    if (this.#o.adapterService) return this.#o.adapterService;
    for (const name of ["v1beta2.custom.metrics.k8s.io", "v1beta1.custom.metrics.k8s.io"]) {
      const a = apis.find((x) => x.metadata.name === name);
      const s = a ? summary(a).service : undefined;
      if (s) return s;
    }
    return DEFAULT_SERVICE;
  }

  async apiServiceChecks(apis: readonly ApiServiceJson[], sa: string | undefined): Promise<void> {
    const section = "APIServices";
    for (const name of METRICS_API_SERVICES) {
      if (!apis.some((a) => a.metadata.name === name)) {
        this.checks.push({ section, status: "skip", title: `${name}: not registered` });
      }
    }
    for (const a of apis) {
      const s = summary(a);
      const where = s.service
        ? `${serviceKey(s.service)}:${String(s.port)}`
        : "the API server itself";
      const available = a.status?.conditions?.find((c) => c.type === "Available");
      if (available?.status !== "True") {
        const d = decodeApiServiceFailure(available ?? { reason: "", message: "" }, {
          name: s.name,
          group: s.group,
          version: s.version,
          service: s.service,
          serviceAccount: sa,
        });
        this.checks.push({
          section,
          status: "fail",
          kind: d.kind,
          title: `${s.name} → ${where}: not Available (${available?.reason ?? "no condition yet"})`,
          cause: d.cause,
          fix: d.fix,
        });
        continue;
      }
      try {
        const list = await this.kube.json<{ resources?: unknown[] }>(
          "GET",
          `/apis/${s.group}/${s.version}`,
        );
        this.checks.push({
          section,
          status: "ok",
          title: `${s.name} → ${where}: Available, discovery lists ${String(list.resources?.length ?? 0)} resources`,
        });
      } catch (e) {
        this.checks.push({
          section,
          status: "fail",
          kind: "discovery-failed",
          title: `${s.name} → ${where}: Available, but GET /apis/${s.group}/${s.version} fails`,
          cause: errorText(e),
          fix: "read the adapter's log; the aggregator may not have noticed yet (it re-checks every 30 s)",
        });
      }
    }
  }

  async service(ref: ServiceRef): Promise<ServiceJson | undefined> {
    try {
      return await this.kube.json<ServiceJson>(
        "GET",
        `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/services/${encodeURIComponent(ref.name)}`,
      );
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      // Unknown rather than missing: the checks that need its address go through the proxy.
      this.#serviceError = `cannot read Service ${serviceKey(ref)}: ${errorText(e)}`;
      return {};
    }
  }

  /** The adapter's service account: an option, its pods' account, or one named like the Service. */
  async serviceAccount(
    ref: ServiceRef,
    svc: ServiceJson | undefined,
  ): Promise<ServiceAccountRef | undefined> {
    if (this.#o.adapterServiceAccount) return this.#o.adapterServiceAccount;
    const ns = encodeURIComponent(ref.namespace);
    const selector = svc?.spec?.selector;
    if (selector && Object.keys(selector).length > 0) {
      const q = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      try {
        const pods = await this.kube.json<{ items?: { spec?: { serviceAccountName?: string } }[] }>(
          "GET",
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(q)}&limit=1`,
        );
        const first = pods.items?.[0];
        if (first)
          return { namespace: ref.namespace, name: first.spec?.serviceAccountName ?? "default" };
      } catch {
        // Fall through to the name convention.
      }
    }
    try {
      await this.kube.json(
        "GET",
        `/api/v1/namespaces/${ns}/serviceaccounts/${encodeURIComponent(ref.name)}`,
      );
      return { namespace: ref.namespace, name: ref.name };
    } catch {
      return undefined;
    }
  }

  /** Certificate, readiness, version and the groups the adapter serves. */
  async adapter(
    ref: ServiceRef,
    svc: ServiceJson | undefined,
    apis: readonly ApiServiceJson[],
  ): Promise<ReadonlySet<string> | undefined> {
    const section = `adapter ${serviceKey(ref)}`;
    if (svc === undefined) {
      this.checks.push({
        section,
        status: "fail",
        kind: "service-not-found",
        title: `Service ${serviceKey(ref)} does not exist`,
        cause: "the adapter's Service is missing, so the aggregator has nowhere to send requests",
        fix: "apply the adapter's Service (deploy/base/service.yaml), or pass --adapter-service NAMESPACE/NAME",
      });
      return undefined;
    }
    if (this.#serviceError !== undefined) {
      this.checks.push({ section, status: "skip", title: this.#serviceError });
    }
    const mine = apis.filter((a) => sameService(summary(a).service, ref));
    const port = mine[0] ? summary(mine[0]).port : 443;
    const addr = directAddress(svc, ref.namespace, ref.name, port);
    const direct = addr ? await this.certificate(section, addr, mine) : undefined;
    const get = async (path: string, creds: boolean): Promise<HttpAnswer> => {
      if (direct) {
        return getDirect(direct, path, creds ? this.#o.credentials : {}, this.#o.timeoutMs);
      }
      return getViaProxy(this.kube, ref.namespace, ref.name, port, path);
    };
    const via = direct
      ? `at ${direct.host}:${String(direct.port)}`
      : "through the API server's service proxy";

    try {
      const r = await get("/readyz", false);
      this.checks.push(
        !direct && r.status === 404
          ? // The proxy itself refuses (it cannot route to an ExternalName Service, say).
            {
              section,
              status: "skip",
              title: `/readyz ${via}: HTTP 404 (${r.body.trim().slice(0, 200)})`,
            }
          : r.status === 200
            ? { section, status: "ok", title: `/readyz ${via}: ready` }
            : {
                section,
                status: "fail",
                kind: "not-ready",
                title: `/readyz ${via}: HTTP ${String(r.status)}`,
                cause:
                  r.body.trim().slice(0, 400) ||
                  "the adapter is not ready (first discovery from Prometheus not done, or Prometheus unreachable)",
                fix: "read the adapter's log: it says why discovery or Prometheus fails",
              },
      );
    } catch (e) {
      this.checks.push({ section, status: "skip", title: `/readyz ${via}: ${errorText(e)}` });
    }
    try {
      const r = await get("/version", true);
      const v =
        r.status === 200 ? (JSON.parse(r.body) as { gitVersion?: string }).gitVersion : undefined;
      this.checks.push(
        v === undefined
          ? { section, status: "skip", title: `version: HTTP ${String(r.status)}` }
          : { section, status: "ok", title: `version ${v}` },
      );
    } catch (e) {
      this.checks.push({ section, status: "skip", title: `version: ${errorText(e)}` });
    }
    try {
      const r = await get("/apis", true);
      if (r.status !== 200) return undefined;
      const groups = (JSON.parse(r.body) as { groups?: { name?: string }[] }).groups ?? [];
      return new Set(groups.map((g) => g.name ?? ""));
    } catch {
      return undefined;
    }
  }

  /** The serving certificate against each distinct caBundle; the address if reachable. */
  async certificate(
    section: string,
    addr: DirectAddress,
    mine: readonly ApiServiceJson[],
  ): Promise<DirectAddress | undefined> {
    let peer;
    try {
      peer = await fetchPeerCertificate(
        addr.host,
        addr.port,
        addr.servername,
        undefined,
        this.#o.timeoutMs,
      );
    } catch (e) {
      this.checks.push({
        section,
        status: "skip",
        title: `cannot connect to ${addr.host}:${String(addr.port)} (${addr.via}) from here: ${errorText(e)}; certificate not checked`,
      });
      return undefined;
    }
    const bundles = new Map<string, string[]>();
    const unverified: string[] = [];
    for (const a of mine) {
      if (a.spec.insecureSkipTLSVerify === true || !a.spec.caBundle)
        unverified.push(a.metadata.name);
      else bundles.set(a.spec.caBundle, [...(bundles.get(a.spec.caBundle) ?? []), a.metadata.name]);
    }
    const verdicts: ChainVerdict[] = [];
    if (unverified.length > 0) verdicts.push({ apiServices: unverified, outcome: "unverified" });
    for (const [bundle, names] of bundles) {
      const ca = Buffer.from(bundle, "base64").toString("utf8");
      try {
        const p = await fetchPeerCertificate(
          addr.host,
          addr.port,
          addr.servername,
          ca,
          this.#o.timeoutMs,
        );
        verdicts.push(
          p.error === null
            ? { apiServices: names, outcome: "chains" }
            : { apiServices: names, outcome: "mismatch", error: p.error },
        );
      } catch (e) {
        verdicts.push({ apiServices: names, outcome: "mismatch", error: errorText(e) });
      }
    }
    try {
      this.checks.push(
        ...judgeServingCert(
          certFacts(peer.pem, addr.servername),
          addr.servername,
          verdicts,
          this.#now,
          section,
        ),
      );
    } catch (e) {
      this.checks.push({
        section,
        status: "fail",
        kind: "cert-unreadable",
        title: `serving certificate cannot be read: ${errorText(e)}`,
      });
    }
    return addr;
  }

  /** Metric names the custom and external APIs list, for "did you mean". */
  async listedMetrics(): Promise<{ custom: Map<string, string[]>; external: string[] }> {
    const custom = new Map<string, string[]>();
    const external: string[] = [];
    const names = async (path: string): Promise<string[]> => {
      try {
        const l = await this.kube.json<{ resources?: { name?: string }[] }>("GET", path);
        return (l.resources ?? []).map((r) => r.name ?? "");
      } catch {
        return [];
      }
    };
    for (const n of await names("/apis/custom.metrics.k8s.io/v1beta2")) {
      const [resource, ...rest] = n.split("/");
      if (resource === undefined || rest.length === 0) continue;
      custom.set(resource, [...(custom.get(resource) ?? []), rest.join("/")]);
    }
    external.push(...(await names("/apis/external.metrics.k8s.io/v1beta1")));
    return { custom, external };
  }

  async hpas(): Promise<void> {
    const ns = this.#o.namespace;
    const section = ns === undefined ? "HPAs (all namespaces)" : `HPAs in ${ns}`;
    const path =
      ns === undefined
        ? "/apis/autoscaling/v2/horizontalpodautoscalers"
        : `/apis/autoscaling/v2/namespaces/${encodeURIComponent(ns)}/horizontalpodautoscalers`;
    let items: HpaJson[];
    try {
      items = (await this.kube.json<{ items?: HpaJson[] }>("GET", path)).items ?? [];
    } catch (e) {
      this.checks.push({ section, status: "skip", title: `cannot list HPAs: ${errorText(e)}` });
      return;
    }
    if (items.length === 0) {
      this.checks.push({ section, status: "skip", title: "no HorizontalPodAutoscaler" });
      return;
    }
    let listed: Awaited<ReturnType<Doctor["listedMetrics"]>> | undefined;
    for (const h of items.sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
    )) {
      const id = `${h.metadata.namespace}/${h.metadata.name}`;
      const conditions = h.status?.conditions ?? [];
      if (conditions.length === 0) {
        this.checks.push({
          section,
          status: "skip",
          title: `${id}: not evaluated by the HPA controller yet`,
        });
        continue;
      }
      if (
        conditions.some((c) => c.type === "ScalingActive" && c.status === "False") ||
        conditions.some((c) => c.type === "AbleToScale" && c.status === "False")
      ) {
        listed ??= await this.listedMetrics();
        const l = listed;
        const failure = decodeHpaFailure(conditions, {
          listedMetrics: (resource) => l.custom.get(resource),
          externalMetrics: l.external,
        });
        if (failure) {
          this.checks.push({
            section,
            status: "fail",
            kind: failure.kind,
            title: `${id}: ${failure.condition}${failure.metric === undefined ? "" : ` (metric ${failure.metric})`}`,
            cause: failure.cause,
            fix: failure.fix,
          });
          continue;
        }
      }
      const metrics = (h.spec?.metrics ?? [])
        .map(
          (m) =>
            m.pods?.metric?.name ??
            m.object?.metric?.name ??
            m.external?.metric?.name ??
            m.resource?.name ??
            m.type ??
            "",
        )
        .join(", ");
      const active = conditions.find((c) => c.type === "ScalingActive");
      this.checks.push({
        section,
        status: "ok",
        title: `${id}: ${active?.reason ?? "scaling"}${metrics === "" ? "" : ` (${metrics})`}`,
      });
    }
  }
}

/** Runs every check; throws KcmError only when the API server cannot be reached at all. */
export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const d = new Doctor(o);
  await d.reachable();
  await d.aggregationLayer();
  const apis = await d.apiServices();
  const ref = d.adapterService(apis);
  const svc = await d.service(ref);
  const sa = await d.serviceAccount(ref, svc);
  await d.apiServiceChecks(apis, sa ? `${sa.namespace}:${sa.name}` : undefined);
  // The adapter's checks are gathered first: ownership needs the groups it serves, but is shown
  // right after the APIServices.
  const before = d.checks.length;
  const served = await d.adapter(ref, svc, apis);
  const adapterChecks = d.checks.splice(before);
  d.checks.push(...ownershipChecks(groupOwnership(apis.map(summary)), ref, served));
  d.checks.push(...adapterChecks);
  if (sa) d.checks.push(...(await checkAdapterRbac(d.kube, sa)));
  else {
    d.checks.push({
      section: "adapter RBAC",
      status: "skip",
      title: `service account of ${serviceKey(ref)} not found; pass --adapter-service-account NAMESPACE/NAME to check its RBAC`,
    });
  }
  await d.hpas();
  return d.checks;
}
