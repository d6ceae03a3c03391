/**
 * @module harness/node-agent/pod-runner
 * Runs a pod's containers as local processes: admits the pod (a loopback IP, a directory, its
 * volumes), starts each container (environment, bind mounts, the local command of its image),
 * restarts it by its restart policy with a back-off, and stops the pod's processes.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { killGroup } from "../supervisor.ts";
import { containerEnv, type EnvContext } from "./container-env.ts";
import { knownImages, localCommand } from "./images.ts";
import { mountScript, type BindMount } from "./mounts.ts";
import { startProbes } from "./prober.ts";
import {
  newContainerRuntime,
  type AgentState,
  type ContainerRuntime,
  type Log,
  type PodRuntime,
} from "./runtime.ts";
import { PodVolumes } from "./volumes.ts";

export interface PodRunnerOptions extends EnvContext {
  readonly podsDir: string;
  /** The first two octets of pod IPs, e.g. `127.17`. */
  readonly podNetwork: string;
  readonly log: Log;
  /** Puts the Services' endpoints in step with the pods (a container exited, a pod stops). */
  readonly syncEndpoints: () => Promise<void>;
}

export class PodRunner {
  readonly #o: PodRunnerOptions;
  readonly #state: AgentState;
  readonly #usedIps = new Set<string>();
  #nextIp = 2;

  constructor(o: PodRunnerOptions, state: AgentState) {
    this.#o = o;
    this.#state = state;
  }

  /** A new pod's runtime, its IP allocated and its directory made; not started yet. */
  admit(pod: k8s.V1Pod): PodRuntime {
    const uid = pod.metadata?.uid ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const ip = this.#allocateIp(pod.status?.podIP);
    const dir = join(this.#o.podsDir, `${namespace}_${name}_${uid.slice(0, 8)}`);
    const rt: PodRuntime = {
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
        core: this.#o.core,
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
    this.#state.pods.set(uid, rt);
    for (const c of pod.spec?.containers ?? []) rt.containers.set(c.name, newContainerRuntime(c));
    return rt;
  }

  /** Starts every container of the pod, in order. */
  async start(pod: k8s.V1Pod, rt: PodRuntime): Promise<void> {
    rt.started = true;
    for (const cr of rt.containers.values()) await this.#startContainer(pod, rt, cr);
  }

  /** Stops the pod's processes (SIGTERM, SIGKILL after the grace period) and frees its IP. */
  async stop(rt: PodRuntime, graceSeconds: number): Promise<void> {
    rt.terminating = true;
    // Out of every Service before SIGTERM, as endpoints drop a terminating pod.
    await this.#o.syncEndpoints();
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
      env = await containerEnv(this.#o, rt, c);
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
    if (rt.terminating || this.#state.stopped) return;
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
      void this.#o.syncEndpoints();
      if (cr.stopping || rt.terminating || this.#state.stopped) return;
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
    startProbes(rt, cr, this.#o.log, () => {
      void this.#o.syncEndpoints();
    });
  }

  #retryStart(
    pod: k8s.V1Pod,
    rt: PodRuntime,
    cr: ContainerRuntime,
    delayMs: number,
    restart = false,
  ): void {
    setTimeout(() => {
      if (rt.terminating || this.#state.stopped || !this.#state.pods.has(rt.uid)) return;
      if (restart) cr.restartCount++;
      void this.#startContainer(pod, rt, cr);
    }, delayMs);
  }
}
