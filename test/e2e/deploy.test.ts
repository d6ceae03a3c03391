/**
 * @module test/deploy
 * deploy/: the committed manifests against the code they configure (the ConfigMap is exactly the
 * default config, the Deployment's args are flags `serve` knows, the overlay's copies of examples/
 * have not drifted, the adapter's RBAC is read-only and names no Secrets, the aggregated
 * ClusterRoles carry the view/edit/admin labels), then against a real kube-apiserver: deploy/crds
 * installs and becomes Established, and `kubectl apply --dry-run=server` accepts every object of
 * deploy/base, the overlays and deploy/optional (test/e2e/deploy-rbac.test.ts applies the RBAC for
 * real and checks what it allows). Dry runs change nothing; the Namespaces the objects live in are
 * created for real (admission refuses objects in a namespace that does not exist, dry run or not),
 * and what this file created is deleted at the end, except custom-metrics, which other test files
 * share.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { serveCommand } from "../../src/cli/serve.ts";
import { defaultConfigYaml } from "../../src/config/defaults.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { checkTemplate } from "../../src/providers/prometheus/rules.ts";
import { opensslCiphers } from "../../src/server/secure-serving.ts";
import { kubectl, testCluster } from "../support/cluster.ts";

const T = { timeout: 120_000 };
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BASE = join(REPO, "deploy", "base");
const CRDS = join(REPO, "deploy", "crds");
const SEED = join(REPO, "deploy", "overlays", "seed-stack");
const RESOURCE_METRICS = join(REPO, "deploy", "overlays", "resource-metrics");
const CUSTOM_METRICS_VIEW = join(REPO, "deploy", "optional", "custom-metrics-view");
/** The labels that aggregate a ClusterRole into view, edit and admin. */
const AGGREGATE_TO_ALL = {
  "rbac.authorization.k8s.io/aggregate-to-admin": "true",
  "rbac.authorization.k8s.io/aggregate-to-edit": "true",
  "rbac.authorization.k8s.io/aggregate-to-view": "true",
};
const IMAGE = "ghcr.io/k8s-custom-metrics/k8s-custom-metrics:v0.1.0";
/** The flags a prometheus-adapter Deployment passes (kube-prometheus), in the same order. */
const PROMETHEUS_ADAPTER_ARGS = [
  "--config=/etc/adapter/config.yaml",
  "--prometheus-url=http://prometheus-k8s.monitoring.svc:9090/",
  "--secure-port=6443",
  "--cert-dir=/var/run/serving-cert",
  "--metrics-relist-interval=1m",
  "--v=2",
];
/** Each file of deploy/overlays/seed-stack that must stay a copy of one in examples/. */
const EXAMPLE_COPIES: readonly (readonly [string, string])[] = [
  ["demo/nginx.yaml", "seed/nginx.yaml"],
  ["demo/demo-app.yaml", "requests-per-second/demo-app.yaml"],
  ["demo/service-rps.yaml", "object/service-rps.yaml"],
  ["demo/queue-worker.yaml", "external/queue-worker.yaml"],
  ["adapter-config.yaml", "adapter-config.yaml"],
];

const exec = promisify(execFile);

/** Only the fields these tests read; everything else is `unknown`. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  rules?: PolicyRule[];
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Binding extends KubeObject {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
}

interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  affinity?: {
    podAntiAffinity?: {
      preferredDuringSchedulingIgnoredDuringExecution?: {
        podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: object } };
      }[];
      requiredDuringSchedulingIgnoredDuringExecution?: {
        topologyKey: string;
        labelSelector: { matchLabels: object };
      }[];
    };
  };
  containers: Container[];
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
}

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** `kubectl kustomize dir`: client-side, no cluster needed. */
async function kustomize(dir: string): Promise<KubeObject[]> {
  const { stdout } = await exec("kubectl", ["kustomize", dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseObjects(stdout);
}

function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind} ${name} in ${objects.map((x) => x.kind).join(",")}`);
  return o;
}

function flagValue(args: readonly string[], flag: string): string {
  const a = args.find((x) => x.startsWith(`${flag}=`));
  assert.ok(a, `${flag} is not among the args ${JSON.stringify(args)}`);
  return a.slice(flag.length + 1);
}

/**
 * The lines of `kubectl apply --dry-run=server`: one `<resource>/<name> <verb> (server dry run)`
 * per object. Returns the names, after checking every line has that shape.
 */
function dryRunNames(stdout: string): string[] {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  return lines.map((l) => {
    const m =
      /^([a-z0-9.-]+)\/(\S+) (created|configured|unchanged|serverside-applied) \(server dry run\)$/.exec(
        l,
      );
    assert.ok(m, `unexpected kubectl apply output line: ${l}`);
    return m[2] ?? "";
  });
}

describe("deploy/ manifests against the code", () => {
  test("deploy/base's ConfigMap holds exactly defaultConfigYaml(), and it loads", T, async () => {
    const text = await readFile(join(BASE, "config-map.yaml"), "utf8");
    const [cm, ...rest] = parseObjects(text);
    assert.equal(rest.length, 0);
    assert.equal(cm?.kind, "ConfigMap");
    const config = cm.data?.["config.yaml"];
    assert.equal(
      config,
      defaultConfigYaml(),
      "deploy/base/config-map.yaml drifted from src/config/defaults.ts: regenerate it (see its header)",
    );
    const parsed = parseConfig(config, "deploy/base/config-map.yaml", {
      compileTemplate: checkTemplate,
    });
    assert.ok((parsed.rules ?? []).length > 0);
  });

  test(
    "the seed-stack overlay's copies of examples/ are identical, and its config loads",
    T,
    async () => {
      for (const [copy, original] of EXAMPLE_COPIES) {
        assert.equal(
          await readFile(join(SEED, copy), "utf8"),
          await readFile(join(REPO, "examples", original), "utf8"),
          `deploy/overlays/seed-stack/${copy} drifted from examples/${original}: copy it again`,
        );
      }
      const objects = await kustomize(SEED);
      const cm = find(objects, "ConfigMap", "adapter-config");
      assert.equal(cm.metadata.namespace, "custom-metrics");
      const config = cm.data?.["config.yaml"] ?? "";
      assert.equal(config, await readFile(join(REPO, "examples", "adapter-config.yaml"), "utf8"));
      const parsed = parseConfig(config, "adapter-config.yaml", { compileTemplate: checkTemplate });
      assert.ok((parsed.externalRules ?? []).length > 0);
    },
  );

  test(
    "the adapter Deployment: prometheus-adapter's flags, probes, hardening, volumes",
    T,
    async () => {
      const objects = await kustomize(BASE);
      const deployment = find(objects, "Deployment", "k8s-custom-metrics");
      const spec = deployment.spec as DeploymentSpec;
      const pod = spec.template.spec;
      assert.equal(spec.replicas, 2);
      assert.equal(deployment.metadata.namespace, "custom-metrics");
      assert.equal(pod.containers.length, 1);
      const c = pod.containers[0]!;
      assert.equal(c.image, IMAGE);

      // The args: prometheus-adapter's, then TLS cipher suites; every flag is one `serve` knows.
      const args = c.args ?? [];
      assert.deepEqual(args.slice(0, PROMETHEUS_ADAPTER_ARGS.length), PROMETHEUS_ADAPTER_ARGS);
      const known = new Set(serveCommand().options.map((o) => o.long));
      for (const a of args) {
        const flag = a.split("=")[0] ?? "";
        assert.ok(known.has(flag), `serve has no flag ${flag}`);
      }
      const suites = flagValue(args, "--tls-cipher-suites").split(",");
      assert.ok(suites.length >= 4);
      assert.ok(opensslCiphers(suites), "the cipher suites map to an OpenSSL cipher list");

      // HTTPS on 6443 named https: the Service's targetPort, the probes' port.
      assert.deepEqual(
        c.ports?.map((p) => [p.name, p.containerPort]),
        [["https", 6443]],
      );
      const service = find(objects, "Service", "k8s-custom-metrics");
      const svcSpec = service.spec as {
        selector: Record<string, string>;
        ports: { port: number; targetPort: string }[];
      };
      assert.deepEqual(
        svcSpec.ports.map((p) => [p.port, p.targetPort]),
        [[443, "https"]],
      );
      for (const [k, v] of Object.entries(svcSpec.selector)) {
        assert.equal(spec.template.metadata.labels[k], v, `the Service selects the pods by ${k}`);
      }
      assert.deepEqual(c.livenessProbe?.httpGet, {
        path: "/livez",
        port: "https",
        scheme: "HTTPS",
      });
      assert.deepEqual(c.readinessProbe?.httpGet, {
        path: "/readyz",
        port: "https",
        scheme: "HTTPS",
      });
      assert.ok(c.resources?.requests?.["cpu"] && c.resources.requests["memory"]);
      assert.ok(c.resources.limits?.["memory"]);

      // Hardening.
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile?.type, "RuntimeDefault");
      assert.equal(c.securityContext?.runAsNonRoot, true);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities?.drop, ["ALL"]);
      assert.equal(c.securityContext.seccompProfile?.type, "RuntimeDefault");

      // Anti-affinity by hostname on the pods' own labels.
      const anti = pod.affinity?.podAntiAffinity;
      const terms = [
        ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
          (t) => t.podAffinityTerm,
        ),
        ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ];
      assert.ok(terms.length > 0, "pod anti-affinity");
      for (const t of terms) {
        assert.equal(t.topologyKey, "kubernetes.io/hostname");
        assert.deepEqual(t.labelSelector.matchLabels, spec.selector.matchLabels);
      }

      // --cert-dir on an emptyDir; --config from the ConfigMap.
      const mountOf = (path: string) => {
        const m = c.volumeMounts?.find((v) => v.mountPath === path);
        assert.ok(m, `nothing mounted at ${path}`);
        const v = pod.volumes?.find((x) => x.name === m.name);
        assert.ok(v, `no volume ${m.name}`);
        return v;
      };
      assert.ok(mountOf(flagValue(args, "--cert-dir")).emptyDir);
      const configVolume = mountOf(dirname(flagValue(args, "--config")));
      assert.equal(configVolume.configMap?.name, "adapter-config");
      find(objects, "ConfigMap", "adapter-config");

      // The service account the RBAC binds; a PDB that keeps one replica.
      assert.equal(pod.serviceAccountName, "k8s-custom-metrics");
      find(objects, "ServiceAccount", "k8s-custom-metrics");
      const pdb = find(objects, "PodDisruptionBudget", "k8s-custom-metrics");
      const pdbSpec = pdb.spec as { minAvailable: number; selector: { matchLabels: object } };
      assert.equal(pdbSpec.minAvailable, 1);
      assert.deepEqual(pdbSpec.selector.matchLabels, spec.selector.matchLabels);

      // The three APIServices, v1beta2 preferred.
      const apiServices = objects
        .filter((o) => o.kind === "APIService")
        .map((o) => [o.metadata.name, (o.spec as { versionPriority: number }).versionPriority]);
      assert.deepEqual(apiServices.sort(), [
        ["v1beta1.custom.metrics.k8s.io", 100],
        ["v1beta1.external.metrics.k8s.io", 100],
        ["v1beta2.custom.metrics.k8s.io", 200],
      ]);
    },
  );
});

/** The roles bound to the adapter's ServiceAccount, as `Kind/name` (namespace for Roles). */
function adapterRoles(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o): o is Binding => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")
    .filter((b) =>
      (b.subjects ?? []).some(
        (s) =>
          s.kind === "ServiceAccount" &&
          s.name === "k8s-custom-metrics" &&
          s.namespace === "custom-metrics",
      ),
    )
    .map((b) =>
      b.kind === "RoleBinding" && b.roleRef.kind === "Role"
        ? `Role/${b.metadata.namespace ?? ""}/${b.roleRef.name}`
        : `${b.roleRef.kind}/${b.roleRef.name}`,
    )
    .sort();
}

describe("deploy/ RBAC: least privilege", () => {
  test(
    "the adapter's ServiceAccount: read-only, no wildcard, no Secrets or ConfigMaps",
    T,
    async () => {
      for (const dir of [BASE, RESOURCE_METRICS, SEED]) {
        const objects = await kustomize(dir);
        const roles = adapterRoles(objects);
        // The two built-in roles delegated authentication needs, and only roles defined here.
        assert.ok(roles.includes("ClusterRole/system:auth-delegator"), `${dir}: ${String(roles)}`);
        assert.ok(roles.includes("Role/kube-system/extension-apiserver-authentication-reader"));
        for (const ref of roles.filter((r) => !r.includes("system:auth-delegator"))) {
          if (ref.startsWith("Role/")) continue;
          const role = find(objects, "ClusterRole", ref.slice("ClusterRole/".length));
          for (const rule of role.rules ?? []) {
            const where = `${dir} ${ref} ${JSON.stringify(rule)}`;
            for (const list of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs]) {
              assert.ok(!list.includes("*"), `no wildcard: ${where}`);
            }
            for (const r of rule.resources ?? []) {
              assert.ok(!/^(secrets|configmaps)(\/|$)/.test(r), `no ${r}: ${where}`);
            }
            for (const v of rule.verbs) {
              assert.ok(["get", "list", "watch"].includes(v), `read-only: ${where}`);
            }
          }
        }
      }
      // What it serves from: pods and nodes, and the objects the default rules' `*` requests list.
      const reader = find(
        await kustomize(BASE),
        "ClusterRole",
        "k8s-custom-metrics-resource-reader",
      );
      const allows = (group: string, resource: string, verb: string) =>
        (reader.rules ?? []).some(
          (r) =>
            (r.apiGroups ?? []).includes(group) &&
            (r.resources ?? []).includes(resource) &&
            r.verbs.includes(verb),
        );
      for (const [group, resource, verb] of [
        ["", "pods", "watch"],
        ["", "pods", "get"],
        ["", "nodes", "get"],
        ["", "nodes", "list"],
        ["", "namespaces", "list"],
        ["", "services", "list"],
        ["apps", "deployments", "list"],
        ["batch", "jobs", "list"],
      ] as const) {
        assert.ok(allows(group, resource, verb), `${verb} ${resource}.${group}`);
      }
    },
  );

  test(
    "resource-metrics: system:aggregated-metrics-reader aggregated to view/edit/admin; nodes/metrics",
    T,
    async () => {
      const objects = await kustomize(RESOURCE_METRICS);
      const reader = find(objects, "ClusterRole", "system:aggregated-metrics-reader");
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(reader.metadata.labels ?? {}).filter(([k]) => k.includes("aggregate-to")),
        ),
        AGGREGATE_TO_ALL,
      );
      // metrics-server's rule (manifests/base/rbac.yaml).
      assert.deepEqual(reader.rules, [
        {
          apiGroups: ["metrics.k8s.io"],
          resources: ["pods", "nodes"],
          verbs: ["get", "list", "watch"],
        },
      ]);
      assert.ok(adapterRoles(objects).includes("ClusterRole/k8s-custom-metrics-kubelet-reader"));
      assert.deepEqual(find(objects, "ClusterRole", "k8s-custom-metrics-kubelet-reader").rules, [
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["watch"] },
      ]);
      // Not in the base: it registers no metrics.k8s.io.
      const base = await kustomize(BASE);
      assert.ok(!base.some((o) => o.metadata.name === "system:aggregated-metrics-reader"));
    },
  );

  test(
    "optional custom-metrics-view: custom.metrics.k8s.io read, aggregated, nothing else",
    T,
    async () => {
      const objects = await kustomize(CUSTOM_METRICS_VIEW);
      assert.deepEqual(
        objects.map((o) => o.kind),
        ["ClusterRole"],
      );
      const role = objects[0];
      assert.ok(role);
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(role.metadata.labels ?? {}).filter(([k]) => k.includes("aggregate-to")),
        ),
        AGGREGATE_TO_ALL,
      );
      assert.deepEqual(role.rules, [
        { apiGroups: ["custom.metrics.k8s.io"], resources: ["*"], verbs: ["get", "list"] },
      ]);
      // The base aggregates no custom or external metrics into view.
      for (const o of await kustomize(BASE)) {
        assert.ok(
          !Object.keys(o.metadata.labels ?? {}).some((k) => k.includes("aggregate-to")),
          `${o.kind}/${o.metadata.name}`,
        );
      }
    },
  );
});

describe("deploy/ against a real kube-apiserver (server-side dry run)", () => {
  let info: ClusterInfo;
  let cacheDir: string;
  const createdNamespaces: string[] = [];
  const createdCrds: string[] = [];

  /** kubectl with a discovery cache of its own, so CRDs installed here are seen at once. */
  const k = (args: string[], input?: string) =>
    kubectl(info, [`--cache-dir=${cacheDir}`, ...args], input);

  /** Creates, for real, the Namespaces the objects need that do not exist yet. */
  async function ensureNamespaces(objects: readonly KubeObject[]): Promise<void> {
    const wanted = new Set(
      objects.flatMap((o) => [
        ...(o.metadata.namespace ? [o.metadata.namespace] : []),
        ...(o.kind === "Namespace" ? [o.metadata.name] : []),
      ]),
    );
    for (const ns of wanted) {
      const exists = await k(["get", "namespace", ns, "--ignore-not-found", "-o", "name"]);
      if (exists.trim() !== "") continue;
      await k(["create", "namespace", ns, "--save-config"]);
      createdNamespaces.push(ns);
    }
  }

  async function dryRun(dir: string): Promise<void> {
    const objects = await kustomize(dir);
    await ensureNamespaces(objects);
    const stdout = await k(["apply", "--dry-run=server", "-k", dir]);
    const names = dryRunNames(stdout);
    assert.deepEqual(
      [...names].sort(),
      objects.map((o) => o.metadata.name).sort(),
      `kubectl applied (dry run) every object of ${dir}, and only those:\n${stdout}`,
    );
  }

  before(async () => {
    info = await testCluster();
    cacheDir = await mkdtemp(join(tmpdir(), "kcm-deploy-kubectl-cache-"));
  });

  after(async () => {
    // custom-metrics stays: other test files register the adapter there.
    for (const ns of createdNamespaces.filter((n) => n !== "custom-metrics")) {
      await k(["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
    }
    for (const crd of createdCrds) {
      await k(["delete", "crd", crd, "--wait=false"]).catch(() => undefined);
    }
    await rm(cacheDir, { recursive: true, force: true });
  });

  test("deploy/crds applies server-side and every CRD becomes Established", T, async () => {
    const crds = await kustomize(CRDS);
    assert.deepEqual(
      crds.map((c) => c.kind).sort(),
      crds.map(() => "CustomResourceDefinition"),
    );
    const names = crds.map((c) => c.metadata.name);
    assert.ok(names.includes("prometheuses.monitoring.coreos.com"));
    assert.ok(names.includes("servicemonitors.monitoring.coreos.com"));
    for (const name of names) {
      const exists = await k(["get", "crd", name, "--ignore-not-found", "-o", "name"]);
      if (exists.trim() === "") createdCrds.push(name);
    }
    const stdout = await k([
      "apply",
      "--server-side",
      "--field-manager=kcm-deploy-test",
      "-k",
      CRDS,
    ]);
    for (const name of names) {
      assert.match(
        stdout,
        new RegExp(
          `^customresourcedefinition\\.apiextensions\\.k8s\\.io/${name.replaceAll(".", "\\.")} (serverside-applied|unchanged)$`,
          "m",
        ),
      );
    }
    await k([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      ...names.map((n) => `crd/${n}`),
    ]);
    // The API serves the kinds the overlay uses.
    const resources = await k(["api-resources", "--api-group=monitoring.coreos.com", "-o", "name"]);
    assert.match(resources, /^prometheuses\.monitoring\.coreos\.com$/m);
    assert.match(resources, /^servicemonitors\.monitoring\.coreos\.com$/m);
  });

  test("kubectl apply --dry-run=server -k deploy/base accepts every object", T, async () => {
    await dryRun(BASE);
  });

  test(
    "kubectl apply --dry-run=server -k deploy/overlays/resource-metrics accepts every object",
    T,
    async () => {
      const overlay = RESOURCE_METRICS;
      const objects = await kustomize(overlay);
      assert.ok(
        objects.some(
          (o) => o.kind === "APIService" && o.metadata.name === "v1beta1.metrics.k8s.io",
        ),
      );
      // Sized for the kubelet source (sizing.yaml): V8's old generation at most half the memory
      // limit, as for the base, and glibc's mmap threshold fixed.
      const c = (find(objects, "Deployment", "k8s-custom-metrics").spec as DeploymentSpec).template
        .spec.containers[0];
      const env = new Map((c?.env ?? []).map((e) => [e.name, e.value ?? ""]));
      const oldSpace = /--max-old-space-size=(\d+)/.exec(env.get("NODE_OPTIONS") ?? "");
      const limit = /^(\d+)Mi$/.exec(c?.resources?.limits?.["memory"] ?? "");
      assert.ok(oldSpace && limit, JSON.stringify(c));
      assert.equal(Number(oldSpace[1]), 256);
      assert.ok(Number(oldSpace[1]) * 2 <= Number(limit[1]), JSON.stringify(c?.resources));
      assert.equal(env.get("MALLOC_MMAP_THRESHOLD_"), "65536");
      await dryRun(overlay);
    },
  );

  test(
    "kubectl apply --dry-run=server -k deploy/optional/custom-metrics-view accepts it",
    T,
    async () => {
      await dryRun(CUSTOM_METRICS_VIEW);
    },
  );

  test(
    "kubectl apply --dry-run=server -k deploy/overlays/seed-stack accepts every object",
    T,
    async () => {
      const objects = await kustomize(SEED);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of [
        "Prometheus",
        "ServiceMonitor",
        "DaemonSet",
        "HorizontalPodAutoscaler",
        "APIService",
        "PodDisruptionBudget",
      ]) {
        assert.ok(kinds.has(kind), `the overlay has a ${kind}`);
      }
      await dryRun(SEED);
    },
  );
});
