/**
 * @module diagnostics/explain/rule-servers
 * The config's rules as the adapter compiles them, and the Prometheus servers they ask (each
 * rule's own server or --prometheus-url, as each tenant): the client a rule's queries go through
 * and how a link names it, secret header values masked.
 */
import type { RestMapper } from "../../kube/rest-mapper.ts";
import { KubeApiError } from "../../kube/client.ts";
import { DEFAULT_SERVER } from "../../observability/server-label.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { maskHeaders } from "../../prometheus/mask.ts";
import { Backends, readTenancy } from "../../providers/prometheus/backends.ts";
import { compileRule, namingMapper } from "../../providers/prometheus/rules.ts";
import type { Backend } from "./report.ts";
import type { RuleInput } from "./rule-why.ts";
import { errorText } from "./text.ts";
import type { ExplainOptions } from "./types.ts";

export interface Rules {
  readonly custom: RuleInput[];
  readonly external: RuleInput[];
}

export class RuleServers {
  readonly #o: ExplainOptions;
  readonly #mapperReady: () => Promise<RestMapper>;
  #rules: Rules | undefined;
  #backends: Promise<Backends | undefined> | undefined;
  /** Rules whose own server's client cannot be made (a TLS file unreadable), with why. */
  readonly serverErrors = new Map<string, string>();

  constructor(o: ExplainOptions, mapperReady: () => Promise<RestMapper>) {
    this.#o = o;
    this.#mapperReady = mapperReady;
  }

  /** The rules of the config, compiled as the adapter compiles them. */
  async ruleInputs(): Promise<Rules | undefined> {
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
  backendsReady(): Promise<Backends | undefined> {
    this.#backends ??= (async () => {
      const c = this.#o.config;
      const rules = await this.ruleInputs();
      if (!c || !rules) return undefined;
      const kube = this.#o.kube;
      type Ns = { metadata?: { labels?: Record<string, string> } };
      const b = new Backends({
        main: this.#o.prometheus,
        tenancy: readTenancy(c.config.k8sCustomMetrics?.tenants),
        namespaceLabels: async (ns) => {
          try {
            const n = await kube.json<Ns>("GET", `/api/v1/namespaces/${encodeURIComponent(ns)}`);
            return n.metadata?.labels ?? {};
          } catch (e) {
            if (e instanceof KubeApiError && e.status === 404) return undefined;
            throw e;
          }
        },
        allNamespaceLabels: async () => {
          const l = await kube.json<{ items?: Ns[] }>("GET", "/api/v1/namespaces");
          return (l.items ?? []).map((i) => i.metadata?.labels ?? {});
        },
      });
      for (const r of [...rules.custom, ...rules.external]) {
        try {
          await b.prepare([r.compiled]);
        } catch (e) {
          this.serverErrors.set(r.origin, errorText(e));
        }
      }
      return b;
    })();
    return this.#backends;
  }

  /** The clients made for rules' own servers. */
  async close(): Promise<void> {
    await (await this.#backends)?.close();
  }

  /** The client a rule's requests go through for `tenant`, as in the adapter; undefined: none. */
  clientOf(
    b: Backends | undefined,
    rule: RuleInput,
    tenant: string | undefined,
  ): PrometheusClient | undefined {
    if (!b) return rule.compiled.server ? undefined : this.#o.prometheus;
    if (this.serverErrors.has(rule.origin)) return undefined;
    try {
      return b.client(rule.compiled, tenant);
    } catch {
      return undefined;
    }
  }

  /** Which server a rule asks and as which tenant; secret header values masked. */
  backendOf(
    b: Backends | undefined,
    rule: RuleInput | undefined,
    tenant: string | undefined,
  ): Backend {
    const s = rule?.compiled.server;
    const client = rule ? this.clientOf(b, rule, tenant) : this.#o.prometheus;
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
}
