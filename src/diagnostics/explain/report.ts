/**
 * @module diagnostics/explain/report
 * What `explain` reports: sections of links walked in the order a request travels, each ✓ (works),
 * ✗ (broken: its cause and fix), ! (works, with a caveat), - (not checked) or · (context), and the
 * first broken link named at the end. Text as a tree, or JSON.
 */

export type LinkStatus = "ok" | "fail" | "warn" | "skip" | "info";

export interface Link {
  /** A stable name of the link: `apiservice`, `listed`, `rule`, `objects`, `query`, `answer`… */
  readonly step: string;
  readonly status: LinkStatus;
  /** What was checked and what was found, on one line. */
  readonly title: string;
  /** Lines shown under the title: the rendered query, rule verdicts, computation steps. */
  readonly details?: readonly string[];
  readonly cause?: string;
  readonly fix?: string;
  /** A stable identifier of the failure, for `-o json` consumers and tests. */
  readonly kind?: string;
  /** Which server the link asked, and as which tenant (rule, query links). */
  readonly backend?: Backend;
}

/** A Prometheus server as a rule reaches it; secret header values are masked. */
export interface Backend {
  /** `default` (--prometheus-url) or the rule's server's host: the `server` label of /metrics. */
  readonly server: string;
  /** Its URL without credentials. */
  readonly url: string;
  /** With `k8sCustomMetrics.tenants`: the tenant sent, and in which header. */
  readonly tenant?: string;
  readonly tenantHeader?: string;
  /** Headers sent on every request, secrets masked (`Authorization: Bearer ***`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `server prom-b:9090 (http://prom-b:9090), tenant team-a (X-Scope-OrgID)`. */
export function backendText(b: Backend): string {
  return `server ${b.server} (${b.url})${b.tenant === undefined ? "" : `, tenant ${b.tenant} (${b.tenantHeader ?? "X-Scope-OrgID"})`}`;
}

export interface Section {
  readonly title: string;
  readonly links: Link[];
}

export interface ExplainReport {
  /** `hpa default/web`, `metric pods/http_requests_per_second in default`. */
  readonly subject: string;
  readonly sections: readonly Section[];
  /** The first ✗, with the section it is in; undefined when the chain works. */
  readonly firstBroken?: Link & { readonly section: string };
}

const MARK: Readonly<Record<LinkStatus, string>> = {
  ok: "✓",
  fail: "✗",
  warn: "!",
  skip: "-",
  info: "·",
};

export function firstBroken(
  sections: readonly Section[],
): (Link & { readonly section: string }) | undefined {
  for (const s of sections) {
    const l = s.links.find((x) => x.status === "fail");
    if (l) return { ...l, section: s.title };
  }
  return undefined;
}

export function explainExitCode(r: ExplainReport): 0 | 1 {
  return r.firstBroken ? 1 : 0;
}

export function formatExplain(r: ExplainReport): string {
  const out: string[] = [`explain ${r.subject}`];
  for (const s of r.sections) {
    out.push(s.title);
    for (const l of s.links) {
      out.push(`  ${MARK[l.status]} ${l.title}`);
      if (l.backend) {
        out.push(`      asks ${backendText(l.backend)}`);
        const h = Object.entries(l.backend.headers ?? {}).filter(
          ([k]) => k.toLowerCase() !== "user-agent",
        );
        if (h.length > 0) out.push(`      headers: ${h.map(([k, v]) => `${k}: ${v}`).join(", ")}`);
      }
      for (const d of l.details ?? []) out.push(`      ${d}`);
      if (l.cause !== undefined) out.push(`      cause: ${l.cause}`);
      if (l.fix !== undefined) out.push(`      fix: ${l.fix}`);
    }
  }
  const b = r.firstBroken;
  out.push(
    "",
    b
      ? `first broken link: ${b.step} (${b.section}): ${b.title}`
      : "first broken link: none, every link works",
  );
  return `${out.join("\n")}\n`;
}

export function formatExplainJson(r: ExplainReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
