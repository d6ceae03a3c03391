import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createAdapterMetrics } from "./metrics.ts";
import { withDiscoveredByServer, withPrometheusServer } from "./server-label.ts";

function lines(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`));
}

test("Prometheus requests are labelled by server: explicit, set around the hook, or default", async () => {
  const m = createAdapterMetrics("v0");
  m.prometheusRequest("/api/v1/query", 0.01, "success", "prom-b.svc:9090");
  // A hook of three arguments, run inside the client's label.
  withPrometheusServer("mimir.svc:8080/prometheus", () => {
    m.prometheusRequest("/api/v1/query", 0.01, "unreachable");
  });
  m.prometheusRequest("/api/v1/labels", 0.01, "timeout");
  const text = await m.registry.metrics();
  const count = lines(text, "k8s_custom_metrics_prometheus_request_duration_seconds_count");
  assert.ok(count.some((l) => l.includes('server="prom-b.svc:9090"') && l.endsWith(" 1")));
  assert.ok(count.some((l) => l.includes('server="mimir.svc:8080/prometheus"')));
  const errors = lines(text, "k8s_custom_metrics_prometheus_request_errors_total");
  assert.deepEqual(errors.map((l) => /server="([^"]*)"/.exec(l)?.[1]).sort(), [
    "default",
    "mimir.svc:8080/prometheus",
  ]);
});

test("discovered metrics by server; a server the config dropped goes away", async () => {
  const m = createAdapterMetrics("v0");
  m.relist(
    "success",
    1,
    { custom: 3, external: 1 },
    {
      default: { custom: 2, external: 0 },
      "b.svc:9090": { custom: 1, external: 1 },
    },
  );
  let text = await m.registry.metrics();
  assert.deepEqual(lines(text, "k8s_custom_metrics_discovered_metrics").sort(), [
    'k8s_custom_metrics_discovered_metrics{api="custom",server="b.svc:9090"} 1',
    'k8s_custom_metrics_discovered_metrics{api="custom",server="default"} 2',
    'k8s_custom_metrics_discovered_metrics{api="external",server="b.svc:9090"} 1',
    'k8s_custom_metrics_discovered_metrics{api="external",server="default"} 0',
  ]);
  // A hook of three arguments, inside the lister's counts; then a config without server b.
  withDiscoveredByServer({ default: { custom: 4, external: 0 } }, () => {
    m.relist("success", 1, { custom: 4, external: 0 });
  });
  text = await m.registry.metrics();
  assert.deepEqual(lines(text, "k8s_custom_metrics_discovered_metrics").sort(), [
    'k8s_custom_metrics_discovered_metrics{api="custom",server="default"} 4',
    'k8s_custom_metrics_discovered_metrics{api="external",server="default"} 0',
  ]);
  // Without any breakdown, everything is the default server's.
  m.relist("success", 1, { custom: 5, external: 2 });
  text = await m.registry.metrics();
  assert.equal(lines(text, "k8s_custom_metrics_discovered_metrics").length, 2);
});

test("every garbage collection is counted, also when several come in one observer batch", async () => {
  const m = createAdapterMetrics("v0");
  const majors = async (): Promise<number> => {
    const line = (await m.registry.metrics())
      .split("\n")
      .find((l) => l.startsWith('nodejs_gc_duration_seconds_count{kind="major"}'));
    return Number(line?.split(" ")[1] ?? "0");
  };
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const before = await majors();
  // Three full collections before the observer's callback can run: one batch of three entries.
  gc();
  gc();
  gc();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await majors()) - before, 3);
});
