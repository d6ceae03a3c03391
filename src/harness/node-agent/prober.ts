/**
 * @module harness/node-agent/prober
 * Readiness and liveness probes of a running container, as the kubelet's prober runs them:
 * readiness sets the container's `ready`, a failed liveness probe kills the container (its
 * restart policy brings it back).
 */
import { connect } from "node:net";
import type * as k8s from "@kubernetes/client-node";
import { killGroup } from "../supervisor.ts";
import { get } from "../probe.ts";
import type { ContainerRuntime, Log, PodRuntime } from "./runtime.ts";

/** One probe: httpGet (HTTP or HTTPS, certificate unchecked, as the kubelet), tcpSocket. */
export async function probeOnce(
  rt: PodRuntime,
  cr: ContainerRuntime,
  probe: k8s.V1Probe,
): Promise<boolean> {
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

/**
 * Starts the probes of a container that has just started; they stop by themselves once the
 * container's process is another (or none). `onReadinessChange` runs when `ready` flips.
 */
export function startProbes(
  rt: PodRuntime,
  cr: ContainerRuntime,
  log: Log,
  onReadinessChange: () => void,
): void {
  const readiness = cr.spec.readinessProbe;
  const child = cr.child;
  if (!readiness) {
    cr.ready = true;
  } else {
    const failureThreshold = readiness.failureThreshold ?? 3;
    const successThreshold = readiness.successThreshold ?? 1;
    let successes = 0;
    const run = () => {
      void probeOnce(rt, cr, readiness)
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
          if (was !== cr.ready) onReadinessChange();
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
    void probeOnce(rt, cr, liveness)
      .catch(() => false)
      .then(async (ok) => {
        if (cr.child !== child) return;
        if (ok) {
          cr.livenessFailures = 0;
          return;
        }
        if (++cr.livenessFailures < (liveness.failureThreshold ?? 3)) return;
        log("liveness probe failed; killing the container", {
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
