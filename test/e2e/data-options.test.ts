/**
 * @module test/data-options
 * The per-rule data options (`k8sCustomMetrics`, issue #18) end to end: the adapter as a real
 * process and a real Prometheus that the test stops and starts. Each option has a rule of its own
 * over the same series, beside a plain rule that must answer exactly as prometheus-adapter does:
 * - valueWhenMissing: an object without a series (pod, namespace, external selector) gets the
 *   value; during an outage it still gets the 500, not the value.
 * - maxSampleAge: a pod whose newest sample is 2 minutes old is missing, before and after a
 *   Prometheus restart; a fresh pod is not.
 * - lastGoodValueFor: with Prometheus stopped, the last good value answers (logged, counted in
 *   /metrics) until it is older than the option allows; the plain rule answers 500 throughout.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import {
  restartablePrometheus,
  type RestartablePrometheus,
} from "../support/restartable-prometheus.ts";
import { OpenMetricsWriter } from "../support/series.ts";

const T = { timeout: 240_000 };
const CM = "/apis/custom.metrics.k8s.io/v1beta2";
const EM = "/apis/external.metrics.k8s.io/v1beta1";

/** Gauges every 30 s from 10 minutes ago: `fresh` on to 20 minutes ahead, `stale` until 2 minutes ago. */
function openMetrics(ns: string): string {
  const now = Math.floor(Date.now() / 1000);
  const w = new OpenMetricsWriter();
  for (let t = now - 600; t <= now + 1200; t += 30) {
    w.sample("do_load", { namespace: ns, pod: "fresh" }, 3, t);
    if (t <= now - 120) w.sample("do_load", { namespace: ns, pod: "stale" }, 4, t);
    w.sample("do_queue", { queue: "a" }, 5, t);
  }
  return w.text();
}

const rule = (
  as: string,
  options?: string,
) => `  - seriesQuery: '{__name__="do_load",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        pod: {resource: pod}
    name: {as: ${as}}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
${options === undefined ? "" : `    k8sCustomMetrics: ${options}\n`}`;

const external = (as: string, options?: string) => `  - seriesQuery: '{__name__="do_queue"}'
    resources: {namespaced: false}
    name: {as: ${as}}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
${options === undefined ? "" : `    k8sCustomMetrics: ${options}\n`}`;

const CONFIG = `rules:
${rule("do_load")}${rule("do_load_zero", "{valueWhenMissing: 0}")}${rule("do_load_fresh", "{maxSampleAge: 60s}")}${rule("do_load_kept", "{lastGoodValueFor: 10m, valueWhenMissing: 0}")}${rule("do_load_brief", "{lastGoodValueFor: 4s}")}externalRules:
${external("do_queue")}${external("do_queue_zero", "{valueWhenMissing: 0}")}${external("do_queue_kept", "{lastGoodValueFor: 10m}")}`;

interface Item {
  readonly value?: string;
  readonly timestamp?: string;
  readonly describedObject?: { readonly name?: string };
  readonly metricLabels?: unknown;
}

/** Status and the value (or values, for lists) of an answer. */
async function value(a: RunningAdapter, path: string): Promise<{ status: number; value: unknown }> {
  const r = await getJson(a, path);
  const body = r.body as { items?: Item[]; value?: string };
  if (r.status !== 200) return { status: r.status, value: undefined };
  // A custom metric for one object is a list of one item; external answers stay lists.
  if (path.startsWith(CM) && body.items?.length === 1) {
    return { status: 200, value: body.items[0]?.value };
  }
  if (Array.isArray(body.items)) return { status: 200, value: body.items.map((i) => i.value) };
  return { status: 200, value: body.value };
}

async function counter(a: RunningAdapter, api: string, option: string): Promise<number> {
  const text = await fetch(`${a.url}/metrics`).then((r) => r.text());
  const re = new RegExp(
    `^k8s_custom_metrics_data_option_answers_total\\{api="${api}",option="${option}"\\} (\\d+)$`,
    "m",
  );
  return Number(re.exec(text)?.[1] ?? "NaN");
}

describe("per-rule data options with a Prometheus stopped and started", () => {
  let info: ClusterInfo;
  let ns: string;
  let prom: RestartablePrometheus;
  let adapter: RunningAdapter | undefined;
  let dir: string;
  const pod = (metric: string, name: string) => `${CM}/namespaces/${ns}/pods/${name}/${metric}`;
  const space = (metric: string, name: string) => `${CM}/namespaces/${name}/metrics/${metric}`;
  const ext = (metric: string, selector: string) =>
    `${EM}/namespaces/${ns}/${metric}?labelSelector=${encodeURIComponent(selector)}`;

  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "dataopt");
    prom = await restartablePrometheus(openMetrics(ns));
    await prom.start();
    dir = await mkdtemp(join(tmpdir(), "kcm-dataopt-"));
    await writeFile(join(dir, "config.yaml"), CONFIG);
    adapter = await startAdapter({
      prometheusUrl: prom.url,
      kubeconfig: info.kubeconfig,
      config: join(dir, "config.yaml"),
      relistInterval: "1m",
      maxAge: "1h",
    });
  });

  after(async () => {
    await adapter?.stop();
    await prom.dispose();
    await rm(dir, { recursive: true, force: true });
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  });

  test("valueWhenMissing, maxSampleAge and lastGoodValueFor", T, async () => {
    const a = adapter;
    assert.ok(a);
    // Prometheus up. Plain rules answer as prometheus-adapter: 404 / empty list for no series.
    assert.deepEqual(await value(a, pod("do_load", "fresh")), { status: 200, value: "3" });
    assert.deepEqual(await value(a, pod("do_load", "stale")), { status: 200, value: "4" });
    assert.equal((await value(a, pod("do_load", "nobody"))).status, 404);
    assert.equal((await value(a, space("do_load", "kube-system"))).status, 404);
    assert.deepEqual(await value(a, ext("do_queue", "queue=nope")), { status: 200, value: [] });
    assert.deepEqual(await value(a, ext("do_queue", "queue=a")), { status: 200, value: ["5"] });

    // valueWhenMissing: pods, namespaces and external selectors without a series get 0.
    const missingBefore = await counter(a, "custom", "value_when_missing");
    assert.deepEqual(await value(a, pod("do_load_zero", "nobody")), { status: 200, value: "0" });
    assert.deepEqual(await value(a, space("do_load_zero", "kube-system")), {
      status: 200,
      value: "0",
    });
    assert.deepEqual(await value(a, pod("do_load_zero", "fresh")), { status: 200, value: "3" });
    assert.equal(await counter(a, "custom", "value_when_missing"), missingBefore + 2);
    const zero = await getJson(a, ext("do_queue_zero", "queue=nope"));
    assert.equal(zero.status, 200);
    const zeroItems = (zero.body as { items: Item[] }).items;
    assert.deepEqual(
      zeroItems.map((i) => [i.value, i.metricLabels]),
      [["0", {}]],
    );
    assert.deepEqual(await value(a, ext("do_queue_zero", "queue=a")), {
      status: 200,
      value: ["5"],
    });

    // maxSampleAge 60s: the pod whose newest sample is 2 minutes old is missing.
    assert.deepEqual(await value(a, pod("do_load_fresh", "fresh")), { status: 200, value: "3" });
    assert.equal((await value(a, pod("do_load_fresh", "stale"))).status, 404);

    // lastGoodValueFor: good answers first, so there is something to keep.
    assert.deepEqual(await value(a, pod("do_load_kept", "fresh")), { status: 200, value: "3" });
    assert.deepEqual(await value(a, pod("do_load_brief", "fresh")), { status: 200, value: "3" });
    assert.deepEqual(await value(a, ext("do_queue_kept", "queue=a")), {
      status: 200,
      value: ["5"],
    });
    const keptAt = Date.now();

    // Prometheus stopped.
    await prom.stop();
    assert.equal((await value(a, pod("do_load", "fresh"))).status, 500);
    const goodBefore = await counter(a, "custom", "last_good_value");
    assert.deepEqual(await value(a, pod("do_load_kept", "fresh")), { status: 200, value: "3" });
    assert.equal(await counter(a, "custom", "last_good_value"), goodBefore + 1);
    assert.deepEqual(await value(a, ext("do_queue_kept", "queue=a")), {
      status: 200,
      value: ["5"],
    });
    assert.equal(await counter(a, "external", "last_good_value"), 1);
    assert.match(a.logs(), /prometheus unavailable; answering last good values/);
    // Never asked for before the outage: nothing to keep, so the outage shows (no stand-in 0).
    assert.equal((await value(a, pod("do_load_kept", "nobody"))).status, 500);
    // valueWhenMissing does not hide an outage either.
    assert.equal((await value(a, pod("do_load_zero", "nobody"))).status, 500);
    assert.equal((await value(a, ext("do_queue_zero", "queue=nope"))).status, 500);
    // The brief rule's value expires 4 s after it was answered.
    await sleep(Math.max(0, keptAt + 5_000 - Date.now()));
    assert.equal((await value(a, pod("do_load_brief", "fresh"))).status, 500);
    assert.deepEqual(await value(a, pod("do_load_kept", "fresh")), { status: 200, value: "3" });

    // Prometheus started again: every rule answers from it, with no adapter restart.
    await prom.start();
    await waitFor("answers after Prometheus is back", async () =>
      (await value(a, pod("do_load", "fresh"))).status === 200 ? true : undefined,
    );
    assert.deepEqual(await value(a, pod("do_load_brief", "fresh")), { status: 200, value: "3" });
    assert.deepEqual(await value(a, pod("do_load_zero", "nobody")), { status: 200, value: "0" });
    assert.equal((await value(a, pod("do_load_fresh", "stale"))).status, 404);
    assert.deepEqual(await value(a, pod("do_load_fresh", "fresh")), { status: 200, value: "3" });
    const kept = await getJson(a, pod("do_load_kept", "fresh"));
    assert.equal(kept.status, 200);
    // A fresh answer again, stamped now rather than with the kept value's time.
    const stamp = (kept.body as { items: Item[] }).items[0]?.timestamp ?? "";
    assert.ok(Date.now() - Date.parse(stamp) < 30_000, `timestamp ${stamp}`);
  });
});
