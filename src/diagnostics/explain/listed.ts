/**
 * @module diagnostics/explain/listed
 * The listed link: whether the adapter's discovery lists the metric for the resource asked, and
 * when it does not, why: a near name, another resource, the closest rule's verdict, another
 * tenant's series, or a namespace without a tenant.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import { closestKey } from "../../config/suggest.ts";
import type { Chain } from "./chain.ts";
import type { RuleEvidence } from "./rule-evidence.ts";
import { VALIDATE, type Ask } from "./types.ts";

/** Where the metric is looked for: `group/version`, the name it is listed as, what is listed. */
export interface Listing {
  readonly group: string;
  readonly version: string;
  readonly listedName: string;
  readonly listed: readonly string[];
}

function whereText(ask: Ask): string {
  return ask.namespace === "" ? "cluster-scoped objects" : `namespace ${ask.namespace}`;
}

function namespaceLabelNote(ev: RuleEvidence, text: (label: string) => string): string {
  const label = ev.backends?.tenancy?.namespaceLabel;
  return label === undefined ? "" : text(label);
}

/** False when this link is broken (a ✗ added). */
export function listedLink(ask: Ask, l: Listing, ev: RuleEvidence, chain: Chain): boolean {
  const { group, version, listedName, listed } = l;
  const { verdicts, otherTenants, noTenant, tenant } = ev;
  if (!listed.includes(listedName)) {
    notListed(ask, l, ev, chain);
    return false;
  }
  // Listed (the documents list every tenant's metrics), but not for this namespace's tenant.
  if (noTenant !== undefined) {
    chain.add("listed", "ok", `listed: ${listedName} in ${group}/${version}`);
    chain.fail(
      "rule",
      `tenant: none for ${whereText(ask)}`,
      "no-tenant",
      `${noTenant}; the adapter answers 404 and sends nothing to the backend`,
      `map the namespace in k8sCustomMetrics.tenants.namespaces${namespaceLabelNote(ev, (label) => `, label it ${label}=<tenant>`)} or set k8sCustomMetrics.tenants.default`,
    );
    return false;
  }
  if (otherTenants.length > 0 && tenant !== undefined) {
    const where = whereText(ask);
    const tenantHeader = ev.backends?.tenancy?.header ?? "X-Scope-OrgID";
    chain.fail(
      "listed",
      `listed: ${listedName} in ${group}/${version}, but not for tenant ${tenant} (${where})`,
      "metric-other-tenant",
      `the adapter answers ${where} from tenant ${tenant}'s discovery (${tenantHeader}: ${tenant}), which has no series for ${JSON.stringify(ask.metric)}; only tenant ${otherTenants.join(", ")} has them, so the request is 404 "the server could not find the metric"`,
      `ask from a namespace of tenant ${otherTenants.join(", ")}, map ${ask.namespace || "it"} to that tenant (k8sCustomMetrics.tenants.namespaces${namespaceLabelNote(ev, (label) => ` or the namespace label ${label}`)}), or make tenant ${tenant}'s backend have the series`,
      {
        backend: ev.backendOf(undefined),
        details: (verdicts ?? []).map((w) => `${w.origin} at ${w.at}: ${w.message}`),
      },
    );
    return false;
  }
  chain.add(
    "listed",
    "ok",
    `listed: ${listedName} in ${group}/${version}`,
    ev.tenantUnread === undefined
      ? {}
      : { details: [`tenant of ${ask.namespace}: not worked out (${ev.tenantUnread})`] },
  );
  return true;
}

/** The metric is not listed: a near name, the closest rule's verdict, another tenant. */
function notListed(ask: Ask, l: Listing, ev: RuleEvidence, chain: Chain): void {
  const { group, version, listedName, listed } = l;
  const { verdicts, otherTenants } = ev;
  const same = listed
    .filter((n) =>
      ask.api === "external" ? true : n.startsWith(`${groupResourceString(ask.groupResource)}/`),
    )
    .map((n) => (ask.api === "external" ? n : n.slice(n.indexOf("/") + 1)));
  const guess = closestKey(ask.metric, same);
  const elsewhere = listed.filter((n) => n.endsWith(`/${ask.metric}`));
  const details = (verdicts ?? []).map((w) => `${w.origin} at ${w.at}: ${w.message}`);
  const top = verdicts?.[0];
  let cause = `${group}/${version} lists no metric ${JSON.stringify(listedName)}${guess !== undefined && guess !== ask.metric ? `; did you mean ${JSON.stringify(guess)}?` : ""}${elsewhere.length > 0 ? ` (it is listed for ${elsewhere.map((n) => n.split("/")[0]).join(", ")})` : ""}`;
  let kind = "metric-not-found";
  let fix = `fix the metric name, or make a rule give it (run \`${VALIDATE}\`)`;
  if (top) {
    cause += `; no rule gives it: ${top.origin} comes closest: ${top.message}`;
    kind = `rule-${top.verdict}`;
    if (top.verdict === "gives") {
      cause = `${group}/${version} does not list ${JSON.stringify(listedName)} yet, although ${top.origin} gives it from the series Prometheus has now`;
      kind = "not-relisted";
      fix =
        "wait for the adapter's next relist (--metrics-relist-interval), or check that it runs this config";
    } else if (top.verdict === "missing-label" || top.verdict === "no-mapping") {
      fix =
        "make the series carry the label, or map a label they have to the resource (resources.overrides)";
    } else if (top.verdict === "filtered") {
      fix = `loosen ${top.origin}.seriesFilters`;
    } else if (top.verdict === "no-series" || top.verdict === "rejected") {
      fix = `fix ${top.origin}.seriesQuery so it selects the series`;
    } else if (top.closest !== undefined && top.closest !== ask.metric) {
      fix = `use the metric name ${JSON.stringify(top.closest)}, or change ${top.origin}.name so it gives ${JSON.stringify(ask.metric)}`;
    }
  } else if (!ev.rules || ev.clients.length === 0) {
    details.push(
      "pass --config (the adapter's config) and --prometheus-url to see which rule could give it and why none does",
    );
  }
  if (otherTenants.length > 0) {
    cause += `; tenant ${otherTenants.join(", ")} has its series, not tenant ${ev.tenant ?? ""} of ${whereText(ask)}`;
    kind = "metric-other-tenant";
  }
  if (ev.noTenant !== undefined) details.push(ev.noTenant);
  chain.fail("listed", `not listed: ${listedName} in ${group}/${version}`, kind, cause, fix, {
    details,
  });
}
