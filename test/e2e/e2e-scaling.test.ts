import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { parseQuantity } from "../../src/apimachinery/quantity.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { startLoad } from "../../src/harness/load.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

interface Hpa {
  status: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: {
      type: string;
      pods?: { metric: { name: string }; current: { averageValue?: string } };
      object?: {
        metric: { name: string };
        describedObject: { kind: string; name: string };
        current: { value?: string; averageValue?: string };
      };
      external?: { metric: { name: string }; current: { value?: string; averageValue?: string } };
    }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

let info: ClusterInfo;
before(async () => {
  info = await testCluster();
  await ensureRegisteredAdapter(info);
});

async function hpa(ns: string, name: string): Promise<Hpa> {
  return kubectlJson<Hpa>(info, ["-n", ns, "get", "hpa", name]);
}

async function podIps(ns: string, app: string): Promise<string[]> {
  const pods = await kubectlJson<{ items: { status: { podIP?: string; phase?: string } }[] }>(
    info,
    ["-n", ns, "get", "pods", "-l", `app=${app}`],
  );
  return pods.items
    .filter((p) => p.status.phase === "Running" && p.status.podIP)
    .map((p) => p.status.podIP ?? "");
}

function replicas(
  ns: string,
  name: string,
  want: (n: number) => boolean,
  what: string,
  timeoutMs = 150_000,
): Promise<Hpa> {
  return waitFor(
    `${ns}/${name} ${what}`,
    async () => {
      const h = await hpa(ns, name);
      return want(h.status.currentReplicas ?? 0) ? h : undefined;
    },
    timeoutMs,
    1000,
  );
}

function assertActive(h: Hpa): void {
  const active = h.status.conditions?.find((c) => c.type === "ScalingActive");
  assert.equal(active?.status, "True", JSON.stringify(h.status.conditions));
  assert.equal(active.reason, "ValidMetricFound");
}

describe("autoscaling through the real HPA controller and aggregator", { timeout: 600_000 }, () => {
  const namespaces: string[] = [];
  after(async () => {
    for (const ns of namespaces) await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  });

  test("requests per second: load scales the demo app up, and it scales down after load stops", async () => {
    const ns = await freshNamespace(info, "rps");
    namespaces.push(ns);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/requests-per-second/demo-app.yaml", "utf8"),
    );
    await replicas(ns, "demo-app", (n) => n === 1, "at 1 replica with a valid metric");
    await waitFor(
      "a valid http_requests_per_second metric",
      async () => {
        const h = await hpa(ns, "demo-app");
        return h.status.currentMetrics?.[0]?.pods ? h : undefined;
      },
      120_000,
      1000,
    );

    let ips = await podIps(ns, "demo-app");
    const loadStart = Date.now();
    const load = startLoad({
      urls: () => ips.map((ip) => `http://${ip}:8080/`),
      ratePerSecond: 25,
      durationMs: 120_000,
    });
    const refresh = setInterval(() => {
      void podIps(ns, "demo-app").then((v) => (ips = v));
    }, 2000);
    try {
      const up = await replicas(ns, "demo-app", (n) => n >= 2, "scaled up under load");
      const scaledUpAfter = Date.now() - loadStart;
      assertActive(up);
      const m = up.status.currentMetrics?.[0];
      assert.ok(m);
      assert.equal(m.type, "Pods");
      assert.equal(m.pods?.metric.name, "http_requests_per_second");
      assert.ok(
        parseQuantity(m.pods.current.averageValue ?? "0").toNumber() > 5,
        m.pods.current.averageValue,
      );
      console.log(
        `# measured: requests-per-second scale-up ${String(scaledUpAfter)} ms after load start`,
      );
    } finally {
      load.stop();
      clearInterval(refresh);
    }
    const loadStop = Date.now();
    const downHpa = await replicas(
      ns,
      "demo-app",
      (n) => n === 1,
      "scaled back down after load stopped",
      240_000,
    );
    console.log(
      `# measured: requests-per-second scale-down ${String(Date.now() - loadStop)} ms after load stop (sent ${String(load.sent())} requests)`,
    );
    assertActive(downHpa);
  });

  test("an Object metric on a Service (its request rate) moves replicas", async () => {
    const ns = await freshNamespace(info, "object");
    namespaces.push(ns);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/object/service-rps.yaml", "utf8"),
    );
    await waitFor(
      "the Service's request rate to be served",
      async () => {
        const h = await hpa(ns, "web");
        return h.status.currentMetrics?.[0]?.object ? h : undefined;
      },
      120_000,
      1000,
    );
    let ips = await podIps(ns, "web");
    const load = startLoad({
      urls: () => ips.map((ip) => `http://${ip}:8080/`),
      ratePerSecond: 30,
      durationMs: 120_000,
    });
    const refresh = setInterval(() => {
      void podIps(ns, "web").then((v) => (ips = v));
    }, 2000);
    try {
      const up = await replicas(ns, "web", (n) => n >= 2, "scaled up on the Service's rate");
      assertActive(up);
      const m = up.status.currentMetrics?.[0];
      assert.ok(m);
      assert.equal(m.type, "Object");
      assert.equal(m.object?.describedObject.kind, "Service");
      assert.equal(m.object.describedObject.name, "web");
      assert.equal(m.object.metric.name, "http_requests_per_second");
    } finally {
      load.stop();
      clearInterval(refresh);
    }
    await replicas(ns, "web", (n) => n === 1, "scaled down after load stopped", 240_000);
  });

  test("an External metric (queue depth from externalRules) moves replicas", async () => {
    const ns = await freshNamespace(info, "external");
    namespaces.push(ns);
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      readFileSync("examples/external/queue-worker.yaml", "utf8"),
    );
    const [ip] = await waitFor("a running queue-worker pod", async () => {
      const v = await podIps(ns, "queue-worker");
      return v.length > 0 ? v : undefined;
    });
    const setDepth = (depth: number) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          `http://${ip ?? ""}:8080/queue?depth=${String(depth)}`,
          { method: "PUT" },
          (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 200) resolve();
              else reject(new Error(`status ${String(res.statusCode)}`));
            });
          },
        );
        req.on("error", reject);
        req.end();
      });
    // The pod may run a moment before its server listens.
    await waitFor("the queue depth to be set", () => setDepth(25).then(() => true));
    const up = await replicas(
      ns,
      "queue-worker",
      (n) => n === 3,
      "at 3 replicas for a depth of 25 (10 per worker)",
    );
    assertActive(up);
    const m = up.status.currentMetrics?.[0];
    assert.ok(m);
    assert.equal(m.type, "External");
    assert.equal(m.external?.metric.name, "queue_depth");
    // The adapter answers the External metrics API through the aggregator too.
    const raw = JSON.parse(
      await kubectl(info, [
        "get",
        "--raw",
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/queue_depth`,
      ]),
    ) as {
      items: { metricName: string; value: string }[];
    };
    assert.deepEqual(
      raw.items.map((i) => [i.metricName, i.value]),
      [["queue_depth", "25"]],
    );
    await setDepth(0);
    await replicas(
      ns,
      "queue-worker",
      (n) => n === 1,
      "back at 1 replica for an empty queue",
      240_000,
    );
  });
});
