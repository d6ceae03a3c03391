/**
 * @module harness/cluster
 * `local up | status | env | down`: a real Kubernetes control plane (etcd, kube-apiserver with the
 * aggregation layer, kube-controller-manager), a node agent that runs pods as local processes,
 * and Prometheus, all on loopback, all as processes of this machine.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KcmError } from "../errors.ts";
import { ensureKubeBinaries, type KubeBinaries, type Progress } from "./kube-binaries.ts";
import { kubeconfigYaml } from "./kubeconfig.ts";
import { statePaths, type StatePaths } from "./paths.ts";
import { ensurePki, pkiFiles, type PkiFiles } from "./pki-files.ts";
import { podNetwork, portsFrom, type Ports } from "./ports.ts";
import { get, returns200 } from "./probe.ts";
import { prometheusConfig } from "./prometheus-config.ts";
import {
  Supervisor,
  assertPortsFree,
  isAlive,
  killGroup,
  type ComponentSpec,
  type ComponentState,
} from "./supervisor.ts";

export interface ClusterOptions {
  readonly stateDir: string;
  readonly portBase: number;
  readonly nodeName: string;
  /** kube-controller-manager's --horizontal-pod-autoscaler-sync-period, in seconds. */
  readonly hpaSyncPeriodSeconds: number;
  /** kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization, in seconds. */
  readonly hpaDownscaleStabilizationSeconds: number;
  readonly scrapeIntervalSeconds: number;
}

/** What `local up` records, so other commands (and tests) can find the cluster. */
export interface ClusterInfo {
  readonly kubernetesVersion: string;
  readonly stateDir: string;
  readonly ports: Ports;
  readonly nodeName: string;
  readonly server: string;
  readonly prometheusUrl: string;
  readonly nodeAgentUrl: string;
  readonly kubeconfig: string;
  readonly pki: PkiFiles;
  readonly startedAt: string;
}

/** Start order; `down` stops in reverse. */
export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "node-agent",
  "prometheus",
] as const;

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const CLI = join(REPO_ROOT, "bin", "k8s-custom-metrics.js");

function requireProgram(cmd: string, pkg: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim();
  } catch {
    throw new KcmError(
      "KCM_ERR_PREREQ_MISSING",
      `${cmd} is not installed; on Debian/Ubuntu: apt-get install -y ${pkg}`,
    );
  }
}

export async function readClusterInfo(stateDir: string): Promise<ClusterInfo | undefined> {
  const file = statePaths(stateDir).clusterFile;
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, "utf8")) as ClusterInfo;
}

function etcdSpec(p: StatePaths, ports: Ports, etcd: string): ComponentSpec {
  const client = `http://127.0.0.1:${ports.etcd}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return {
    name: "etcd",
    command: etcd,
    args: [
      "--name=local",
      `--data-dir=${join(p.data, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      "--quota-backend-bytes=2147483648",
    ],
    ready: async () => (await get(`${client}/health`)).body.includes('"true"'),
  };
}

/**
 * The Service range: a loopback /20 in the cluster's pod network, so every ClusterIP is an address
 * of this machine that the node agent's Service proxy listens on. The aggregator dials a ClusterIP
 * (`--enable-aggregator-routing=false`), which thus reaches the Service's ready pods through that
 * proxy, never a routed address.
 */
export function serviceNetwork(portBase: number): string {
  return `${podNetwork(portBase)}.240.0/20`;
}

function apiserverSpec(
  p: StatePaths,
  ports: Ports,
  bin: string,
  pki: PkiFiles,
  portBase: number,
): ComponentSpec {
  return {
    name: "kube-apiserver",
    command: bin,
    args: [
      `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      // A loopback advertise address fails the `kubernetes` Endpoints validation.
      "--endpoint-reconciler-type=none",
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${join(p.data, "apiserver-certs")}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${serviceNetwork(portBase)}`,
      "--authorization-mode=Node,RBAC",
      // The aggregation layer, exactly as the seed enables it.
      `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-username-headers=X-Remote-User",
      `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
      `--proxy-client-key-file=${pki.frontProxyClientKey}`,
      "--enable-aggregator-routing=false",
      "--profiling=false",
    ],
    timeoutMs: 120_000,
    ready: () =>
      returns200(`https://127.0.0.1:${ports.apiserver}/readyz`, {
        ca: readPem(pki.caCert),
        cert: readPem(pki.adminCert),
        key: readPem(pki.adminKey),
      }),
  };
}

function readPem(file: string): string {
  return readFileSync(file, "utf8");
}

function kcmSpec(p: StatePaths, ports: Ports, bin: string, o: ClusterOptions): ComponentSpec {
  const pki = pkiFiles(p.pki);
  return {
    name: "kube-controller-manager",
    command: bin,
    args: [
      `--kubeconfig=${p.kcmKubeconfig}`,
      `--authentication-kubeconfig=${p.kcmKubeconfig}`,
      `--authorization-kubeconfig=${p.kcmKubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(p.data, "kcm-certs")}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--controllers=${[
        "deployment-controller",
        "replicaset-controller",
        "garbage-collector-controller",
        "horizontal-pod-autoscaler-controller",
        "serviceaccount-controller",
        "serviceaccount-token-controller",
        "namespace-controller",
        // kube-root-ca.crt in every namespace: the CA of pods' kube-api-access volumes.
        "root-ca-cert-publisher",
      ].join(",")}`,
      `--horizontal-pod-autoscaler-sync-period=${o.hpaSyncPeriodSeconds}s`,
      `--horizontal-pod-autoscaler-downscale-stabilization=${o.hpaDownscaleStabilizationSeconds}s`,
      "--profiling=false",
    ],
    timeoutMs: 60_000,
    ready: () =>
      returns200(`https://127.0.0.1:${ports.controllerManager}/healthz`, { insecure: true }),
  };
}

function nodeAgentSpec(p: StatePaths, ports: Ports, o: ClusterOptions): ComponentSpec {
  return {
    name: "node-agent",
    command: process.execPath,
    args: [
      CLI,
      "local",
      "node-agent",
      `--state-dir=${p.root}`,
      `--node-name=${o.nodeName}`,
      `--port=${String(ports.nodeAgent)}`,
      `--pod-network=${podNetwork(o.portBase)}`,
    ],
    ready: () => returns200(`http://127.0.0.1:${ports.nodeAgent}/healthz`),
    // A restarted agent starts its pods afresh: the processes of the one that died would hold
    // their IPs and ports.
    orphans: p.pods,
  };
}

function prometheusSpec(p: StatePaths, ports: Ports, prometheus: string): ComponentSpec {
  return {
    name: "prometheus",
    command: prometheus,
    args: [
      `--config.file=${join(p.root, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(p.data, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      "--web.enable-lifecycle",
      "--web.enable-admin-api",
      "--storage.tsdb.retention.time=1d",
    ],
    ready: () => returns200(`http://127.0.0.1:${ports.prometheus}/-/ready`),
  };
}

/** Brings the whole local cluster up and waits until every part serves. */
export async function up(o: ClusterOptions, progress: Progress): Promise<ClusterInfo> {
  const p = statePaths(o.stateDir);
  const ports = portsFrom(o.portBase);
  const sup = new Supervisor(p.logs, p.run);
  if ((await sup.list()).some((c) => c.alive || c.watchdog?.alive === true)) {
    throw new KcmError("KCM_ERR_ALREADY_RUNNING", `a local cluster runs in ${p.root}`);
  }
  const etcd = requireProgram("etcd", "etcd-server");
  const prometheus = requireProgram("prometheus", "prometheus");
  requireProgram("nginx", "nginx-light");
  const bins: KubeBinaries = await ensureKubeBinaries(progress);
  await assertPortsFree({
    etcd: ports.etcd,
    "etcd peers": ports.etcdPeer,
    "kube-apiserver": ports.apiserver,
    "kube-controller-manager": ports.controllerManager,
    "node agent": ports.nodeAgent,
    prometheus: ports.prometheus,
  });
  for (const d of [p.root, p.logs, p.run, p.data, p.pods]) await mkdir(d, { recursive: true });

  await writeFile(p.podTargetsFile, "[]\n");
  const { files: pki, fresh } = await ensurePki(p.pki);
  progress(fresh ? `generated PKI in ${p.pki}` : `reusing PKI in ${p.pki}`);
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const ca = readPem(pki.caCert);
  await writeFile(
    p.adminKubeconfig,
    kubeconfigYaml({
      server,
      caPem: ca,
      certPem: readPem(pki.adminCert),
      keyPem: readPem(pki.adminKey),
      user: "kubernetes-admin",
    }),
    { mode: 0o600 },
  );
  await writeFile(
    p.kcmKubeconfig,
    kubeconfigYaml({
      server,
      caPem: ca,
      certPem: readPem(join(p.pki, "controller-manager.crt")),
      keyPem: readPem(join(p.pki, "controller-manager.key")),
      user: "system:kube-controller-manager",
    }),
    { mode: 0o600 },
  );
  await writeFile(
    join(p.root, "prometheus.yml"),
    prometheusConfig({
      nodeName: o.nodeName,
      nodeAgent: `127.0.0.1:${String(ports.nodeAgent)}`,
      podTargetsFile: p.podTargetsFile,
      scrapeIntervalSeconds: o.scrapeIntervalSeconds,
    }),
  );

  const info: ClusterInfo = {
    kubernetesVersion: bins.version,
    stateDir: p.root,
    ports,
    nodeName: o.nodeName,
    server,
    prometheusUrl: `http://127.0.0.1:${ports.prometheus}`,
    nodeAgentUrl: `http://127.0.0.1:${ports.nodeAgent}`,
    kubeconfig: p.adminKubeconfig,
    pki,
    startedAt: new Date().toISOString(),
  };
  await writeFile(p.clusterFile, JSON.stringify(info, null, 2) + "\n");

  const specs = [
    etcdSpec(p, ports, etcd),
    apiserverSpec(p, ports, bins.paths["kube-apiserver"], pki, o.portBase),
    kcmSpec(p, ports, bins.paths["kube-controller-manager"], o),
    nodeAgentSpec(p, ports, o),
    prometheusSpec(p, ports, prometheus),
  ];
  try {
    for (const spec of specs) {
      const t0 = Date.now();
      const r = await sup.start(spec);
      progress(`${spec.name} ready (pid ${r.pid}, ${Date.now() - t0} ms)`);
    }
  } catch (e) {
    // Leave nothing half-started behind; logs stay for the user to read.
    await down(o.stateDir, () => undefined);
    throw e;
  }
  return info;
}

/** Stops every component of the cluster in `stateDir`, pods included. Idempotent. */
export async function down(stateDir: string, progress: Progress): Promise<void> {
  const p = statePaths(stateDir);
  const sup = new Supervisor(p.logs, p.run);
  const running = await sup.list();
  const order = [...COMPONENTS].reverse();
  // Extra components (the adapter) depend on the cluster: they stop first.
  const names = [
    ...running.map((r) => r.name).filter((n) => !(order as readonly string[]).includes(n)),
    ...order.filter((n) => running.some((r) => r.name === n)),
  ];
  for (const name of names) {
    // The node agent stops its pods' processes on SIGTERM; give it time to.
    await sup.stop(name, name === "node-agent" ? 20_000 : 10_000);
    progress(`stopped ${name}`);
  }
  // The node agent stops its pods on SIGTERM; if it died instead, their pid files remain.
  for (const pid of await podPids(p.pods)) await killGroup(pid, 5000);
  await rm(p.clusterFile, { force: true });
}

async function podPids(podsDir: string): Promise<number[]> {
  if (!existsSync(podsDir)) return [];
  const pids: number[] = [];
  for (const pod of await readdir(podsDir)) {
    const dir = join(podsDir, pod);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (!f.endsWith(".pid")) continue;
      const pid = Number((await readFile(join(dir, f), "utf8")).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) pids.push(pid);
      await rm(join(dir, f), { force: true });
    }
  }
  return pids;
}

export type ComponentStatus = ComponentState;

export async function status(
  stateDir: string,
): Promise<{ info: ClusterInfo | undefined; components: ComponentStatus[]; logs: string }> {
  const p = statePaths(stateDir);
  const sup = new Supervisor(p.logs, p.run);
  return { info: await readClusterInfo(stateDir), components: await sup.list(), logs: p.logs };
}

/** Shell lines a user can `eval` to talk to the cluster. */
export function envLines(info: ClusterInfo): string[] {
  return [
    `export KUBECONFIG=${info.kubeconfig}`,
    `export K8SCM_PROMETHEUS_URL=${info.prometheusUrl}`,
    `export K8SCM_APISERVER=${info.server}`,
    `export K8SCM_NODE_AGENT_URL=${info.nodeAgentUrl}`,
    `export K8SCM_STATE_DIR=${info.stateDir}`,
  ];
}
