/**
 * @module bench/support/fixtures
 * Objects and series for query benchmarks: Pod objects in a bench namespace (bound to a node that
 * does not exist, so the node agent never runs them, with status phase Running as metrics.k8s.io
 * requires), labelled so selectors pick 10, 100 or all of them; a Service for an object metric;
 * OpenMetrics text for a backfilled Prometheus covering the whole benchmark (queries run at "now"
 * and look back 5 minutes, so samples run from a little before now to `horizonMs` after); and one
 * adapter config (custom pod and object rules, an external rule, resourceRules) for both adapters.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import type { ClusterInfo } from "../../src/harness/cluster.ts";

export const BENCH_NAMESPACE = "kcm-bench-queries";
/** A node name no node agent serves: pods bound to it are never run. */
export const NOWHERE_NODE = "kcm-bench-nowhere";
export const BENCH_SERVICE = "kcm-bench-svc";
/** Sizes the pod label selectors pick. */
export const SELECTOR_SIZES = [10, 100, 1000] as const;
export const STEP_SECONDS = 30;

export function podName(i: number): string {
  return `bench-pod-${String(i).padStart(4, "0")}`;
}

/** `labels.Selector.String()` of a selector picking the first `n` pods (n ∈ SELECTOR_SIZES). */
export function podSelector(n: number): string {
  return `app=kcm-bench,bench-group-${String(n)}=in`;
}

function podLabels(i: number): Record<string, string> {
  const labels: Record<string, string> = { app: "kcm-bench" };
  for (const n of SELECTOR_SIZES) if (i < n) labels[`bench-group-${String(n)}`] = "in";
  return labels;
}

/**
 * The adapter config both adapters get. Rate windows hold four samples at the fixture's 30 s
 * step. resourceRules follow the config generator's (prometheus-adapter cmd/config-gen).
 */
export function benchConfigYaml(): string {
  const nodeOverrides =
    "{ namespace: { resource: namespace }, pod: { resource: pod }, instance: { resource: node } }";
  return `rules:
  - seriesQuery: '{__name__="bench_http_requests_total",namespace!="",pod!=""}'
    resources:
      overrides: { namespace: { resource: namespace }, pod: { resource: pod } }
    name: { matches: "^(.*)_total$", as: "\${1}_per_second" }
    metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
  - seriesQuery: '{__name__="bench_service_queue_length",namespace!="",service!=""}'
    resources:
      overrides: { namespace: { resource: namespace }, service: { resource: service } }
    metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
  - seriesQuery: '{__name__="bench_queue_depth",namespace!=""}'
    resources:
      overrides: { namespace: { resource: namespace } }
    metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[2m])) by (<<.GroupBy>>)
    resources:
      overrides: ${nodeOverrides}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)
    resources:
      overrides: ${nodeOverrides}
    containerLabel: container
  window: 2m
`;
}

/**
 * OpenMetrics for `pods` pods: per pod a request counter, a CPU counter and a memory gauge; a
 * Service gauge; two queue-depth gauges. Samples every 30 s from 10 minutes before `now` to
 * `horizonMs` after it (future samples are fine in a fresh TSDB without a head).
 */
export function benchOpenMetrics(pods: number, nowMs: number, horizonMs: number): string {
  const ns = BENCH_NAMESPACE;
  const from = Math.floor(nowMs / 1000) - 600;
  const steps = Math.ceil((600 + horizonMs / 1000) / STEP_SECONDS);
  const out: string[] = [];
  const series = (name: string, labels: string, value: (k: number) => number) => {
    for (let k = 0; k <= steps; k++) {
      out.push(`${name}{${labels}} ${String(value(k))} ${String(from + k * STEP_SECONDS)}`);
    }
  };
  out.push("# TYPE bench_http_requests counter");
  for (let i = 0; i < pods; i++) {
    series("bench_http_requests_total", `namespace="${ns}",pod="${podName(i)}"`, (k) =>
      Math.round(k * STEP_SECONDS * (1 + (i % 20))),
    );
  }
  out.push("# TYPE container_cpu_usage_seconds counter");
  for (let i = 0; i < pods; i++) {
    series(
      "container_cpu_usage_seconds_total",
      `namespace="${ns}",pod="${podName(i)}",container="app"`,
      (k) => k * STEP_SECONDS * 0.01 * (1 + (i % 10)),
    );
  }
  out.push("# TYPE container_memory_working_set_bytes gauge");
  for (let i = 0; i < pods; i++) {
    series(
      "container_memory_working_set_bytes",
      `namespace="${ns}",pod="${podName(i)}",container="app"`,
      () => (20 + (i % 30)) * 1024 * 1024,
    );
  }
  out.push("# TYPE bench_service_queue_length gauge");
  series(
    "bench_service_queue_length",
    `namespace="${ns}",service="${BENCH_SERVICE}"`,
    (k) => 40 + (k % 7),
  );
  out.push("# TYPE bench_queue_depth gauge");
  for (const q of ["q1", "q2"]) {
    series("bench_queue_depth", `namespace="${ns}",queue="${q}"`, (k) => 100 + (k % 13));
  }
  out.push("# EOF");
  return out.join("\n") + "\n";
}

/** An admin connection to the cluster's API server, for creating fixtures quickly. */
export async function adminPool(info: ClusterInfo): Promise<Pool> {
  const [ca, cert, key] = await Promise.all([
    readFile(info.pki.caCert, "utf8"),
    readFile(info.pki.adminCert, "utf8"),
    readFile(info.pki.adminKey, "utf8"),
  ]);
  return new Pool(info.server, { connections: 16, connect: { ca, cert, key } });
}

async function call(
  pool: Pool,
  method: "POST" | "PATCH" | "DELETE",
  path: string,
  body: unknown,
  contentType = "application/json",
  okStatuses: readonly number[] = [200, 201],
): Promise<void> {
  const r = await pool.request({
    method,
    path,
    headers: { "content-type": contentType, accept: "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.body.text();
  if (!okStatuses.includes(r.statusCode)) {
    throw new Error(`${method} ${path}: ${String(r.statusCode)} ${text.slice(0, 300)}`);
  }
}

async function inBatches<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/**
 * The bench namespace with `pods` Pods (bound to {@link NOWHERE_NODE}, phase Running) and the
 * Service; existing objects are kept (409 is fine), statuses are set again.
 */
export async function createBenchObjects(info: ClusterInfo, pods: number): Promise<void> {
  const pool = await adminPool(info);
  const ns = BENCH_NAMESPACE;
  try {
    // A previous scenario's namespace may still be terminating: new objects would be refused.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const r = await pool.request({ method: "GET", path: `/api/v1/namespaces/${ns}` });
      const body = (await r.body.json()) as { status?: { phase?: string } };
      if (r.statusCode === 404 || body.status?.phase !== "Terminating") break;
      if (Date.now() > deadline) throw new Error(`namespace ${ns} is still terminating`);
      await sleep(500);
    }
    await call(
      pool,
      "POST",
      "/api/v1/namespaces",
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      "application/json",
      [201, 409],
    );
    await call(
      pool,
      "POST",
      `/api/v1/namespaces/${ns}/services`,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: BENCH_SERVICE },
        spec: { ports: [{ port: 80 }], selector: { app: "kcm-bench-none" } },
      },
      "application/json",
      [201, 409],
    );
    const indexes = Array.from({ length: pods }, (_, i) => i);
    await inBatches(indexes, 16, async (i) => {
      await call(
        pool,
        "POST",
        `/api/v1/namespaces/${ns}/pods`,
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: podName(i), labels: podLabels(i) },
          spec: {
            nodeName: NOWHERE_NODE,
            containers: [{ name: "app", image: "kcm-bench/none" }],
          },
        },
        "application/json",
        [201, 409],
      );
    });
    // metrics.k8s.io answers for Running pods only; nothing else would ever set the phase.
    await inBatches(indexes, 16, async (i) => {
      await call(
        pool,
        "PATCH",
        `/api/v1/namespaces/${ns}/pods/${podName(i)}/status`,
        { status: { phase: "Running" } },
        "application/merge-patch+json",
      );
    });
  } finally {
    await pool.close();
  }
}

/**
 * Deletes the bench pods at once (no kubelet will ever confirm a graceful deletion) and the
 * namespace, without waiting.
 */
export async function deleteBenchObjects(info: ClusterInfo): Promise<void> {
  const pool = await adminPool(info);
  try {
    await call(
      pool,
      "DELETE",
      `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`,
      // In the body: a DeleteOptions body takes precedence over query parameters.
      { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 },
      "application/json",
      [200, 404],
    );
    await call(
      pool,
      "DELETE",
      `/api/v1/namespaces/${BENCH_NAMESPACE}`,
      {},
      "application/json",
      [200, 202, 404],
    );
  } finally {
    await pool.close();
  }
}
