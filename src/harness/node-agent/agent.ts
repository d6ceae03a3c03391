/**
 * @module harness/node-agent/agent
 * The local node: registers a Node and keeps it healthy (status and Lease), binds pending pods to
 * itself, runs their containers as local processes, probes readiness, reports pod status the way a
 * kubelet does, stops processes when pods go away, and serves kubelet-style metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, mkdirSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { cpus, hostname, release } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { killGroup } from "../supervisor.ts";
import { get } from "../probe.ts";
import { podTargetsJson, type PodTarget } from "../prometheus-config.ts";
import { cadvisorText, resourceText, type ContainerSample } from "./exposition.ts";
import { knownImages, localCommand } from "./images.ts";
import { mountScript, type BindMount } from "./mounts.ts";
import { memoryCapacityBytes } from "./proc-stats.ts";
import { MANAGED_BY, desiredSlices, sliceContent, type SlicePod } from "./endpoint-slices.ts";
import { ServiceProxy, proxiedPorts } from "./service-proxy.ts";
import { MountError, PodVolumes, fieldValue } from "./volumes.ts";

export interface NodeAgentOptions {
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly port: number;
  readonly podsDir: string;
  readonly podTargetsFile: string;
  /** The first two octets of pod IPs, e.g. `127.17`. */
  readonly podNetwork: string;
  readonly kubeletVersion: string;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

interface ContainerRuntime {
  readonly spec: k8s.V1Container;
  child: ChildProcess | undefined;
  pid: number;
  startedAt: Date | undefined;
  restartCount: number;
  ready: boolean;
  probeFailures: number;
  probeTimer: NodeJS.Timeout | undefined;
  waiting: { reason: string; message: string } | undefined;
  lastTerminated: { exitCode: number; reason: string; finishedAt: Date } | undefined;
  stopping: boolean;
  livenessFailures: number;
  livenessTimer: NodeJS.Timeout | undefined;
}

interface PodRuntime {
  readonly uid: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  readonly startTime: Date;
  readonly containers: Map<string, ContainerRuntime>;
  readonly volumes: PodVolumes;
  readonly pod: k8s.V1Pod;
  started: boolean;
  lastStatus: string;
  readySince: Date | undefined;
  terminating: boolean;
}

const LEASE_SECONDS = 40;

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #core: k8s.CoreV1Api;
  readonly #coord: k8s.CoordinationV1Api;
  readonly #discovery: k8s.DiscoveryV1Api;
  /** The EndpointSlices this node wrote, by `namespace/name`, as stored. */
  #slices = new Map<string, k8s.V1EndpointSlice>();
  #slicesListed = false;
  #syncing: Promise<void> = Promise.resolve();
  readonly #pods = new Map<string, PodRuntime>();
  readonly #usedIps = new Set<string>();
  #nextIp = 2;
  #server: Server | undefined;
  #loop: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconciling = false;
  #lastTargets = "";
  /** namespace → services with a selector, for the `service` label of scrape targets. */
  #services = new Map<string, { name: string; selector: Record<string, string> }[]>();
  #serviceList: k8s.V1Service[] = [];
  readonly #proxy: ServiceProxy;
  /** The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT): loopback, never a ClusterIP. */
  readonly #apiHost: string;
  readonly #apiPort: string;
  #stopped = false;

  constructor(o: NodeAgentOptions) {
    this.#o = o;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(o.kubeconfig);
    this.#core = kc.makeApiClient(k8s.CoreV1Api);
    this.#coord = kc.makeApiClient(k8s.CoordinationV1Api);
    this.#discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const server = new URL(kc.getCurrentCluster()?.server ?? "https://127.0.0.1:6443");
    this.#apiHost = server.hostname;
    this.#apiPort = server.port || "443";
    this.#proxy = new ServiceProxy(o.log);
  }

  async start(): Promise<void> {
    await this.#registerNode();
    await this.#renewLease();
    this.#server = createServer((req, res) => {
      const url = req.url ?? "/";
      if (url === "/healthz") {
        res.end("ok");
      } else if (url.startsWith("/metrics/cadvisor")) {
        res.setHeader("Content-Type", "text/plain; version=0.0.4");
        res.end(cadvisorText(this.#samples()));
      } else if (url.startsWith("/metrics/resource")) {
        res.setHeader("Content-Type", "text/plain; version=0.0.4");
        res.end(resourceText(this.#samples()));
      } else if (url === "/pods") {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify(this.#debugPods(), null, 2));
      } else {
        res.statusCode = 404;
        res.end("not found\n");
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once("error", reject);
      this.#server?.listen(this.#o.port, "127.0.0.1", resolve);
    });
    this.#heartbeat = setInterval(() => {
      void this.#renewLease().catch((e: unknown) => {
        this.#o.log("lease renewal failed", { err: String(e) });
      });
      void this.#updateNodeStatus().catch((e: unknown) => {
        this.#o.log("node status update failed", { err: String(e) });
      });
    }, 10_000);
    this.#loop = setInterval(() => {
      void this.reconcile();
    }, 1000);
    await this.reconcile();
  }

  /** Stops every pod's processes (the pods stay in the API) and the agent's own loops. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#loop);
    clearInterval(this.#heartbeat);
    await Promise.all([...this.#pods.values()].map((p) => this.#stopPod(p, 5)));
    await this.#proxy.close();
    await new Promise<void>((resolve) => {
      if (this.#server)
        this.#server.close(() => {
          resolve();
        });
      else resolve();
    });
  }

  #samples(): ContainerSample[] {
    const out: ContainerSample[] = [];
    for (const p of this.#pods.values()) {
      for (const [name, c] of p.containers) {
        if (!c.child || c.startedAt === undefined) continue;
        out.push({
          namespace: p.namespace,
          pod: p.name,
          podUid: p.uid,
          container: name,
          image: c.spec.image ?? "",
          pid: c.pid,
          startedAt: c.startedAt.getTime(),
        });
      }
    }
    return out;
  }

  #debugPods(): unknown {
    return [...this.#pods.values()].map((p) => ({
      namespace: p.namespace,
      name: p.name,
      ip: p.ip,
      containers: [...p.containers].map(([n, c]) => ({
        name: n,
        pid: c.pid,
        ready: c.ready,
        restartCount: c.restartCount,
        waiting: c.waiting,
      })),
    }));
  }

  #nodeStatus(): k8s.V1NodeStatus {
    const now = new Date();
    const cap = {
      cpu: String(cpus().length),
      memory: `${String(Math.floor(memoryCapacityBytes() / 1024))}Ki`,
      pods: "110",
      "ephemeral-storage": "100Gi",
    };
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    return {
      capacity: cap,
      allocatable: cap,
      addresses: [
        { type: "InternalIP", address: "127.0.0.1" },
        { type: "Hostname", address: this.#o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.#o.port } },
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "local node agent"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "local node agent"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "local node agent"),
        cond(
          "Ready",
          "True",
          "KubeletReady",
          "k8s-custom-metrics local node agent is posting ready status",
        ),
      ],
      nodeInfo: {
        machineID: hostname(),
        systemUUID: hostname(),
        bootID: "",
        kernelVersion: release(),
        osImage: "k8s-custom-metrics local node (pods are host processes)",
        containerRuntimeVersion: "local-process://0.1.0",
        kubeletVersion: this.#o.kubeletVersion,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: process.arch === "x64" ? "amd64" : process.arch,
      },
      phase: "Running",
    };
  }

  async #registerNode(): Promise<void> {
    const name = this.#o.nodeName;
    try {
      await this.#core.readNode({ name });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 404) throw e;
      await this.#core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux",
              "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
              "node.k8s-custom-metrics.io/local": "true",
            },
          },
          spec: {},
        },
      });
      this.#o.log("registered node", { node: name });
    }
    await this.#updateNodeStatus();
  }

  async #updateNodeStatus(): Promise<void> {
    const node = await this.#core.readNode({ name: this.#o.nodeName });
    const prev = new Map((node.status?.conditions ?? []).map((c) => [c.type, c]));
    const status = this.#nodeStatus();
    for (const c of status.conditions ?? []) {
      const old = prev.get(c.type);
      if (old?.status === c.status && old.lastTransitionTime) {
        c.lastTransitionTime = old.lastTransitionTime;
      }
    }
    node.status = status;
    await this.#core.replaceNodeStatus({ name: this.#o.nodeName, body: node });
  }

  async #renewLease(): Promise<void> {
    const name = this.#o.nodeName;
    const namespace = "kube-node-lease";
    const spec: k8s.V1LeaseSpec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new k8s.V1MicroTime(),
    };
    try {
      const lease = await this.#coord.readNamespacedLease({ name, namespace });
      lease.spec = spec;
      await this.#coord.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 404) throw e;
      await this.#coord.createNamespacedLease({ namespace, body: { metadata: { name }, spec } });
    }
  }

  /** One pass: bind, start, report, stop. Never runs twice at once. */
  async reconcile(): Promise<void> {
    if (this.#reconciling || this.#stopped) return;
    this.#reconciling = true;
    try {
      const [list, services] = await Promise.all([
        this.#core.listPodForAllNamespaces({}),
        this.#core.listServiceForAllNamespaces({}),
      ]);
      this.#services = new Map();
      this.#serviceList = services.items;
      for (const svc of services.items) {
        const selector = svc.spec?.selector;
        if (!selector || Object.keys(selector).length === 0) continue;
        const ns = svc.metadata?.namespace ?? "";
        const list = this.#services.get(ns) ?? [];
        list.push({ name: svc.metadata?.name ?? "", selector });
        this.#services.set(ns, list);
      }
      const seen = new Set<string>();
      for (const pod of list.items) {
        const uid = pod.metadata?.uid ?? "";
        const node = pod.spec?.nodeName;
        if (!node) {
          if ((pod.spec?.schedulerName ?? "default-scheduler") === "default-scheduler") {
            await this.#bind(pod).catch((e: unknown) => {
              this.#o.log("bind failed", { pod: pod.metadata?.name, err: String(e) });
            });
          }
          continue;
        }
        if (node !== this.#o.nodeName) continue;
        seen.add(uid);
        await this.#reconcilePod(pod).catch((e: unknown) => {
          this.#o.log("pod sync failed", { pod: pod.metadata?.name, err: String(e) });
        });
      }
      for (const [uid, rt] of this.#pods) {
        if (!seen.has(uid)) {
          await this.#stopPod(rt, 5);
          this.#pods.delete(uid);
        }
      }
      await this.#syncProxy();
      this.#writeTargets();
    } catch (e) {
      this.#o.log("reconcile failed", { err: String(e) });
    } finally {
      this.#reconciling = false;
    }
  }

  /** Pods that ask to be scraped, for Prometheus' file_sd; rewritten only when it changes. */
  #writeTargets(): void {
    const targets: PodTarget[] = [];
    for (const p of this.#pods.values()) {
      if (p.terminating || p.annotations["prometheus.io/scrape"] !== "true") continue;
      if (![...p.containers.values()].every((c) => c.child !== undefined)) continue;
      const first = [...p.containers.values()][0]?.spec.ports?.[0]?.containerPort;
      const port =
        p.annotations["prometheus.io/port"] ?? (first === undefined ? "80" : String(first));
      const base = {
        namespace: p.namespace,
        pod: p.name,
        address: `${p.ip}:${port}`,
        path: p.annotations["prometheus.io/path"] ?? "/metrics",
      };
      // Like Prometheus' endpoints discovery: one target per Service that selects the pod.
      const services = (this.#services.get(p.namespace) ?? []).filter((svc) =>
        Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v),
      );
      if (services.length === 0) targets.push(base);
      for (const svc of services) targets.push({ ...base, service: svc.name });
    }
    targets.sort((a, b) =>
      `${a.address} ${a.service ?? ""}`.localeCompare(`${b.address} ${b.service ?? ""}`),
    );
    const text = podTargetsJson(targets);
    if (text === this.#lastTargets) return;
    const tmp = `${this.#o.podTargetsFile}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.#o.podTargetsFile);
    this.#lastTargets = text;
  }

  async #bind(pod: k8s.V1Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    await this.#core.createNamespacedBinding({
      namespace,
      body: {
        metadata: { name, namespace },
        target: { apiVersion: "v1", kind: "Node", name: this.#o.nodeName },
      },
    });
    this.#o.log("bound pod", { pod: `${namespace}/${name}` });
  }

  #allocateIp(existing: string | undefined): string {
    if (existing?.startsWith(`${this.#o.podNetwork}.`) && !this.#usedIps.has(existing)) {
      this.#usedIps.add(existing);
      return existing;
    }
    for (;;) {
      const n = this.#nextIp++;
      const ip = `${this.#o.podNetwork}.${String(Math.floor(n / 254) % 256)}.${String((n % 254) + 1)}`;
      if (!this.#usedIps.has(ip)) {
        this.#usedIps.add(ip);
        return ip;
      }
    }
  }

  /**
   * Publishes this node's EndpointSlices (./endpoint-slices.ts) and puts the Service proxy in step
   * with them. Serialized: called by every sync and at once when a container exits, fails
   * readiness, turns ready or its pod starts terminating.
   */
  #syncProxy(): Promise<void> {
    const next = this.#syncing.then(() => this.#syncSlicesAndProxy());
    this.#syncing = next.catch((e: unknown) => {
      this.#o.log("endpoint sync failed", { err: String(e) });
    });
    return this.#syncing;
  }

  async #syncSlicesAndProxy(): Promise<void> {
    const pods: SlicePod[] = [];
    const down = new Set<string>();
    for (const p of this.#pods.values()) {
      const live = p.started && [...p.containers.values()].every((c) => c.child !== undefined);
      const ready = live && [...p.containers.values()].every((c) => c.ready);
      if (!ready || p.terminating) down.add(p.ip);
      pods.push({
        name: p.name,
        uid: p.uid,
        ip: p.ip,
        namespace: p.namespace,
        labels: p.labels,
        containers: [...p.containers.values()].map((c) => c.spec),
        ready,
        terminating: p.terminating,
      });
    }
    // Out of the proxy first (no API round trip), then the slices, then the proxy as they say.
    await this.#proxy.update(proxiedPorts(this.#serviceList, [...this.#slices.values()], down));
    if (!this.#slicesListed) {
      const list = await this.#discovery.listEndpointSliceForAllNamespaces({
        labelSelector: `endpointslice.kubernetes.io/managed-by=${MANAGED_BY}`,
      });
      for (const sl of list.items) {
        this.#slices.set(`${sl.metadata?.namespace ?? ""}/${sl.metadata?.name ?? ""}`, sl);
      }
      this.#slicesListed = true;
    }
    const want = new Map(
      desiredSlices(this.#serviceList, pods, this.#o.nodeName).map((sl) => [
        `${sl.metadata?.namespace ?? ""}/${sl.metadata?.name ?? ""}`,
        sl,
      ]),
    );
    for (const [key, sl] of want) {
      const have = this.#slices.get(key);
      const namespace = sl.metadata?.namespace ?? "";
      const name = sl.metadata?.name ?? "";
      try {
        if (!have) {
          this.#slices.set(
            key,
            await this.#discovery.createNamespacedEndpointSlice({ namespace, body: sl }),
          );
        } else if (sliceContent(have) !== sliceContent(sl)) {
          const body = sl;
          if (body.metadata && have.metadata?.resourceVersion !== undefined) {
            body.metadata.resourceVersion = have.metadata.resourceVersion;
          }
          this.#slices.set(
            key,
            await this.#discovery.replaceNamespacedEndpointSlice({ name, namespace, body }),
          );
        }
      } catch (e) {
        // A conflict or a slice that is gone: read them all again on the next sync.
        this.#slicesListed = false;
        this.#slices.clear();
        this.#o.log("endpointslice write failed", { slice: key, err: String(e) });
        return;
      }
    }
    for (const [key, sl] of this.#slices) {
      if (want.has(key)) continue;
      this.#slices.delete(key);
      await this.#discovery
        .deleteNamespacedEndpointSlice({
          name: sl.metadata?.name ?? "",
          namespace: sl.metadata?.namespace ?? "",
        })
        .catch(() => undefined);
    }
    await this.#proxy.update(proxiedPorts(this.#serviceList, [...this.#slices.values()], down));
  }

  async #reconcilePod(pod: k8s.V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    let rt = this.#pods.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (rt) {
        if (!rt.terminating) {
          // In the background: a pod's grace period must not hold up every other pod's sync.
          const r = rt;
          const grace = Math.min(pod.spec?.terminationGracePeriodSeconds ?? 30, 60);
          void this.#stopPod(r, grace).then(async () => {
            this.#pods.delete(uid);
            r.volumes.remove();
            await this.#confirmDeletion(namespace, name);
          });
        }
        return;
      }
      await this.#confirmDeletion(namespace, name);
      return;
    }
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    if (!rt) {
      const ip = this.#allocateIp(pod.status?.podIP);
      const dir = join(this.#o.podsDir, `${namespace}_${name}_${uid.slice(0, 8)}`);
      rt = {
        uid,
        annotations: pod.metadata?.annotations ?? {},
        labels: pod.metadata?.labels ?? {},
        namespace,
        name,
        ip,
        dir,
        startTime: pod.status?.startTime ? new Date(pod.status.startTime) : new Date(),
        containers: new Map(),
        volumes: new PodVolumes({
          core: this.#core,
          pod,
          dir,
          nodeName: this.#o.nodeName,
          podIp: ip,
        }),
        pod,
        started: false,
        lastStatus: "",
        readySince: undefined,
        terminating: false,
      };
      mkdirSync(rt.dir, { recursive: true });
      this.#pods.set(uid, rt);
      for (const c of pod.spec?.containers ?? []) {
        rt.containers.set(c.name, {
          spec: c,
          child: undefined,
          pid: 0,
          startedAt: undefined,
          restartCount: 0,
          ready: false,
          probeFailures: 0,
          probeTimer: undefined,
          waiting: { reason: "ContainerCreating", message: "" },
          lastTerminated: undefined,
          stopping: false,
          livenessFailures: 0,
          livenessTimer: undefined,
        });
      }
    }
    try {
      await rt.volumes.sync();
    } catch (e) {
      if (!rt.started) {
        const message =
          e instanceof MountError ? `MountVolume.SetUp failed: ${e.message}` : String(e);
        for (const cr of rt.containers.values())
          cr.waiting = { reason: "ContainerCreating", message };
      } else {
        this.#o.log("volume sync failed", { pod: `${namespace}/${name}`, err: String(e) });
      }
    }
    if (!rt.started && rt.volumes.ready) {
      rt.started = true;
      for (const cr of rt.containers.values()) await this.#startContainer(pod, rt, cr);
    }
    await this.#reportStatus(pod, rt);
  }

  /** As the kubelet does: confirm the deletion once the processes are gone. */
  async #confirmDeletion(namespace: string, name: string): Promise<void> {
    await this.#core
      .deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 })
      .catch(() => undefined);
  }

  /** A container's environment as the kubelet builds it: Service variables, envFrom, env. */
  async #env(rt: PodRuntime, c: k8s.V1Container): Promise<Record<string, string>> {
    const apiHost = this.#apiHost;
    const env: Record<string, string> = {
      POD_NAME: rt.name,
      POD_NAMESPACE: rt.namespace,
      POD_IP: rt.ip,
      NODE_NAME: this.#o.nodeName,
      // The kubernetes Service's variables, pointing at the API server itself on loopback.
      KUBERNETES_SERVICE_HOST: apiHost,
      KUBERNETES_SERVICE_PORT: this.#apiPort,
      KUBERNETES_SERVICE_PORT_HTTPS: this.#apiPort,
      KUBERNETES_PORT: `tcp://${apiHost}:${this.#apiPort}`,
    };
    const ns = rt.namespace;
    const configMap = async (name: string, optional: boolean) => {
      try {
        return (await this.#core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {};
      } catch (e) {
        if (optional && e instanceof k8s.ApiException && e.code === 404) return {};
        throw new Error(`configmap "${name}": ${String(e)}`, { cause: e });
      }
    };
    const secret = async (name: string, optional: boolean) => {
      try {
        const data = (await this.#core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
        return Object.fromEntries(
          Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
        );
      } catch (e) {
        if (optional && e instanceof k8s.ApiException && e.code === 404) return {};
        throw new Error(`secret "${name}": ${String(e)}`, { cause: e });
      }
    };
    for (const from of c.envFrom ?? []) {
      const data = from.configMapRef
        ? await configMap(from.configMapRef.name ?? "", from.configMapRef.optional === true)
        : from.secretRef
          ? await secret(from.secretRef.name ?? "", from.secretRef.optional === true)
          : {};
      for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ""}${k}`] = v;
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) {
        // $(VAR) references to earlier variables, as the kubelet expands them.
        env[e.name] = e.value.replace(
          /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
          (m, v: string) => env[v] ?? m,
        );
        continue;
      }
      const vf = e.valueFrom;
      if (vf?.fieldRef) {
        const v = fieldValue(rt.pod, vf.fieldRef.fieldPath, {
          nodeName: this.#o.nodeName,
          podIp: rt.ip,
        });
        if (v !== undefined) env[e.name] = v;
      } else if (vf?.configMapKeyRef) {
        const ref = vf.configMapKeyRef;
        const v = (await configMap(ref.name ?? "", ref.optional === true))[ref.key];
        if (v !== undefined) env[e.name] = v;
        else if (ref.optional !== true)
          throw new Error(`configmap "${ref.name}" has no key "${ref.key}"`);
      } else if (vf?.secretKeyRef) {
        const ref = vf.secretKeyRef;
        const v = (await secret(ref.name ?? "", ref.optional === true))[ref.key];
        if (v !== undefined) env[e.name] = v;
        else if (ref.optional !== true)
          throw new Error(`secret "${ref.name}" has no key "${ref.key}"`);
      } else if (vf?.resourceFieldRef) {
        const r = vf.resourceFieldRef.resource;
        const [kind, res] = r.split(".") as [string, string];
        const q = (kind === "limits" ? c.resources?.limits : c.resources?.requests)?.[res];
        if (q !== undefined) env[e.name] = q;
      }
    }
    return env;
  }

  /** volumeMounts as bind mounts of the pod's volume directories. */
  #mounts(rt: PodRuntime, c: k8s.V1Container): BindMount[] {
    return (c.volumeMounts ?? []).map((m) => ({
      source: join(rt.volumes.hostPath(m.name), m.subPath ?? ""),
      target: m.mountPath,
      readOnly: m.readOnly === true,
    }));
  }

  async #startContainer(pod: k8s.V1Pod, rt: PodRuntime, cr: ContainerRuntime): Promise<void> {
    const c = cr.spec;
    let env: Record<string, string>;
    try {
      env = await this.#env(rt, c);
    } catch (e) {
      cr.waiting = { reason: "CreateContainerConfigError", message: String(e) };
      this.#retryStart(pod, rt, cr, 2000);
      return;
    }
    const dir = join(rt.dir, c.name);
    mkdirSync(dir, { recursive: true });
    const cmd = localCommand({
      image: c.image ?? "",
      name: c.name,
      podIp: rt.ip,
      dir,
      ports: (c.ports ?? [])
        .filter((p) => (p.protocol ?? "TCP") === "TCP")
        .map((p) => p.containerPort),
      command: c.command ?? [],
      args: c.args ?? [],
      env,
    });
    if (!cmd) {
      cr.waiting = {
        reason: "ImageNotSupported",
        message: `the local node runs no containers, only local commands for known images; "${c.image ?? ""}" is none of: ${knownImages().join(", ")}`,
      };
      return;
    }
    if (rt.terminating || this.#stopped) return;
    // Volumes at their mountPath: a private mount namespace per container (./mounts.ts).
    const mounts = this.#mounts(rt, c);
    let command = cmd.command;
    let args = [...cmd.args];
    const cwd = c.workingDir ?? cmd.cwd ?? dir;
    // Mount namespaces need root (CAP_SYS_ADMIN); without it volumes stay unmounted, as before.
    if (mounts.length > 0 && process.getuid?.() === 0) {
      const script = join(dir, "mounts.sh");
      writeFileSync(script, mountScript(mounts, cwd, cmd.keep ?? []), { mode: 0o755 });
      args = ["--mount", "--propagation", "private", "bash", script, command, ...args];
      command = "unshare";
    }
    const log = join(dir, "container.log");
    const fd = openSync(log, "a");
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env, ...cmd.env },
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    child.once("error", (err) => {
      cr.waiting = { reason: "RunContainerError", message: `${cmd.command}: ${err.message}` };
      cr.child = undefined;
    });
    if (child.pid === undefined) return;
    cr.child = child;
    cr.pid = child.pid;
    cr.startedAt = new Date();
    cr.waiting = undefined;
    cr.ready = false;
    cr.probeFailures = 0;
    cr.livenessFailures = 0;
    writeFileSync(join(rt.dir, `${c.name}.pid`), `${String(child.pid)}\n`);
    this.#o.log("started container", {
      pod: `${rt.namespace}/${rt.name}`,
      container: c.name,
      pid: child.pid,
      ip: rt.ip,
    });
    child.once("exit", (code, signal) => {
      cr.child = undefined;
      cr.ready = false;
      clearInterval(cr.probeTimer);
      clearInterval(cr.livenessTimer);
      cr.probeTimer = undefined;
      cr.livenessTimer = undefined;
      rmSync(join(rt.dir, `${c.name}.pid`), { force: true });
      // Out of the Service at once, before the next sync.
      void this.#syncProxy();
      if (cr.stopping || rt.terminating || this.#stopped) return;
      cr.lastTerminated = {
        exitCode: code ?? 137,
        reason: signal ? "Signaled" : code === 0 ? "Completed" : "Error",
        finishedAt: new Date(),
      };
      const policy = pod.spec?.restartPolicy ?? "Always";
      if (policy === "Never" || (policy === "OnFailure" && code === 0)) return;
      const backoff = Math.min(10_000, 1000 * 2 ** cr.restartCount);
      cr.waiting = {
        reason: "CrashLoopBackOff",
        message: `back-off ${String(backoff / 1000)}s restarting failed container`,
      };
      this.#retryStart(pod, rt, cr, backoff, true);
    });
    this.#startProbes(rt, cr);
  }

  #retryStart(
    pod: k8s.V1Pod,
    rt: PodRuntime,
    cr: ContainerRuntime,
    delayMs: number,
    restart = false,
  ): void {
    setTimeout(() => {
      if (rt.terminating || this.#stopped || !this.#pods.has(rt.uid)) return;
      if (restart) cr.restartCount++;
      void this.#startContainer(pod, rt, cr);
    }, delayMs);
  }

  /** One probe: httpGet (HTTP or HTTPS, certificate unchecked, as the kubelet), tcpSocket. */
  async #probeOnce(rt: PodRuntime, cr: ContainerRuntime, probe: k8s.V1Probe): Promise<boolean> {
    const resolvePort = (port: number | string | undefined): number => {
      if (typeof port === "number") return port;
      const named = cr.spec.ports?.find((p) => p.name === port);
      return named?.containerPort ?? Number(port);
    };
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.httpGet) {
      const port = resolvePort(probe.httpGet.port);
      const scheme = (probe.httpGet.scheme ?? "HTTP").toLowerCase();
      const r = await get(
        `${scheme}://${rt.ip}:${String(port)}${probe.httpGet.path ?? "/"}`,
        { insecure: true },
        timeout,
      );
      return r.status >= 200 && r.status < 400;
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port);
      return new Promise((resolve) => {
        const s = connect({ host: rt.ip, port, timeout }, () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => {
          resolve(false);
        });
        s.on("timeout", () => {
          s.destroy();
          resolve(false);
        });
      });
    }
    // exec probes would run inside the container; treat the running process as healthy.
    return true;
  }

  #startProbes(rt: PodRuntime, cr: ContainerRuntime): void {
    const readiness = cr.spec.readinessProbe;
    const child = cr.child;
    if (!readiness) {
      cr.ready = true;
    } else {
      const failureThreshold = readiness.failureThreshold ?? 3;
      const successThreshold = readiness.successThreshold ?? 1;
      let successes = 0;
      const run = () => {
        void this.#probeOnce(rt, cr, readiness)
          .catch(() => false)
          .then((ok) => {
            if (cr.child !== child) return;
            const was = cr.ready;
            if (ok) {
              cr.probeFailures = 0;
              if (++successes >= successThreshold) cr.ready = true;
            } else {
              successes = 0;
              if (++cr.probeFailures >= failureThreshold || !cr.ready) cr.ready = false;
            }
            if (was !== cr.ready) void this.#syncProxy();
          });
      };
      setTimeout(
        () => {
          if (cr.child !== child) return;
          run();
          cr.probeTimer = setInterval(run, (readiness.periodSeconds ?? 10) * 1000);
        },
        (readiness.initialDelaySeconds ?? 0) * 1000,
      );
    }
    const liveness = cr.spec.livenessProbe;
    if (!liveness) return;
    // A failed liveness probe kills the container; the restart policy brings it back.
    const run = () => {
      void this.#probeOnce(rt, cr, liveness)
        .catch(() => false)
        .then(async (ok) => {
          if (cr.child !== child) return;
          if (ok) {
            cr.livenessFailures = 0;
            return;
          }
          if (++cr.livenessFailures < (liveness.failureThreshold ?? 3)) return;
          this.#o.log("liveness probe failed; killing the container", {
            pod: `${rt.namespace}/${rt.name}`,
            container: cr.spec.name,
          });
          clearInterval(cr.livenessTimer);
          const grace =
            liveness.terminationGracePeriodSeconds ??
            rt.pod.spec?.terminationGracePeriodSeconds ??
            30;
          await killGroup(cr.pid, Math.min(grace, 60) * 1000);
        });
    };
    setTimeout(
      () => {
        if (cr.child !== child) return;
        cr.livenessTimer = setInterval(run, (liveness.periodSeconds ?? 10) * 1000);
      },
      (liveness.initialDelaySeconds ?? 0) * 1000,
    );
  }

  async #stopPod(rt: PodRuntime, graceSeconds: number): Promise<void> {
    rt.terminating = true;
    // Out of every Service before SIGTERM, as endpoints drop a terminating pod.
    await this.#syncProxy();
    await Promise.all(
      [...rt.containers.values()].map(async (cr) => {
        cr.stopping = true;
        clearInterval(cr.probeTimer);
        clearInterval(cr.livenessTimer);
        if (cr.pid > 0) await killGroup(cr.pid, graceSeconds * 1000);
      }),
    );
    this.#usedIps.delete(rt.ip);
    this.#o.log("stopped pod", { pod: `${rt.namespace}/${rt.name}` });
  }

  async #reportStatus(pod: k8s.V1Pod, rt: PodRuntime): Promise<void> {
    const containers = [...rt.containers.values()];
    const allRunning = containers.every((c) => c.child !== undefined);
    const neverStarted = containers.some((c) => c.startedAt === undefined);
    const allReady = allRunning && containers.every((c) => c.ready);
    const phase = neverStarted ? "Pending" : "Running";
    const statuses = containers.map((c): k8s.V1ContainerStatus => {
      const s: k8s.V1ContainerStatus = {
        name: c.spec.name,
        image: c.spec.image ?? "",
        imageID: "",
        ready: c.child !== undefined && c.ready,
        started: c.child !== undefined,
        restartCount: c.restartCount,
        state:
          c.child && c.startedAt
            ? { running: { startedAt: c.startedAt } }
            : { waiting: c.waiting ?? { reason: "ContainerCreating" } },
      };
      if (c.child) s.containerID = `local-process://${String(c.pid)}`;
      if (c.lastTerminated) {
        s.lastState = {
          terminated: {
            exitCode: c.lastTerminated.exitCode,
            reason: c.lastTerminated.reason,
            finishedAt: c.lastTerminated.finishedAt,
          },
        };
      }
      return s;
    });
    const summary = JSON.stringify({ phase, allReady, statuses });
    if (summary === rt.lastStatus) return;
    const prev = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, ok: boolean, reason?: string): k8s.V1PodCondition => {
      const status = ok ? "True" : "False";
      const old = prev.get(type);
      const c: k8s.V1PodCondition = {
        type,
        status,
        lastTransitionTime:
          old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : new Date(),
        lastProbeTime: undefined as unknown as Date,
      };
      delete (c as { lastProbeTime?: unknown }).lastProbeTime;
      if (!ok && reason) c.reason = reason;
      return c;
    };
    const status: k8s.V1PodStatus = {
      ...(pod.status as object),
      phase,
      hostIP: "127.0.0.1",
      hostIPs: [{ ip: "127.0.0.1" }],
      podIP: rt.ip,
      podIPs: [{ ip: rt.ip }],
      startTime: rt.startTime,
      conditions: [
        cond("PodReadyToStartContainers", true),
        cond("Initialized", true),
        cond("ContainersReady", allReady, "ContainersNotReady"),
        cond("Ready", allReady, "ContainersNotReady"),
        cond("PodScheduled", true),
      ],
      containerStatuses: statuses,
    };
    const body: k8s.V1Pod = { ...(pod as object), status };
    await this.#core.replaceNamespacedPodStatus({ name: rt.name, namespace: rt.namespace, body });
    rt.lastStatus = summary;
  }
}
