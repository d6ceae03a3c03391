/**
 * @module test/deploy-rbac
 * deploy/'s RBAC in a real kube-apiserver: what the adapter's ServiceAccount may and may not do
 * once deploy/base's (and the resource-metrics overlay's) RBAC is applied, asked with
 * `kubectl auth can-i --as`; what a user bound only to `view` gets from `kubectl top` and from
 * custom.metrics.k8s.io through the registered adapter, before and after the aggregated
 * ClusterRoles; and the error the adapter's lister makes of a real 403.
 *
 * The local cluster's kube-controller-manager runs without the clusterrole-aggregation
 * controller, so `view` has no rules there; this file runs that one controller in a second
 * kube-controller-manager of its own for its duration, and puts the aggregated ClusterRoles'
 * rules back as they were afterwards. Every cluster-scoped object it creates is deleted; deploy/
 * base's RBAC stays (the registered adapter runs with it).
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { existingRegistration } from "../../src/harness/adapter-registration.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { cachedBinaries } from "../../src/harness/kube-binaries.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { ListForbiddenError, listObjectNames } from "../../src/kube/lister.ts";
import type { ResourceInfo } from "../../src/kube/rest-mapper.ts";
import { startAdapter } from "../support/adapter.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { stopChild } from "../support/process.ts";
import { startPrometheus } from "../support/prometheus.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";
import { constantSeries } from "../support/series.ts";

const T = { timeout: 240_000 };
const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BASE = join(REPO, "deploy", "base");
const RESOURCE_METRICS = join(REPO, "deploy", "overlays", "resource-metrics");
const CUSTOM_METRICS_VIEW = join(REPO, "deploy", "optional", "custom-metrics-view");
const ADAPTER = "system:serviceaccount:custom-metrics:k8s-custom-metrics";
const RBAC_KINDS = new Set(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
/** A metric the node agent's cAdvisor-style series give every running pod (default rules). */
const METRIC = "memory_usage_bytes";
const SUFFIX = Date.now().toString(36);
const NODE_VIEWER_BINDING = `kcm-rbac-node-viewer-${SUFFIX}`;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: unknown[];
  aggregationRule?: unknown;
}

interface Outcome {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

async function kustomize(dir: string): Promise<KubeObject[]> {
  const { stdout } = await exec("kubectl", ["kustomize", dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

describe("deploy/ RBAC in a real cluster", () => {
  let info: ClusterInfo;
  let ns: string;
  let aggregator: ChildProcess | undefined;
  /** The rules of every ClusterRole with an aggregationRule, before the controller ran. */
  const aggregatedBefore = new Map<string, unknown[] | null>();
  /** Cluster-scoped objects this file created, as `kind/name`, deleted at the end. */
  const created: string[] = [];
  let aggregationSaExisted = true;

  const k = (args: string[], input?: string) => kubectl(info, args, input);

  /** kubectl, telling success from failure instead of throwing. */
  async function outcome(args: string[]): Promise<Outcome> {
    try {
      return { ok: true, stdout: await k(args), stderr: "" };
    } catch (e) {
      const x = e as { stdout?: unknown; stderr?: unknown };
      const text = (v: unknown) => (typeof v === "string" ? v : "");
      return { ok: false, stdout: text(x.stdout), stderr: text(x.stderr) || String(e) };
    }
  }

  /** `kubectl auth can-i … --as=user`: the answer, yes or no. */
  async function canI(user: string, args: string[]): Promise<boolean> {
    const r = await outcome(["auth", "can-i", ...args, `--as=${user}`]);
    const answer = r.stdout.trim().split("\n")[0];
    assert.ok(answer === "yes" || answer === "no", `can-i ${args.join(" ")}: ${r.stderr}`);
    return answer === "yes";
  }

  async function exists(kind: string, name: string, namespace?: string): Promise<boolean> {
    const nsArgs = namespace === undefined ? [] : ["-n", namespace];
    const out = await k([...nsArgs, "get", kind, name, "--ignore-not-found", "-o", "name"]);
    return out.trim() !== "";
  }

  /** Applies `objects` for real, remembering the cluster-scoped ones that did not exist. */
  async function applyTracked(objects: readonly KubeObject[]): Promise<void> {
    for (const o of objects) {
      if (o.metadata.namespace === undefined && !(await exists(o.kind, o.metadata.name))) {
        created.push(`${o.kind.toLowerCase()}/${o.metadata.name}`);
      }
    }
    await applyObjects(info, objects);
  }

  async function clusterRole(name: string): Promise<KubeObject> {
    return kubectlJson<KubeObject>(info, ["get", "clusterrole", name]);
  }

  /** Waits for the aggregation controller to have put a rule of `group` into `view`. */
  async function viewAggregates(group: string): Promise<void> {
    await waitFor(
      `the view ClusterRole to aggregate ${group}`,
      async () => {
        const rules = ((await clusterRole("view")).rules ?? []) as { apiGroups?: string[] }[];
        return rules.some((r) => r.apiGroups?.includes(group)) ? true : undefined;
      },
      60_000,
      500,
    );
  }

  before(async () => {
    info = await testCluster();
    // Registration applies deploy/base's RBAC and runs the adapter with its ServiceAccount.
    await ensureRegisteredAdapter(info);
    ns = await freshNamespace(info, "rbac");
    // A pod the node agent runs: cAdvisor-style series (custom metrics) and kubelet metrics.
    await k([
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
    const roles = await kubectlJson<{ items: KubeObject[] }>(info, ["get", "clusterroles"]);
    for (const r of roles.items) {
      if (r.aggregationRule) aggregatedBefore.set(r.metadata.name, r.rules ?? null);
    }
    aggregationSaExisted = await exists(
      "serviceaccount",
      "clusterrole-aggregation-controller",
      "kube-system",
    );
    // Users with `view` only: in the namespace; and across the cluster (nodes are cluster-scoped).
    await k(["-n", ns, "create", "serviceaccount", "viewer"]);
    await k(["-n", ns, "create", "serviceaccount", "node-viewer"]);
    await k([
      "-n",
      ns,
      "create",
      "rolebinding",
      "viewer",
      "--clusterrole=view",
      `--serviceaccount=${ns}:viewer`,
    ]);
    created.push(`clusterrolebinding/${NODE_VIEWER_BINDING}`);
    await k([
      "create",
      "clusterrolebinding",
      NODE_VIEWER_BINDING,
      "--clusterrole=view",
      `--serviceaccount=${ns}:node-viewer`,
    ]);
    aggregator = startAggregationController(info);
    await viewAggregates(""); // system:aggregate-to-view's rules: the controller works
  });

  after(async () => {
    if (aggregator) await stopChild(aggregator);
    for (const name of created.reverse()) {
      await k(["delete", name, "--ignore-not-found"]).catch(() => undefined);
    }
    // The controller is gone: give the aggregated roles back the rules they had.
    for (const [name, rules] of aggregatedBefore) {
      await k([
        "patch",
        "clusterrole",
        name,
        "--type=merge",
        "-p",
        JSON.stringify({ rules }),
      ]).catch(() => undefined);
    }
    if (!aggregationSaExisted) {
      await k([
        "-n",
        "kube-system",
        "delete",
        "serviceaccount",
        "clusterrole-aggregation-controller",
        "--ignore-not-found",
      ]).catch(() => undefined);
    }
    if (ns) await k(["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  });

  test(
    "deploy/base: the adapter's ServiceAccount reads what it serves, never Secrets",
    T,
    async () => {
      const rbac = (await kustomize(BASE)).filter(
        (o) => RBAC_KINDS.has(o.kind) || o.kind === "ServiceAccount" || o.kind === "Namespace",
      );
      // Already there (the registration applied them): applying again changes nothing.
      await applyObjects(info, rbac);

      const yes: string[][] = [
        ["list", "pods", "--all-namespaces"],
        ["watch", "pods", "--all-namespaces"],
        ["get", "pods", "-n", ns],
        ["list", "namespaces"],
        ["list", "services", "--all-namespaces"],
        ["list", "nodes"],
        ["get", "nodes"],
        ["list", "persistentvolumeclaims", "--all-namespaces"],
        ["list", "deployments.apps", "--all-namespaces"],
        ["list", "statefulsets.apps", "-n", ns],
        ["list", "jobs.batch", "--all-namespaces"],
        ["create", "tokenreviews.authentication.k8s.io"],
        ["create", "subjectaccessreviews.authorization.k8s.io"],
        ["get", "configmaps/extension-apiserver-authentication", "-n", "kube-system"],
      ];
      const no: string[][] = [
        ["get", "secrets", "--all-namespaces"],
        ["list", "secrets", "--all-namespaces"],
        ["watch", "secrets", "--all-namespaces"],
        ["get", "secrets", "-n", "kube-system"],
        ["list", "secrets", "-n", "custom-metrics"],
        ["list", "configmaps", "--all-namespaces"],
        ["get", "configmaps", "-n", ns],
        ["list", "serviceaccounts", "--all-namespaces"],
        ["create", "serviceaccounts", "--subresource=token", "-n", "kube-system"],
        ["create", "pods", "-n", ns],
        ["delete", "pods", "-n", ns],
        ["patch", "deployments.apps", "-n", ns],
        ["update", "nodes"],
        ["get", "nodes", "--subresource=proxy"],
        ["get", "nodes", "--subresource=metrics"],
        ["list", "horizontalpodautoscalers.autoscaling", "--all-namespaces"],
        ["impersonate", "users"],
        ["*", "*"],
      ];
      for (const args of yes) assert.equal(await canI(ADAPTER, args), true, args.join(" "));
      for (const args of no) assert.equal(await canI(ADAPTER, args), false, args.join(" "));

      // Nothing in any namespace names Secrets (the table lists every rule that applies).
      for (const n of ["kube-system", "custom-metrics", ns]) {
        const list = await k(["auth", "can-i", "--list", "-n", n, `--as=${ADAPTER}`]);
        assert.doesNotMatch(list, /^secrets\b/m, `can-i --list -n ${n}:\n${list}`);
        assert.doesNotMatch(list, /^\*\.\*\s/m, `no wildcard resource in -n ${n}:\n${list}`);
      }
    },
  );

  test("the adapter's 403 becomes the missing ClusterRole rule (real API server)", T, async () => {
    const client = new KubeClient({ kubeconfig: existingRegistration(info).kubeconfig });
    try {
      const secrets: ResourceInfo = {
        group: "",
        version: "v1",
        resource: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        verbs: ["list"],
      };
      let err: unknown;
      await listObjectNames(client, secrets, ns, "").catch((e: unknown) => (err = e));
      assert.ok(err instanceof ListForbiddenError, String(err));
      assert.equal(err.user, ADAPTER);
      assert.equal(err.namespace, ns);
      assert.equal(
        err.publicReason,
        `the adapter's ServiceAccount may not list "secrets"; grant it the ClusterRole rule {apiGroups: [""], resources: ["secrets"], verbs: ["list"]}`,
      );
      // And what it may list, it lists.
      const deployments: ResourceInfo = {
        group: "apps",
        version: "v1",
        resource: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        verbs: ["list"],
      };
      assert.deepEqual(await listObjectNames(client, deployments, ns, ""), []);
    } finally {
      client.close();
    }
  });

  test(
    "a `*` request on a resource outside the adapter's RBAC answers the rule to grant",
    T,
    async () => {
      // The default rules map the `configmap` and `deployment` labels to their resources; the
      // base lets the adapter list deployments, not configmaps.
      const openMetrics = constantSeries([
        ["kcm_rbac_size", { namespace: ns, configmap: "settings" }, "3"],
        ["kcm_rbac_ready", { namespace: ns, deployment: "web" }, "2"],
      ]);
      await k(["-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=0"]);
      const prom = await startPrometheus({ openMetrics });
      try {
        // With the ServiceAccount's token, as deployed (the registration's kubeconfig).
        const adapter = await startAdapter({
          prometheusUrl: prom.url,
          kubeconfig: existingRegistration(info).kubeconfig,
          maxAge: "1h",
        });
        try {
          const cm = `${adapter.url}/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}`;
          const refused = await fetch(`${cm}/configmaps/*/kcm_rbac_size`);
          const status = (await refused.json()) as { code: number; message: string };
          assert.equal(refused.status, 500);
          assert.equal(
            status.message,
            'Internal error occurred: unable to list matching resources: the adapter\'s ServiceAccount may not list "configmaps"; grant it the ClusterRole rule {apiGroups: [""], resources: ["configmaps"], verbs: ["list"]}',
          );
          await waitFor("the error log line", () =>
            Promise.resolve(
              adapter
                .logs()
                .includes(
                  `"msg":"unable to list matching resources: the adapter's ServiceAccount \\"${ADAPTER}\\" may not list \\"configmaps\\" in namespace \\"${ns}\\"; grant it`,
                )
                ? true
                : undefined,
            ),
          );
          // A named object lists nothing, so it needs no grant; deployments are listed.
          const named = await fetch(`${cm}/configmaps/settings/kcm_rbac_size`);
          assert.equal(named.status, 200, await named.clone().text());
          const listed = await fetch(`${cm}/deployments.apps/*/kcm_rbac_ready`);
          const body = (await listed.json()) as { items: { describedObject: { name: string } }[] };
          assert.equal(listed.status, 200, JSON.stringify(body));
          assert.deepEqual(
            body.items.map((i) => i.describedObject.name),
            ["web"],
          );
        } finally {
          await adapter.stop();
        }
      } finally {
        await prom.stop();
      }
    },
  );

  test(
    "overlay resource-metrics: kubelets' metrics for the adapter, kubectl top for `view`",
    T,
    async () => {
      const baseKeys = new Set((await kustomize(BASE)).map(key));
      const extra = (await kustomize(RESOURCE_METRICS)).filter(
        (o) => RBAC_KINDS.has(o.kind) && !baseKeys.has(key(o)),
      );
      const reader = extra.find((o) => o.metadata.name === "system:aggregated-metrics-reader");
      assert.ok(reader, "the overlay has system:aggregated-metrics-reader");
      const readerExisted = await exists("clusterrole", "system:aggregated-metrics-reader");

      const viewer = `system:serviceaccount:${ns}:viewer`;
      const nodeViewer = `system:serviceaccount:${ns}:node-viewer`;

      if (!readerExisted) {
        // Before the overlay: `view` has no metrics.k8s.io, and the adapter refuses.
        const r = await outcome(["top", "pods", "-n", ns, `--as=${viewer}`]);
        assert.equal(r.ok, false, r.stdout);
        assert.match(r.stderr, /Forbidden/);
      }

      await applyTracked(extra);
      assert.equal(await canI(ADAPTER, ["get", "nodes", "--subresource=metrics"]), true);
      assert.equal(await canI(ADAPTER, ["get", "nodes", "--subresource=proxy"]), false);
      await viewAggregates("metrics.k8s.io");
      assert.equal(await canI(viewer, ["list", "pods.metrics.k8s.io", "-n", ns]), true);
      assert.equal(await canI(viewer, ["list", "pods.metrics.k8s.io", "-n", "kube-system"]), false);

      // kubectl top through the aggregator and the adapter (which asks kube-apiserver, with a
      // SubjectAccessReview, whether the viewer may; denials are cached for a few seconds).
      const rows = await waitFor(
        "`kubectl top pods` as a user with only view",
        async () => {
          const r = await outcome(["top", "pods", "-n", ns, "--no-headers", `--as=${viewer}`]);
          return r.ok && /^sleeper\s+\d+m\s+\d+Mi\s*$/m.test(r.stdout) ? r.stdout : undefined;
        },
        120_000,
        2000,
      );
      assert.match(rows, /^sleeper\s/m);
      const other = await outcome(["top", "pods", "-n", "kube-system", `--as=${viewer}`]);
      assert.equal(other.ok, false, "view in one namespace is not view in another");
      assert.match(other.stderr, /Forbidden/);

      const nodes = JSON.parse(
        await k(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes", `--as=${nodeViewer}`]),
      ) as { kind: string; items: { metadata: { name: string } }[] };
      assert.equal(nodes.kind, "NodeMetricsList");
      assert.deepEqual(
        nodes.items.map((n) => n.metadata.name),
        [info.nodeName],
      );
      if (!readerExisted) {
        assert.ok(created.includes("clusterrole/system:aggregated-metrics-reader"));
      }
    },
  );

  test(
    "custom metrics and `view`: refused by default, served with deploy/optional/custom-metrics-view",
    T,
    async () => {
      const viewer = `system:serviceaccount:${ns}:viewer`;
      const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/${METRIC}`;
      // The metric is there (as system:masters): a refusal below is RBAC's, not a 404.
      await waitFor(
        `${METRIC} for the sleeper pod`,
        async () => {
          const r = await outcome(["get", "--raw", path]);
          return r.ok && r.stdout.includes('"name":"sleeper"') ? true : undefined;
        },
        120_000,
        1000,
      );

      // deploy/base ships no aggregation of custom metrics into view (as upstream's chart).
      const denied = await outcome(["get", "--raw", path, `--as=${viewer}`]);
      assert.equal(denied.ok, false, denied.stdout);
      assert.match(denied.stderr, /Forbidden/);

      const optional = await kustomize(CUSTOM_METRICS_VIEW);
      assert.deepEqual(
        optional.map((o) => o.kind),
        ["ClusterRole"],
      );
      await applyTracked(optional);
      await viewAggregates("custom.metrics.k8s.io");
      const body = await waitFor(
        "custom metrics as a user with only view, once the optional role is applied",
        async () => {
          const r = await outcome(["get", "--raw", path, `--as=${viewer}`]);
          return r.ok ? r.stdout : undefined;
        },
        60_000,
        2000,
      );
      const list = JSON.parse(body) as {
        kind: string;
        items: { describedObject: { name: string; namespace: string }; metric: { name: string } }[];
      };
      assert.equal(list.kind, "MetricValueList");
      assert.ok(
        list.items.some((i) => i.describedObject.name === "sleeper"),
        JSON.stringify(list.items),
      );
      for (const i of list.items) assert.equal(i.describedObject.namespace, ns);

      // Still only in the viewer's namespace, and never external metrics.
      const elsewhere = await outcome([
        "get",
        "--raw",
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/kube-system/pods/*/${METRIC}`,
        `--as=${viewer}`,
      ]);
      assert.equal(elsewhere.ok, false);
      assert.match(elsewhere.stderr, /Forbidden/);
      const external = await outcome([
        "get",
        "--raw",
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/queue_depth`,
        `--as=${viewer}`,
      ]);
      assert.equal(external.ok, false);
      assert.match(external.stderr, /Forbidden/);
    },
  );
});

/**
 * A kube-controller-manager running only the clusterrole-aggregation controller, with the local
 * cluster's controller-manager credentials, serving nothing. Its log goes to the state folder.
 */
function startAggregationController(info: ClusterInfo): ChildProcess {
  const bin = cachedBinaries()?.paths["kube-controller-manager"];
  assert.ok(bin, "kube-controller-manager is built (local up builds it)");
  const p = statePaths(info.stateDir);
  const log = openSync(join(p.logs, "deploy-rbac-aggregation-controller.log"), "a");
  try {
    return spawn(
      bin,
      [
        `--kubeconfig=${p.kcmKubeconfig}`,
        `--authentication-kubeconfig=${p.kcmKubeconfig}`,
        `--authorization-kubeconfig=${p.kcmKubeconfig}`,
        "--secure-port=0",
        "--leader-elect=false",
        "--use-service-account-credentials=true",
        "--controllers=clusterrole-aggregation-controller",
        "--profiling=false",
      ],
      { stdio: ["ignore", log, log] },
    );
  } finally {
    closeSync(log);
  }
}
