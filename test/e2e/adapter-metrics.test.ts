import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { testCluster } from "../support/cluster.ts";

let info: ClusterInfo;
let adapter: RunningAdapter;
before(async () => {
  info = await testCluster();
  adapter = await startAdapter({ prometheusUrl: info.prometheusUrl, kubeconfig: info.kubeconfig });
});
after(async () => {
  await adapter.stop();
});

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

test(
  "/metrics counts requests, Prometheus calls and discovery runs",
  { timeout: 60_000 },
  async () => {
    const list = await fetch(`${adapter.url}/apis/custom.metrics.k8s.io/v1beta1`);
    assert.equal(list.status, 200);
    const missing = await fetch(
      `${adapter.url}/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/%2A/no_such_metric`,
    );
    assert.equal(missing.status, 404);
    const text = await (await fetch(`${adapter.url}/metrics`)).text();
    assert.ok(
      (sample(text, "k8s_custom_metrics_discovery_runs_total", 'outcome="success"') ?? 0) >= 1,
      text,
    );
    assert.notEqual(
      sample(text, "k8s_custom_metrics_discovered_metrics", 'api="custom"'),
      undefined,
    );
    assert.ok(
      (sample(
        text,
        "k8s_custom_metrics_prometheus_request_duration_seconds_count",
        'endpoint="/api/v1/label/:name/values",outcome="success"',
      ) ?? 0) >= 1,
    );
    assert.equal(
      sample(
        text,
        "apiserver_request_total",
        'group="custom.metrics.k8s.io",verb="GET",code="404"',
      ),
      1,
    );
    assert.match(text, /^k8s_custom_metrics_build_info\{version="v0\.1\.0",node_version="v20\./m);
  },
);
