/**
 * @module test/diagnostics
 * `validate` and `doctor` as a user runs them (a separate process, exit codes, stdout), against
 * the local cluster: validate offline over good and broken configs, validate online against the
 * cluster's Prometheus with the demo app running, doctor all ✓ with the registered adapter, then
 * failure modes made for real (an RBAC binding deleted, an APIService pointing at a missing
 * Service, a wrong caBundle, the external group sent to another Service, an HPA with a typo in
 * its metric name), each named by doctor as ✗ with its cause, and restored afterwards.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Check } from "../../src/diagnostics/checks.ts";
import type { Finding } from "../../src/diagnostics/findings.ts";
import type { ValidateReport } from "../../src/diagnostics/validate.ts";
import { apiServiceAvailability } from "../../src/harness/adapter-process.ts";
import { API_SERVICES } from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  promQuery,
  testCluster,
  waitFor,
} from "../support/cluster.ts";
import { objectList } from "../support/objects.ts";
import { DIAGNOSTICS_CLI, runCli, type CliRun } from "../support/cli.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const FIX = "test/fixtures/diagnostics";
const SUFFIX = Date.now().toString(36);

const cli = (args: string[]) => runCli(args, { entry: DIAGNOSTICS_CLI });

interface ValidateJson extends ValidateReport {
  readonly exitCode: number;
}

function at(findings: readonly Finding[], line: number): Finding[] {
  return findings.filter((f) => f.line === line);
}

describe("validate offline", { timeout: 120_000 }, () => {
  test("the tests' adapter config is clean: exit 0", async () => {
    const r = await cli(["validate", "--config", "test/fixtures/adapter-config.yaml"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, "test/fixtures/adapter-config.yaml: no problems found (offline)\n");
  });

  test("errors: each at file:line:col with its fix, exit 2", async () => {
    const r = await cli(["validate", "--config", `${FIX}/errors.yaml`]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const lines = r.stdout.split("\n");
    const expect = [
      /^test\/fixtures\/diagnostics\/errors\.yaml:3:5: error: unknown key "seriesQuerry" in rules\[0\]; did you mean "seriesQuery"\?$/,
      /^test\/fixtures\/diagnostics\/errors\.yaml:7:16: error: rules\[1\]\.name\.matches "\^\(http\)_\(\.\*" is not a valid RE2 regular expression: .*; balance the parentheses$/,
      /^test\/fixtures\/diagnostics\/errors\.yaml:11:16: error: rules\[2\]\.name\.matches .* has 2 capture groups.*; add name\.as, e\.g\. as: "\$\{1\}_\$\{2\}"$/,
      /^test\/fixtures\/diagnostics\/errors\.yaml:12:60: warning: rules\[2\]\.metricsQuery: rate\(…\[20s\]\) covers less than two scrape intervals \(1m: Prometheus' default scrape_interval, assumed offline.*widen it to at least \[2m\]/,
    ];
    expect.forEach((re, k) => {
      assert.match(lines[k] ?? "", re);
    });
    assert.match(r.stdout, /errors\.yaml: 3 errors, 1 warning \(offline\)\n$/);
  });

  test("warnings only: exit 0, and 1 with --strict; -o json carries the same findings", async () => {
    const config = `${FIX}/warnings.yaml`;
    const loose = await cli(["validate", "--config", config]);
    assert.equal(loose.code, 0, loose.stdout);
    assert.match(
      loose.stdout,
      /warnings\.yaml:6:60: warning: rules\[0\]\.metricsQuery: rate\(…\[30s\]\)/,
    );
    assert.match(
      loose.stdout,
      /warnings\.yaml:9:42: warning: rules\[1\]\.name\.as "requests" is also the metric name of rules\[0\]/,
    );
    assert.match(
      loose.stdout,
      /warnings\.yaml:12:5: warning: externalRules\[0\]\.metricsQuery is empty/,
    );
    const strict = await cli(["validate", "--config", config, "--strict", "-o", "json"]);
    assert.equal(strict.code, 1);
    const json = JSON.parse(strict.stdout) as ValidateJson;
    assert.equal(json.exitCode, 1);
    assert.deepEqual(json.counts, { errors: 0, warnings: 3 });
    assert.deepEqual(
      json.findings.map((f) => [f.line, f.col, f.severity, f.check]),
      [
        [6, 60, "warning", "rate-window"],
        [9, 42, "warning", "duplicate-metric"],
        [12, 5, "warning", "config"],
      ],
    );
    // The assumed scrape interval can be given.
    const fast = await cli(["validate", "--config", config, "--strict", "--scrape-interval=10s"]);
    assert.doesNotMatch(fast.stdout, /rate-window|covers less than two/);
  });

  test("an unreadable file and a bad flag", async () => {
    const r = await cli(["validate", "--config", `${FIX}/does-not-exist.yaml`]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /does-not-exist\.yaml: error: cannot read the config file \(ENOENT\)/);
    const bad = await cli(["validate", "--config", `${FIX}/warnings.yaml`, "-o", "yaml"]);
    // A usage error is 2, as a config error: 1 means warnings under --strict.
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-o, --output.*Allowed choices are text, json/);
  });
});

describe("against the local cluster", { timeout: 600_000 }, () => {
  let info: ClusterInfo;
  let ns: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    info = await testCluster();
    await ensureRegisteredAdapter(info);
    ns = await freshNamespace(info, "diag");
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/requests-per-second/demo-app.yaml", "utf8"),
    );
    // Every series the online fixture reads, for this namespace's pod.
    // Every series the online checks read, for this namespace's pod; the rate once it has the
    // two samples the example config's [30s] window needs.
    for (const q of [
      `rate(http_requests_total{namespace="${ns}"}[30s])`,
      `container_memory_usage_bytes{namespace="${ns}"}`,
      `process_open_fds{namespace="${ns}"}`,
    ]) {
      await waitFor(
        `${q} in Prometheus`,
        async () => ((await promQuery(info, q)).length > 0 ? true : undefined),
        120_000,
        1000,
      );
    }
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (ns) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  });

  const doctor = async (...args: string[]): Promise<{ run: CliRun; checks: Check[] }> => {
    const run = await cli(["doctor", "--kubeconfig", info.kubeconfig, "-o", "json", ...args]);
    assert.ok(run.stdout.startsWith("{"), run.stdout + run.stderr);
    return { run, checks: (JSON.parse(run.stdout) as { checks: Check[] }).checks };
  };
  const failed = (checks: readonly Check[]) => checks.filter((c) => c.status === "fail");

  /** Waits until doctor reports a failure of `kind`, and returns it with all checks. */
  const doctorUntil = (kind: string, ...args: string[]) =>
    waitFor(
      `doctor to report ${kind}`,
      async () => {
        const d = await doctor(...args);
        const hit = d.checks.find((c) => c.status === "fail" && c.kind === kind);
        return hit ? { ...d, hit } : undefined;
      },
      90_000,
      2000,
    );

  /** Every metrics APIService is Available again (after a restore). */
  const allAvailable = () =>
    waitFor(
      "every metrics APIService Available",
      async () => {
        const avail = await apiServiceAvailability(info);
        return API_SERVICES.every((a) => avail.get(`${a.version}.${a.group}`)?.status === "True")
          ? true
          : undefined;
      },
      90_000,
      500,
    );

  /** Patches an APIService's spec for the length of `fn`, then puts the saved spec back. */
  async function withApiService(name: string, patch: unknown, fn: () => Promise<void>) {
    const saved = await kubectlJson<{ spec: unknown }>(info, ["get", "apiservice", name]);
    await kubectl(info, [
      "patch",
      "apiservice",
      name,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: patch }),
    ]);
    try {
      await fn();
    } finally {
      await kubectl(info, [
        "patch",
        "apiservice",
        name,
        "--type=json",
        "-p",
        JSON.stringify([{ op: "replace", path: "/spec", value: saved.spec }]),
      ]);
      await allAvailable();
    }
  }

  test("validate online: the example config's rules give metrics with values for real pods", async () => {
    const r = await cli([
      "validate",
      "--config",
      "examples/adapter-config.yaml",
      "--prometheus-url",
      info.prometheusUrl,
      "--kubeconfig",
      info.kubeconfig,
      "-o",
      "json",
    ]);
    const json = JSON.parse(r.stdout) as ValidateJson;
    assert.equal(json.online, true);
    assert.equal(json.counts.errors, 0, JSON.stringify(json.findings));
    assert.equal(r.code, 0);
    const rps = json.rules.find((x) => x.rule === "rules[4]");
    const metric = rps?.metrics.find((m) => m.metric === "http_requests_per_second");
    assert.ok(metric, JSON.stringify(rps));
    assert.ok(metric.resources.includes("pods"));
    assert.match(metric.example?.object ?? "", /^pods \S+\/demo-app-/);
    assert.ok((metric.example?.samples ?? 0) >= 1, JSON.stringify(metric.example));
    assert.equal(metric.example?.forObject, 1);
    // The config generator's template maps Prometheus' job label to Kubernetes Jobs.
    assert.ok(json.findings.some((f) => f.check === "label-mapping" && f.line === 42));
    // Text output: the rule with its rendered query.
    const text = await cli([
      "validate",
      "--config",
      "examples/adapter-config.yaml",
      "--prometheus-url",
      info.prometheusUrl,
    ]);
    assert.match(
      text.stdout,
      /✓ http_requests_per_second for pods \S+: 1 sample, value [\d.e+-]+\n {8}sum\(rate\(http_requests_total\{namespace="[^"]+",pod="[^"]+"\}\[30s\]\)\) by \(pod\)/,
    );
  });

  test("validate online: each broken rule named at its line, with the real scrape interval", async () => {
    const r = await cli([
      "validate",
      "--config",
      `${FIX}/online.yaml`,
      "--prometheus-url",
      info.prometheusUrl,
      "--kubeconfig",
      info.kubeconfig,
      "-o",
      "json",
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const f = (JSON.parse(r.stdout) as ValidateJson).findings;
    const one = (line: number, check: string) => {
      const hit = at(f, line).find((x) => x.check === check);
      assert.ok(hit, `${check} at line ${String(line)}: ${JSON.stringify(f)}`);
      return hit;
    };
    assert.match(
      one(9, "rate-window").message,
      /\[3s\]\) covers less than two scrape intervals \(2s: scrape interval of job /,
    );
    assert.match(
      one(13, "name-matches-nothing").message,
      /"\^containr_\(\.\*\)\$" matches none of the \d+ series names left \(container_/,
    );
    assert.match(
      one(22, "duplicate-metric").message,
      /rules\[3\] gives the metric "memory_usage" for namespaces, pods, which rules\[2\] gives too/,
    );
    assert.match(
      one(26, "no-resource").message,
      /none of its series' labels \(instance, job\) maps to a Kubernetes resource/,
    );
    assert.match(
      one(32, "query").message,
      /returns 1 sample\(s\) but none keeps the object's label/,
    );
    const bad = one(36, "query");
    assert.equal(bad.severity, "error");
    assert.match(bad.message, /fails: .*parse error/);
    assert.match(one(38, "no-series").message, /selects no series in Prometheus/);
    assert.equal(f.filter((x) => x.severity === "error").length, 1, JSON.stringify(f));
  });

  test("validate offline with --kubeconfig: an override the cluster cannot resolve is a warning at its line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kcm-diag-"));
    try {
      const file = join(dir, "podz.yaml");
      await writeFile(
        file,
        [
          "rules:",
          `  - seriesQuery: '{__name__="a_total",namespace!="",pod!=""}'`,
          "    resources:",
          "      overrides:",
          "        namespace: { resource: namespace }",
          "        pod: { resource: podz }",
          "    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
          "",
        ].join("\n"),
      );
      const args = ["validate", "--config", file, "--kubeconfig", info.kubeconfig];
      const r = await cli([...args, "-o", "json"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const json = JSON.parse(r.stdout) as ValidateJson;
      assert.equal(json.online, false);
      const hit = json.findings.find((f) => f.check === "unknown-resource");
      assert.ok(hit, JSON.stringify(json.findings));
      assert.equal(hit.line, 6);
      assert.match(hit.message, /overrides\.pod names podz, which the cluster does not serve/);
      assert.equal((await cli([...args, "--strict"])).code, 1);
      // Without the cluster, a resource the built-in list lacks may be a CRD's: not flagged.
      const offline = await cli(["validate", "--config", file, "-o", "json"]);
      const plain = JSON.parse(offline.stdout) as ValidateJson;
      assert.ok(!plain.findings.some((f) => f.check === "unknown-resource"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("validate online: Prometheus unreachable is an error, not a crash", async () => {
    const r = await cli([
      "validate",
      "--config",
      `${FIX}/online.yaml`,
      "--prometheus-url",
      "http://127.0.0.1:9",
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      /error: cannot run the rules against Prometheus at http:\/\/127\.0\.0\.1:9/,
    );
    assert.match(r.stdout, /not run against Prometheus: Prometheus could not be asked/);
  });

  test("doctor: the registered adapter passes every check", async () => {
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
    const { run, checks } = await doctor("-n", ns);
    assert.equal(run.code, 0, JSON.stringify(failed(checks), null, 2));
    assert.deepEqual(failed(checks), []);
    const titles = checks.map((c) => `${c.status} ${c.title}`);
    for (const re of [
      /^ok kube-system\/extension-apiserver-authentication: requestheader CA/,
      /^ok v1beta2\.custom\.metrics\.k8s\.io → custom-metrics\/k8s-custom-metrics:\d+: Available/,
      /^ok external\.metrics\.k8s\.io → custom-metrics\/k8s-custom-metrics \(this adapter\)/,
      /^ok serving certificate CN=k8s-custom-metrics: valid until/,
      /^ok serving certificate chains to the caBundle of v1beta2\.custom\.metrics\.k8s\.io/,
      /^ok \/readyz at localhost:\d+: ready/,
      /^ok version v\d/,
      /^ok service account custom-metrics\/k8s-custom-metrics may create TokenReviews and SubjectAccessReviews/,
      new RegExp(`^ok ${ns}/demo-app: ValidMetricFound \\(http_requests_per_second\\)`),
    ]) {
      assert.ok(
        titles.some((t) => re.test(t)),
        `${String(re)} in\n${titles.join("\n")}`,
      );
    }
    // The human form: ✓ lines and the summary.
    const text = await cli(["doctor", "--kubeconfig", info.kubeconfig, "-n", ns]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ {2}✓ v1beta1\.metrics\.k8s\.io → /m);
    assert.match(text.stdout, /\nall \d+ checks passed/);
  });

  test("doctor: the auth-reader RoleBinding deleted", async () => {
    const name = "k8s-custom-metrics-auth-reader";
    const rb = await kubectlJson<{ metadata: Record<string, unknown> }>(info, [
      "-n",
      "kube-system",
      "get",
      "rolebinding",
      name,
    ]);
    const saved = { ...rb, metadata: { name, namespace: "kube-system" } };
    await kubectl(info, ["-n", "kube-system", "delete", "rolebinding", name]);
    try {
      // The running adapter still works from the ConfigMap it read at start; doctor asks the
      // API server what its service account may do, so the loss shows at once.
      const { run, hit } = await doctorUntil("no-auth-reader", "-n", ns);
      assert.equal(run.code, 1);
      assert.equal(
        hit.title,
        "service account custom-metrics/k8s-custom-metrics may not get and watch configmap kube-system/extension-apiserver-authentication (denied: get, watch)",
      );
      assert.match(
        hit.cause ?? "",
        /^there is no RoleBinding in kube-system to Role extension-apiserver-authentication-reader for it, so it cannot learn the front-proxy CA/,
      );
      assert.equal(
        hit.fix,
        `kubectl create rolebinding -n kube-system ${name} --role=extension-apiserver-authentication-reader --serviceaccount=custom-metrics:k8s-custom-metrics`,
      );
    } finally {
      await kubectl(info, ["apply", "-f", "-"], JSON.stringify(saved));
    }

    // An identity that may read the ConfigMap only through a broad ClusterRole: it works, but
    // doctor warns that it breaks once that role is narrowed.
    const sa = `diag-broad-${SUFFIX}`;
    const binding = (kind: string, role: string, bindingName: string) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind,
      metadata: { name: bindingName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
    });
    const list = objectList([
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: ns } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: sa },
        rules: [
          { apiGroups: [""], resources: ["configmaps", "pods"], verbs: ["get", "list", "watch"] },
        ],
      },
      binding("ClusterRoleBinding", sa, sa),
      binding("ClusterRoleBinding", "system:auth-delegator", `${sa}:system:auth-delegator`),
    ]);
    cleanups.push(() => kubectl(info, ["delete", "--ignore-not-found", "-f", "-"], list));
    await kubectl(info, ["apply", "-f", "-"], list);
    const d = await waitFor(
      "doctor to see the broad identity",
      async () => {
        const r = await doctor("-n", ns, "--adapter-service-account", `${ns}/${sa}`);
        return r.checks.some((c) => c.kind === "auth-reader-binding-missing") ? r : undefined;
      },
      30_000,
      1000,
    );
    const rbac = d.checks.filter((c) => c.section === "adapter RBAC");
    assert.deepEqual(
      rbac.map((c) => c.status),
      ["warn", "ok", "ok"],
      JSON.stringify(rbac, null, 2),
    );
    assert.match(
      rbac[0]?.title ?? "",
      /only through a broader role: no RoleBinding in kube-system/,
    );
    assert.equal(d.run.code, 0);
  });

  test("doctor: an APIService pointing at a Service that does not exist", async () => {
    const name = "v1beta1.custom.metrics.k8s.io";
    await withApiService(name, { service: { name: "k8s-custom-metrics-missing" } }, async () => {
      const { run, hit } = await doctorUntil("service-not-found", "-n", ns);
      assert.equal(run.code, 1);
      assert.match(
        hit.title,
        /^v1beta1\.custom\.metrics\.k8s\.io → custom-metrics\/k8s-custom-metrics-missing:\d+: not Available \(ServiceNotFound\)/,
      );
      assert.match(
        hit.cause ?? "",
        /Service custom-metrics\/k8s-custom-metrics-missing, which does not exist/,
      );
    });
  });

  test("doctor: a caBundle that did not sign the adapter's certificate", async () => {
    const name = "v1beta1.custom.metrics.k8s.io";
    const wrong = Buffer.from(readFileSync(info.pki.frontProxyCaCert, "utf8")).toString("base64");
    await withApiService(name, { caBundle: wrong }, async () => {
      const { run, hit, checks } = await doctorUntil("tls-unknown-authority", "-n", ns);
      assert.equal(run.code, 1);
      assert.match(
        hit.title,
        /^v1beta1\.custom\.metrics\.k8s\.io .* not Available \(FailedDiscoveryCheck\)/,
      );
      assert.match(
        hit.cause ?? "",
        /not signed by APIService v1beta1\.custom\.metrics\.k8s\.io's caBundle \(x509: certificate signed by unknown authority\)/,
      );
      // The certificate itself, fetched from the adapter, confirms it.
      const cert = checks.find((c) => c.kind === "cert-ca-mismatch");
      assert.ok(cert, JSON.stringify(checks, null, 2));
      assert.match(
        cert.title,
        /does not chain to the caBundle of v1beta1\.custom\.metrics\.k8s\.io$/,
      );
    });
  });

  test("doctor: the external group sent to another service (KEDA's)", async () => {
    const kedaNs = `diag-keda-${SUFFIX}`;
    cleanups.push(() =>
      kubectl(info, ["delete", "namespace", kedaNs, "--wait=false", "--ignore-not-found"]),
    );
    await kubectl(info, ["create", "namespace", kedaNs]);
    // KEDA's Service name, leading to our adapter so the APIService stays Available: only the
    // ownership is wrong.
    await kubectl(info, [
      "-n",
      kedaNs,
      "create",
      "service",
      "externalname",
      "keda-metrics-apiserver",
      "--external-name=localhost",
    ]);
    await withApiService(
      "v1beta1.external.metrics.k8s.io",
      {
        service: { namespace: kedaNs, name: "keda-metrics-apiserver" },
        caBundle: null,
        insecureSkipTLSVerify: true,
      },
      async () => {
        const { run, hit } = await doctorUntil("group-owned-elsewhere", "-n", ns);
        assert.equal(run.code, 1);
        assert.equal(
          hit.title,
          `external.metrics.k8s.io → ${kedaNs}/keda-metrics-apiserver (KEDA), not this adapter`,
        );
        assert.match(
          hit.cause ?? "",
          /this adapter \(custom-metrics\/k8s-custom-metrics\) serves external\.metrics\.k8s\.io too/,
        );
      },
    );
  });

  test("doctor: an API server it cannot reach is one error line, exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kcm-diag-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "kubeconfig");
    const text = readFileSync(info.kubeconfig, "utf8").replace(
      new URL(info.server).host,
      "127.0.0.1:1",
    );
    await writeFile(file, text);
    const r = await cli(["doctor", "--kubeconfig", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^error: KCM_ERR_CLUSTER_UNREACHABLE: cannot reach the API server at https:\/\/127\.0\.0\.1:1: .*\(check --kubeconfig/,
    );
  });

  test("doctor: an HPA with a typo in its metric name", async () => {
    const typo = readFileSync("examples/requests-per-second/demo-app.yaml", "utf8")
      // Names and labels, not the image.
      .replace(/(?<!k8s-custom-metrics\/)demo-app/g, "typo-app")
      .replace("name: http_requests_per_second", "name: http_request_per_second");
    await kubectl(info, ["-n", ns, "apply", "-f", "-"], typo);
    const { run, hit } = await doctorUntil("metric-not-found", "-n", ns);
    assert.equal(run.code, 1);
    assert.equal(
      hit.title,
      `${ns}/typo-app: ScalingActive=False FailedGetPodsMetric (metric http_request_per_second)`,
    );
    assert.match(
      hit.cause ?? "",
      /lists no metric for pods named "http_request_per_second"; did you mean "http_requests_per_second"\?/,
    );
    const text = await cli(["doctor", "--kubeconfig", info.kubeconfig, "-n", ns]);
    assert.equal(text.code, 1);
    assert.match(
      text.stdout,
      new RegExp(`  ✗ ${ns}/typo-app: ScalingActive=False FailedGetPodsMetric`),
    );
    assert.match(text.stdout, /\n1 of \d+ checks failed/);
  });
});
