/**
 * @module test/helm-chart
 * charts/k8s-custom-metrics with helm v4.3.2 (built from the Go module proxy on first use,
 * test/support/helm.ts): `helm lint`; `helm template` of our defaults, of the prometheus-adapter
 * chart's default values.yaml, of values of the shapes of its README's examples and of a typical
 * user's file, where the rules in our ConfigMap must equal the rules prometheus-adapter's chart puts
 * in its ConfigMap for the same values (its real configmap.yaml template, rendered by helm in a
 * temporary chart, test/fixtures/helm/README.md); what each prometheus-adapter values key turns
 * into; that our defaults mirror deploy/base; that nameOverride=prometheus-adapter keeps the
 * names of a release of that chart (so `helm upgrade` switches it in place); least-privilege RBAC;
 * values.schema.json refusing wrong types; and `kubectl apply --dry-run=server` of every rendered object against the local
 * cluster's kube-apiserver. Dry runs change nothing; the namespace they need is created and deleted.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments, stringify } from "yaml";
import { serveCommand } from "../../src/cli/serve.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { checkTemplate } from "../../src/providers/prometheus/rules.ts";
import { freshNamespace, kubectl, testCluster } from "../support/cluster.ts";
import { helmBinary, runHelm } from "../support/helm.ts";

const T = { timeout: 180_000 };
/** The first run builds helm (minutes on a loaded 2-core machine). */
const BUILD = { timeout: 1_800_000 };
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CHART = join(REPO, "charts", "k8s-custom-metrics");
const FIXTURES = join(REPO, "test", "fixtures", "helm", "upstream-values");
const DROP_IN = join(REPO, "test", "fixtures", "drop-in");
/** prometheus-adapter chart 5.3.0's values.yaml, verbatim. */
const UPSTREAM_DEFAULTS = join(DROP_IN, "helm-values.yaml");
const RELEASE = "kcm-chart";
const NAMESPACE = "monitoring";
const FULLNAME = `${RELEASE}-k8s-custom-metrics`;
const SA = { kind: "ServiceAccount", name: FULLNAME, namespace: NAMESPACE };

const exec = promisify(execFile);

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: unknown;
  data?: Record<string, string>;
  type?: string;
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: unknown;
  securityContext?: unknown;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName?: string;
  securityContext?: unknown;
  affinity?: { podAntiAffinity?: Record<string, unknown> };
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  priorityClassName?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  dnsConfig?: unknown;
  terminationGracePeriodSeconds?: number;
  imagePullSecrets?: { name: string }[];
  containers: Container[];
  volumes?: {
    name: string;
    emptyDir?: object;
    configMap?: { name: string };
    secret?: { secretName: string };
  }[];
}

interface DeploymentSpec {
  replicas: number;
  strategy?: { type?: string; rollingUpdate?: unknown };
  selector: { matchLabels: Record<string, string> };
  template: { metadata: Meta; spec: PodSpec };
}

function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

interface RenderOptions {
  readonly files?: readonly string[];
  readonly set?: readonly string[];
  readonly setJson?: readonly string[];
  readonly namespace?: string;
  readonly release?: string;
}

function helmArgs(chart: string, o: RenderOptions): string[] {
  return [
    "template",
    o.release ?? RELEASE,
    chart,
    "--namespace",
    o.namespace ?? NAMESPACE,
    ...(o.files ?? []).flatMap((f) => ["--values", f]),
    ...(o.set ?? []).flatMap((s) => ["--set", s]),
    ...(o.setJson ?? []).flatMap((s) => ["--set-json", s]),
  ];
}

/** `helm template` of `chart`; fails the test with helm's message when it does not render. */
async function render(o: RenderOptions = {}, chart = CHART): Promise<KubeObject[]> {
  const r = await runHelm(helmArgs(chart, o));
  assert.equal(r.code, 0, `helm ${helmArgs(chart, o).join(" ")} failed:\n${r.stderr}`);
  return parseObjects(r.stdout);
}

function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(
    o,
    `no ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`,
  );
  return o;
}

function deploymentOf(objects: readonly KubeObject[]): {
  spec: DeploymentSpec;
  pod: PodSpec;
  c: Container;
  args: string[];
} {
  const d = find(objects, "Deployment", FULLNAME);
  const spec = d.spec as DeploymentSpec;
  const pod = spec.template.spec;
  const c = pod.containers[0];
  assert.ok(c);
  return { spec, pod, c, args: c.args ?? [] };
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/** The parsed `config.yaml` of the one ConfigMap named `name` (null for an empty file). */
function configOf(objects: readonly KubeObject[], name: string): unknown {
  const text = find(objects, "ConfigMap", name).data?.["config.yaml"];
  assert.equal(typeof text, "string", `ConfigMap ${name} has a config.yaml`);
  return parse(text ?? "") as unknown;
}

function apiServices(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === "APIService")
    .map((o) => o.metadata.name)
    .sort();
}

/**
 * A chart made of prometheus-adapter's own configmap.yaml template and values.yaml (the verbatim
 * copies in test/fixtures/drop-in), with stand-ins for the name and label helpers it includes
 * (the config does not depend on them). Its ConfigMap is named "upstream".
 */
async function upstreamConfigChart(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kcm-upstream-adapter-chart-"));
  await mkdir(join(dir, "templates"));
  await writeFile(
    join(dir, "Chart.yaml"),
    "apiVersion: v2\nname: prometheus-adapter-configmap\nversion: 5.3.0\nappVersion: v0.12.0\n",
  );
  await writeFile(join(dir, "values.yaml"), await readFile(UPSTREAM_DEFAULTS, "utf8"));
  await writeFile(
    join(dir, "templates", "configmap.yaml"),
    await readFile(join(DROP_IN, "helm-configmap.yaml"), "utf8"),
  );
  await writeFile(
    join(dir, "templates", "_helpers.tpl"),
    [
      '{{- define "k8s-prometheus-adapter.fullname" -}}upstream{{- end -}}',
      '{{- define "k8s-prometheus-adapter.namespace" -}}{{ .Release.Namespace }}{{- end -}}',
      '{{- define "k8s-prometheus-adapter.labels" }}',
      "app.kubernetes.io/name: prometheus-adapter",
      "{{- end -}}",
      "",
    ].join("\n"),
  );
  return dir;
}

/** Roles bound to the adapter's ServiceAccount, as `Kind/name`. */
function adapterRoles(objects: readonly KubeObject[], sa = SA): string[] {
  return objects
    .filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")
    .filter((b) =>
      (b.subjects ?? []).some(
        (s) => s.kind === "ServiceAccount" && s.name === sa.name && s.namespace === sa.namespace,
      ),
    )
    .map((b) => `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`)
    .sort();
}

/** The cases rendered by both charts: a name, our render options. */
const CASES: readonly (readonly [string, RenderOptions])[] = [
  ["our default values", {}],
  ["prometheus-adapter's default values.yaml", { files: [UPSTREAM_DEFAULTS] }],
  ["README example: rules.custom", { files: [join(FIXTURES, "readme-custom.yaml")] }],
  ["README example: rules.external", { files: [join(FIXTURES, "readme-external.yaml")] }],
  ["README example: rules.resource", { files: [join(FIXTURES, "readme-resource.yaml")] }],
  ["a user's values file", { files: [join(FIXTURES, "user-production.yaml")] }],
  ["no rules at all", { set: ["rules.default=false"] }],
];

describe("charts/k8s-custom-metrics", () => {
  let upstreamChart: string;

  before(async () => {
    await helmBinary();
    upstreamChart = await upstreamConfigChart();
  }, BUILD);

  after(async () => {
    await rm(upstreamChart, { recursive: true, force: true });
  });

  test("helm lint --strict passes for the default values and every values file", T, async () => {
    for (const files of [
      [],
      [UPSTREAM_DEFAULTS],
      ...["readme-custom", "readme-external", "readme-resource", "user-production"].map((f) => [
        join(FIXTURES, `${f}.yaml`),
      ]),
    ]) {
      const r = await runHelm(["lint", "--strict", CHART, ...files.flatMap((f) => ["-f", f])]);
      assert.equal(r.code, 0, `helm lint ${files.join(" ")}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, options] of CASES) {
    test(
      `${name}: our ConfigMap's rules equal prometheus-adapter's chart's, and load`,
      T,
      async () => {
        // prometheus-adapter's chart takes the same values file; for "our default values" its own.
        const theirs = await render(
          { ...options, files: (options.files ?? []).filter((f) => f !== UPSTREAM_DEFAULTS) },
          upstreamChart,
        );
        const ours = await render(options);
        const expected = configOf(theirs, "upstream");
        const actual = configOf(ours, FULLNAME);
        assert.deepEqual(actual, expected);
        // The adapter loads it: every template compiles, no errors.
        const text = find(ours, "ConfigMap", FULLNAME).data?.["config.yaml"] ?? "";
        parseConfig(text, "config.yaml", { compileTemplate: checkTemplate });
        // The Deployment mounts it where --config points.
        const { pod, c, args } = deploymentOf(ours);
        assert.equal(flagValue(args, "--config"), "/etc/adapter/config.yaml");
        const mount = c.volumeMounts?.find((m) => m.mountPath === "/etc/adapter");
        assert.equal(pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name, FULLNAME);
      },
    );
  }

  test("rules.existing: no ConfigMap from either chart; ours mounts the named one", T, async () => {
    const options = { set: ["rules.existing=my-adapter-config"] };
    const theirs = await render(options, upstreamChart);
    assert.deepEqual(
      theirs.filter((o) => o.kind === "ConfigMap"),
      [],
    );
    const ours = await render(options);
    assert.deepEqual(
      ours.filter((o) => o.kind === "ConfigMap"),
      [],
    );
    const { pod, spec } = deploymentOf(ours);
    assert.equal(
      pod.volumes?.find((v) => v.name === "config")?.configMap?.name,
      "my-adapter-config",
    );
    // The chart cannot checksum a ConfigMap it does not render: the pods reload it in place.
    assert.equal(spec.template.metadata.annotations?.["checksum/config"], undefined);
  });

  test("every flag the Deployment passes is one `serve` knows", T, async () => {
    const known = new Set(serveCommand().options.map((o) => o.long));
    for (const options of [
      ...CASES.map(([, o]) => o),
      { set: ["resourceMetrics.source=kubelet", "resourceMetrics.kubelet.insecureTLS=true"] },
      { set: ["tls.enable=true", "tls.ca=x", "tls.key=y", "tls.certificate=z"] },
      { set: ["resourceMetrics.source=prometheus"] },
    ]) {
      for (const a of deploymentOf(await render(options)).args) {
        const flag = a.split("=")[0] ?? "";
        assert.ok(known.has(flag), `serve has no flag ${flag} (${JSON.stringify(options)})`);
      }
    }
  });

  test(
    "a values file written for prometheus-adapter's chart: each key keeps its meaning",
    T,
    async () => {
      const objects = await render({ files: [join(FIXTURES, "user-production.yaml")] });
      const { spec, pod, c, args } = deploymentOf(objects);
      assert.equal(
        flagValue(args, "--prometheus-url"),
        "http://prometheus-operated.monitoring.svc:9090/prometheus",
      );
      assert.equal(flagValue(args, "--v"), "3");
      assert.equal(flagValue(args, "--metrics-relist-interval"), "30s");
      assert.equal(flagValue(args, "--secure-port"), "6443");
      assert.equal(args.at(-1), "--prometheus-timeout=15s", "extraArguments come last");
      assert.equal(spec.replicas, 3);
      assert.deepEqual(spec.strategy, {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      assert.deepEqual(pod.tolerations, [
        { key: "dedicated", operator: "Equal", value: "monitoring", effect: "NoSchedule" },
      ]);
      assert.equal(pod.nodeSelector?.["node-role.kubernetes.io/infra"], "");
      assert.equal(pod.priorityClassName, "system-cluster-critical");
      assert.equal(spec.template.metadata.annotations?.["team"], "platform");
      assert.match(spec.template.metadata.annotations["checksum/config"] ?? "", /^[0-9a-f]{64}$/);
      assert.deepEqual(c.resources, {
        requests: { cpu: "200m", memory: "256Mi" },
        limits: { memory: "512Mi" },
      });
      assert.deepEqual(
        c.env?.map((e) => e.name),
        ["TZ"],
      );
      for (const o of objects) {
        assert.equal(o.metadata.labels?.["cost-center"], "observability", `${o.kind} customLabels`);
      }
      const service = find(objects, "Service", FULLNAME);
      assert.equal(service.metadata.annotations?.["example.com/owner"], "platform");
      const pdb = find(objects, "PodDisruptionBudget", FULLNAME).spec as Record<string, unknown>;
      assert.equal(pdb["maxUnavailable"], 1);
      assert.equal(pdb["minAvailable"], undefined);
      // Custom rules (v1beta2 ours, v1beta1 as prometheus-adapter's chart) and external rules.
      assert.deepEqual(apiServices(objects), [
        "v1beta1.custom.metrics.k8s.io",
        "v1beta1.external.metrics.k8s.io",
        "v1beta2.custom.metrics.k8s.io",
      ]);
    },
  );

  test(
    "prometheus-adapter's default values.yaml: its image is replaced by ours, the rest kept",
    T,
    async () => {
      const objects = await render({ files: [UPSTREAM_DEFAULTS] });
      const { spec, pod, c, args } = deploymentOf(objects);
      assert.equal(c.image, "ghcr.io/k8s-custom-metrics/k8s-custom-metrics:v0.1.0");
      assert.equal(spec.replicas, 1);
      assert.equal(flagValue(args, "--v"), "4");
      assert.equal(flagValue(args, "--prometheus-url"), "http://prometheus.default.svc:9090");
      // Its probes (/healthz, which we serve too) and security contexts, as given.
      assert.equal((c.livenessProbe as { httpGet: { path: string } }).httpGet.path, "/healthz");
      assert.equal((pod.securityContext as { fsGroup: number }).fsGroup, 10001);
      assert.equal((c.securityContext as { runAsUser: number }).runAsUser, 10001);
      const notes = await runHelm([
        "install",
        RELEASE,
        CHART,
        "--dry-run=client",
        "--namespace",
        NAMESPACE,
        "-f",
        UPSTREAM_DEFAULTS,
      ]);
      assert.equal(notes.code, 0, notes.stderr);
      assert.match(notes.stdout, /image\.repository named prometheus-adapter's image/);
    },
  );

  test("our defaults mirror deploy/base: RBAC, probes, resources, hardening, HA", T, async () => {
    const { stdout } = await exec("kubectl", ["kustomize", join(REPO, "deploy", "base")], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const base = parseObjects(stdout);
    const objects = await render();
    assert.deepEqual(
      find(objects, "ClusterRole", `${FULLNAME}-resource-reader`).rules,
      find(base, "ClusterRole", "k8s-custom-metrics-resource-reader").rules,
    );
    const ours = deploymentOf(objects);
    const theirs = find(base, "Deployment", "k8s-custom-metrics").spec as DeploymentSpec;
    const bc = theirs.template.spec.containers[0];
    assert.ok(bc);
    for (const key of [
      "livenessProbe",
      "readinessProbe",
      "resources",
      "securityContext",
    ] as const) {
      assert.deepEqual(ours.c[key], bc[key], key);
    }
    // NODE_OPTIONS: the image's own, which deploy/base repeats; the chart sets it only when asked.
    assert.deepEqual(
      bc.env?.map((e) => e.name),
      ["NODE_OPTIONS"],
    );
    assert.equal(ours.c.env, undefined);
    const sized = deploymentOf(await render({ set: ["nodeOptions=--max-old-space-size=400"] }));
    assert.deepEqual(sized.c.env, [{ name: "NODE_OPTIONS", value: "--max-old-space-size=400" }]);
    assert.deepEqual(ours.pod.securityContext, theirs.template.spec.securityContext);
    assert.equal(
      ours.pod.terminationGracePeriodSeconds,
      theirs.template.spec.terminationGracePeriodSeconds,
    );
    assert.deepEqual(ours.spec.strategy, theirs.strategy);
    assert.equal(ours.spec.replicas, 2);
    assert.equal(
      flagValue(ours.args, "--tls-cipher-suites"),
      flagValue(bc.args ?? [], "--tls-cipher-suites"),
    );
    const anti = ours.pod.affinity?.podAntiAffinity?.[
      "preferredDuringSchedulingIgnoredDuringExecution"
    ] as { podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: object } } }[];
    assert.equal(anti[0]?.podAffinityTerm.topologyKey, "kubernetes.io/hostname");
    assert.deepEqual(
      anti[0].podAffinityTerm.labelSelector.matchLabels,
      ours.spec.selector.matchLabels,
    );
    const pdb = find(objects, "PodDisruptionBudget", FULLNAME).spec as {
      maxUnavailable: number;
      selector: { matchLabels: object };
    };
    assert.equal(pdb.maxUnavailable, 1);
    assert.deepEqual(pdb.selector.matchLabels, ours.spec.selector.matchLabels);
    const versions = objects
      .filter((o) => o.kind === "APIService")
      .map((o) => [o.metadata.name, (o.spec as { versionPriority: number }).versionPriority]);
    assert.deepEqual(versions.sort(), [
      ["v1beta1.custom.metrics.k8s.io", 100],
      ["v1beta2.custom.metrics.k8s.io", 200],
    ]);
    // The Service selects the pods and targets their https port.
    const svc = find(objects, "Service", FULLNAME).spec as { selector: Record<string, string> };
    for (const [k, v] of Object.entries(svc.selector)) {
      assert.equal(ours.spec.template.metadata.labels?.[k], v);
    }
  });

  test(
    "RBAC: the adapter's roles are read-only, without wildcards, Secrets or ConfigMaps",
    T,
    async () => {
      for (const options of [
        {},
        { files: [UPSTREAM_DEFAULTS] },
        { files: [join(FIXTURES, "readme-resource.yaml")] },
        { set: ["resourceMetrics.source=kubelet", "rbac.useAuthReaderClusterRole=true"] },
      ]) {
        const objects = await render(options);
        const roles = adapterRoles(objects);
        assert.ok(roles.includes("ClusterRole/system:auth-delegator"), String(roles));
        assert.ok(
          roles.includes("Role/extension-apiserver-authentication-reader") ||
            roles.includes("ClusterRole/extension-apiserver-authentication-reader"),
          String(roles),
        );
        for (const ref of roles.filter(
          (r) => r.startsWith("ClusterRole/") && r.includes(FULLNAME),
        )) {
          const role = find(objects, "ClusterRole", ref.slice("ClusterRole/".length));
          for (const rule of role.rules ?? []) {
            const where = `${JSON.stringify(options)} ${ref} ${JSON.stringify(rule)}`;
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
        // The metrics APIs for the HPA controller, nobody else.
        const hpa = find(objects, "ClusterRoleBinding", `${FULLNAME}-hpa-controller`);
        assert.deepEqual(hpa.subjects, [
          { kind: "ServiceAccount", name: "horizontal-pod-autoscaler", namespace: "kube-system" },
        ]);
      }
      // serviceAccount.create=false with a name: no ServiceAccount, the bindings name that one.
      const objects = await render({
        set: ["serviceAccount.create=false", "serviceAccount.name=mine"],
      });
      assert.ok(!objects.some((o) => o.kind === "ServiceAccount"));
      assert.ok(adapterRoles(objects, { ...SA, name: "mine" }).length >= 3);
      assert.equal(deploymentOf(objects).pod.serviceAccountName, "mine");
      // rbac.create=false: no RBAC at all.
      const none = await render({ set: ["rbac.create=false"] });
      assert.deepEqual(
        none.filter((o) => o.kind.includes("Role")).map((o) => o.metadata.name),
        [],
      );
    },
  );

  test(
    "resourceMetrics.source=kubelet: flags, nodes/metrics, metrics.k8s.io, aggregated reader",
    T,
    async () => {
      const objects = await render({
        set: ["resourceMetrics.source=kubelet", "resourceMetrics.kubelet.insecureTLS=true"],
      });
      const { args } = deploymentOf(objects);
      assert.equal(flagValue(args, "--resource-metrics-source"), "kubelet");
      assert.equal(
        flagValue(args, "--kubelet-preferred-address-types"),
        "InternalIP,ExternalIP,Hostname",
      );
      assert.ok(args.includes("--kubelet-insecure-tls"));
      assert.ok(apiServices(objects).includes("v1beta1.metrics.k8s.io"));
      assert.deepEqual(find(objects, "ClusterRole", `${FULLNAME}-kubelet-reader`).rules, [
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["watch"] },
      ]);
      const reader = find(objects, "ClusterRole", "system:aggregated-metrics-reader");
      assert.equal(reader.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-view"], "true");
      // Without it: no kubelet RBAC, no metrics.k8s.io.
      const plain = await render();
      assert.ok(!plain.some((o) => o.metadata.name.endsWith("-kubelet-reader")));
      assert.ok(!apiServices(plain).includes("v1beta1.metrics.k8s.io"));
    },
  );

  test(
    "tls.*, certManager.*: the serving certificate from a Secret, the CA in the APIServices",
    T,
    async () => {
      const tls = await render({
        set: ["tls.enable=true", "tls.ca=CA-PEM", "tls.key=KEY-PEM", "tls.certificate=CERT-PEM"],
      });
      const secret = find(tls, "Secret", `${FULLNAME}-serving-cert`);
      assert.equal(secret.type, "kubernetes.io/tls");
      assert.equal(Buffer.from(secret.data?.["tls.crt"] ?? "", "base64").toString(), "CERT-PEM");
      for (const o of tls.filter((x) => x.kind === "APIService")) {
        const s = o.spec as { caBundle?: string; insecureSkipTLSVerify?: boolean };
        assert.equal(Buffer.from(s.caBundle ?? "", "base64").toString(), "CA-PEM");
        assert.equal(s.insecureSkipTLSVerify, undefined);
      }
      const d = deploymentOf(tls);
      assert.equal(flagValue(d.args, "--tls-cert-file"), "/var/run/serving-cert/tls.crt");
      assert.equal(
        d.pod.volumes?.find((v) => v.name === "serving-cert")?.secret?.secretName,
        secret.metadata.name,
      );

      const cm = await render({ set: ["certManager.enabled=true"] });
      const certs = cm.filter((o) => o.kind === "Certificate");
      assert.equal(cm.filter((o) => o.kind === "Issuer").length, 2);
      assert.equal(certs.length, 2);
      const serving = find(cm, "Certificate", `${FULLNAME}-cert`).spec as {
        secretName: string;
        dnsNames: string[];
      };
      assert.ok(serving.dnsNames.includes(`${FULLNAME}.${NAMESPACE}.svc`));
      assert.equal(
        deploymentOf(cm).pod.volumes?.find((v) => v.name === "serving-cert")?.secret?.secretName,
        serving.secretName,
      );
      for (const o of cm.filter((x) => x.kind === "APIService")) {
        assert.equal(
          o.metadata.annotations?.["cert-manager.io/inject-ca-from"],
          `${NAMESPACE}/${FULLNAME}-root-cert`,
        );
        assert.equal(
          (o.spec as { insecureSkipTLSVerify?: boolean }).insecureSkipTLSVerify,
          undefined,
        );
      }
    },
  );

  test(
    "a config change rolls the pods (checksum/config); other changes and rollOnConfigChange=false do not",
    T,
    async () => {
      const checksum = async (o: RenderOptions) =>
        deploymentOf(await render(o)).spec.template.metadata.annotations?.["checksum/config"];
      const before = await checksum({});
      assert.match(before ?? "", /^[0-9a-f]{64}$/);
      assert.equal(await checksum({ set: ["replicas=3"] }), before);
      assert.notEqual(await checksum({ files: [join(FIXTURES, "readme-custom.yaml")] }), before);
      assert.equal(await checksum({ set: ["rollOnConfigChange=false"] }), undefined);
    },
  );

  test("the other prometheus-adapter keys: placement, networking, extras, names", T, async () => {
    const objects = await render({
      set: [
        "podAntiAffinityPreset=hard",
        "strategy.type=Recreate",
        "hostNetwork.enabled=true",
        "dnsPolicy=ClusterFirstWithHostNet",
        "listenPort=7443",
        "service.port=8443",
        "prometheus.url=http://prom.{{ .Release.Namespace }}.svc",
        "prometheus.port=null",
        "namespaceOverride=elsewhere",
        "image.tag=v9.9.9",
        "startupProbe.httpGet.path=/livez",
        "startupProbe.httpGet.port=https",
      ],
      setJson: [
        'image.pullSecrets=["regcred",{"name":"other"}]',
        'dnsConfig={"options":[{"name":"ndots","value":"2"}]}',
        'extraVolumes=[{"name":"ca","configMap":{"name":"ca"}}]',
        'extraVolumeMounts=[{"name":"ca","mountPath":"/etc/ca"}]',
        'extraContainers=[{"name":"sidecar","image":"busybox"}]',
        'extraManifests=[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"extra-{{ .Release.Name }}"}}]',
        'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]',
      ],
    });
    const { spec, pod, c, args } = deploymentOf(objects);
    assert.ok(pod.affinity?.podAntiAffinity?.["requiredDuringSchedulingIgnoredDuringExecution"]);
    assert.deepEqual(spec.strategy, { type: "Recreate" });
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    assert.deepEqual(pod.dnsConfig, { options: [{ name: "ndots", value: "2" }] });
    assert.equal(flagValue(args, "--secure-port"), "7443");
    assert.equal(flagValue(args, "--prometheus-url"), "http://prom.monitoring.svc");
    assert.equal(c.image, "ghcr.io/k8s-custom-metrics/k8s-custom-metrics:v9.9.9");
    assert.deepEqual(pod.imagePullSecrets, [{ name: "regcred" }, { name: "other" }]);
    assert.ok(c.volumeMounts?.some((m) => m.mountPath === "/etc/ca"));
    assert.ok(pod.volumes?.some((v) => v.name === "ca"));
    assert.deepEqual(
      pod.containers.map((x) => x.name),
      ["k8s-custom-metrics", "sidecar"],
    );
    assert.ok(find(objects, "ConfigMap", `extra-${RELEASE}`));
    for (const o of objects.filter((x) => x.kind === "APIService")) {
      assert.deepEqual((o.spec as { service: unknown }).service, {
        name: FULLNAME,
        namespace: "elsewhere",
        port: 8443,
      });
    }
    assert.equal(find(objects, "Deployment", FULLNAME).metadata.namespace, "elsewhere");
  });

  test(
    "nameOverride=prometheus-adapter keeps a prometheus-adapter release's names",
    T,
    async () => {
      // What prometheus-adapter's chart 5.3.0 renders for release "prometheus-adapter" with its
      // default values (templates/*.yaml, names from _helpers.tpl: the release name, as it contains
      // the chart's name), and the role each binding refers to (roleRef cannot change in place). So
      // `helm upgrade prometheus-adapter` to this chart updates those objects in place: the same
      // Deployment rolls to our image, behind the same Service (docs/migrate.md).
      const upstream: readonly (readonly [string, string?])[] = [
        ["Deployment/monitoring/prometheus-adapter"],
        ["Service/monitoring/prometheus-adapter"],
        ["ServiceAccount/monitoring/prometheus-adapter"],
        ["ConfigMap/monitoring/prometheus-adapter"],
        ["ClusterRole//prometheus-adapter-resource-reader"],
        ["ClusterRole//prometheus-adapter-server-resources"],
        ["ClusterRoleBinding//prometheus-adapter-system-auth-delegator", "system:auth-delegator"],
        [
          "ClusterRoleBinding//prometheus-adapter-resource-reader",
          "prometheus-adapter-resource-reader",
        ],
        [
          "ClusterRoleBinding//prometheus-adapter-hpa-controller",
          "prometheus-adapter-server-resources",
        ],
        [
          "RoleBinding/kube-system/prometheus-adapter-auth-reader",
          "extension-apiserver-authentication-reader",
        ],
        ["APIService//v1beta1.custom.metrics.k8s.io"],
      ];
      const objects = await render({
        release: "prometheus-adapter",
        set: ["nameOverride=prometheus-adapter"],
      });
      const byKey = new Map(
        objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]),
      );
      for (const [key, roleRef] of upstream) {
        const o = byKey.get(key);
        assert.ok(o, `${key} keeps its name; ours: ${[...byKey.keys()].join(", ")}`);
        if (roleRef !== undefined) assert.equal(o.roleRef?.name, roleRef, key);
      }
      const d = byKey.get("Deployment/monitoring/prometheus-adapter")?.spec as DeploymentSpec;
      assert.deepEqual(d.selector.matchLabels, {
        "app.kubernetes.io/name": "prometheus-adapter",
        "app.kubernetes.io/instance": "prometheus-adapter",
      });
      const apiService = byKey.get("APIService//v1beta1.custom.metrics.k8s.io")?.spec as {
        service: { name: string; namespace: string };
      };
      assert.deepEqual(
        [apiService.service.name, apiService.service.namespace],
        ["prometheus-adapter", "monitoring"],
      );
    },
  );

  test(
    "values.schema.json and the chart's checks refuse bad values with a clear message",
    T,
    async () => {
      const refused = async (o: RenderOptions, message: RegExp) => {
        const r = await runHelm(helmArgs(CHART, o));
        assert.notEqual(r.code, 0, `accepted ${JSON.stringify(o)}`);
        assert.match(r.stderr, message);
      };
      await refused({ set: ["replicas=two"] }, /at '\/replicas': got string, want integer/);
      await refused({ setJson: ['rules.custom="oops"'] }, /at '\/rules\/custom': got string, want/);
      await refused({ set: ["service.type=Ingress"] }, /at '\/service\/type'/);
      await refused({ set: ["metricsRelistInterval=soon"] }, /at '\/metricsRelistInterval'/);
      await refused(
        { set: ["podDisruptionBudget.minAvailable=1"] },
        /set minAvailable or maxUnavailable, not both/,
      );
      // Both set as prometheus-adapter's chart users do: minAvailable alone.
      const ok = await render({
        set: ["podDisruptionBudget.minAvailable=1", "podDisruptionBudget.maxUnavailable=null"],
      });
      assert.deepEqual(
        (find(ok, "PodDisruptionBudget", FULLNAME).spec as { minAvailable: number }).minAvailable,
        1,
      );
    },
  );
});

/**
 * The lines of `kubectl apply --dry-run=server`: `<resource>/<name> <verb> (server dry run)`.
 */
function dryRunNames(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const m = /^([a-z0-9.-]+)\/(\S+) (created|configured|unchanged) \(server dry run\)$/.exec(l);
      assert.ok(m, `unexpected kubectl apply output line: ${l}`);
      return m[2] ?? "";
    });
}

describe("charts/k8s-custom-metrics against a real kube-apiserver (server-side dry run)", () => {
  let info: ClusterInfo;
  let ns: string;

  before(async () => {
    await helmBinary();
    info = await testCluster();
    ns = await freshNamespace(info, "kcm-helm-chart");
  }, BUILD);

  after(async () => {
    if (ns) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  });

  const DRY_RUN_CASES: readonly (readonly [string, RenderOptions])[] = [
    ...CASES,
    ["resourceMetrics.source=kubelet", { set: ["resourceMetrics.source=kubelet"] }],
    [
      "tls.enable with rbac.useAuthReaderClusterRole",
      {
        set: [
          "tls.enable=true",
          "tls.ca=CA",
          "tls.key=KEY",
          "tls.certificate=CERT",
          "rbac.useAuthReaderClusterRole=true",
        ],
      },
    ],
  ];

  for (const [name, options] of DRY_RUN_CASES) {
    test(`${name}: kubectl apply --dry-run=server accepts every rendered object`, T, async () => {
      const objects = await render({ ...options, namespace: ns });
      const stdout = await kubectl(
        info,
        ["apply", "--dry-run=server", "-f", "-"],
        objects.map((o) => stringify(o)).join("---\n"),
      );
      assert.deepEqual(
        dryRunNames(stdout).sort(),
        objects.map((o) => o.metadata.name).sort(),
        `every object, and only those:\n${stdout}`,
      );
    });
  }

  test(
    "the certManager objects render; the rest is accepted (no cert-manager CRDs here)",
    T,
    async () => {
      const objects = await render({ set: ["certManager.enabled=true"], namespace: ns });
      const certManager = objects.filter((o) => o.apiVersion.startsWith("cert-manager.io/"));
      assert.equal(certManager.length, 4);
      const rest = objects.filter((o) => !certManager.includes(o));
      const stdout = await kubectl(
        info,
        ["apply", "--dry-run=server", "-f", "-"],
        rest.map((o) => stringify(o)).join("---\n"),
      );
      assert.deepEqual(dryRunNames(stdout).sort(), rest.map((o) => o.metadata.name).sort());
    },
  );
});
