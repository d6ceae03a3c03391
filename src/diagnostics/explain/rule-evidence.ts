/**
 * @module diagnostics/explain/rule-evidence
 * Per-rule reasoning for one request, before any of its links is judged: the tenant of its
 * namespace, which rules' servers answer, and for each rule whether it gives the metric and if not
 * why (rule-why.ts), as this tenant and as the others.
 */
import { StatusError } from "../../apimachinery/status.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import type { Backends } from "../../providers/prometheus/backends.ts";
import type { ExplainContext } from "./context.ts";
import type { Backend } from "./report.ts";
import { whyNotListed, type RuleInput, type RuleWhy } from "./rule-why.ts";
import { errorText } from "./text.ts";
import type { Ask } from "./types.ts";

export interface RuleEvidence {
  /** The config's rules of the request's API; undefined without a config. */
  readonly rules: readonly RuleInput[] | undefined;
  readonly backends: Backends | undefined;
  /** The tenant of the request's namespace (with `k8sCustomMetrics.tenants`). */
  readonly tenant: string | undefined;
  /** Why the namespace has no tenant: the adapter answers 404 and asks nothing. */
  readonly noTenant: string | undefined;
  /** Why the tenant could not be worked out. */
  readonly tenantUnread: string | undefined;
  /** The servers the request's rules ask (or --prometheus-url). */
  readonly clients: readonly PrometheusClient[];
  /** The servers among them that do not answer, with why. */
  readonly down: ReadonlyMap<PrometheusClient, string>;
  /** Why the server does not answer, when none of them does. */
  readonly promDown: string | undefined;
  /** That server's rule (undefined: --prometheus-url). */
  readonly downRule: RuleInput | undefined;
  /** Per rule, whether it gives the metric and why not; undefined when not worked out. */
  readonly verdicts: RuleWhy[] | undefined;
  /** The tenants whose discovery would give the metric when this one's does not. */
  readonly otherTenants: readonly string[];
  /** The client a rule's requests go through as the request's tenant. */
  clientOf(r: RuleInput): PrometheusClient | undefined;
  /** How a link names the server a rule (undefined: --prometheus-url) asks. */
  backendOf(r: RuleInput | undefined): Backend;
}

export async function gatherRuleEvidence(cx: ExplainContext, ask: Ask): Promise<RuleEvidence> {
  const servers = cx.servers;
  const all = await servers.ruleInputs();
  const rules = all ? (ask.api === "external" ? all.external : all.custom) : undefined;
  const prom = cx.o.prometheus;
  const backends = rules ? await servers.backendsReady() : undefined;
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
  const clientOf = (r: RuleInput) => servers.clientOf(backends, r, tenant);
  const since = new Date(cx.now.getTime() - cx.o.maxAgeMs);
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
      : rules
        ? [...new Set(rules.map(clientOf).filter((c) => c !== undefined))]
        : prom
          ? [prom]
          : [];
  const down = new Map<PrometheusClient, string>();
  await Promise.all(
    clients.map(async (c) => {
      try {
        await c.query("vector(1)", cx.now);
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
    ? rules?.find((r) => clientOf(r) === firstDown && r.compiled.server)
    : undefined;
  const judge = (t: string | undefined) => (r: RuleInput) => {
    const c = servers.clientOf(backends, r, t);
    return c === undefined || down.has(c) ? undefined : c;
  };
  if (rules && clients.length > 0 && !allDown) {
    try {
      verdicts = await whyNotListed(rules, judge(tenant), ask.metric, whyTarget, since);
      for (const r of rules) {
        const c = clientOf(r);
        const why =
          servers.serverErrors.get(r.origin) ??
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
    rules &&
    verdicts !== undefined &&
    !verdicts.some((w) => w.verdict === "gives")
  ) {
    const t = backends.tenancy;
    let every: (string | undefined)[];
    try {
      every = await backends.tenants();
    } catch {
      every = [...new Set([...t.namespaces.values(), ...(t.default ? [t.default] : [])])];
    }
    for (const other of every) {
      if (other === undefined || other === tenant) continue;
      try {
        const w = await whyNotListed(rules, judge(other), ask.metric, whyTarget, since);
        if (w.some((x) => x.verdict === "gives")) otherTenants.push(other);
      } catch {
        // That tenant is not judged.
      }
    }
  }
  return {
    rules,
    backends,
    tenant,
    noTenant,
    tenantUnread,
    clients,
    down,
    promDown,
    downRule,
    verdicts,
    otherTenants,
    clientOf,
    backendOf: (r) => servers.backendOf(backends, r, tenant),
  };
}
