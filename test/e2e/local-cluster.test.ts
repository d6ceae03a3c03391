import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { get } from "../../src/harness/probe.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  promQuery,
  testCluster,
  waitFor,
} from "../support/cluster.ts";

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      ready: boolean;
      containerID?: string;
      state: { waiting?: { reason: string; message: string } };
    }[];
  };
}

const pidOf = (p: Pod) => Number(p.status.containerStatuses?.[0]?.containerID?.split("://")[1]);
const cmdline = (pid: number) =>
  existsSync(`/proc/${String(pid)}/cmdline`)
    ? readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").replace(/\0/g, " ")
    : "";
const isReady = (p: Pod) =>
  p.status.phase === "Running" &&
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

function nginxDeployment(replicas: number): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "nginx" } },
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.27",
              ports: [{ containerPort: 80 }],
              readinessProbe: { httpGet: { path: "/", port: 80 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

describe("local cluster", { timeout: 300_000 }, () => {
  let info: ClusterInfo;
  let ns: string;
  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "local");
  });
  after(async () => {
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  });

  const pods = async () =>
    (
      await kubectlJson<{ items: Pod[] }>(info, ["-n", ns, "get", "pods", "-l", "app=nginx"])
    ).items.filter((p) => !p.metadata.deletionTimestamp);
  const readyPods = (n: number) =>
    waitFor(`${String(n)} ready nginx pods`, async () => {
      const ps = await pods();
      return ps.length === n && ps.every(isReady) ? ps : undefined;
    });

  test("runs the aggregation layer: extension-apiserver-authentication holds the requestheader keys", async () => {
    const cm = await kubectlJson<{ data: Record<string, string> }>(info, [
      "-n",
      "kube-system",
      "get",
      "configmap",
      "extension-apiserver-authentication",
    ]);
    assert.deepEqual(JSON.parse(cm.data["requestheader-allowed-names"] ?? ""), [
      "front-proxy-client",
    ]);
    assert.deepEqual(JSON.parse(cm.data["requestheader-username-headers"] ?? ""), [
      "X-Remote-User",
    ]);
    assert.deepEqual(JSON.parse(cm.data["requestheader-group-headers"] ?? ""), ["X-Remote-Group"]);
    assert.deepEqual(JSON.parse(cm.data["requestheader-extra-headers-prefix"] ?? ""), [
      "X-Remote-Extra-",
    ]);
    const frontProxyCa = readFileSync(info.pki.frontProxyCaCert, "utf8").trim();
    assert.ok(cm.data["requestheader-client-ca-file"]?.includes(frontProxyCa));
    assert.ok(cm.data["client-ca-file"]?.includes("BEGIN CERTIFICATE"));
  });

  test("the node is registered, Ready, and renews its lease", async () => {
    const node = await kubectlJson<{
      status: {
        conditions: { type: string; status: string }[];
        nodeInfo: { kubeletVersion: string };
      };
    }>(info, ["get", "node", info.nodeName]);
    assert.equal(node.status.conditions.find((c) => c.type === "Ready")?.status, "True");
    assert.equal(node.status.nodeInfo.kubeletVersion, info.kubernetesVersion);
    const lease = await kubectlJson<{ spec: { holderIdentity: string; renewTime: string } }>(info, [
      "-n",
      "kube-node-lease",
      "get",
      "lease",
      info.nodeName,
    ]);
    assert.equal(lease.spec.holderIdentity, info.nodeName);
    assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 30_000);
  });

  test("a Deployment's pods run as real nginx processes that answer HTTP, scale, and stop", async () => {
    await kubectl(info, ["-n", ns, "apply", "-f", "-"], nginxDeployment(2));
    const two = await readyPods(2);
    for (const p of two) {
      assert.match(cmdline(pidOf(p)), /^nginx: master process/);
      const res = await get(`http://${p.status.podIP ?? ""}:80/`);
      assert.equal(res.status, 200);
      assert.ok(res.body.includes(p.metadata.name), res.body);
    }

    await kubectl(info, ["-n", ns, "scale", "deployment/nginx", "--replicas=3"]);
    const three = await readyPods(3);
    const added = three.find((p) => !two.some((q) => q.metadata.name === p.metadata.name));
    assert.ok(added, "a third pod");
    assert.match(cmdline(pidOf(added)), /^nginx: master process/);
    assert.equal((await get(`http://${added.status.podIP ?? ""}:80/`)).status, 200);

    // Prometheus scrapes the node agent's cAdvisor endpoint: one series per running pod.
    await waitFor("container_memory_working_set_bytes for every pod", async () => {
      const series = await promQuery(
        info,
        `container_memory_working_set_bytes{namespace="${ns}",container="nginx"}`,
      );
      const podsWithMemory = new Set(
        series.filter((s) => Number(s.value[1]) > 0).map((s) => s.metric["pod"]),
      );
      return three.every((p) => podsWithMemory.has(p.metadata.name)) ? true : undefined;
    });

    const victim = three[0]!;
    const victimPid = pidOf(victim);
    assert.ok(cmdline(victimPid).startsWith("nginx"));
    await kubectl(info, ["-n", ns, "delete", "pod", victim.metadata.name, "--wait=true"]);
    await waitFor("the deleted pod's process to exit", () =>
      Promise.resolve(cmdline(victimPid) === "" ? true : undefined),
    );
    // The ReplicaSet replaces it with a new process.
    const again = await readyPods(3);
    assert.ok(!again.some((p) => p.metadata.name === victim.metadata.name));
  });

  test("an image with no local mapping leaves the pod Pending with a clear reason", async () => {
    await kubectl(
      info,
      ["-n", ns, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "mystery", labels: { app: "mystery" } },
        spec: { containers: [{ name: "c", image: "example.com/no-such-image:1" }] },
      }),
    );
    const pod = await waitFor("the pod's waiting reason", async () => {
      const p = await kubectlJson<Pod>(info, ["-n", ns, "get", "pod", "mystery"]);
      return p.status.containerStatuses?.[0]?.state.waiting ? p : undefined;
    });
    assert.equal(pod.status.phase, "Pending");
    const waiting = pod.status.containerStatuses?.[0]?.state.waiting;
    assert.equal(waiting?.reason, "ImageNotSupported");
    assert.match(waiting.message, /example\.com\/no-such-image:1.*nginx/);
  });
});
