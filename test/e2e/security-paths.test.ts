/**
 * @module test/security-paths
 * Regression tests for the `..` authorization bypass (issue #20), against the adapter registered
 * behind the local cluster's real aggregator. Each exploit is sent byte for byte (no client-side
 * normalization): straight to the adapter port with a ServiceAccount token that has no RBAC, and
 * through kube-apiserver as a ServiceAccount allowed to read metrics in namespace A only. None may
 * return another namespace's data. Loopback only.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { httpsGet } from "../support/http.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const T = { timeout: 180_000 };
const METRIC = "memory_usage_bytes";
const ROLE = `kcm-security-paths-${Date.now().toString(36)}`;

interface Reply {
  readonly status: number;
  readonly text: string;
}

/** One HTTPS GET whose request target is sent exactly as given (curl --path-as-is). */
function rawGet(port: number, target: string, token: string, ca: string): Promise<Reply> {
  return httpsGet({
    port,
    path: target,
    ca,
    servername: "localhost",
    insecure: true,
    headers: { authorization: `Bearer ${token}` },
  });
}

describe("request paths: what is authorized is what is served", () => {
  let info: ClusterInfo;
  let a: string;
  let b: string;
  let ca: string;
  let nobody: string;
  let reader: string;

  before(async () => {
    info = await testCluster();
    await ensureRegisteredAdapter(info);
    ca = await readFile(info.pki.caCert, "utf8");
    a = await freshNamespace(info, "sec-a");
    b = await freshNamespace(info, "sec-b");
    for (const ns of [a, b]) {
      await kubectl(info, [
        "-n",
        ns,
        "run",
        "sleeper",
        "--image=busybox",
        "--restart=Never",
        "--command",
        "--",
        "sh",
        "-c",
        "sleep 3600",
      ]);
    }
    // `reader` may read the pod metric and pod usage in namespace A only; `nobody` has no RBAC.
    await applyObjects(info, [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "reader", namespace: a } },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "nobody", namespace: a } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: ROLE },
        rules: [
          {
            apiGroups: ["custom.metrics.k8s.io"],
            resources: [`pods/${METRIC}`],
            verbs: ["get"],
          },
          { apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: ["get", "list"] },
          { apiGroups: ["external.metrics.k8s.io"], resources: ["*"], verbs: ["list"] },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: ROLE, namespace: a },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: a }],
      },
    ]);
    nobody = (await kubectl(info, ["-n", a, "create", "token", "nobody"])).trim();
    reader = (await kubectl(info, ["-n", a, "create", "token", "reader"])).trim();
    // Both namespaces' pods are discovered and served: the exploits below would leak real data.
    await waitFor(
      `${METRIC} in ${b} through the aggregator`,
      async () => {
        const out = await kubectl(info, [
          "get",
          "--raw",
          `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${b}/pods/*/${METRIC}`,
        ]).catch(() => "");
        return out.includes('"name":"sleeper"') ? true : undefined;
      },
      120_000,
      1000,
    );
    // The reader's own namespace works through the aggregator once RBAC is live.
    await waitFor("reader's RBAC", async () => {
      const r = await rawGet(
        info.ports.apiserver,
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${a}/pods/*/${METRIC}`,
        reader,
        ca,
      );
      return r.status === 200 && r.text.includes('"name":"sleeper"') ? true : undefined;
    });
  });

  after(async () => {
    for (const ns of [a, b]) {
      await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
    }
    await kubectl(info, ["delete", "clusterrole", ROLE, "--ignore-not-found"]).catch(
      () => undefined,
    );
  });

  const leaked = (r: Reply, ns: string) => r.status === 200 || r.text.includes(`"${ns}"`);

  test("straight to the adapter, a token without RBAC reads nothing", T, async () => {
    const port = info.ports.adapter;
    const cm = "/apis/custom.metrics.k8s.io/v1beta2";
    // The same request without a trick is refused: the baseline the tricks must not beat.
    const plain = await rawGet(port, `${cm}/namespaces/${b}/pods/*/${METRIC}`, nobody, ca);
    assert.equal(plain.status, 403, plain.text);
    const cases: [string, number][] = [
      [`/openapi/%2e%2e${cm}/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`/openapi/..${cm}/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`/healthz/%2E%2E${cm}/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`/openapi/%2e%2e/apis/metrics.k8s.io/v1beta1/namespaces/${b}/pods`, 404],
      ["/openapi/%2e%2e/apis/metrics.k8s.io/v1beta1/nodes", 404],
      [`/openapi/%2e%2e/apis/external.metrics.k8s.io/v1beta1/namespaces/${b}/queue_depth`, 404],
      ["/openapi/%2e%2e/metrics", 404],
      [`/openapi/.%2e${cm}/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`/apis%2Fcustom.metrics.k8s.io/v1beta2/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`//apis/custom.metrics.k8s.io/v1beta2/namespaces/${b}/pods/*/${METRIC}`, 404],
      [`http://other.example${cm}/namespaces/${b}/pods/*/${METRIC}`, 400],
    ];
    for (const [target, want] of cases) {
      const r = await rawGet(port, target, nobody, ca);
      assert.equal(r.status, want, `${target}: ${r.text}`);
      assert.ok(!leaked(r, b), `${target} leaked: ${r.text}`);
      assert.match(r.text, /"kind":"Status"/, target);
    }
  });

  test("through the aggregator, a user of namespace A reads nothing of B", T, async () => {
    const port = info.ports.apiserver;
    const cases = [
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${a}/pods/*/${METRIC}/../../../../${b}/pods/*/${METRIC}`,
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${a}/pods/*/${METRIC}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/${b}/pods/*/${METRIC}`,
      `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${a}/pods/*/${METRIC}/../../../../${b}/pods/*/${METRIC}`,
      `/apis/metrics.k8s.io/v1beta1/namespaces/${a}/pods/x/%2e%2e/%2e%2e/%2e%2e/${b}/pods`,
      `/apis/metrics.k8s.io/v1beta1/namespaces/${a}/pods/x/../../../${b}/pods`,
      `/apis/external.metrics.k8s.io/v1beta1/namespaces/${a}/queue_depth/%2e%2e/%2e%2e/${b}/queue_depth`,
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${a}/pods/*/${METRIC}/..%2F..%2F..%2F..%2F${b}/pods/*/${METRIC}`,
    ];
    for (const target of cases) {
      const r = await rawGet(port, target, reader, ca);
      assert.notEqual(r.status, 200, `${target}: ${r.text}`);
      assert.ok(!leaked(r, b), `${target} leaked: ${r.text}`);
    }
    // B itself stays forbidden, and A still works: the refusals above are not blanket failures.
    const direct = await rawGet(
      port,
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${b}/pods/*/${METRIC}`,
      reader,
      ca,
    );
    assert.equal(direct.status, 403, direct.text);
    const own = await rawGet(
      port,
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${a}/pods/*/${METRIC}`,
      reader,
      ca,
    );
    assert.equal(own.status, 200, own.text);
  });
});
