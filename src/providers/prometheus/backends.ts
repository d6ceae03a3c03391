/**
 * @module providers/prometheus/backends
 * Which Prometheus client answers a rule for a namespace: the rule's own server
 * (`k8sCustomMetrics.server`, ours) or `--prometheus-url`, and, with `k8sCustomMetrics.tenants`
 * (ours), a view of that server sending the namespace's tenant header.
 *
 * Isolation is by construction: each (server, tenant) pair is its own client object, with its own
 * in-flight coalescing, and query grouping and discovery are kept per client. Nothing merges
 * requests across clients, so a request for a namespace of tenant A never runs under B's header.
 * The tenant comes from the namespace the API request names (which the caller's RBAC was checked
 * against) through the config's mapping or the namespace's label; no request input chooses it.
 */
import { internalError, notFound, StatusError } from "../../apimachinery/status.ts";
import { parsePromDuration } from "../../config/duration.ts";
import type { PrometheusServerConfig, TenantsConfig } from "../../config/schema.ts";
import { KcmError } from "../../errors.ts";
import { PrometheusClient } from "../../prometheus/client.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { PrometheusClientOptions } from "../../prometheus/options.ts";

export const DEFAULT_TENANT_HEADER = "X-Scope-OrgID";

/** How long a namespace's label is trusted before it is read again. */
export const NAMESPACE_LABEL_TTL_MS = 30_000;

export interface Tenancy {
  readonly header: string;
  readonly namespaceLabel: string | undefined;
  readonly namespaces: ReadonlyMap<string, string>;
  readonly default: string | undefined;
}

export function readTenancy(cfg: TenantsConfig | undefined): Tenancy | undefined {
  if (cfg === undefined) return undefined;
  const header = (cfg.header ?? "").trim();
  const label = (cfg.namespaceLabel ?? "").trim();
  return {
    header: header === "" ? DEFAULT_TENANT_HEADER : header,
    namespaceLabel: label === "" ? undefined : label,
    namespaces: new Map(Object.entries(cfg.namespaces ?? {}).filter(([, t]) => t !== "")),
    default: cfg.default === undefined || cfg.default === "" ? undefined : cfg.default,
  };
}

/** A rule's own server, ready for the client; `key` identifies equal configs (one client each). */
export interface ServerSpec {
  readonly key: string;
  /** The URL without credentials, for logs. */
  readonly name: string;
  /**
   * Its short name in the adapter's metrics (`server` label): host and port, and the path when
   * there is one (`mimir.svc:8080/prometheus`). From the config only, so bounded.
   */
  readonly label: string;
  readonly options: Omit<PrometheusClientOptions, "onRequest">;
}

export function readServer(cfg: PrometheusServerConfig | undefined): ServerSpec | undefined {
  if (cfg === undefined) return undefined;
  let timeoutMs: number | undefined;
  if (cfg.timeout !== undefined) {
    try {
      timeoutMs = parsePromDuration(String(cfg.timeout).trim());
    } catch {
      // config/semantics refuses it at load; a watcher's reload never gets here with it.
      timeoutMs = undefined;
    }
  }
  const options: Omit<PrometheusClientOptions, "onRequest"> = {
    url: cfg.url,
    ...(cfg.headers === undefined ? {} : { headers: cfg.headers }),
    ...(cfg.caFile === undefined ? {} : { caFile: cfg.caFile }),
    ...(cfg.clientCertFile === undefined ? {} : { clientCertFile: cfg.clientCertFile }),
    ...(cfg.clientKeyFile === undefined ? {} : { clientKeyFile: cfg.clientKeyFile }),
    ...(cfg.insecureSkipVerify === undefined ? {} : { insecureSkipVerify: cfg.insecureSkipVerify }),
    ...(timeoutMs === undefined || timeoutMs <= 0 ? {} : { timeoutMs }),
  };
  let name = cfg.url;
  let label = cfg.url;
  try {
    const u = new URL(cfg.url);
    name = `${u.origin}${u.pathname}`.replace(/\/+$/, "");
    label = `${u.host}${u.pathname}`.replace(/\/+$/, "");
  } catch {
    // Kept as written; the client refuses it with a usage error.
  }
  return {
    key: JSON.stringify(options),
    name,
    label,
    options: { ...options, serverLabel: label },
  };
}

/** What a rule needs from here: where it came from and its own server, if any. */
export interface RuleServer {
  readonly origin: string;
  readonly server?: ServerSpec | undefined;
}

export interface BackendsOptions {
  /** `--prometheus-url`'s client; `explain` may have none and still reach rules' own servers. */
  readonly main: PrometheusClient | undefined;
  readonly tenancy?: Tenancy | undefined;
  /** A namespace's labels, or undefined when it does not exist. */
  readonly namespaceLabels?: (
    namespace: string,
  ) => Promise<Readonly<Record<string, string>> | undefined>;
  /** Every namespace's labels: the tenants discovery covers. */
  readonly allNamespaceLabels?: () => Promise<readonly Readonly<Record<string, string>>[]>;
  /** For the adapter's request metrics, on every server's client. */
  readonly onRequest?: PrometheusClientOptions["onRequest"];
  readonly now?: () => number;
}

/**
 * What the providers and the metric lister ask of backends: which client a rule's request for a
 * tenant goes through, as the query interface. Backends itself holds the concrete client, as it
 * creates, views (tenants) and closes them, and `explain` reads their headers.
 */
export interface RuleClients {
  /** Creates the clients of rules' own servers not seen before. */
  prepare(rules: readonly RuleServer[]): Promise<void>;
  /** The tenants discovery covers: `[undefined]` without tenants. */
  tenants(): Promise<(string | undefined)[]>;
  /** The tenant of an API request's namespace; a 404 Status when it has none. */
  tenantOf(namespace: string): Promise<string | undefined>;
  client(rule: RuleServer, tenant: string | undefined): PrometheusApi;
}

export class Backends implements RuleClients {
  readonly #o: BackendsOptions;
  #tenancy: Tenancy | undefined;
  readonly #servers = new Map<string, PrometheusClient>();
  readonly #labels = new Map<
    string,
    { at: number; labels: Promise<Readonly<Record<string, string>> | undefined> }
  >();

  constructor(o: BackendsOptions) {
    this.#o = o;
    this.#tenancy = o.tenancy;
  }

  get tenancy(): Tenancy | undefined {
    return this.#tenancy;
  }

  /** A reloaded config's tenants; cached namespace labels stay valid (they are not config). */
  setTenancy(t: Tenancy | undefined): void {
    this.#tenancy = t;
  }

  /** Creates the clients of rules' own servers not seen before (reads their TLS files). */
  async prepare(rules: readonly RuleServer[]): Promise<void> {
    for (const r of rules) {
      const s = r.server;
      if (s === undefined || this.#servers.has(s.key)) continue;
      try {
        const client = await PrometheusClient.create({
          ...s.options,
          ...(this.#o.onRequest ? { onRequest: this.#o.onRequest } : {}),
        });
        this.#servers.set(s.key, client);
      } catch (e) {
        throw new KcmError(
          "KCM_ERR_USAGE",
          `${r.origin}.k8sCustomMetrics.server (${s.name}): ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
    }
  }

  /** The rule's server client without a tenant. */
  server(rule: RuleServer): PrometheusClient {
    if (rule.server === undefined) {
      if (this.#o.main) return this.#o.main;
      throw new StatusError(internalError("unable to fetch metrics"), {
        cause: new Error(`${rule.origin}: no --prometheus-url to ask`),
      });
    }
    const c = this.#servers.get(rule.server.key);
    if (!c) {
      throw new StatusError(internalError("unable to fetch metrics"), {
        cause: new Error(`${rule.origin}: its server ${rule.server.name} has no client yet`),
      });
    }
    return c;
  }

  /** The client a rule's request for `tenant` goes through. */
  client(rule: RuleServer, tenant: string | undefined): PrometheusClient {
    const base = this.server(rule);
    const t = this.#tenancy;
    return t === undefined || tenant === undefined ? base : base.withTenant(t.header, tenant);
  }

  /**
   * The tenant of an API request's namespace ("" for cluster-scoped objects): the config's
   * mapping, else the namespace's label, else the default. Undefined when tenants are off.
   * Throws a 404 Status when the namespace has none, so nothing is queried for it.
   */
  async tenantOf(namespace: string): Promise<string | undefined> {
    const t = this.#tenancy;
    if (t === undefined) return undefined;
    const mapped = namespace === "" ? undefined : t.namespaces.get(namespace);
    if (mapped !== undefined) return mapped;
    if (namespace !== "" && t.namespaceLabel !== undefined && this.#o.namespaceLabels) {
      let labels: Readonly<Record<string, string>> | undefined;
      try {
        labels = await this.#namespaceLabels(namespace);
      } catch (e) {
        throw new StatusError(internalError("unable to fetch metrics"), { cause: e });
      }
      const v = labels?.[t.namespaceLabel];
      if (v !== undefined && v !== "") return v;
    }
    if (t.default !== undefined) return t.default;
    const where = namespace === "" ? "cluster-scoped objects" : `namespace ${namespace}`;
    throw new StatusError(
      notFound(
        `no tenant for ${where}: map it in k8sCustomMetrics.tenants.namespaces` +
          (t.namespaceLabel === undefined
            ? ""
            : `, label the namespace ${t.namespaceLabel}=<tenant>`) +
          " or set k8sCustomMetrics.tenants.default",
      ),
    );
  }

  async #namespaceLabels(namespace: string): Promise<Readonly<Record<string, string>> | undefined> {
    const now = (this.#o.now ?? Date.now)();
    const hit = this.#labels.get(namespace);
    if (hit && now - hit.at < NAMESPACE_LABEL_TTL_MS) return hit.labels;
    const read = this.#o.namespaceLabels;
    if (!read) return undefined;
    const labels = read(namespace);
    this.#labels.set(namespace, { at: now, labels });
    // A failed read is not kept: the next request asks again.
    labels.catch(() => {
      if (this.#labels.get(namespace)?.labels === labels) this.#labels.delete(namespace);
    });
    return labels;
  }

  /** The tenants discovery covers: `[undefined]` without tenants, else every known one, sorted. */
  async tenants(): Promise<(string | undefined)[]> {
    const t = this.#tenancy;
    if (t === undefined) return [undefined];
    const out = new Set<string>(t.namespaces.values());
    if (t.default !== undefined) out.add(t.default);
    if (t.namespaceLabel !== undefined && this.#o.allNamespaceLabels) {
      for (const labels of await this.#o.allNamespaceLabels()) {
        const v = labels[t.namespaceLabel];
        if (v !== undefined && v !== "") out.add(v);
      }
    }
    return [...out].sort();
  }

  /**
   * `resourceRules` (metrics.k8s.io) as tenants see them: `--prometheus-url` sending the tenant of
   * the pods' namespace, nodes the default tenant (providers/resource/prometheus-source.ts). It
   * follows a reloaded config's tenants; without tenants it sends none.
   */
  resourceTenants(): {
    tenantOf(namespace: string): Promise<string | undefined>;
    querierFor(tenant: string | undefined): PrometheusClient;
  } {
    return {
      tenantOf: (namespace) => this.tenantOf(namespace),
      querierFor: (tenant) => this.client({ origin: "resourceRules" }, tenant),
    };
  }

  /** Closes the rules' own servers' clients (the main client belongs to its builder). */
  async close(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((c) => c.close()));
  }
}
