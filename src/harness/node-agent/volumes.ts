/**
 * @module harness/node-agent/volumes
 * A pod's volumes as the kubelet materializes them: ConfigMap, Secret, downward API and projected
 * volumes (the service-account token from the TokenRequest API, the cluster CA from the
 * `kube-root-ca.crt` ConfigMap, the namespace) written with the atomic writer and kept in step with
 * the API; emptyDir as a directory. The ServiceAccount admission plugin adds the
 * `kube-api-access-*` projected volume to every pod that automounts its token, so nothing here is
 * specific to service accounts.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { atomicWrite, type PayloadFile } from "./atomic-writer.ts";

/** How often ConfigMap and Secret contents are re-read (the kubelet: its sync period, ~1 min). */
export const VOLUME_RESYNC_MS = 10_000;

interface CachedToken {
  readonly token: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * The kubelet refreshes a token once 80% of its lifetime has passed, or when it is older than 24 h
 * (pkg/kubelet/token/token_manager.go, requiresRefresh).
 */
export function tokenNeedsRefresh(t: CachedToken | undefined, now: number): boolean {
  if (!t) return true;
  const ttl = t.expiresAt - t.issuedAt;
  return now > t.expiresAt - ttl * 0.2 || now - t.issuedAt > 24 * 3600 * 1000;
}

export class MountError extends Error {}

export interface VolumeContext {
  readonly core: k8s.CoreV1Api;
  readonly pod: k8s.V1Pod;
  readonly dir: string;
  readonly nodeName: string;
  readonly podIp: string;
}

export class PodVolumes {
  readonly #c: VolumeContext;
  readonly #tokens = new Map<string, CachedToken>();
  #lastSync = 0;
  #synced = false;

  constructor(c: VolumeContext) {
    this.#c = c;
  }

  get ready(): boolean {
    return this.#synced;
  }

  /** The host directory of a volume. */
  hostPath(name: string): string {
    return join(this.#c.dir, "volumes", name);
  }

  /**
   * Writes every volume; later calls rewrite only what changed and re-read the API at most every
   * VOLUME_RESYNC_MS, tokens only when they need a refresh. Throws MountError (the pod waits in
   * ContainerCreating, as with the kubelet's FailedMount) when a required source is missing.
   */
  async sync(now = Date.now()): Promise<void> {
    const due = !this.#synced || now - this.#lastSync >= VOLUME_RESYNC_MS;
    const tokenDue = [...this.#tokens.values()].some((t) => tokenNeedsRefresh(t, now));
    if (!due && !tokenDue) return;
    for (const v of this.#c.pod.spec?.volumes ?? []) {
      const dir = this.hostPath(v.name);
      if (v.emptyDir || v.hostPath) {
        mkdirSync(dir, { recursive: true, mode: 0o777 });
        continue;
      }
      const payload = new Map<string, PayloadFile>();
      if (v.configMap) {
        await this.#configMap(payload, v.configMap, v.configMap.defaultMode ?? 0o644);
      } else if (v.secret) {
        await this.#secret(payload, v.secret, v.secret.defaultMode ?? 0o644);
      } else if (v.downwardAPI) {
        this.#downward(payload, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? 0o644);
      } else if (v.projected) {
        const mode = v.projected.defaultMode ?? 0o644;
        for (const [i, s] of (v.projected.sources ?? []).entries()) {
          if (s.configMap) await this.#configMap(payload, s.configMap, mode);
          if (s.secret) await this.#secret(payload, s.secret, mode);
          if (s.downwardAPI) this.#downward(payload, s.downwardAPI.items ?? [], mode);
          if (s.serviceAccountToken) {
            const token = await this.#token(`${v.name}/${String(i)}`, s.serviceAccountToken, now);
            payload.set(s.serviceAccountToken.path, { data: Buffer.from(token), mode });
          }
        }
      } else {
        throw new MountError(
          `volume ${v.name}: only configMap, secret, downwardAPI, projected, emptyDir and hostPath volumes are supported`,
        );
      }
      atomicWrite(dir, payload);
    }
    this.#synced = true;
    this.#lastSync = now;
  }

  remove(): void {
    rmSync(join(this.#c.dir, "volumes"), { recursive: true, force: true });
  }

  get #namespace(): string {
    return this.#c.pod.metadata?.namespace ?? "default";
  }

  async #configMap(
    out: Map<string, PayloadFile>,
    src: { name?: string; items?: k8s.V1KeyToPath[]; optional?: boolean },
    mode: number,
  ): Promise<void> {
    const name = src.name ?? "";
    let cm: k8s.V1ConfigMap;
    try {
      cm = await this.#c.core.readNamespacedConfigMap({ name, namespace: this.#namespace });
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 404) {
        if (src.optional) return;
        throw new MountError(`configmap "${name}" not found`);
      }
      throw e;
    }
    const all = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(cm.data ?? {})) all.set(k, Buffer.from(v));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) all.set(k, Buffer.from(v, "base64"));
    this.#items(out, all, src.items, mode, `configmap "${name}"`, src.optional === true);
  }

  async #secret(
    out: Map<string, PayloadFile>,
    src: { name?: string; secretName?: string; items?: k8s.V1KeyToPath[]; optional?: boolean },
    mode: number,
  ): Promise<void> {
    const name = src.secretName ?? src.name ?? "";
    let secret: k8s.V1Secret;
    try {
      secret = await this.#c.core.readNamespacedSecret({ name, namespace: this.#namespace });
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 404) {
        if (src.optional) return;
        throw new MountError(`secret "${name}" not found`);
      }
      throw e;
    }
    const all = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(secret.data ?? {})) all.set(k, Buffer.from(v, "base64"));
    for (const [k, v] of Object.entries(secret.stringData ?? {})) all.set(k, Buffer.from(v));
    this.#items(out, all, src.items, mode, `secret "${name}"`, src.optional === true);
  }

  #items(
    out: Map<string, PayloadFile>,
    all: ReadonlyMap<string, Buffer>,
    items: readonly k8s.V1KeyToPath[] | undefined,
    mode: number,
    what: string,
    optional: boolean,
  ): void {
    if (!items || items.length === 0) {
      for (const [k, v] of all) out.set(k, { data: v, mode });
      return;
    }
    for (const it of items) {
      const data = all.get(it.key);
      if (data === undefined) {
        if (optional) continue;
        throw new MountError(`${what} has no key "${it.key}"`);
      }
      out.set(it.path, { data, mode: it.mode ?? mode });
    }
  }

  #downward(
    out: Map<string, PayloadFile>,
    items: readonly k8s.V1DownwardAPIVolumeFile[],
    mode: number,
  ): void {
    for (const it of items) {
      const value = fieldValue(this.#c.pod, it.fieldRef?.fieldPath ?? "", {
        nodeName: this.#c.nodeName,
        podIp: this.#c.podIp,
      });
      if (value === undefined) continue;
      out.set(it.path, { data: Buffer.from(value), mode: it.mode ?? mode });
    }
  }

  async #token(
    key: string,
    src: k8s.V1ServiceAccountTokenProjection,
    now: number,
  ): Promise<string> {
    const cached = this.#tokens.get(key);
    if (!tokenNeedsRefresh(cached, now) && cached) return cached.token;
    const pod = this.#c.pod;
    const tr = await this.#c.core.createNamespacedServiceAccountToken({
      name: pod.spec?.serviceAccountName ?? "default",
      namespace: this.#namespace,
      body: {
        spec: {
          // No audience: the API server's own (its --api-audiences, else the issuer).
          audiences: src.audience ? [src.audience] : [],
          expirationSeconds: src.expirationSeconds ?? 3600,
          // Bound to the pod: the token dies with it, as a kubelet-requested token does.
          boundObjectRef: {
            apiVersion: "v1",
            kind: "Pod",
            name: pod.metadata?.name ?? "",
            uid: pod.metadata?.uid ?? "",
          },
        },
      },
    });
    const token = tr.status?.token ?? "";
    const exp = tr.status?.expirationTimestamp;
    const expiresAt = exp ? new Date(exp).getTime() : now + (src.expirationSeconds ?? 3600) * 1000;
    this.#tokens.set(key, { token, issuedAt: now, expiresAt });
    return token;
  }
}

/** A downward API fieldPath's value for a pod (env and volumes). */
export function fieldValue(
  pod: k8s.V1Pod,
  path: string,
  o: { nodeName: string; podIp: string },
): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = m[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2] ?? ""];
  }
  const kv = (r: Record<string, string> | undefined): string =>
    Object.entries(r ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v}"`)
      .join("\n");
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name;
    case "metadata.namespace":
      return pod.metadata?.namespace;
    case "metadata.uid":
      return pod.metadata?.uid;
    case "metadata.labels":
      return kv(pod.metadata?.labels);
    case "metadata.annotations":
      return kv(pod.metadata?.annotations);
    case "spec.nodeName":
      return o.nodeName;
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName;
    case "status.podIP":
    case "status.podIPs":
      return o.podIp;
    case "status.hostIP":
    case "status.hostIPs":
      return "127.0.0.1";
    default:
      return undefined;
  }
}
