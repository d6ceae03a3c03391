// charts/k8s-custom-metrics installed with helm into the local cluster (#14 items 2-3): the chart's
// pods run by the node agent, the Service on its loopback ClusterIP, the APIServices Available, the
// seed HPA scaling through them; `helm upgrade` changing a rule (a rolling update by the config
// checksum) under HPA-shaped load; `helm uninstall` leaving nothing behind. The host-process
// adapter other tests share is restored afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import { apiServiceAvailability, startAdapter } from "../../src/harness/adapter-process.ts";
import { API_SERVICES } from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { createAgent } from "../../src/http/client.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { runHelm } from "../support/helm.ts";
import { outcome } from "../support/http.ts";

const NS = "kcm-helm";
const RELEASE = "kcm";
const FULLNAME = "kcm-k8s-custom-metrics";
const REGISTERED = [
  "v1beta2.custom.metrics.k8s.io",
  "v1beta1.custom.metrics.k8s.io",
  "v1beta1.metrics.k8s.io",
];

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: { conditions?: { type: string; status: string }[] };
}

const isReady = (p: Pod) =>
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

function values(info: ClusterInfo, customRules: unknown[]): string {
  return stringify({
    prometheus: { url: "http://127.0.0.1", port: info.ports.prometheus },
    metricsRelistInterval: "10s",
    rules: { default: true, custom: customRules },
    resourceMetrics: { source: "kubelet", kubelet: { preferredAddressTypes: ["InternalIP"] } },
    // The node agent serves the kubelet endpoint over HTTP, at the port its Node status names.
    extraArguments: ["--kubelet-scheme=http", "--kubelet-use-node-status-port"],
  });
}

const RULE_A = {
  seriesQuery: 'nginx_connections_active{namespace!="",pod!=""}',
  resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
  name: { matches: "^nginx_(.*)$", as: "nginx_$1" },
  metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
};
const RULE_B = {
  ...RULE_A,
  metricsQuery: "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
};

describe("the Helm chart as pods of the local cluster", { timeout: 900_000 }, () => {
  let info: ClusterInfo;
  let seedNs = "";
  let hostAdapterWasRunning = false;
  const helm = async (args: string[], input?: string) => {
    const r = await runHelm(args, {
      env: { KUBECONFIG: info.kubeconfig },
      timeoutMs: 600_000,
      ...(input === undefined ? {} : { input }),
    });
    assert.equal(r.code, 0, `helm ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = async () =>
    (
      await kubectlJson<{ items: Pod[] }>(info, [
        "-n",
        NS,
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/instance=kcm",
      ])
    ).items;
  const twoReady = (what: string) =>
    waitFor(
      what,
      async () => {
        const all = await pods();
        return all.length === 2 && all.every((p) => !p.metadata.deletionTimestamp && isReady(p))
          ? all
          : undefined;
      },
      300_000,
      1000,
    );

  before(async () => {
    info = await testCluster();
    const p = statePaths(info.stateDir);
    const sup = new Supervisor(p.logs, p.run);
    hostAdapterWasRunning = (await sup.list()).some((c) => c.name === "adapter" && c.alive);
    if (hostAdapterWasRunning) await sup.stop("adapter", 10_000);
    // The host adapter's APIServices are not the release's: helm refuses to adopt them.
    await kubectl(info, [
      "delete",
      "apiservice",
      ...API_SERVICES.map((a) => `${a.version}.${a.group}`),
      "--ignore-not-found",
    ]);
  });

  after(async () => {
    if (seedNs) await kubectl(info, ["delete", "namespace", seedNs, "--wait=false"]);
    await runHelm(["uninstall", RELEASE, "-n", NS, "--wait", "--ignore-not-found"], {
      env: { KUBECONFIG: info.kubeconfig },
      timeoutMs: 300_000,
    }).catch(() => undefined);
    await kubectl(info, ["delete", "namespace", NS, "--ignore-not-found", "--wait=true"]).catch(
      () => undefined,
    );
    if (hostAdapterWasRunning) await startAdapter(info);
  });

  test("helm install: two Ready pods, the APIServices Available, the seed HPA at 2 through them", async () => {
    await helm(
      [
        "install",
        RELEASE,
        "charts/k8s-custom-metrics",
        "-n",
        NS,
        "--create-namespace",
        "-f",
        "-",
        "--wait",
        "--timeout=10m",
      ],
      values(info, [RULE_A]),
    );
    await twoReady("two Ready pods of the release");
    const svc = await kubectlJson<{ spec: { clusterIP: string } }>(info, [
      "-n",
      NS,
      "get",
      "service",
      FULLNAME,
    ]);
    assert.match(svc.spec.clusterIP, /^127\./);
    await waitFor(
      "the release's APIServices Available",
      async () => {
        const avail = await apiServiceAvailability(info);
        return REGISTERED.every((n) => avail.get(n)?.status === "True") ? true : undefined;
      },
      180_000,
      1000,
    );
    seedNs = await freshNamespace(info, "helm-seed");
    await kubectl(
      info,
      ["-n", seedNs, "apply", "-f", "-"],
      readFileSync("examples/seed/nginx.yaml", "utf8"),
    );
    await waitFor(
      "the seed HPA at 2 replicas",
      async () => {
        const h = await kubectlJson<{
          status: { currentReplicas?: number; conditions?: { type: string; reason: string }[] };
        }>(info, ["-n", seedNs, "get", "hpa", "nginx"]);
        const limited = h.status.conditions?.find((c) => c.type === "ScalingLimited");
        return h.status.currentReplicas === 2 && limited?.reason === "TooManyReplicas"
          ? true
          : undefined;
      },
      300_000,
      2000,
    );
  });

  test("helm upgrade changing a rule rolls the pods under load; uninstall leaves nothing", async () => {
    const before = new Set((await pods()).map((p) => p.metadata.uid));
    const agent = createAgent({
      timeoutMs: 15_000,
      tls: {
        ca: readFileSync(info.pki.caCert),
        cert: readFileSync(info.pki.adminCert),
        key: readFileSync(info.pki.adminKey),
      },
    });
    const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${seedNs}/pods/*/memory_usage_bytes?labelSelector=app%3Dnginx`;
    const counts = { ok: 0, failed: new Map<string, number>() };
    const state = { on: true };
    const once = () => outcome(agent, `${info.server}${path}`);
    const workers = Array.from({ length: 4 }, async () => {
      while (state.on) {
        const r = await once();
        if (r === "200") counts.ok++;
        else counts.failed.set(r, (counts.failed.get(r) ?? 0) + 1);
        await sleep(100);
      }
    });
    const replicas = new Set<number>();
    const sampler = (async () => {
      while (state.on) {
        const h = await kubectlJson<{ status: { currentReplicas?: number } }>(info, [
          "-n",
          seedNs,
          "get",
          "hpa",
          "nginx",
        ]).catch(() => undefined);
        replicas.add(h?.status.currentReplicas ?? -1);
        await sleep(2000);
      }
    })();
    try {
      await sleep(3000);
      await helm(
        [
          "upgrade",
          RELEASE,
          "charts/k8s-custom-metrics",
          "-n",
          NS,
          "-f",
          "-",
          "--wait",
          "--timeout=10m",
        ],
        values(info, [RULE_B]),
      );
      await twoReady("two Ready pods after the upgrade");
      await sleep(3000);
    } finally {
      state.on = false;
      await Promise.all([...workers, sampler]);
      void agent.destroy();
    }
    const after = await pods();
    const failed = [...counts.failed.values()].reduce((a, b) => a + b, 0);
    console.log(
      `# helm upgrade (rule change): ${JSON.stringify({ ok: counts.ok, failed, by: Object.fromEntries(counts.failed) })}; HPA replicas ${JSON.stringify([...replicas])}`,
    );
    assert.ok(
      after.every((p) => !before.has(p.metadata.uid)),
      "the config checksum rolled both pods",
    );
    const cm = await kubectlJson<{ data: Record<string, string> }>(info, [
      "-n",
      NS,
      "get",
      "configmap",
      FULLNAME,
    ]);
    assert.match(Object.values(cm.data).join("\n"), /max\(<<\.Series>>/);
    assert.ok(counts.ok > 0);
    assert.deepEqual([...replicas], [2], "the HPA's replicas never changed");

    await helm(["uninstall", RELEASE, "-n", NS, "--wait", "--timeout=5m"]);
    await waitFor(
      "the release's pods gone",
      async () => ((await pods()).length === 0 ? true : undefined),
      120_000,
      1000,
    );
    const left = await kubectl(info, [
      "-n",
      NS,
      "get",
      "all,configmaps,secrets,serviceaccounts,roles,rolebindings,endpointslices,poddisruptionbudgets",
      "-o",
      "name",
    ]);
    const leftover = left
      .split("\n")
      .filter((l) => l && l !== "configmap/kube-root-ca.crt" && l !== "serviceaccount/default");
    assert.deepEqual(leftover, []);
    const cluster = await kubectl(info, [
      "get",
      "clusterroles,clusterrolebindings,apiservices",
      "-o",
      "name",
    ]);
    assert.doesNotMatch(cluster, new RegExp(`${FULLNAME}|metrics\\.k8s\\.io`));
    const sys = await kubectl(info, ["-n", "kube-system", "get", "rolebindings", "-o", "name"]);
    assert.doesNotMatch(sys, new RegExp(FULLNAME));
    // Zero, as in test/e2e/pods-adapter.test.ts: the rollout loses no request.
    assert.equal(
      failed,
      0,
      `helm upgrade: ${String(failed)} failed requests ${JSON.stringify(Object.fromEntries(counts.failed))}`,
    );
  });
});
