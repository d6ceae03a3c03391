/**
 * @module config/semantics
 * Load-time checks beyond the file's shape, for everything prometheus-adapter would reject at
 * startup (upstream pkg/naming/metric_namer.go NamersFromConfig, resource_converter.go,
 * metrics_query.go) plus queries that could never work. Each problem is reported with its path,
 * so the loader can point at the line.
 */
import { compileRe2 } from "../naming/re2.ts";
import { Re2SyntaxError } from "../naming/re2-error.ts";
import { defaultNameAs } from "../naming/name-as.ts";
import { labelExtractor, type CompileTemplate } from "../naming/resource-label.ts";
import { TemplateError } from "../template/errors.ts";
import { ADAPTER_DELIMITERS, parseTemplate, QUERY_TEMPLATE_FIELDS } from "../template/template.ts";
import { readDataOptions } from "./data-options.ts";
import { parsePromDuration } from "./duration.ts";
import type {
  AdapterConfig,
  DiscoveryRule,
  ResourceMapping,
  ResourceRule,
  ResourceRules,
  PrometheusServerConfig,
  TenantsConfig,
} from "./schema.ts";

export interface SemanticIssue {
  readonly path: readonly PropertyKey[];
  /** Point at the key rather than the value (for problems with the key's presence). */
  readonly atKey?: boolean;
  /** `what is wrong; what to fix`. */
  readonly message: string;
  /** Upstream starts with it and fails only at query time (see config/errors ConfigIssue). */
  readonly severity?: "warning";
}

export interface SemanticOptions {
  /**
   * Parses a `<< >>` Go template (throws on a syntax error). When given, `resources.template`,
   * `metricsQuery` and the resource queries are parsed now, as upstream does at startup.
   */
  readonly compileTemplate?: CompileTemplate | undefined;
}

/** `rules[0].name.matches` from a path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${String(seg)}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)
        ? `${out === "" ? "" : "."}${s}`
        : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Checker {
  readonly issues: SemanticIssue[] = [];
  private readonly options: SemanticOptions;

  constructor(options: SemanticOptions) {
    this.options = options;
  }

  private add(path: readonly PropertyKey[], message: string, atKey = false): void {
    this.issues.push({ path, message, atKey });
  }

  private warn(path: readonly PropertyKey[], message: string): void {
    this.issues.push({ path, message, severity: "warning" });
  }

  /**
   * A query template that upstream starts with but that fails at query time: empty (no default
   * upstream), or naming a field its data lacks (Go finds that only when executing).
   */
  queryTemplate(
    path: readonly PropertyKey[],
    text: string,
    fields: readonly string[],
    example: string,
    consequence: string,
  ): void {
    if (text.trim() === "") {
      this.warn(path, `${formatPath(path)} is empty, so ${consequence}; set it, e.g. ${example}`);
      return;
    }
    this.template(path, text);
    try {
      parseTemplate(text, { ...ADAPTER_DELIMITERS, fields });
    } catch (e) {
      // Syntax errors were reported above; only the field check is left to fail here.
      if (!(e instanceof TemplateError) || !e.message.includes("can't evaluate field")) return;
      this.warn(
        path,
        `${formatPath(path)} ${e.message.replace(/^template: [^:]*:/, "at ")}, so ${consequence}; use only ${fields.map((f) => `.${f}`).join(", ")}`,
      );
    }
  }

  /** Compiles an RE2 regex; reports and returns undefined if it does not compile. */
  regex(path: readonly PropertyKey[], pattern: string) {
    try {
      return compileRe2(pattern);
    } catch (e) {
      if (e instanceof Re2SyntaxError) {
        this.add(
          path,
          `${formatPath(path)} ${JSON.stringify(pattern)} is not a valid RE2 regular expression: ${e.reason}; ${e.hint}`,
        );
      } else throw e;
      return undefined;
    }
  }

  template(path: readonly PropertyKey[], text: string): void {
    const compile = this.options.compileTemplate;
    if (compile === undefined || text === "") return;
    try {
      compile(text);
    } catch (e) {
      this.add(
        path,
        `${formatPath(path)} is not a valid Go template: ${errorText(e)}; fix the template (delimiters are << and >>)`,
      );
    }
  }

  mapping(path: readonly PropertyKey[], mapping: ResourceMapping | undefined): void {
    if (mapping === undefined) return;
    for (const [label, gr] of Object.entries(mapping.overrides ?? {})) {
      const at = [...path, "overrides", label];
      if (gr.resource.trim() === "") {
        this.add(
          [...at, "resource"],
          `${formatPath(at)} has an empty resource; name the Kubernetes resource this label holds, e.g. resource: pod`,
        );
      }
      if (label === "") {
        this.add(at, `${formatPath(path)}.overrides has an empty label name; name the label`, true);
      }
    }
    const template = mapping.template ?? "";
    const compile = this.options.compileTemplate;
    if (template === "" || compile === undefined) return;
    const at = [...path, "template"];
    try {
      labelExtractor(compile(template));
    } catch (e) {
      this.add(
        at,
        `${formatPath(at)} ${JSON.stringify(template)} cannot map labels: ${errorText(e)}; include <<.Resource>> (and optionally <<.Group>>), e.g. kube_<<.Group>>_<<.Resource>>`,
      );
    }
  }

  rule(path: readonly PropertyKey[], rule: DiscoveryRule): void {
    if (rule.seriesQuery.trim() === "") {
      this.warn(
        [...path, "seriesQuery"],
        `${formatPath([...path, "seriesQuery"])} is empty, so the rule lists no metric (prometheus-adapter lists none at all then); set it, e.g. seriesQuery: '{__name__=~"^http_requests_.*",namespace!=""}'`,
      );
    }
    this.queryTemplate(
      [...path, "metricsQuery"],
      rule.metricsQuery,
      QUERY_TEMPLATE_FIELDS,
      "metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
      "the rule's metrics are listed but every request for them fails, as in prometheus-adapter",
    );
    (rule.seriesFilters ?? []).forEach((f, k) => {
      const at = [...path, "seriesFilters", k];
      const is = f.is ?? "";
      const isNot = f.isNot ?? "";
      if (is !== "" && isNot !== "") {
        this.add(
          at,
          `${formatPath(at)} has both "is" and "isNot"; a filter takes exactly one, so split it into two filters`,
        );
      } else if (is === "" && isNot === "") {
        this.add(
          at,
          `${formatPath(at)} has neither "is" nor "isNot"; give it one (e.g. isNot: ".*_bucket$") or remove it`,
        );
      }
      if (is !== "") this.regex([...at, "is"], is);
      if (isNot !== "") this.regex([...at, "isNot"], isNot);
    });
    this.mapping([...path, "resources"], rule.resources);
    this.dataOptions([...path, "k8sCustomMetrics"], rule);
    const matches = rule.name?.matches ?? "";
    const as = rule.name?.as ?? "";
    if (matches === "") return;
    const at = [...path, "name", "matches"];
    const re = this.regex(at, matches);
    if (re !== undefined && as === "" && defaultNameAs(re) === undefined) {
      const refs = Array.from({ length: re.groupCount }, (_, k) => `\${${String(k + 1)}}`).join(
        "_",
      );
      this.add(
        at,
        `${formatPath(at)} ${JSON.stringify(matches)} has ${String(re.groupCount)} capture groups, so the metric name cannot be inferred; add name.as, e.g. as: "${refs}"`,
      );
    }
  }

  /** Our own per-rule data options (config/data-options.ts). */
  dataOptions(path: readonly PropertyKey[], rule: DiscoveryRule): void {
    for (const p of readDataOptions(rule.k8sCustomMetrics).problems) {
      const at = [...path, p.key];
      const message = `${formatPath(at)} ${p.message}`;
      if (p.severity === "warning") this.warn(at, message);
      else this.add(at, message);
    }
    const server = rule.k8sCustomMetrics?.server;
    if (server !== undefined) this.server([...path, "server"], server);
  }

  /** A rule's own server (ours): what the Prometheus client would refuse at its first use. */
  server(path: readonly PropertyKey[], server: PrometheusServerConfig): void {
    let url: URL | undefined;
    try {
      url = new URL(server.url);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      const at = [...path, "url"];
      this.add(
        at,
        `${formatPath(at)} ${JSON.stringify(server.url)} is not an http or https URL; write it like http://prometheus-b.monitoring.svc:9090`,
      );
    }
    if ((server.clientCertFile === undefined) !== (server.clientKeyFile === undefined)) {
      this.add(
        path,
        `${formatPath(path)} has only one of clientCertFile and clientKeyFile; give both or neither`,
      );
    }
    if (server.timeout !== undefined) {
      const at = [...path, "timeout"];
      const text = String(server.timeout).trim();
      let ms: number | undefined;
      try {
        ms = parsePromDuration(text);
      } catch (e) {
        this.add(
          at,
          `${formatPath(at)} ${JSON.stringify(text)} is not a Prometheus duration (${errorText(e)}); write it like 5s or 30s`,
        );
      }
      if (ms === 0) this.add(at, `${formatPath(at)} is 0; give a positive duration such as 10s`);
    }
  }

  resourceRule(path: readonly PropertyKey[], rule: ResourceRule | undefined): void {
    const consequence = "metrics.k8s.io has no pod or node usage (both cpu and memory are needed)";
    if (rule === undefined) {
      const name = String(path[path.length - 1]);
      this.warn(
        path.slice(0, -1),
        `resourceRules has no ${JSON.stringify(name)}, so ${consequence}; add ${name}: {containerQuery: …, nodeQuery: …, resources: …, containerLabel: container}`,
      );
      return;
    }
    this.queryTemplate(
      [...path, "containerQuery"],
      rule.containerQuery,
      QUERY_TEMPLATE_FIELDS,
      "containerQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'",
      consequence,
    );
    this.queryTemplate(
      [...path, "nodeQuery"],
      rule.nodeQuery,
      QUERY_TEMPLATE_FIELDS,
      "nodeQuery: 'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id=\"/\"}[5m])) by (<<.GroupBy>>)'",
      consequence,
    );
    this.mapping([...path, "resources"], rule.resources);
  }
}

/** Semantic problems of one shape-valid rule at `path` (`["rules", 0]`). */
export function checkRule(
  path: readonly PropertyKey[],
  rule: DiscoveryRule,
  options: SemanticOptions = {},
): SemanticIssue[] {
  const c = new Checker(options);
  c.rule(path, rule);
  return c.issues;
}

/** Semantic problems of a shape-valid `resourceRules` block. */
export function checkResourceRules(
  rr: ResourceRules,
  options: SemanticOptions = {},
): SemanticIssue[] {
  const c = new Checker(options);
  c.resourceRule(["resourceRules", "cpu"], rr.cpu);
  c.resourceRule(["resourceRules", "memory"], rr.memory);
  if (rr.window !== undefined) {
    try {
      parsePromDuration(rr.window);
    } catch (e) {
      c.issues.push({
        path: ["resourceRules", "window"],
        message: `resourceRules.window ${JSON.stringify(rr.window)} is not a Prometheus duration (${errorText(e)}); write it like 5m, 1m30s or 0`,
      });
    }
  }
  return c.issues;
}

/** Token characters of an HTTP header name (RFC 9110 field-name). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `k8sCustomMetrics.tenants` (ours): a header name Node can send; tenants a header can carry. */
function checkTenants(t: TenantsConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const base = ["k8sCustomMetrics", "tenants"];
  if (t.header !== undefined && !HEADER_NAME.test(t.header.trim())) {
    issues.push({
      path: [...base, "header"],
      message: `k8sCustomMetrics.tenants.header ${JSON.stringify(t.header)} is not an HTTP header name; write it like X-Scope-OrgID`,
    });
  }
  const value = (v: string) => /^[\t\x20-\x7e]*$/.test(v);
  for (const [ns, tenant] of Object.entries(t.namespaces ?? {})) {
    if (!value(tenant) || tenant === "") {
      issues.push({
        path: [...base, "namespaces", ns],
        message: `k8sCustomMetrics.tenants.namespaces.${ns} ${JSON.stringify(tenant)} cannot be sent as a header value; use visible ASCII characters`,
      });
    }
  }
  if (t.default !== undefined && (!value(t.default) || t.default === "")) {
    issues.push({
      path: [...base, "default"],
      message: `k8sCustomMetrics.tenants.default ${JSON.stringify(t.default)} cannot be sent as a header value; use visible ASCII characters, or remove the key`,
    });
  }
  if (t.namespaceLabel === undefined && t.namespaces === undefined && t.default === undefined) {
    issues.push({
      path: base,
      severity: "warning",
      message:
        "k8sCustomMetrics.tenants has none of namespaces, namespaceLabel and default, so every request is refused; give at least one",
    });
  }
  return issues;
}

/** Every semantic problem in a shape-valid config. */
export function checkSemantics(
  config: AdapterConfig,
  options: SemanticOptions = {},
): SemanticIssue[] {
  return [
    ...(config.rules ?? []).flatMap((r, k) => checkRule(["rules", k], r, options)),
    ...(config.externalRules ?? []).flatMap((r, k) => checkRule(["externalRules", k], r, options)),
    ...(config.resourceRules === undefined
      ? []
      : checkResourceRules(config.resourceRules, options)),
    ...(config.k8sCustomMetrics?.tenants === undefined
      ? []
      : checkTenants(config.k8sCustomMetrics.tenants)),
  ];
}
