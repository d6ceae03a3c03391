/**
 * @module test/config-tolerance
 * Configs prometheus-adapter starts with start here too (issue #12): a rule without metricsQuery,
 * a metricsQuery naming a field its data lacks, an override naming a resource the cluster does not
 * have yet, a seriesQuery Prometheus refuses. The adapter becomes ready, logs one warning per problem with file:line:col, counts them
 * in /metrics, serves the other rules, and picks up the missing resource once its CRD exists,
 * without a restart. `--strict-config` refuses the same file. Real Prometheus, real API server.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { widgetCrd } from "../support/objects.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries } from "../support/series.ts";

const T = { timeout: 180_000 };
const CM = "/apis/custom.metrics.k8s.io/v1beta2";
// Unique per run: CRDs are cluster-wide.
const GROUP = `kcmtol${Date.now().toString(36)}.example.com`;

const config = (group: string) => `rules:
  # A rule without metricsQuery (upstream starts; each request fails).
  - seriesQuery: '{__name__="tol_requests",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        pod: {resource: pod}
  # A field the query data lacks: Go finds it only when executing.
  - seriesQuery: '{__name__="tol_load",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        pod: {resource: pod}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,env="<<.Env>>"}) by (<<.GroupBy>>)'
  # An override naming a resource the cluster lacks until its CRD is created.
  - seriesQuery: '{__name__="tol_widget_depth",namespace!="",widget!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        widget: {group: ${group}, resource: widgets}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
  # A healthy rule: it must work whatever the others do.
  - seriesQuery: '{__name__="tol_ok",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        pod: {resource: pod}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
  # A selector Prometheus refuses (bad regex): this rule lists nothing, the others still do.
  - seriesQuery: '{__name__=~"tol_(",namespace!=""}'
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`;

describe("configs upstream starts with start here, with warnings", () => {
  let info: ClusterInfo;
  let ns: string;
  let prom: RunningPrometheus;
  let adapter: RunningAdapter;
  let dir: string;
  let file: string;

  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "tolerance");
    prom = await startPrometheus({
      openMetrics: constantSeries([
        ["tol_requests", { namespace: ns, pod: "p1" }, "3"],
        ["tol_load", { namespace: ns, pod: "p1" }, "0.5"],
        ["tol_widget_depth", { namespace: ns, widget: "w1" }, "12"],
        ["tol_ok", { namespace: ns, pod: "p1" }, "7"],
      ]),
    });
    dir = await mkdtemp(join(tmpdir(), "kcm-tolerance-"));
    file = join(dir, "config.yaml");
    await writeFile(file, config(GROUP));
  });

  after(async () => {
    await adapter.stop();
    await prom.stop();
    await rm(dir, { recursive: true, force: true });
    await kubectl(info, ["delete", "crd", `widgets.${GROUP}`, "--ignore-not-found"]).catch(
      () => undefined,
    );
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  });

  test("becomes ready, warns with file:line:col, counts the warnings", T, async () => {
    adapter = await startAdapter({
      prometheusUrl: prom.url,
      kubeconfig: info.kubeconfig,
      config: file,
      relistInterval: "2s",
      maxAge: "1h",
      extraArgs: ["--discovery-interval=2s"],
    });
    const warnings = adapter
      .logs()
      .split("\n")
      .filter((l) => l.includes('"configWarning":true'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.deepEqual(
      warnings.map((w) => w.replace(/: warning: .*/, "")),
      [`${file}:3:5`, `${file}:14:19`, `${file}:20:9`],
      warnings.join("\n"),
    );
    assert.match(warnings[0] ?? "", /rules\[0\]\.metricsQuery is empty/);
    assert.match(warnings[1] ?? "", /can't evaluate field Env/);
    assert.match(warnings[2] ?? "", new RegExp(`widgets\\.${GROUP.replace(/\./g, "\\.")}`));
    const metrics = await fetch(`${adapter.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^k8s_custom_metrics_config_warnings 3$/m);
    // The refused selector fails only its own rule: the adapter is ready (startAdapter waited for
    // /readyz) and says which rule and why.
    assert.match(
      adapter.logs(),
      /rules\[4\] lists no metrics: Prometheus refused seriesQuery .*; the other rules are not affected/,
    );
  });

  test("the healthy rule answers; the broken ones are listed and answer 404", T, async () => {
    const ok = await getJson(adapter, `${CM}/namespaces/${ns}/pods/p1/tol_ok`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const list = await getJson(adapter, CM);
    const names = (list.body as { resources: { name: string }[] }).resources.map((r) => r.name);
    assert.ok(names.includes("pods/tol_requests"), names.join(","));
    assert.ok(names.includes("pods/tol_load"), names.join(","));
    // 404 as upstream, and the message names the rule and why.
    for (const [m, why] of [
      [
        "tol_requests",
        "rules[0] cannot build its query: empty query produced by metrics query template",
      ],
      ["tol_load", "rules[1] cannot build its query: executing"],
    ] as const) {
      const r = await getJson(adapter, `${CM}/namespaces/${ns}/pods/p1/${m}`);
      assert.equal(r.status, 404, `${m}: ${JSON.stringify(r.body)}`);
      assert.ok((r.body as { message: string }).message.includes(why), JSON.stringify(r.body));
    }
    // The widget label maps to nothing yet: only the namespace resource is listed.
    assert.ok(!names.some((n) => n.startsWith("widgets.")), names.join(","));
  });

  test("the missing resource works once its CRD exists, without a restart", T, async () => {
    await kubectl(info, ["apply", "-f", "-"], JSON.stringify(widgetCrd(GROUP)));
    await waitFor(
      `widgets.${GROUP}/tol_widget_depth in discovery`,
      async () => {
        const list = await getJson(adapter, CM);
        const names = (list.body as { resources?: { name: string }[] }).resources ?? [];
        return names.some((r) => r.name === `widgets.${GROUP}/tol_widget_depth`) ? true : undefined;
      },
      60_000,
      1000,
    );
    const r = await getJson(adapter, `${CM}/namespaces/${ns}/widgets.${GROUP}/w1/tol_widget_depth`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((r.body as { items: { value: string }[] }).items[0]?.value, "12");
  });

  test("--strict-config refuses the same file with every warning", T, async () => {
    const strict = await startAdapter({
      prometheusUrl: prom.url,
      kubeconfig: info.kubeconfig,
      config: file,
      extraArgs: ["--strict-config"],
      waitReady: false,
    });
    await waitFor("the strict adapter to exit", () =>
      Promise.resolve(strict.logs().includes("KCM_ERR_CONFIG") ? true : undefined),
    );
    await strict.stop();
    assert.match(strict.logs(), /rules\[0\]\.metricsQuery is empty/);
    assert.match(strict.logs(), /can't evaluate field Env/);
  });
});
