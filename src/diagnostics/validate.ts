/**
 * @module diagnostics/validate
 * `validate`: the config loader's errors and warnings, the static checks it does not make, and,
 * with a Prometheus URL, every rule run against it. The result is data; rendering and the exit
 * code are the caller's.
 */
import { isConfigError, type ConfigIssue } from "../config/errors.ts";
import { parseConfig, readConfigText } from "../config/load.ts";
import type { AdapterConfig } from "../config/schema.ts";
import { KubeClient } from "../kube/client.ts";
import { RestMapper } from "../kube/rest-mapper.ts";
import { PrometheusClient } from "../prometheus/client.ts";
import type { PrometheusClientOptions } from "../prometheus/options.ts";
import { checkTemplate } from "../providers/prometheus/rules.ts";
import { BUILTIN_RESOURCES } from "./builtin-resources.ts";
import { ConfigDocument } from "./config-document.ts";
import {
  countFindings,
  dedupeFindings,
  fromConfigIssue,
  sortFindings,
  type Finding,
  type FindingCounts,
} from "./findings.ts";
import { probeRules } from "./rule-probe/probe-rules.ts";
import { unknownOverrides } from "./rule-probe/rule-checks.ts";
import type { RuleReport } from "./rule-probe/types.ts";
import { intervalForJobs, readScrapeIntervals, type ScrapeIntervals } from "./scrape-intervals.ts";
import {
  DEFAULT_SCRAPE_INTERVAL,
  duplicateNames,
  shortRateWindows,
  type ScrapeInterval,
} from "./static-checks.ts";

export interface ValidateOptions {
  readonly configPath: string;
  /** Run the rules against this Prometheus; offline when undefined. */
  readonly prometheus?: PrometheusClientOptions | undefined;
  /** The cluster's REST mapper (custom resources); built-in resources when undefined. */
  readonly kubeconfig?: string | undefined;
  /** The scrape interval to assume offline; Prometheus' default (1m) when undefined. */
  readonly scrapeIntervalMs?: number | undefined;
  /** Series seen within this many ms count, as `--metrics-max-age`. */
  readonly maxAgeMs: number;
  readonly maxQueriesPerRule: number;
  readonly now?: Date;
}

export interface ValidateReport {
  readonly file: string;
  /** Whether the rules were run against Prometheus. */
  readonly online: boolean;
  readonly prometheusUrl?: string | undefined;
  /** Why the online checks did not run, when they were asked for. */
  readonly onlineSkipped?: string | undefined;
  readonly findings: readonly Finding[];
  readonly rules: readonly RuleReport[];
  readonly counts: FindingCounts;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The loader's verdict: the config when it loads, and every issue either way. */
function load(text: string, file: string): { config?: AdapterConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  try {
    const config = parseConfig(text, file, {
      compileTemplate: checkTemplate,
      onWarning: (w) => issues.push(w),
    });
    return { config, issues };
  } catch (e) {
    if (isConfigError(e)) return { issues: [...e.issues] };
    throw e;
  }
}

function report(
  o: ValidateOptions,
  findings: readonly Finding[],
  extra: Partial<Pick<ValidateReport, "online" | "onlineSkipped" | "rules">> = {},
): ValidateReport {
  const all = sortFindings(dedupeFindings(findings));
  return {
    file: o.configPath === "" ? "--config" : o.configPath,
    online: extra.online ?? false,
    prometheusUrl: o.prometheus?.url,
    onlineSkipped: extra.onlineSkipped,
    findings: all,
    rules: extra.rules ?? [],
    counts: countFindings(all),
  };
}

export async function runValidate(o: ValidateOptions): Promise<ValidateReport> {
  let text: string;
  try {
    text = await readConfigText(o.configPath);
  } catch (e) {
    if (isConfigError(e)) return report(o, e.issues.map(fromConfigIssue));
    throw e;
  }
  const loaded = load(text, o.configPath);
  const doc = new ConfigDocument(text, o.configPath);
  const findings: Finding[] = [
    ...loaded.issues.map(fromConfigIssue),
    ...duplicateNames(doc, "rules"),
    ...duplicateNames(doc, "externalRules"),
  ];
  const assumed: ScrapeInterval =
    o.scrapeIntervalMs === undefined
      ? DEFAULT_SCRAPE_INTERVAL
      : { ms: o.scrapeIntervalMs, source: "--scrape-interval" };
  const offlineWindows = () => shortRateWindows(doc, () => assumed);

  if (o.prometheus === undefined) {
    // With --kubeconfig, the overrides the cluster cannot resolve, as serve warns of them.
    const cluster =
      o.kubeconfig !== undefined && loaded.config !== undefined
        ? await clusterOverrides(o, o.kubeconfig, loaded.config, doc)
        : [];
    return report(o, [...findings, ...cluster, ...offlineWindows()]);
  }
  if (loaded.config === undefined) {
    return report(o, [...findings, ...offlineWindows()], {
      onlineSkipped: "the config has errors; the rules are run against Prometheus once it loads",
    });
  }

  const online = await runOnline(o, o.prometheus, loaded.config, doc);
  if (online.skipped !== undefined) {
    return report(o, [...findings, ...online.findings, ...offlineWindows()], {
      onlineSkipped: online.skipped,
    });
  }
  const jobsOf = new Map(online.rules.map((r) => [r.rule, r.jobs]));
  const intervals = online.intervals;
  const windows = shortRateWindows(doc, (rule) => {
    const key =
      rule.length === 2 && typeof rule[1] === "number"
        ? `${String(rule[0])}[${String(rule[1])}]`
        : "";
    const found = intervals ? intervalForJobs(intervals, jobsOf.get(key) ?? []) : undefined;
    return found ?? assumed;
  });
  return report(o, [...findings, ...online.findings, ...windows], {
    online: true,
    rules: online.rules,
  });
}

interface OnlineResult {
  readonly findings: Finding[];
  readonly rules: readonly RuleReport[];
  readonly intervals?: ScrapeIntervals | undefined;
  readonly skipped?: string | undefined;
}

function unreachable(o: ValidateOptions, message: string): Finding {
  return { severity: "error", check: "unreachable", file: o.configPath, message };
}

interface Mapping {
  readonly mapper: RestMapper;
  /** The mapper is the cluster's (else the built-in resources). */
  readonly clusterMapper: boolean;
  readonly findings: Finding[];
  readonly close: () => void;
}

/**
 * The cluster's REST mapping with --kubeconfig; if it cannot be read, the built-in one and an
 * error finding that says `instead` (what was done without it).
 */
async function mapping(o: ValidateOptions, instead: string): Promise<Mapping> {
  const builtin = RestMapper.fromResources(BUILTIN_RESOURCES);
  if (o.kubeconfig === undefined) {
    return { mapper: builtin, clusterMapper: false, findings: [], close: () => undefined };
  }
  let kube: KubeClient | undefined;
  try {
    kube = new KubeClient({ kubeconfig: o.kubeconfig });
    const m = new RestMapper(kube);
    await m.refresh();
    const client = kube;
    return {
      mapper: m,
      clusterMapper: true,
      findings: [],
      close: () => {
        client.close();
      },
    };
  } catch (e) {
    kube?.close();
    const message = `cannot read API discovery with --kubeconfig ${o.kubeconfig} (${errorText(e)}); ${instead}; check the kubeconfig`;
    return {
      mapper: builtin,
      clusterMapper: false,
      findings: [unreachable(o, message)],
      close: () => undefined,
    };
  }
}

async function clusterOverrides(
  o: ValidateOptions,
  kubeconfig: string,
  config: AdapterConfig,
  doc: ConfigDocument,
): Promise<Finding[]> {
  const m = await mapping({ ...o, kubeconfig }, "the overrides were not checked against it");
  try {
    return m.clusterMapper
      ? [...m.findings, ...unknownOverrides(config, doc, m.mapper)]
      : m.findings;
  } finally {
    m.close();
  }
}

async function runOnline(
  o: ValidateOptions,
  prom: PrometheusClientOptions,
  config: AdapterConfig,
  doc: ConfigDocument,
): Promise<OnlineResult> {
  const { mapper, clusterMapper, findings, close } = await mapping(
    o,
    "resources were mapped with the built-in list only",
  );
  const prometheus = await PrometheusClient.create({ ...prom, coalesceWindowMs: 0 });
  try {
    const [intervals, probe] = await Promise.all([
      readScrapeIntervals(prom).catch(() => undefined),
      probeRules({
        config,
        doc,
        prometheus,
        mapper,
        clusterMapper,
        maxAgeMs: o.maxAgeMs,
        maxQueriesPerRule: o.maxQueriesPerRule,
        ...(o.now ? { now: o.now } : {}),
      }),
    ]);
    return { findings: [...findings, ...probe.findings], rules: probe.rules, intervals };
  } catch (e) {
    // The client's errors name the flag to check; others get the general advice.
    const why = errorText(e);
    const advice = why.includes("check --")
      ? ""
      : "; check --prometheus-url and the --prometheus-* options";
    findings.push(
      unreachable(o, `cannot run the rules against Prometheus at ${prom.url}: ${why}${advice}`),
    );
    return { findings, rules: [], skipped: "Prometheus could not be asked" };
  } finally {
    close();
    await prometheus.close();
  }
}
