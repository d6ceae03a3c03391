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

const pt = (timestampMs: number, cpuSeconds: number, memoryBytes: number, startTimeMs?: number) =>
  ({
    timestampMs,
    cpuSeconds,
    memoryBytes,
    ...(startTimeMs === undefined ? {} : { startTimeMs }),
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
    const s = new MetricsStore();
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
    const s = new MetricsStore();
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
    const s = new MetricsStore();
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

describe("decoding /metrics/resource", () => {
  test("the node agent's exposition decodes to node and container points", () => {
    const text = resourceText([], 1_700_000_000_000);
    const b = decodeResourceMetrics(text, 0);
    assert.ok(b.node);
    assert.equal(b.node.timestampMs, 1_700_000_000_000);
    assert.ok(b.node.cpuSeconds > 0);
    assert.ok(b.node.memoryBytes > 0);
    assert.equal(b.pods.size, 0);
  });

  test("containers need both CPU and memory; start time is kept; missing timestamps use the scrape time", () => {
    const text = [
      'container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p"} 1.5 1000',
      'container_memory_working_set_bytes{container="a",namespace="ns",pod="p"} 4096 1000',
      'container_start_time_seconds{container="a",namespace="ns",pod="p"} 0.5 1000',
      'container_cpu_usage_seconds_total{container="b",namespace="ns",pod="p"} 2',
      'container_memory_working_set_bytes{container="only-mem",namespace="ns",pod="p"} 1',
      "node_cpu_usage_seconds_total 10",
    ].join("\n");
    const b = decodeResourceMetrics(text, 777);
    assert.equal(b.node, undefined);
    assert.deepEqual(Object.fromEntries(b.pods.get("ns/p") ?? []), {
      a: { timestampMs: 1000, cpuSeconds: 1.5, memoryBytes: 4096, startTimeMs: 500 },
    });
  });
});

describe("decoding a kubelet's full /metrics/resource", () => {
  test("pod_* and swap families are skipped; a point's time is the earlier of CPU and memory", () => {
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
      cpuSeconds: 1234.5,
      memoryBytes: 2.5e9,
    });
    assert.deepEqual([...b.pods.keys()], ["ns/p"]);
    assert.deepEqual(b.pods.get("ns/p")?.get("app"), {
      timestampMs: 1700000000050,
      cpuSeconds: 12.5,
      memoryBytes: 12345678,
      startTimeMs: 1.6999964e12,
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
  await src.scrapeOnce();
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
