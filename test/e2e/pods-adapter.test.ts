// The shipped manifests as real pods of the local cluster (#14 items 2-3): `kubectl apply -k` of
// deploy/ (plus the loopback overlay), two replicas run by the node agent with a TokenRequest
// token, the cluster CA and the ConfigMap at their real paths, a Service served on its loopback
// ClusterIP from EndpointSlices, the APIServices Available and the seed HPA scaling through them;
// then a rolling update and a SIGKILLed replica under HPA-shaped load through the aggregator, and
// `kubectl delete -k` leaving nothing behind. The host-process adapter other tests share is
// restored afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { Agent } from "undici";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { localOverlay } from "../../src/harness/adapter-pods.ts";
import { apiServiceAvailability, startAdapter } from "../../src/harness/adapter-process.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";
import { createAgent } from "../../src/http/client.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { outcome } from "../support/http.ts";

const NS = "custom-metrics";
const API_SERVICES = [
  "v1beta2.custom.metrics.k8s.io",
  "v1beta1.custom.metrics.k8s.io",
  "v1beta1.external.metrics.k8s.io",
  "v1beta1.metrics.k8s.io",
];

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { ready: boolean; restartCount: number; containerID?: string }[];
  };
}

interface Hpa {
  status: {
    currentReplicas?: number;
    desiredReplicas?: number;
    conditions?: { type: string; status: string; reason: string }[];
  };
}

const pidOf = (p: Pod) => Number(p.status.containerStatuses?.[0]?.containerID?.split("://")[1]);
const isReady = (p: Pod) =>
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
const procFile = (pid: number, file: string) =>
  readFileSync(`/proc/${String(pid)}/${file}`, "utf8");
/** A file as the pod's process sees it, through its own mount namespace. */
const podFile = (pid: number, path: string) => procFile(pid, `root${path}`);

/** Bounded HPA-shaped load: GETs of the seed HPA's metric through kube-apiserver, counted. */
class Load {
  ok = 0;
  readonly failures = new Map<string, number>();
  #stop = false;
  #workers: Promise<void>[] = [];
  readonly #agent: Agent;

  readonly info: ClusterInfo;
  readonly path: string;
  readonly concurrency: number;

  constructor(info: ClusterInfo, path: string, concurrency: number) {
    this.info = info;
    this.path = path;
    this.concurrency = concurrency;
    this.#agent = createAgent({
      timeoutMs: 15_000,
      tls: {
        ca: readFileSync(info.pki.caCert),
        cert: readFileSync(info.pki.adminCert),
        key: readFileSync(info.pki.adminKey),
      },
    });
  }

  start(): void {
    this.#stop = false;
    this.#workers = Array.from({ length: this.concurrency }, () => this.#run());
  }

  async stop(): Promise<{ ok: number; failed: number; by: Record<string, number> }> {
    this.#stop = true;
    await Promise.all(this.#workers);
    const by = Object.fromEntries(this.failures);
    const r = { ok: this.ok, failed: [...this.failures.values()].reduce((a, b) => a + b, 0), by };
    this.ok = 0;
    this.failures.clear();
    return r;
  }

  close(): void {
    void this.#agent.destroy();
  }

  async #run(): Promise<void> {
    while (!this.#stop) {
      const outcome = await this.#once();
      if (outcome === "200") this.ok++;
      else this.failures.set(outcome, (this.failures.get(outcome) ?? 0) + 1);
      // HPA-shaped: a handful of clients, each asking a few times a second.
      await sleep(100);
    }
  }

  #once(): Promise<string> {
    return outcome(this.#agent, `${this.info.server}${this.path}`, { list: true });
  }
}

describe("the adapter as pods of the local cluster", { timeout: 900_000 }, () => {
  let info: ClusterInfo;
  let overlay: string;
  let seedNs: string;
  let hostAdapterWasRunning = false;
  let clusterIp = "";
  const pids: number[] = [];
  const replicaLog: number[] = [];

  const adapterPods = async () =>
    (
      await kubectlJson<{ items: Pod[] }>(info, [
        "-n",
        NS,
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=k8s-custom-metrics",
      ])
    ).items.filter((p) => !p.metadata.deletionTimestamp);
  const twoReady = (what: string, timeoutMs = 300_000) =>
    waitFor(
      what,
      async () => {
        const all = (
          await kubectlJson<{ items: Pod[] }>(info, [
            "-n",
            NS,
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=k8s-custom-metrics",
          ])
        ).items;
        return all.length === 2 && all.every((p) => !p.metadata.deletionTimestamp && isReady(p))
          ? all
          : undefined;
      },
      timeoutMs,
      1000,
    );
  const hpaReplicas = async () => {
    const h = await kubectlJson<Hpa>(info, ["-n", seedNs, "get", "hpa", "nginx"]);
    return h.status.currentReplicas ?? 0;
  };

  before(async () => {
    info = await testCluster();
    const p = statePaths(info.stateDir);
    const sup = new Supervisor(p.logs, p.run);
    hostAdapterWasRunning = (await sup.list()).some((c) => c.name === "adapter" && c.alive);
    if (hostAdapterWasRunning) await sup.stop("adapter", 10_000);
    overlay = await localOverlay(info);
  });

  after(async () => {
    if (seedNs) await kubectl(info, ["delete", "namespace", seedNs, "--wait=false"]);
    await kubectl(info, ["delete", "-k", overlay, "--ignore-not-found", "--wait=true"]).catch(
      () => undefined,
    );
    if (hostAdapterWasRunning) {
      // The shared host-process adapter, registered afresh (its service account was deleted).
      await waitFor(
        `namespace ${NS} gone`,
        async () =>
          (await kubectl(info, ["get", "namespace", NS, "--ignore-not-found"])) === ""
            ? true
            : undefined,
        180_000,
        1000,
      );
      await startAdapter(info);
    }
  });

  test("kubectl apply -k: two Ready pods of our image, with a kubelet's token, CA, ConfigMap and env", async () => {
    await kubectl(info, ["apply", "-k", overlay]);
    const pods = await twoReady("two Ready adapter pods");
    const svc = await kubectlJson<{ spec: { clusterIP: string } }>(info, [
      "-n",
      NS,
      "get",
      "service",
      "k8s-custom-metrics",
    ]);
    clusterIp = svc.spec.clusterIP;
    assert.match(clusterIp, /^127\./, "the Service range is loopback");
    const ca = readFileSync(info.pki.caCert, "utf8");
    const config = readFileSync("examples/adapter-config.yaml", "utf8");
    for (const p of pods) {
      const pid = pidOf(p);
      pids.push(pid);
      const ip = p.status.podIP ?? "";
      assert.match(ip, /^127\./);
      const argv = procFile(pid, "cmdline").split("\0");
      const cli = argv.findIndex((a) => a.endsWith("bin/k8s-custom-metrics.js"));
      assert.ok(cli > 0, argv.join(" "));
      assert.equal(argv[cli + 1], "serve", "the image's entrypoint, then the container's args");
      assert.ok(argv.includes("--config=/etc/adapter/config.yaml"), argv.join(" "));
      assert.ok(argv.includes(`--bind-address=${ip}`), argv.join(" "));
      // What a kubelet gives a pod, at the real paths, seen from inside its mount namespace.
      // (/run: /var/run is an absolute symlink, which /proc/<pid>/root would resolve on the host.)
      const sa = "/run/secrets/kubernetes.io/serviceaccount";
      assert.equal(podFile(pid, `${sa}/ca.crt`), ca);
      assert.equal(podFile(pid, `${sa}/namespace`), NS);
      const token = podFile(pid, `${sa}/token`);
      const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
        sub: string;
        exp: number;
        iat: number;
        aud: string[];
        "kubernetes.io": { pod: { name: string; uid: string } };
      };
      assert.equal(claims.sub, `system:serviceaccount:${NS}:k8s-custom-metrics`);
      assert.equal(claims["kubernetes.io"].pod.uid, p.metadata.uid, "bound to the pod");
      assert.ok(claims.exp - claims.iat >= 3600, `lifetime ${String(claims.exp - claims.iat)} s`);
      assert.deepEqual(claims.aud, ["https://kubernetes.default.svc.cluster.local"]);
      assert.equal(podFile(pid, "/etc/adapter/config.yaml"), config);
      assert.ok(!existsSync("/etc/adapter/config.yaml"), "the host's /etc is untouched");
      const env = procFile(pid, "environ").split("\0");
      assert.ok(env.includes("KUBERNETES_SERVICE_HOST=127.0.0.1"), "KUBERNETES_SERVICE_HOST");
      assert.ok(env.includes(`KUBERNETES_SERVICE_PORT=${String(info.ports.apiserver)}`));
      // The overlay's sizing for the kubelet source (deploy/overlays/resource-metrics/sizing.yaml).
      assert.ok(env.includes("NODE_OPTIONS=--max-old-space-size=256 --max-semi-space-size=2"));
      assert.ok(env.includes("MALLOC_MMAP_THRESHOLD_=65536"), "MALLOC_MMAP_THRESHOLD_");
    }
    // The Service's endpoints, as the aggregator's availability check reads them.
    const slices = await kubectlJson<{
      items: {
        addressType: string;
        endpoints: { addresses: string[]; conditions: { ready: boolean } }[];
        ports: { name: string; port: number }[];
      }[];
    }>(info, [
      "-n",
      NS,
      "get",
      "endpointslices",
      "-l",
      "kubernetes.io/service-name=k8s-custom-metrics",
    ]);
    const eps = slices.items.flatMap((s) => s.endpoints.filter((e) => e.conditions.ready));
    assert.equal(eps.length, 2, JSON.stringify(slices.items));
    assert.deepEqual(slices.items[0]?.ports, [{ name: "https", port: 6443, protocol: "TCP" }]);
  });

  test("the APIServices point at the Service and report Available; the seed HPA scales through them", async () => {
    await waitFor(
      "every APIService Available through the pods",
      async () => {
        const avail = await apiServiceAvailability(info);
        return API_SERVICES.every((n) => avail.get(n)?.status === "True") ? true : undefined;
      },
      180_000,
      1000,
    );
    const apis = await kubectlJson<{
      items: { metadata: { name: string }; spec: { service?: { name: string; port: number } } }[];
    }>(info, ["get", "apiservices"]);
    for (const n of API_SERVICES) {
      const a = apis.items.find((x) => x.metadata.name === n);
      assert.deepEqual(a?.spec.service, { name: "k8s-custom-metrics", namespace: NS, port: 443 });
    }
    seedNs = await freshNamespace(info, "pods-seed");
    await kubectl(
      info,
      ["-n", seedNs, "apply", "-f", "-"],
      readFileSync("examples/seed/nginx.yaml", "utf8"),
    );
    await waitFor(
      "the seed HPA at 2 replicas (TooManyReplicas)",
      async () => {
        const h = await kubectlJson<Hpa>(info, ["-n", seedNs, "get", "hpa", "nginx"]);
        const limited = h.status.conditions?.find((c) => c.type === "ScalingLimited");
        const active = h.status.conditions?.find((c) => c.type === "ScalingActive");
        return h.status.currentReplicas === 2 &&
          limited?.reason === "TooManyReplicas" &&
          active?.status === "True"
          ? true
          : undefined;
      },
      300_000,
      2000,
    );
  });

  test("rolling update and a SIGKILLed replica under load: no failed request beyond the killed pod's", async () => {
    const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${seedNs}/pods/*/memory_usage_bytes?labelSelector=app%3Dnginx`;
    const concurrency = 4;
    const rolloutResult = { failed: 0, by: "" };
    const load = new Load(info, path, concurrency);
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        replicaLog.push(await hpaReplicas().catch(() => -1));
        await sleep(2000);
      }
    })();
    try {
      // Warm: the load itself must pass before anything changes.
      load.start();
      await sleep(5000);
      const warm = await load.stop();
      console.log(`# steady: ${JSON.stringify(warm)}`);
      assert.equal(warm.failed, 0, JSON.stringify(warm));
      assert.ok(warm.ok > 0);

      // A rolling update (an annotation of the pod template), maxSurge 1, maxUnavailable 0.
      load.start();
      await kubectl(info, [
        "-n",
        NS,
        "patch",
        "deployment",
        "k8s-custom-metrics",
        "--type=merge",
        "-p",
        JSON.stringify({
          spec: { template: { metadata: { annotations: { "test/rollout": String(Date.now()) } } } },
        }),
      ]);
      await kubectl(info, [
        "-n",
        NS,
        "rollout",
        "status",
        "deployment/k8s-custom-metrics",
        "--timeout=300s",
      ]);
      const rolled = await twoReady("two Ready pods after the rollout");
      const rollout = await load.stop();
      console.log(
        `# rolling update: ${JSON.stringify(rollout)}; HPA replicas ${JSON.stringify([...new Set(replicaLog)])}`,
      );
      assert.ok(
        rolled.every((p) => !pids.includes(pidOf(p))),
        "both replicas were replaced",
      );
      assert.ok(rollout.ok > 0);
      rolloutResult.failed = rollout.failed;
      rolloutResult.by = JSON.stringify(rollout.by);

      // SIGKILL of one of the two replicas: only requests in flight on it may fail.
      const victim = rolled[0];
      assert.ok(victim);
      load.start();
      await sleep(3000);
      process.kill(pidOf(victim), "SIGKILL");
      await waitFor(
        "the killed replica restarted and Ready",
        async () => {
          const now = await adapterPods();
          const v = now.find((p) => p.metadata.uid === victim.metadata.uid);
          return now.length === 2 &&
            now.every(isReady) &&
            (v?.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1
            ? true
            : undefined;
        },
        180_000,
        1000,
      );
      await sleep(3000);
      const killed = await load.stop();
      console.log(
        `# SIGKILL of one replica: ${JSON.stringify(killed)}; HPA replicas ${JSON.stringify([...new Set(replicaLog)])}`,
      );
      assert.ok(killed.failed <= concurrency, JSON.stringify(killed));
      assert.ok(killed.ok > 0);
    } finally {
      sampling.on = false;
      await sampler;
      load.close();
    }
    assert.deepEqual([...new Set(replicaLog)], [2], "the HPA's replicas never changed");
    // Zero: the old pod's shutdown sends one GOAWAY naming the last stream it took, so any
    // request the aggregator sent after it is retried on a new connection, and it keeps serving
    // for --shutdown-delay-duration after SIGTERM (src/server/secure-serving.ts, src/cli/serve.ts).
    assert.equal(
      rolloutResult.failed,
      0,
      `rolling update: ${String(rolloutResult.failed)} failed requests ${rolloutResult.by}`,
    );
  });

  test("kubectl delete -k leaves nothing behind", async () => {
    const running = (await adapterPods()).map(pidOf);
    await kubectl(info, ["delete", "-k", overlay, "--wait=true", "--timeout=180s"]);
    await waitFor(
      `namespace ${NS} gone`,
      async () =>
        (await kubectl(info, ["get", "namespace", NS, "--ignore-not-found"])) === ""
          ? true
          : undefined,
      180_000,
      1000,
    );
    const apis = await kubectl(info, ["get", "apiservices", "-o", "name"]);
    for (const n of API_SERVICES) assert.ok(!apis.includes(n), n);
    const cluster = await kubectl(info, ["get", "clusterroles,clusterrolebindings", "-o", "name"]);
    assert.doesNotMatch(cluster, /k8s-custom-metrics|aggregated-metrics-reader/);
    assert.equal(
      await kubectl(info, [
        "-n",
        "kube-system",
        "get",
        "rolebinding",
        "k8s-custom-metrics-auth-reader",
        "--ignore-not-found",
      ]),
      "",
    );
    for (const pid of [...pids, ...running]) {
      assert.ok(!existsSync(`/proc/${String(pid)}`), `pid ${String(pid)} is gone`);
    }
    // The Service proxy closed its listener on the ClusterIP.
    await waitFor("the Service proxy closed", async () => {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: clusterIp, port: 443 }, () => {
          s.destroy();
          resolve(false);
        });
        s.on("error", () => {
          resolve(true);
        });
      });
      return refused ? true : undefined;
    });
  });
});
