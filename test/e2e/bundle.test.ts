/**
 * @module test/bundle
 * The image starts `serve` from the esbuild bundle (scripts/bundle.mjs), while every other test
 * runs src/ through tsx. This builds the image's layout (tsc, then the bundle, and bin/) in a
 * directory with no node_modules, starts it beside the adapter from src/ on the same config,
 * Prometheus and cluster, and asks both the same requests: the answers must be the same bytes
 * (timestamps aside), and the bundle must start without any package to load.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import {
  getJson,
  normalizeTimestamps,
  startAdapter,
  type RunningAdapter,
} from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries } from "../support/series.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = fileURLToPath(new URL("../fixtures/adapter-config.yaml", import.meta.url));

let built: string;
let ns: string;
let prom: RunningPrometheus;
let fromSrc: RunningAdapter;
let fromBundle: RunningAdapter;
/** What before() started, stopped in reverse by after() (before() may fail halfway). */
const started: { stop(): Promise<void> }[] = [];

before(async () => {
  built = mkdtempSync(join(tmpdir(), "kcm-bundle-"));
  execFileSync(
    process.execPath,
    [
      join(REPO, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(built, "dist"),
    ],
    { cwd: REPO, stdio: "inherit" },
  );
  execFileSync(process.execPath, ["scripts/bundle.mjs", join(built, "dist")], {
    cwd: REPO,
    stdio: "inherit",
  });
  mkdirSync(join(built, "bin"));
  copyFileSync(join(REPO, "bin/k8s-custom-metrics.js"), join(built, "bin/k8s-custom-metrics.js"));

  const info = await testCluster();
  ns = await freshNamespace(info, "kcm-bundle");
  const pod = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "web" } },
    spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
  });
  await applyObjects(info, [pod("web-1"), pod("web-2")], ns);
  await waitFor("the pods", async () => {
    const names = await kubectl(info, ["-n", ns, "get", "pods", "-o", "name"]);
    return names.trim().split("\n").length === 2 ? true : undefined;
  });
  prom = await startPrometheus({
    openMetrics: constantSeries([
      ["kcm_cpu_load", { namespace: ns, pod: "web-1" }, "0.25"],
      ["kcm_cpu_load", { namespace: ns, pod: "web-2" }, "1.5"],
      ["ext_queue_depth", { namespace: ns, queue: "jobs" }, "7"],
    ]),
  });
  started.push(prom);
  const common = {
    prometheusUrl: prom.url,
    kubeconfig: info.kubeconfig,
    config: CONFIG,
    maxAge: "1h",
  };
  [fromSrc, fromBundle] = await Promise.all([
    startAdapter(common),
    startAdapter({ ...common, bin: join(built, "bin/k8s-custom-metrics.js") }),
  ]);
  started.push(fromSrc, fromBundle);
});

after(async () => {
  for (const s of started.reverse()) await s.stop();
  rmSync(built, { recursive: true, force: true });
});

test("the bundle answers as the sources do, from a layout without node_modules", async () => {
  const paths = [
    "/apis/custom.metrics.k8s.io/v1beta2",
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/cpu_load?labelSelector=app%3Dweb`,
    `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${ns}/pods/web-1/cpu_load`,
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/web-9/cpu_load`,
    `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/ext_queue_depth`,
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/x/pods/*/no_such_metric",
  ];
  for (const path of paths) {
    const [a, b] = await Promise.all([getJson(fromSrc, path), getJson(fromBundle, path)]);
    assert.equal(b.status, a.status, path);
    assert.deepEqual(normalizeTimestamps(b.body), normalizeTimestamps(a.body), path);
  }
  // The values themselves, so two equally broken answers cannot pass.
  const pods = await getJson(
    fromBundle,
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/cpu_load?labelSelector=app%3Dweb`,
  );
  const items = (pods.body as { items: { describedObject: { name: string }; value: string }[] })
    .items;
  assert.deepEqual(
    items.map((i) => [i.describedObject.name, i.value]),
    [
      ["web-1", "250m"],
      ["web-2", "1500m"],
    ],
  );
});

test("the bundle's own /metrics (prom-client) and JSON log (pino) work", async () => {
  const res = await fetch(`${fromBundle.url}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.match(text, /^k8s_custom_metrics_\w+/m);
  assert.match(text, /^process_resident_memory_bytes \d/m);
  const firstJsonLine = fromBundle
    .logs()
    .split("\n")
    .find((l) => l.startsWith("{"));
  assert.ok(firstJsonLine, `no JSON log line:\n${fromBundle.logs()}`);
  assert.equal(typeof (JSON.parse(firstJsonLine) as { msg?: unknown }).msg, "string");
});
