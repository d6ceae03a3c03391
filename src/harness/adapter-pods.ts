/**
 * @module harness/adapter-pods
 * The shipped manifests as pods of the local cluster: a kustomize overlay of deploy/ that changes
 * only what a loopback-only cluster needs (where Prometheus and the kubelet endpoint are), applied
 * with `kubectl apply -k`. The node agent runs the Deployment's image as this checkout, gives the
 * pods their service-account token, CA and ConfigMap, and serves the Service on its loopback
 * ClusterIP; the APIServices of deploy/ stay as they are.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { ClusterInfo } from "./cluster.ts";

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** deploy/overlays/resource-metrics: deploy/base plus metrics.k8s.io (four APIServices). */
export const DEPLOY_OVERLAY = join(REPO_ROOT, "deploy", "overlays", "resource-metrics");

/**
 * Writes `<stateDir>/adapter-pods/kustomization.yaml` over `base` (default: the resource-metrics
 * overlay) with `config` as the rules, and returns its folder. The patch appends flags (the last of a repeated flag wins): Prometheus on loopback, the node agent's
 * kubelet endpoint over HTTP at the port its Node status names, and a 10 s relist as the host
 * adapter uses.
 */
export async function localOverlay(
  info: ClusterInfo,
  o: { base?: string; config?: string; extraArgs?: readonly string[] } = {},
): Promise<string> {
  const dir = join(info.stateDir, "adapter-pods");
  await mkdir(dir, { recursive: true });
  // The rules the host-process adapter serves (examples/adapter-config.yaml): deploy/base's
  // default config has no externalRules, so external.metrics.k8s.io would answer 404 and its
  // APIService stay unavailable, as with prometheus-adapter.
  await copyFile(
    o.config ?? join(REPO_ROOT, "examples", "adapter-config.yaml"),
    join(dir, "config.yaml"),
  );
  const args = [
    `--prometheus-url=${info.prometheusUrl}/`,
    "--metrics-relist-interval=10s",
    "--kubelet-scheme=http",
    "--kubelet-use-node-status-port",
    ...(o.extraArgs ?? []),
  ];
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: [relative(dir, o.base ?? DEPLOY_OVERLAY)],
    configMapGenerator: [
      {
        name: "adapter-config",
        namespace: "custom-metrics",
        behavior: "replace",
        files: ["config.yaml"],
        options: { disableNameSuffixHash: true },
      },
    ],
    patches: [
      {
        target: { kind: "Deployment", name: "k8s-custom-metrics" },
        patch: stringify(
          args.map((value) => ({
            op: "add",
            path: "/spec/template/spec/containers/0/args/-",
            value,
          })),
        ),
      },
    ],
  };
  await writeFile(
    join(dir, "kustomization.yaml"),
    `# generated for the local cluster in ${info.stateDir}\n${stringify(kustomization)}`,
  );
  return dir;
}
