/**
 * @module harness/node-agent/container-env
 * A container's environment as the kubelet builds it: the pod's own variables, the `kubernetes`
 * Service's, envFrom, then env (with `$(VAR)` expansion and valueFrom references).
 */
import * as k8s from "@kubernetes/client-node";
import type { PodRuntime } from "./runtime.ts";
import { fieldValue } from "./volumes.ts";

export interface EnvContext {
  readonly core: k8s.CoreV1Api;
  readonly nodeName: string;
  /** The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT): loopback, never a ClusterIP. */
  readonly apiHost: string;
  readonly apiPort: string;
}

export async function containerEnv(
  x: EnvContext,
  rt: PodRuntime,
  c: k8s.V1Container,
): Promise<Record<string, string>> {
  const apiHost = x.apiHost;
  const env: Record<string, string> = {
    POD_NAME: rt.name,
    POD_NAMESPACE: rt.namespace,
    POD_IP: rt.ip,
    NODE_NAME: x.nodeName,
    // The kubernetes Service's variables, pointing at the API server itself on loopback.
    KUBERNETES_SERVICE_HOST: apiHost,
    KUBERNETES_SERVICE_PORT: x.apiPort,
    KUBERNETES_SERVICE_PORT_HTTPS: x.apiPort,
    KUBERNETES_PORT: `tcp://${apiHost}:${x.apiPort}`,
  };
  const ns = rt.namespace;
  const configMap = async (name: string, optional: boolean) => {
    try {
      return (await x.core.readNamespacedConfigMap({ name, namespace: ns })).data ?? {};
    } catch (e) {
      if (optional && e instanceof k8s.ApiException && e.code === 404) return {};
      throw new Error(`configmap "${name}": ${String(e)}`, { cause: e });
    }
  };
  const secret = async (name: string, optional: boolean) => {
    try {
      const data = (await x.core.readNamespacedSecret({ name, namespace: ns })).data ?? {};
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
        nodeName: x.nodeName,
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
