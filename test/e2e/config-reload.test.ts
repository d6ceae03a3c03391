/**
 * @module test/config-reload
 * Hot reload of `--config` (issue #18), with the real adapter and a real Prometheus, while 16
 * HPA-like clients ask for a metric without pause: a ConfigMap-style symlink swap adds a rule, a
 * broken file keeps the last good config (logged with file:line:col, reload gauge 0), SIGHUP
 * applies a direct edit, and not one of the clients' requests fails meanwhile.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { getJson, startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries } from "../support/series.ts";

const T = { timeout: 180_000 };
const CM = "/apis/custom.metrics.k8s.io/v1beta2";

const rule = (
  series: string,
  as?: string,
) => `  - seriesQuery: '{__name__="${series}",namespace!="",pod!=""}'
    resources:
      overrides:
        namespace: {resource: namespace}
        pod: {resource: pod}
${as === undefined ? "" : `    name: {as: ${as}}\n`}    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`;

/** A folder laid out as the kubelet lays out a ConfigMap volume; `publish` swaps `..data`. */
async function configMapVolume(dir: string, text: string) {
  let n = 0;
  const publish = async (t: string) => {
    const ts = join(dir, `..2026_${String(n++)}`);
    await mkdir(ts);
    await writeFile(join(ts, "config.yaml"), t);
    await symlink(ts, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  await publish(text);
  await symlink(join("..data", "config.yaml"), join(dir, "config.yaml"));
  return { path: join(dir, "config.yaml"), publish };
}

describe("config hot reload under load", () => {
  let info: ClusterInfo;
  let ns: string;
  let prom: RunningPrometheus;
  let adapter: RunningAdapter;
  let dir: string;

  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "reload");
    prom = await startPrometheus({
      openMetrics: constantSeries([
        ["reload_a", { namespace: ns, pod: "p1" }, "1"],
        ["reload_b", { namespace: ns, pod: "p1" }, "2"],
      ]),
    });
    dir = await mkdtemp(join(tmpdir(), "kcm-reload-"));
  });

  after(async () => {
    await adapter.stop();
    await prom.stop();
    await rm(dir, { recursive: true, force: true });
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
  });

  test("file change, bad file and SIGHUP, with no failed request", T, async () => {
    const vol = await configMapVolume(dir, `rules:\n${rule("reload_a")}`);
    adapter = await startAdapter({
      prometheusUrl: prom.url,
      kubeconfig: info.kubeconfig,
      config: vol.path,
      relistInterval: "1m",
      maxAge: "1h",
    });
    const path = `${CM}/namespaces/${ns}/pods/p1/reload_a`;
    assert.equal((await getJson(adapter, path)).status, 200);

    // 16 clients ask for reload_a back to back until told to stop (bounded by the test's end).
    let running = true;
    const failures: string[] = [];
    let answered = 0;
    const client = async () => {
      while (running) {
        try {
          const r = await getJson(adapter, path);
          if (r.status === 200) answered++;
          else failures.push(`${String(r.status)} ${JSON.stringify(r.body)}`);
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    const gauge = async () => {
      const text = await fetch(`${adapter.url}/metrics`).then((r) => r.text());
      return /^k8s_custom_metrics_config_last_reload_successful (\d)$/m.exec(text)?.[1];
    };
    const listed = async (metric: string) => {
      const r = await getJson(adapter, CM);
      const names = (r.body as { resources?: { name: string }[] }).resources ?? [];
      return names.some((x) => x.name === `pods/${metric}`);
    };
    try {
      // 1. A ConfigMap update adds a rule: its metric is served without a restart.
      await vol.publish(`rules:\n${rule("reload_a")}${rule("reload_b")}`);
      await waitFor("reload_b after the symlink swap", async () =>
        (await listed("reload_b")) ? true : undefined,
      );
      assert.equal((await getJson(adapter, `${CM}/namespaces/${ns}/pods/p1/reload_b`)).status, 200);
      assert.equal(await gauge(), "1");

      // 2. A broken file: the last good config keeps serving, the failure is logged and counted.
      await vol.publish(`rules:\n${rule("reload_a")}  - seriesQuery: [unclosed\n`);
      await waitFor("the failed reload", async () => ((await gauge()) === "0" ? true : undefined));
      assert.match(adapter.logs(), /config reload failed; keeping the last good config/);
      assert.match(adapter.logs(), /config\.yaml:\d+:\d+: /);
      assert.equal(await listed("reload_b"), true);

      // 3. SIGHUP applies a direct edit (here: reload_b renamed).
      await writeFile(
        join(dir, "..data", "config.yaml"),
        `rules:\n${rule("reload_a")}${rule("reload_b", "reload_b_renamed")}`,
      );
      adapter.signal("SIGHUP");
      await waitFor("reload_b_renamed after SIGHUP", async () =>
        (await listed("reload_b_renamed")) ? true : undefined,
      );
      assert.equal(await listed("reload_b"), false);
      assert.equal(await gauge(), "1");
    } finally {
      running = false;
      await Promise.all(clients);
    }
    assert.deepEqual(failures, []);
    assert.ok(answered > 100, `only ${String(answered)} requests were answered`);
  });
});
