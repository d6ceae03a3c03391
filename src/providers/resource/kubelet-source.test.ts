import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resourceText } from "../../harness/node-agent/exposition.ts";
import { silentLogger } from "../../observability/logger.ts";
import {
  decodeResourceMetrics,
  isLoopback,
  kubeletUrl,
  type KubeletOptions,
  type MetricsPoint,
  type NodeBatch,
  type NodeJson,
} from "./kubelet-scraper.ts";
import { KubeletSource, MetricsStore, resourceUsage } from "./kubelet-source.ts";

/** A point from CPU seconds (as the text has them) and an optional start in ms. */
const pt = (timestampMs: number, cpuSeconds: number, memoryBytes: number, startMs?: number) =>
  ({
    timestampMs,
    cpuNs: Math.trunc(cpuSeconds * 1e9),
    memoryBytes,
    ...(startMs === undefined ? {} : { startNs: startMs * 1e6 }),
  }) satisfies MetricsPoint;

function batch(node: MetricsPoint | undefined, pods: Record<string, Record<string, MetricsPoint>>) {
  return {
    node,
    pods: new Map(Object.entries(pods).map(([k, v]) => [k, new Map(Object.entries(v))])),
  } satisfies NodeBatch;
}

describe("CPU rate and window (metrics-server resourceUsage)", () => {
  test("rate between two points in nanocores; memory the last working set in BinarySI", () => {
    const u = resourceUsage(pt(25_000, 12.5, 8192), pt(10_000, 10, 4096));
    assert.ok(!(u instanceof Error));
    // 2.5 core-seconds over 15 s = 166666666n.
    assert.equal(u.usage.cpu.toString(), "166666666n");
    assert.equal(u.usage.memory.toString(), "8Ki");
    assert.equal(u.windowNs, 15_000_000_000n);
    assert.equal(u.timestamp.getTime(), 25_000);
  });

  test("whole cores and idle print canonically", () => {
    const busy = resourceUsage(pt(11_000, 2, 1234567), pt(10_000, 1, 0));
    assert.ok(!(busy instanceof Error));
    assert.equal(busy.usage.cpu.toString(), "1");
    assert.equal(busy.usage.memory.toString(), "1234567");
    const idle = resourceUsage(pt(11_000, 1, 0), pt(10_000, 1, 0));
    assert.ok(!(idle instanceof Error));
    assert.equal(idle.usage.cpu.toString(), "0");
  });

  test("a decreasing counter or an empty window is an error", () => {
    const down = resourceUsage(pt(20, 1, 0), pt(10, 2, 0));
    assert.ok(down instanceof Error);
    assert.match(down.message, /unexpected decrease/);
    const still = resourceUsage(pt(10, 2, 0), pt(10, 1, 0));
    assert.ok(still instanceof Error);
    assert.match(still.message, /time order/);
  });
});

describe("MetricsStore keeps the last two points", () => {
  test("nodes and pods need two rounds; a third round slides the window", () => {
    const s = new MetricsStore(60_000);
    s.store(new Map([["n", batch(pt(1000, 10, 100), { "ns/p": { c: pt(1000, 1, 4096, 0) } })]]));
    assert.equal(s.node("n"), undefined);
    assert.equal(s.pod("ns", "p"), undefined);
    s.store(new Map([["n", batch(pt(3000, 11, 200), { "ns/p": { c: pt(3000, 1.5, 8192, 0) } })]]));
    assert.equal(s.node("n")?.usage.cpu.toString(), "500m");
    assert.equal(s.node("n")?.windowNs, 2_000_000_000n);
    const p = s.pod("ns", "p");
    assert.deepEqual(
      p?.containers.map((c) => [c.name, c.usage.cpu.toString(), c.usage.memory.toString()]),
      [["c", "250m", "8Ki"]],
    );
    s.store(new Map([["n", batch(pt(4000, 13, 300), { "ns/p": { c: pt(4000, 1.5, 8192, 0) } })]]));
    assert.equal(s.node("n")?.usage.cpu.toString(), "2");
    assert.equal(s.pod("ns", "p")?.containers[0]?.usage.cpu.toString(), "0");
    assert.equal(s.pod("ns", "p")?.windowNs, 1_000_000_000n);
  });

  test("no new sample keeps the older point; a restart or a vanished node forgets", () => {
    const s = new MetricsStore(60_000);
    const round = (n: MetricsPoint, c: MetricsPoint) => {
      s.store(new Map([["n", batch(n, { "ns/p": { c } })]]));
    };
    round(pt(1000, 10, 1), pt(1000, 1, 1, 500));
    round(pt(2000, 11, 1), pt(2000, 2, 1, 500));
    // Same timestamps again: the rate over (1000, 2000] stays.
    round(pt(2000, 11, 1), pt(2000, 2, 1, 500));
    assert.equal(s.node("n")?.usage.cpu.toString(), "1");
    assert.equal(s.pod("ns", "p")?.containers[0]?.usage.cpu.toString(), "1");
    // The container restarted at 2500: its counter starts over, no rate until the next point.
    round(pt(3000, 12, 1), pt(3000, 0.1, 1, 2500));
    assert.equal(s.pod("ns", "p"), undefined);
    round(pt(4000, 13, 1), pt(4000, 0.6, 1, 2500));
    assert.equal(s.pod("ns", "p")?.containers[0]?.usage.cpu.toString(), "500m");
    s.store(new Map());
    assert.equal(s.node("n"), undefined);
    assert.equal(s.pod("ns", "p"), undefined);
  });

  test("a pod is reported only when every container has two points; earliest time wins", () => {
    const s = new MetricsStore(60_000);
    s.store(new Map([["n", batch(undefined, { "ns/p": { a: pt(1000, 1, 1) } })]]));
    s.store(
      new Map([["n", batch(undefined, { "ns/p": { a: pt(2000, 2, 1), b: pt(2000, 1, 1) } })]]),
    );
    assert.equal(s.pod("ns", "p"), undefined);
    s.store(
      new Map([["n", batch(undefined, { "ns/p": { b: pt(2500, 1.5, 1), a: pt(3000, 3, 1) } })]]),
    );
    const p = s.pod("ns", "p");
    assert.ok(p);
    assert.deepEqual(
      p.containers.map((c) => c.name),
      ["a", "b"],
    );
    assert.equal(p.timestamp.getTime(), 2500);
    assert.equal(p.windowNs, 500_000_000n);
  });
});

describe("fresh containers and partial pods (metrics-server pkg/storage/pod.go)", () => {
  const one = (s: MetricsStore, containers: Record<string, MetricsPoint>) => {
    s.store(new Map([["n", batch(undefined, { "ns/p": containers })]]));
  };

  test("a container first seen 10 s to one resolution after its start is served at once, from its start", () => {
    const s = new MetricsStore(15_000);
    // Started at 100 s, seen at 112 s with 0.6 core-seconds used: 50m over a 12 s window.
    one(s, { c: pt(112_000, 0.6, 4096, 100_000) });
    const p = s.pod("ns", "p");
    assert.ok(p);
    assert.equal(p.containers[0]?.usage.cpu.toString(), "50m");
    assert.equal(p.containers[0].usage.memory.toString(), "4Ki");
    assert.equal(p.windowNs, 12_000_000_000n);
    assert.equal(p.timestamp.getTime(), 112_000);
    // The next round pairs the real points again.
    one(s, { c: pt(127_000, 1.35, 4096, 100_000) });
    assert.equal(s.pod("ns", "p")?.containers[0]?.usage.cpu.toString(), "50m");
    assert.equal(s.pod("ns", "p")?.windowNs, 15_000_000_000n);
  });

  test("younger than 10 s, exactly one resolution or older, or with a 10 s resolution: no start point", () => {
    for (const [resolution, age] of [
      [15_000, 9_999],
      [15_000, 15_000],
      [15_000, 40_000],
      [10_000, 10_000],
      [60_000, -1_000],
    ] as const) {
      const s = new MetricsStore(resolution);
      one(s, { c: pt(100_000 + age, 0.5, 1, 100_000) });
      assert.equal(
        s.pod("ns", "p"),
        undefined,
        `resolution ${String(resolution)}, age ${String(age)}`,
      );
    }
    const s = new MetricsStore(60_000);
    one(s, { c: pt(110_000, 0.5, 1, 100_000) });
    assert.ok(s.pod("ns", "p"), "10 s exactly is old enough");
  });

  test("the start point keeps the start time's nanoseconds in the window", () => {
    const s = new MetricsStore(15_000);
    // Start 1700000000.123456789 s (as the float holds it), point 12 s later to the millisecond.
    const startNs = Math.trunc(Number("1700000000.123456789") * 1e9);
    const point: MetricsPoint = {
      timestampMs: 1700000012124,
      cpuNs: 1e9,
      memoryBytes: 1,
      startNs,
    };
    one(s, { c: point });
    const p = s.pod("ns", "p");
    assert.ok(p);
    assert.equal(p.windowNs, 1700000012124n * 1_000_000n - BigInt(startNs));
    const seconds = Number(p.windowNs / 1_000_000_000n) + Number(p.windowNs % 1_000_000_000n) / 1e9;
    assert.equal(p.containers[0]?.usage.cpu.toString(), `${String(Math.trunc(1e9 / seconds))}n`);
  });

  test("a restarted container waits for a second point, unless it is fresh; its pod waits with it", () => {
    const s = new MetricsStore(15_000);
    one(s, { a: pt(100_000, 1, 1, 0), b: pt(100_000, 1, 1, 0) });
    one(s, { a: pt(115_000, 2, 1, 0), b: pt(115_000, 2, 1, 0) });
    assert.equal(s.pod("ns", "p")?.containers.length, 2);
    // b restarted at 115 s (not before its last point): no previous point for it and, 15 s old,
    // not fresh, so no PodMetrics at all (not one with just a).
    one(s, { a: pt(130_000, 3, 1, 0), b: pt(130_000, 0.1, 1, 115_000) });
    assert.equal(s.pod("ns", "p"), undefined);
    // The same sample again (the kubelet's stats not refreshed yet): still waiting.
    one(s, { a: pt(130_000, 3, 1, 0), b: pt(130_000, 0.1, 1, 115_000) });
    assert.equal(s.pod("ns", "p"), undefined);
    one(s, { a: pt(145_000, 4, 1, 0), b: pt(145_000, 0.4, 1, 115_000) });
    assert.deepEqual(
      s.pod("ns", "p")?.containers.map((c) => `${c.name}=${c.usage.cpu.toString()}`),
      ["a=66666666n", "b=20m"],
    );
    // b restarts again at 148 s, seen at 160 s: fresh, so served at once from its start.
    one(s, { a: pt(160_000, 5, 1, 0), b: pt(160_000, 0.24, 1, 148_000) });
    assert.deepEqual(
      s.pod("ns", "p")?.containers.map((c) => `${c.name}=${c.usage.cpu.toString()}`),
      ["a=66666666n", "b=20m"],
    );
  });

  test("a container whose rate is an error is left out of its pod; all of them: no PodMetrics", () => {
    const s = new MetricsStore(15_000);
    one(s, { a: pt(100_000, 5, 1, 0), b: pt(100_000, 5, 1, 0) });
    // a's counter went down without a restart: upstream logs and skips just that container.
    one(s, { a: pt(115_000, 4, 1, 0), b: pt(115_000, 6.5, 1, 0) });
    const p = s.pod("ns", "p");
    assert.deepEqual(
      p?.containers.map((c) => `${c.name}=${c.usage.cpu.toString()}`),
      ["b=100m"],
    );
    one(s, { a: pt(130_000, 3, 1, 0), b: pt(130_000, 6, 1, 0) });
    assert.equal(s.pod("ns", "p"), undefined);
  });

  test("a start time earlier than the previous point's is an error, as upstream's resourceUsage", () => {
    const u = resourceUsage(pt(20_000, 2, 1, 500), pt(10_000, 1, 1, 1000));
    assert.ok(u instanceof Error);
    assert.match(u.message, /unexpected decrease in startTime/);
  });

  test("a pod two kubelets report is taken from the first", () => {
    const s = new MetricsStore(60_000);
    const round = (t: number) => {
      s.store(
        new Map([
          ["n1", batch(undefined, { "ns/p": { c: pt(t, t / 1000, 1) } })],
          ["n2", batch(undefined, { "ns/p": { c: pt(t, t / 100, 1) } })],
        ]),
      );
    };
    round(1000);
    round(2000);
    assert.equal(s.pod("ns", "p")?.containers[0]?.usage.cpu.toString(), "1");
  });
});

describe("decoding /metrics/resource (metrics-server's decodeBatch)", () => {
  test("the node agent's exposition decodes to node and container points", () => {
    const text = resourceText([], 1_700_000_000_000);
    const b = decodeResourceMetrics(text, 0);
    assert.ok(b.node);
    assert.equal(b.node.timestampMs, 1_700_000_000_000);
    assert.ok(b.node.cpuNs > 0);
    assert.ok(b.node.memoryBytes > 0);
    assert.equal(b.pods.size, 0);
  });

  test("CPU as truncated nanocore-seconds, memory as truncated bytes, start in ns; no timestamp: the scrape's", () => {
    const text = [
      'container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p"} 1.5000000019 1000',
      'container_memory_working_set_bytes{container="a",namespace="ns",pod="p"} 4096.9 1000',
      'container_start_time_seconds{container="a",namespace="ns",pod="p"} 0.5 1000',
      'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="q"} 2',
      'container_memory_working_set_bytes{container="c",namespace="ns",pod="q"} 1',
    ].join("\n");
    const b = decodeResourceMetrics(text, 777);
    assert.equal(b.node, undefined);
    assert.deepEqual(Object.fromEntries(b.pods.get("ns/p") ?? []), {
      a: { timestampMs: 1000, cpuNs: 1500000001, memoryBytes: 4096, startNs: 500_000_000 },
    });
    assert.deepEqual(b.pods.get("ns/q")?.get("c"), {
      timestampMs: 777,
      cpuNs: 2e9,
      memoryBytes: 1,
      startNs: undefined,
    });
  });

  test("one container without CPU or memory leaves its whole pod out; 0 is a value", () => {
    const ok = (pod: string) => [
      `container_cpu_usage_seconds_total{container="app",namespace="ns",pod="${pod}"} 1 1000`,
      `container_memory_working_set_bytes{container="app",namespace="ns",pod="${pod}"} 10 1000`,
    ];
    const text = [
      ...ok("only-mem"),
      'container_memory_working_set_bytes{container="side",namespace="ns",pod="only-mem"} 5 1000',
      ...ok("only-cpu"),
      'container_cpu_usage_seconds_total{container="side",namespace="ns",pod="only-cpu"} 5 1000',
      ...ok("start-only"),
      'container_start_time_seconds{container="side",namespace="ns",pod="start-only"} 1 1000',
      ...ok("nan"),
      'container_cpu_usage_seconds_total{container="side",namespace="ns",pod="nan"} NaN 1000',
      'container_memory_working_set_bytes{container="side",namespace="ns",pod="nan"} 5 1000',
      ...ok("negative"),
      'container_cpu_usage_seconds_total{container="side",namespace="ns",pod="negative"} 1 1000',
      'container_memory_working_set_bytes{container="side",namespace="ns",pod="negative"} -5 1000',
      ...ok("idle"),
      'container_cpu_usage_seconds_total{container="side",namespace="ns",pod="idle"} 0 1000',
      'container_memory_working_set_bytes{container="side",namespace="ns",pod="idle"} 5 1000',
      "node_cpu_usage_seconds_total 10 1000",
      "node_memory_working_set_bytes 0 1000",
    ].join("\n");
    const b = decodeResourceMetrics(text, 0);
    assert.deepEqual([...b.pods.keys()], ["ns/idle"]);
    // metrics-server takes a 0 for missing and would leave both out (docs/compatibility.md).
    assert.equal(b.pods.get("ns/idle")?.get("side")?.cpuNs, 0);
    assert.deepEqual(b.node, { timestampMs: 1000, cpuNs: 10e9, memoryBytes: 0 });
    const noMemory = decodeResourceMetrics("node_cpu_usage_seconds_total 10 1000", 0);
    assert.equal(noMemory.node, undefined);
  });

  test("a point's time is that of its last CPU or memory line, as upstream assigns it", () => {
    const text = [
      'container_cpu_usage_seconds_total{container="app",namespace="ns",pod="p"} 1 2000',
      'container_memory_working_set_bytes{container="app",namespace="ns",pod="p"} 10 1500',
      "node_memory_working_set_bytes 10 1200",
      "node_cpu_usage_seconds_total 10 1100",
    ].join("\n");
    const b = decodeResourceMetrics(text, 0);
    assert.equal(b.pods.get("ns/p")?.get("app")?.timestampMs, 1500);
    assert.equal(b.node?.timestampMs, 1100);
  });
});

describe("decoding a kubelet's full /metrics/resource", () => {
  test("pod_* and swap families are skipped", () => {
    const text = [
      "# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds",
      "# TYPE container_cpu_usage_seconds_total counter",
      'container_cpu_usage_seconds_total{container="app",namespace="ns",pod="p"} 12.5 1700000000100',
      'container_memory_working_set_bytes{container="app",namespace="ns",pod="p"} 1.2345678e+07 1700000000050',
      'container_start_time_seconds{container="app",namespace="ns",pod="p"} 1.6999964e+09 1700000000100',
      'container_swap_usage_bytes{container="app",namespace="ns",pod="p"} 0 1700000000100',
      "node_cpu_usage_seconds_total 1234.5 1700000000200",
      "node_memory_working_set_bytes 2.5e+09 1700000000100",
      "node_swap_usage_bytes 0 1700000000100",
      'pod_cpu_usage_seconds_total{namespace="ns",pod="p"} 99 1700000000100',
      'pod_memory_working_set_bytes{namespace="ns",pod="p"} 99 1700000000100',
      "scrape_error 0",
    ].join("\r\n");
    const b = decodeResourceMetrics(text, 0);
    assert.deepEqual(b.node, {
      timestampMs: 1700000000100,
      cpuNs: 1234.5e9,
      memoryBytes: 2.5e9,
    });
    assert.deepEqual([...b.pods.keys()], ["ns/p"]);
    assert.deepEqual(b.pods.get("ns/p")?.get("app"), {
      timestampMs: 1700000000050,
      cpuNs: 12.5e9,
      memoryBytes: 12345678,
      startNs: Math.trunc(1.6999964e9 * 1e9),
    });
  });

  test("a malformed line anywhere fails the scrape, as metrics-server's parser does", () => {
    assert.throws(() => decodeResourceMetrics('pod_cpu_usage_seconds_total{pod="p} 1', 0));
  });
});

describe("kubelet addresses", () => {
  const o: KubeletOptions = {
    scheme: "https",
    port: 10250,
    useNodeStatusPort: false,
    preferredAddressTypes: ["InternalIP", "ExternalIP", "Hostname"],
    insecureTls: false,
    timeoutMs: 1000,
  };
  const node: NodeJson = {
    metadata: { name: "n1" },
    status: {
      addresses: [
        { type: "Hostname", address: "n1.example" },
        { type: "ExternalIP", address: "203.0.113.5" },
        { type: "InternalIP", address: "10.0.0.5" },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 11250 } },
    },
  };
  test("preferred address type order, kubelet port or the node's status port", () => {
    assert.equal(String(kubeletUrl(node, o)), "https://10.0.0.5:10250/metrics/resource");
    assert.equal(
      String(kubeletUrl(node, { ...o, preferredAddressTypes: ["Hostname", "InternalIP"] })),
      "https://n1.example:10250/metrics/resource",
    );
    assert.equal(
      String(kubeletUrl(node, { ...o, useNodeStatusPort: true })),
      "https://10.0.0.5:11250/metrics/resource",
    );
    const v6: NodeJson = {
      metadata: { name: "x" },
      status: { addresses: [{ type: "InternalIP", address: "fd00::1" }] },
    };
    assert.equal(String(kubeletUrl(v6, o)), "https://[fd00::1]:10250/metrics/resource");
    assert.match(String(kubeletUrl({ metadata: { name: "bare" } }, o)), /no address of type/);
  });

  test("plain HTTP only to loopback", () => {
    assert.match(String(kubeletUrl(node, { ...o, scheme: "http" })), /refusing plain HTTP/);
    const local: NodeJson = {
      metadata: { name: "local" },
      status: {
        addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
        daemonEndpoints: { kubeletEndpoint: { Port: 9999 } },
      },
    };
    assert.equal(
      String(kubeletUrl(local, { ...o, scheme: "http", useNodeStatusPort: true })),
      "http://127.0.0.1:9999/metrics/resource",
    );
    assert.ok(isLoopback("127.3.4.5") && isLoopback("::1") && !isLoopback("10.0.0.1"));
  });
});

test("KubeletSource scrapes every node; a failing node is left out", async () => {
  let round = 0;
  const src = new KubeletSource({
    resolutionMs: 1000,
    log: silentLogger(),
    scraper: {
      listNodes: () =>
        Promise.resolve([{ metadata: { name: "good" } }, { metadata: { name: "bad" } }]),
      scrape: (n: NodeJson) => {
        if (n.metadata.name === "bad") return Promise.reject(new Error("connection refused"));
        round++;
        return Promise.resolve(
          batch(pt(round * 1000, round * 0.1, 2048), {
            "ns/p": { c: pt(round * 1000, round, 1024) },
          }),
        );
      },
    },
  });
  await src.scrapeOnce();
  assert.equal(src.ready, false, "one round: nothing to serve yet");
  await src.scrapeOnce();
  assert.equal(src.ready, true);
  const nodes = await src.nodeMetrics([
    { name: "good", labels: {} },
    { name: "bad", labels: {} },
  ]);
  const [good] = nodes;
  assert.ok(good);
  assert.equal(good.usage.cpu.toString(), "100m");
  assert.equal(good.usage.memory.toString(), "2Ki");
  assert.equal(nodes[1], undefined);
  const [pod] = await src.podMetrics([{ namespace: "ns", name: "p", labels: {} }]);
  assert.equal(pod?.containers[0]?.usage.cpu.toString(), "1");
});
