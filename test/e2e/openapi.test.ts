import { before, test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

let info: ClusterInfo;
before(async () => {
  info = await testCluster();
  await ensureRegisteredAdapter(info);
});

test(
  "kube-apiserver's aggregator merges our OpenAPI v2 and v3 documents",
  { timeout: 180_000 },
  async () => {
    const v2 = await waitFor(
      "our definitions in the cluster's /openapi/v2",
      async () => {
        const doc = JSON.parse(await kubectl(info, ["get", "--raw", "/openapi/v2"])) as {
          definitions: Record<string, unknown>;
        };
        return "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList" in doc.definitions
          ? doc
          : undefined;
      },
      150_000,
      3000,
    );
    assert.ok(
      "io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList" in v2.definitions,
    );
    const v3 = JSON.parse(await kubectl(info, ["get", "--raw", "/openapi/v3"])) as {
      paths: Record<string, unknown>;
    };
    assert.ok("apis/custom.metrics.k8s.io/v1beta2" in v3.paths, Object.keys(v3.paths).join(","));
    const doc = JSON.parse(
      await kubectl(info, ["get", "--raw", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2"]),
    ) as { components: { schemas: Record<string, unknown> } };
    assert.ok(
      "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue" in doc.components.schemas,
    );
  },
);
