/**
 * @module harness/adapter-process
 * Runs the adapter as a host process of the local cluster, registered behind the aggregator, and
 * waits until every APIService reports Available.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { KcmError } from "../errors.ts";
import {
  API_SERVICES,
  existingRegistration,
  publishApiServices,
  registerAdapter,
  type AdapterRegistration,
  type ApiServiceSpec,
} from "./adapter-registration.ts";
import type { ClusterInfo } from "./cluster.ts";
import { statePaths } from "./paths.ts";
import { returns200 } from "./probe.ts";
import { Supervisor } from "./supervisor.ts";

const exec = promisify(execFile);
const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const CLI = join(REPO_ROOT, "bin", "k8s-custom-metrics.js");

export interface AdapterProcessOptions {
  /** A prometheus-adapter config file; default: examples/adapter-config.yaml. */
  readonly config?: string;
  readonly relistInterval?: string;
  readonly extraArgs?: readonly string[];
  /** The supervised component's name (pid and log file); a second adapter needs its own. */
  readonly name?: string;
  /** The serving port; default: the cluster's adapter port. */
  readonly port?: number;
  /** Where metrics.k8s.io comes from; default: the node agent's kubelet endpoint. */
  readonly resourceMetricsSource?: "kubelet" | "prometheus";
  /**
   * The APIServices pointed at this adapter; default: all of them. With a subset, the registration
   * made by the first adapter (its certificate, kubeconfig and Service) is reused as it is.
   */
  readonly apiServices?: readonly ApiServiceSpec[];
}

export interface RunningAdapter extends AdapterRegistration {
  readonly pid: number;
  readonly log: string;
}

export const DEFAULT_ADAPTER_CONFIG = join(REPO_ROOT, "examples", "adapter-config.yaml");

/** APIService conditions as `name → status (reason: message)`. */
export async function apiServiceAvailability(
  info: ClusterInfo,
): Promise<Map<string, { status: string; reason: string; message: string }>> {
  const { stdout } = await exec("kubectl", [
    `--kubeconfig=${info.kubeconfig}`,
    "get",
    "apiservices",
    "-o",
    "json",
  ]);
  const list = JSON.parse(stdout) as {
    items: {
      metadata: { name: string };
      status?: {
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
      };
    }[];
  };
  const out = new Map<string, { status: string; reason: string; message: string }>();
  for (const a of list.items) {
    const c = a.status?.conditions?.find((x) => x.type === "Available");
    out.set(a.metadata.name, {
      status: c?.status ?? "Unknown",
      reason: c?.reason ?? "",
      message: c?.message ?? "",
    });
  }
  return out;
}

/**
 * Waits until the aggregator's availability controller reports every one of `apiServices`
 * Available (it probes each); `context` ends the timeout's message (where the log is).
 */
export async function waitForApiServices(
  info: ClusterInfo,
  apiServices: readonly ApiServiceSpec[],
  context: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const avail = await apiServiceAvailability(info);
    const ours = apiServices.map(
      (a) => [`${a.version}.${a.group}`, avail.get(`${a.version}.${a.group}`)] as const,
    );
    if (ours.every(([, s]) => s?.status === "True")) return;
    if (Date.now() > deadline) {
      const why = ours
        .map(([n, s]) => `${n}: ${s?.status ?? "missing"} ${s?.reason ?? ""} ${s?.message ?? ""}`)
        .join("; ");
      throw new KcmError(
        "KCM_ERR_COMPONENT_TIMEOUT",
        `the adapter's APIServices did not become Available: ${why}; ${context}`,
      );
    }
    await sleep(500);
  }
}

export async function startAdapter(
  info: ClusterInfo,
  o: AdapterProcessOptions = {},
): Promise<RunningAdapter> {
  const port = o.port ?? info.ports.adapter;
  const reg =
    o.apiServices === undefined
      ? await registerAdapter(info, port)
      : { ...existingRegistration(info), port };
  const p = statePaths(info.stateDir);
  const sup = new Supervisor(p.logs, p.run);
  const running = await sup.start({
    name: o.name ?? "adapter",
    command: process.execPath,
    args: [
      CLI,
      "serve",
      `--config=${o.config ?? DEFAULT_ADAPTER_CONFIG}`,
      `--prometheus-url=${info.prometheusUrl}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${String(port)}`,
      `--tls-cert-file=${reg.certFile}`,
      `--tls-private-key-file=${reg.keyFile}`,
      `--lister-kubeconfig=${reg.kubeconfig}`,
      `--authentication-kubeconfig=${reg.kubeconfig}`,
      `--authorization-kubeconfig=${reg.kubeconfig}`,
      `--metrics-relist-interval=${o.relistInterval ?? "10s"}`,
      ...((o.resourceMetricsSource ?? "kubelet") === "kubelet"
        ? [
            // metrics.k8s.io straight from the node agent, which serves the kubelet's endpoint
            // over HTTP.
            "--resource-metrics-source=kubelet",
            "--kubelet-scheme=http",
            "--kubelet-use-node-status-port",
            "--metric-resolution=10s",
            "--kubelet-request-timeout=5s",
          ]
        : ["--resource-metrics-source=prometheus"]),
      ...(o.extraArgs ?? []),
    ],
    ready: () => returns200(`https://127.0.0.1:${String(port)}/readyz`, { insecure: true }),
    timeoutMs: 60_000,
  });
  const published = o.apiServices ?? API_SERVICES;
  await publishApiServices(info, reg, o.apiServices);
  await waitForApiServices(info, published, `adapter log ${running.log}`);
  return { ...reg, pid: running.pid, log: running.log };
}
