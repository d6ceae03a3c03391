/**
 * @module test/explain
 * `explain` as a user runs it (its own process, exit code, `-o json`), against the local cluster:
 * a working HPA walked link by link to the HPA controller's computation, then failure modes made
 * for real, each named as the FIRST broken link with its cause: a typo in the HPA's metric name,
 * a scale target that does not exist, a selector matching no pods, pods Prometheus has no samples
 * for, Prometheus stopped, a metric selector Prometheus cannot take, the adapter forbidden to list
 * the objects, and (with a second adapter running a broken config) a rule whose series lack the
 * pod label and a rate window shorter than two scrapes. Every change is undone after its test.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { apiServiceAvailability, startAdapter } from "../../src/harness/adapter-process.ts";
import {
  API_SERVICES,
  existingRegistration,
  publishApiServices,
} from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  promQuery,
  testCluster,
  waitFor,
} from "../support/cluster.ts";
import { DIAGNOSTICS_CLI, explainJson, linkOf, runCli } from "../support/cli.ts";
import { freePort } from "../support/prometheus.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const CONFIG = "examples/adapter-config.yaml";
const BROKEN_RULES = "test/fixtures/diagnostics/explain-rules.yaml";
const DEMO = readFileSync(
  new URL("../../examples/requests-per-second/demo-app.yaml", import.meta.url),
  "utf8",
);
const CUSTOM_API = API_SERVICES.filter((a) => a.group === "custom.metrics.k8s.io");

const cli = (args: string[]) => runCli(args, { entry: DIAGNOSTICS_CLI });

/** The demo app under another name: its Deployment and HPA, with `edit` applied to the YAML. */
function demoAs(name: string, edit: (yaml: string) => string = (y) => y): string {
  // Names and labels, not the image.
  return edit(DEMO.replace(/(?<!k8s-custom-metrics\/)demo-app/g, name));
}

let info: ClusterInfo;
let ns: string;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  info = await testCluster();
  await ensureRegisteredAdapter(info);
  ns = await freshNamespace(info, "explain");
  await kubectl(info, ["-n", ns, "apply", "-f", "-"], DEMO);
  await waitFor(
    "the demo app's request rate in Prometheus",
    async () =>
      (await promQuery(info, `rate(http_requests_total{namespace="${ns}"}[30s])`)).length > 0
        ? true
        : undefined,
    120_000,
    1000,
  );
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (ns) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
});

const explain = (...args: string[]) =>
  explainJson([...args, "--kubeconfig", info.kubeconfig, "--prometheus-url", info.prometheusUrl]);

/** Runs explain until its first broken link is of `kind` (the cluster takes a moment to agree). */
function firstBrokenUntil(kind: string, ...args: string[]) {
  return waitFor(
    `explain to name ${kind} as the first broken link`,
    async () => {
      const r = await explain(...args);
      return r.report.firstBroken?.kind === kind ? r : undefined;
    },
    120_000,
    2000,
  ).catch(async (e: unknown) => {
    // Say what it named instead.
    const last = await explain(...args);
    throw new Error(`${String(e)}; last: ${JSON.stringify(last.report.firstBroken ?? "none")}`);
  });
}

describe("explain against the local cluster", { timeout: 900_000 }, () => {
  test("a working HPA: every link ✓, down to the HPA controller's computation", async () => {
    await waitFor(
      "the demo HPA to compute replicas",
      async () => {
        const h = await kubectlJson<{
          status?: { conditions?: { type: string; status: string }[] };
        }>(info, ["-n", ns, "get", "hpa", "demo-app"]);
        return h.status?.conditions?.some((c) => c.type === "ScalingActive" && c.status === "True")
          ? true
          : undefined;
      },
      120_000,
      1000,
    );
    const { run, report } = await explain("hpa", `${ns}/demo-app`, "--config", CONFIG);
    assert.equal(run.code, 0, JSON.stringify(report, null, 2));
    assert.equal(report.firstBroken, undefined);
    assert.equal(linkOf(report, "apiservice").status, "ok");
    assert.match(
      linkOf(report, "rule").title,
      /^rule: rules\[4\] at examples\/adapter-config\.yaml:47:5 gives it from series http_requests_total, label pod → pods$/,
    );
    assert.match(linkOf(report, "objects").title, /matches 1 pods, 1 Running, 1 Ready: demo-app-/);
    const q = linkOf(report, "query");
    assert.equal(q.status, "ok");
    assert.match(
      q.details?.[0] ?? "",
      new RegExp(
        `^sum\\(rate\\(http_requests_total\\{namespace="${ns}",pod="demo-app-[^"]+"\\}\\[30s\\]\\)\\) by \\(pod\\)$`,
      ),
    );
    assert.match(linkOf(report, "answer").details?.[1] ?? "", /^demo-app-\S+ = \S+$/);
    const hc = linkOf(report, "hpa-controller");
    assert.equal(hc.status, "ok");
    assert.match(hc.title, /^HPA controller: 1 → 1 replica\(s\) \(tolerance 0\.1;/);
    assert.ok(
      hc.details?.some((d) => /usage ratio/.test(d)),
      JSON.stringify(hc),
    );
    // The human tree.
    const text = await cli([
      "explain",
      "hpa",
      `${ns}/demo-app`,
      "--kubeconfig",
      info.kubeconfig,
      "--config",
      CONFIG,
      "--prometheus-url",
      info.prometheusUrl,
    ]);
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /\n {2}✓ listed: pods\/http_requests_per_second in custom\.metrics\.k8s\.io\/v1beta2\n/,
    );
    assert.match(text.stdout, /\nfirst broken link: none, every link works\n$/);
  });

  test("without --config, the rule and the query come from the adapter's debug routes", async () => {
    const { run, report } = await explain("hpa", `${ns}/demo-app`);
    assert.equal(run.code, 0, JSON.stringify(report, null, 2));
    assert.equal(report.firstBroken, undefined);
    const rule = linkOf(report, "rule");
    assert.equal(rule.status, "ok");
    assert.match(rule.title, /from series http_requests_total \(the adapter's debug\/metrics\)$/);
    const q = linkOf(report, "query");
    assert.equal(q.status, "ok", JSON.stringify(q));
    assert.ok(
      q.details?.some((d) => d.includes(`namespace="${ns}"`) && d.includes("http_requests_total")),
      JSON.stringify(q),
    );
  });

  test("a typo in the HPA's metric name: not listed, the rule that comes closest, did you mean", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      demoAs("typo-app", (y) =>
        y.replace("name: http_requests_per_second", "name: http_request_per_second"),
      ),
    );
    const { run, report } = await firstBrokenUntil(
      "rule-name",
      "hpa",
      `${ns}/typo-app`,
      "--config",
      CONFIG,
    );
    assert.equal(run.code, 1);
    const b = report.firstBroken;
    assert.equal(b?.step, "listed");
    assert.equal(
      b.title,
      "not listed: pods/http_request_per_second in custom.metrics.k8s.io/v1beta2",
    );
    assert.match(b.cause ?? "", /did you mean "http_requests_per_second"\?/);
    assert.match(b.cause ?? "", /rules\[4\] comes closest/);
    assert.equal(
      b.fix,
      'use the metric name "http_requests_per_second", or change rules[4].name so it gives "http_request_per_second"',
    );
    // Nothing after it was walked.
    assert.match(
      linkOf(report, "not-checked").title,
      /rule, objects, query, answer, hpa-controller$/,
    );
  });

  test("a scale target that does not exist", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "ghost" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "ghost" },
          minReplicas: 1,
          maxReplicas: 2,
          metrics: [
            {
              type: "Pods",
              pods: {
                metric: { name: "http_requests_per_second" },
                target: { type: "AverageValue", averageValue: "5" },
              },
            },
          ],
        },
      }),
    );
    const { run, report } = await explain("hpa", `${ns}/ghost`);
    assert.equal(run.code, 1);
    assert.equal(report.firstBroken?.step, "scale-target");
    assert.match(report.firstBroken.cause ?? "", /FailedGetScale.*not found/);
  });

  test("a selector that matches no pods (a Deployment created paused has none)", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      demoAs("paused-app", (y) =>
        y.replace("spec:\n  replicas: 1", "spec:\n  paused: true\n  replicas: 1"),
      ),
    );
    const { run, report } = await firstBrokenUntil(
      "no-pods",
      "hpa",
      `${ns}/paused-app`,
      "--config",
      CONFIG,
    );
    assert.equal(run.code, 1);
    const b = report.firstBroken;
    assert.equal(b?.step, "objects");
    assert.equal(b.title, `objects: selector app=paused-app matches no pods in ${ns}`);
    assert.match(b.fix ?? "", /kubectl get pods -n \S+ -l 'app=paused-app'/);
    // The links before it held.
    for (const s of ["apiservice", "listed", "rule"]) assert.equal(linkOf(report, s).status, "ok");
  });

  test("pods Prometheus has no samples for (not scraped)", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      demoAs("unscraped", (y) =>
        y.replace('prometheus.io/scrape: "true"', 'prometheus.io/scrape: "false"'),
      ),
    );
    const { run, report } = await firstBrokenUntil(
      "pods-without-samples",
      "hpa",
      `${ns}/unscraped`,
      "--config",
      CONFIG,
    );
    assert.equal(run.code, 1);
    const b = report.firstBroken;
    assert.equal(b?.step, "query");
    assert.match(b.title, /^query: 0 sample\(s\), 0 of 1 object\(s\) with a value$/);
    assert.match(
      b.cause ?? "",
      /^Prometheus has no http_requests_total series for any of them \(unscraped-/,
    );
    assert.equal(linkOf(report, "objects").status, "ok");
  });

  test("a metric selector whose key Prometheus cannot take as a label name", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      demoAs("selector-app", (y) =>
        y.replace(
          "name: http_requests_per_second",
          "name: http_requests_per_second\n          selector:\n            matchLabels:\n              app.kubernetes.io/name: selector-app",
        ),
      ),
    );
    const { run, report } = await firstBrokenUntil(
      "query-not-rendered",
      "hpa",
      `${ns}/selector-app`,
      "--config",
      CONFIG,
    );
    assert.equal(run.code, 1);
    assert.equal(report.firstBroken?.step, "query");
    assert.match(report.firstBroken.cause ?? "", /invalid label name "app\.kubernetes\.io\/name"/);
    // Without the config, the adapter renders the query itself (its debug/query) and names it.
    const bare = await explain("hpa", `${ns}/selector-app`);
    assert.equal(bare.report.firstBroken?.step, "query", JSON.stringify(bare.report.firstBroken));
    assert.match(JSON.stringify(bare.report.firstBroken), /app\.kubernetes\.io\/name/);
  });

  test("the adapter forbidden to list the objects a request selects", async () => {
    // A Job named like the scrape job, so the example config's template rule (job label → Jobs)
    // has samples for it; suspended, so it runs nothing.
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "kubernetes-pods", labels: { app: "kcm-forbidden" } },
        spec: {
          suspend: true,
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "c", image: "k8s-custom-metrics/demo-app:latest" }],
            },
          },
        },
      }),
    );
    const role = "k8s-custom-metrics-resource-reader";
    const saved = await kubectlJson<{
      metadata: Record<string, unknown>;
      rules: { apiGroups?: string[] }[];
    }>(info, ["get", "clusterrole", role]);
    const batch = saved.rules.findIndex((r) => r.apiGroups?.includes("batch"));
    assert.ok(batch >= 0, JSON.stringify(saved.rules));
    await kubectl(info, [
      "patch",
      "clusterrole",
      role,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "remove", path: `/rules/${String(batch)}` }]),
    ]);
    try {
      const { run, report } = await firstBrokenUntil(
        "adapter-list-forbidden",
        "metric",
        "nodejs_active_handles",
        "-n",
        ns,
        "--for",
        "jobs.batch",
        "-l",
        "app=kcm-forbidden",
        "--config",
        CONFIG,
      );
      assert.equal(run.code, 1);
      const b = report.firstBroken;
      assert.equal(b?.step, "answer");
      assert.match(b.cause ?? "", /may not list "jobs\.batch"/);
      assert.match(b.fix ?? "", /^give the adapter's service account list on jobs\.batch/);
      assert.equal(linkOf(report, "query").status, "ok");
    } finally {
      await kubectl(
        info,
        ["apply", "-f", "-"],
        JSON.stringify({ ...saved, metadata: { name: role } }),
      );
    }
  });

  test("an APIService pointing at a Service that does not exist", async () => {
    const name = "v1beta2.custom.metrics.k8s.io";
    const saved = await kubectlJson<{ spec: unknown }>(info, ["get", "apiservice", name]);
    await kubectl(info, [
      "patch",
      "apiservice",
      name,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { service: { name: "k8s-custom-metrics-missing" } } }),
    ]);
    try {
      const { run, report } = await firstBrokenUntil("service-not-found", "hpa", `${ns}/demo-app`);
      assert.equal(run.code, 1);
      const b = report.firstBroken;
      assert.ok(b);
      assert.equal(b.step, "apiservice");
      assert.match(
        b.title,
        /^APIService v1beta2\.custom\.metrics\.k8s\.io → custom-metrics\/k8s-custom-metrics-missing:\d+: not Available \(ServiceNotFound\)$/,
      );
      assert.match(b.cause ?? "", /which does not exist/);
    } finally {
      await kubectl(info, [
        "patch",
        "apiservice",
        name,
        "--type=json",
        "-p",
        JSON.stringify([{ op: "replace", path: "/spec", value: saved.spec }]),
      ]);
      await waitFor(
        `${name} Available again`,
        async () =>
          (await apiServiceAvailability(info)).get(name)?.status === "True" ? true : undefined,
        90_000,
        1000,
      );
    }
  });

  test("Prometheus stopped", async () => {
    const p = statePaths(info.stateDir);
    const prom = (await new Supervisor(p.logs, p.run).list()).find((c) => c.name === "prometheus");
    assert.ok(prom?.alive, "Prometheus runs");
    // SIGSTOP: the process is stopped in place (connections hang), and SIGCONT resumes it with
    // its data exactly as it was.
    process.kill(prom.pid, "SIGSTOP");
    try {
      const { run, report } = await explain("hpa", `${ns}/demo-app`, "--config", CONFIG);
      assert.equal(run.code, 1);
      const b = report.firstBroken;
      assert.equal(b?.step, "query", JSON.stringify(report, null, 2));
      assert.equal(b.kind, "prometheus-unreachable");
      assert.match(b.cause ?? "", /^Prometheus cannot be reached: /);
      assert.match(b.fix ?? "", /^start Prometheus/);
    } finally {
      process.kill(prom.pid, "SIGCONT");
    }
    await waitFor(
      "Prometheus to answer again",
      async () => ((await promQuery(info, "up")).length > 0 ? true : undefined),
      60_000,
      1000,
    );
  });

  describe("with a second adapter running a broken config", () => {
    const NAME = "adapter-explain";
    before(async () => {
      await startAdapter(info, {
        name: NAME,
        port: await freePort(),
        config: BROKEN_RULES,
        apiServices: CUSTOM_API,
        extraArgs: ["--disable-external-metrics"],
      });
    });
    after(async () => {
      try {
        await publishApiServices(info, existingRegistration(info), CUSTOM_API);
        await waitFor(
          "custom.metrics.k8s.io back on the registered adapter",
          async () => {
            const avail = await apiServiceAvailability(info);
            const list = JSON.parse(
              await kubectl(info, ["get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2"]),
            ) as { resources: { name: string }[] };
            return CUSTOM_API.every(
              (a) => avail.get(`${a.version}.${a.group}`)?.status === "True",
            ) && !list.resources.some((r) => r.name.endsWith("_per_second_1s"))
              ? true
              : undefined;
          },
          90_000,
          1000,
        );
      } finally {
        const p = statePaths(info.stateDir);
        await new Supervisor(p.logs, p.run).stop(NAME);
      }
    });

    test("a rule whose series lack the pod label", async () => {
      const { run, report } = await firstBrokenUntil(
        "rule-missing-label",
        "metric",
        "kubelet_scrape_duration_seconds",
        "-n",
        ns,
        "--config",
        BROKEN_RULES,
      );
      assert.equal(run.code, 1);
      const b = report.firstBroken;
      assert.equal(b?.step, "listed");
      assert.match(
        b.cause ?? "",
        /rules\[2\] comes closest: the series scrape_duration_seconds would give "kubelet_scrape_duration_seconds", but none carries the label "pod" that maps to pods \(their labels: instance, job\)/,
      );
    });

    test("a rate window shorter than two scrapes", async () => {
      const { run, report } = await firstBrokenUntil(
        "rate-window-short",
        "metric",
        "http_requests_per_second_1s",
        "-n",
        ns,
        "-l",
        "app=demo-app",
        "--config",
        BROKEN_RULES,
      );
      assert.equal(run.code, 1);
      const b = report.firstBroken;
      assert.equal(b?.step, "query");
      assert.match(
        b.cause ?? "",
        /rate\(…\[1s\]\) covers less than two scrape intervals \(2s, scrape interval of job kubernetes-pods\)/,
      );
      assert.match(b.fix ?? "", /widen the window in rules\[1\]\.metricsQuery to at least 4s/);
      assert.equal(linkOf(report, "rule").status, "ok");
    });
  });
});
