/**
 * @module harness/playground
 * "Try your prometheus-adapter config locally": which adapter the local cluster's aggregator sends
 * the metrics APIs to (ours, prometheus-adapter v0.12.0, or none), swapped in a running cluster;
 * the demo workload's gauges and load are in `playground-workload.ts`.
 *
 * Either adapter runs as the supervised component `adapter` on the cluster's adapter port, with
 * the registration's serving certificate and service-account kubeconfig (deploy/base's
 * permissions), so `local status` shows it and `local down` stops it. The APIServices of the API
 * groups the adapter does not serve with this config are deleted, as a real deployment would not
 * register them (no `rules`: no custom.metrics.k8s.io; prometheus-adapter without
 * `resourceRules`: no metrics.k8s.io).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import type { AdapterConfig } from "../config/schema.ts";
import { loadConfig } from "../config/load.ts";
import { KcmError } from "../errors.ts";
import { startAdapter, waitForApiServices } from "./adapter-process.ts";
import {
  API_SERVICES,
  loopbackObjects,
  publishApiServices,
  registerAdapter,
  type ApiServiceSpec,
} from "./adapter-registration.ts";
import type { ClusterInfo } from "./cluster.ts";
import { ensureGoBinary, goBinaryPath, type GoProgram } from "./go-build.ts";
import type { Progress } from "./kube-binaries.ts";
import { kubectl } from "./kubectl.ts";
import { statePaths } from "./paths.ts";
import { returns200 } from "./probe.ts";
import { Supervisor } from "./supervisor.ts";

export const ADAPTER_KINDS = ["ours", "upstream", "none"] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** The component name both adapters run under (the one `local down` and the tests know). */
const COMPONENT = "adapter";

export const UPSTREAM_PROGRAM: GoProgram = {
  name: "prometheus-adapter",
  module: "sigs.k8s.io/prometheus-adapter",
  pkg: "cmd/adapter",
  version: "v0.12.0",
  binary: "adapter",
  goVersion: "1.22.1",
};

/** What runs behind the aggregator, as recorded by the last `local up --adapter`/`local adapter`. */
export interface AdapterChoice {
  readonly kind: AdapterKind;
  /** Absolute path of the config file; absent for `none`. */
  readonly config?: string;
  /** The APIServices pointed at it. */
  readonly apiServices: readonly string[];
  readonly since: string;
}

function choiceFile(stateDir: string): string {
  return join(statePaths(stateDir).root, "adapter", "playground.json");
}

export async function readAdapterChoice(stateDir: string): Promise<AdapterChoice | undefined> {
  const f = choiceFile(stateDir);
  if (!existsSync(f)) return undefined;
  return JSON.parse(await readFile(f, "utf8")) as AdapterChoice;
}

/** One line for `local status` and `local adapter`. */
export function describeChoice(c: AdapterChoice | undefined): string {
  if (!c || c.kind === "none") return "adapter: none registered";
  const who =
    c.kind === "ours" ? "k8s-custom-metrics" : `prometheus-adapter ${UPSTREAM_PROGRAM.version}`;
  return `adapter: ${who} with ${c.config ?? "?"}; serves ${c.apiServices.join(", ") || "nothing"}`;
}

export function parseAdapterKind(v: string): AdapterKind {
  if ((ADAPTER_KINDS as readonly string[]).includes(v)) return v as AdapterKind;
  throw new KcmError(
    "KCM_ERR_USAGE",
    `--adapter ${v}: expected one of ${ADAPTER_KINDS.join(", ")}`,
  );
}

/**
 * The config checked before anything is stopped or started: a file that does not load is a
 * `file:line:col` KCM_ERR_CONFIG, and the running adapter is left as it is.
 */
export async function checkConfig(path: string): Promise<AdapterConfig> {
  return loadConfig(resolve(path));
}

/** The APIServices an adapter of `kind` serves with `cfg` (upstream's rules, which ours follows). */
export function servedApiServices(kind: AdapterKind, cfg: AdapterConfig): ApiServiceSpec[] {
  if (kind === "none") return [];
  return API_SERVICES.filter((a) => {
    if (a.group === "custom.metrics.k8s.io") return (cfg.rules?.length ?? 0) > 0;
    if (a.group === "external.metrics.k8s.io") return (cfg.externalRules?.length ?? 0) > 0;
    // Ours serves metrics.k8s.io from the kubelets when the config has no resourceRules.
    return kind === "ours" || cfg.resourceRules !== undefined;
  });
}

/** Builds prometheus-adapter v0.12.0 unless cached (the differential tests' binary). */
export async function ensureUpstreamBinary(progress: Progress): Promise<string> {
  try {
    return await ensureGoBinary(UPSTREAM_PROGRAM, (l) => {
      progress(`[prometheus-adapter] ${l}`);
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new KcmError(
        "KCM_ERR_PREREQ_MISSING",
        "go is not installed; prometheus-adapter is built from source (https://go.dev/dl/)",
        { cause: e },
      );
    }
    throw new KcmError(
      "KCM_ERR_KUBE_BUILD",
      `building prometheus-adapter ${UPSTREAM_PROGRAM.version} (${goBinaryPath(UPSTREAM_PROGRAM)}) failed: ${
        e instanceof Error ? e.message.split("\n")[0] : String(e)
      }`,
      { cause: e },
    );
  }
}

/** The loopback Service the APIServices name (publishApiServices with a subset leaves it out). */
async function applyService(info: ClusterInfo, port: number, caPem: string): Promise<void> {
  const svc = loopbackObjects(port, caPem).filter(
    (o) => (o as { kind: string }).kind === "Service",
  );
  await kubectl(info, ["apply", "-f", "-"], svc.map((o) => stringify(o)).join("---\n"));
}

/** Forgets the recorded choice (a cluster started without an adapter). */
export async function clearAdapterChoice(stateDir: string): Promise<void> {
  await rm(choiceFile(stateDir), { force: true });
}

export interface SwapOptions {
  readonly kind: AdapterKind;
  /** Required for ours and upstream. */
  readonly config?: string;
}

/**
 * Replaces whatever adapter runs behind the aggregator with `o`, without touching the rest of the
 * cluster. The config is checked (and upstream built) first: when that fails, nothing changes.
 */
export async function swapAdapter(
  info: ClusterInfo,
  o: SwapOptions,
  progress: Progress,
): Promise<AdapterChoice> {
  let config: string | undefined;
  let served: ApiServiceSpec[] = [];
  let upstreamBin: string | undefined;
  let resourceRules = false;
  if (o.kind !== "none") {
    if (o.config === undefined) {
      throw new KcmError("KCM_ERR_USAGE", `--adapter ${o.kind} needs --config FILE`);
    }
    config = resolve(o.config);
    const cfg = await checkConfig(config);
    served = servedApiServices(o.kind, cfg);
    resourceRules = cfg.resourceRules !== undefined;
    if (o.kind === "upstream") upstreamBin = await ensureUpstreamBinary(progress);
  }

  const p = statePaths(info.stateDir);
  const sup = new Supervisor(p.logs, p.run);
  if ((await sup.list()).some((c) => c.name === COMPONENT)) {
    progress("stopping the current adapter…");
    await sup.stop(COMPONENT);
  }
  await rm(choiceFile(info.stateDir), { force: true });

  const unserved = API_SERVICES.filter((a) => !served.includes(a)).map(
    (a) => `${a.version}.${a.group}`,
  );
  if (unserved.length > 0) {
    await kubectl(info, ["delete", "apiservice", "--ignore-not-found", ...unserved]);
  }

  try {
    if (o.kind === "ours" && config !== undefined && served.length > 0) {
      progress(`starting k8s-custom-metrics with ${config}…`);
      const reg = await registerAdapter(info, info.ports.adapter);
      await applyService(info, reg.port, reg.caPem);
      const a = await startAdapter(info, {
        config,
        apiServices: served,
        resourceMetricsSource: resourceRules ? "prometheus" : "kubelet",
      });
      progress(`k8s-custom-metrics serves on 127.0.0.1:${String(reg.port)} (pid ${String(a.pid)})`);
    } else if (o.kind === "upstream" && config !== undefined && upstreamBin !== undefined) {
      progress(`starting prometheus-adapter ${UPSTREAM_PROGRAM.version} with ${config}…`);
      const reg = await registerAdapter(info, info.ports.adapter);
      await applyService(info, reg.port, reg.caPem);
      const url = `https://127.0.0.1:${String(reg.port)}`;
      const running = await sup.start({
        name: COMPONENT,
        command: upstreamBin,
        args: [
          `--config=${config}`,
          `--prometheus-url=${info.prometheusUrl}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${String(reg.port)}`,
          `--tls-cert-file=${reg.certFile}`,
          `--tls-private-key-file=${reg.keyFile}`,
          `--lister-kubeconfig=${reg.kubeconfig}`,
          `--authentication-kubeconfig=${reg.kubeconfig}`,
          `--authorization-kubeconfig=${reg.kubeconfig}`,
          "--metrics-relist-interval=10s",
        ],
        ready: () => returns200(`${url}/readyz`, { insecure: true }),
        timeoutMs: 60_000,
      });
      if (served.length > 0) {
        await publishApiServices(info, reg, served);
        await waitForApiServices(info, served, `adapter log ${running.log}`);
      }
      progress(
        `prometheus-adapter serves on 127.0.0.1:${String(reg.port)} (pid ${String(running.pid)})`,
      );
    }
  } catch (e) {
    // Nothing half-registered: no adapter, no APIService pointing at one.
    await sup.stop(COMPONENT, 5000).catch(() => undefined);
    await kubectl(info, [
      "delete",
      "apiservice",
      "--ignore-not-found",
      ...API_SERVICES.map((a) => `${a.version}.${a.group}`),
    ]).catch(() => undefined);
    progress("no adapter is registered now; fix the cause and run local adapter again");
    throw e;
  }

  const choice: AdapterChoice = {
    kind: o.kind,
    ...(config === undefined ? {} : { config }),
    apiServices: served.map((a) => `${a.version}.${a.group}`),
    since: new Date().toISOString(),
  };
  await mkdir(join(p.root, "adapter"), { recursive: true });
  await writeFile(choiceFile(info.stateDir), `${JSON.stringify(choice, null, 2)}\n`);
  return choice;
}
