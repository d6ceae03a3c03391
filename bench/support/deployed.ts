/**
 * @module bench/support/deployed
 * Our adapter started as the image starts it, so benchmark figures are a deployment's: the
 * image's entrypoint `node bin/k8s-custom-metrics.js serve` (bin/ sets its V8 flags, then loads
 * dist/) with the image's `NODE_OPTIONS` (Dockerfile), which deploy/base/deployment.yaml must
 * repeat (it replaces the image's environment variable). bench/run.ts compiles src/ into
 * bench/.dist/dist and copies bin/ to bench/.dist/bin: the image's /app layout.
 *
 * @example
 * const { command, args, env } = ourServe(["--config=c.yaml", "--secure-port=6443"]);
 * spawn(command, args, { env });
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** Where bench/run.ts compiles src/ (the image's /app/dist). */
export const OUR_DIST = "bench/.dist/dist";
/** The image's entrypoint script, copied next to it (the image's /app/bin). */
export const OUR_BIN = "bench/.dist/bin/k8s-custom-metrics.js";

/** `ENV NODE_OPTIONS="…"` of the Dockerfile's runtime stage. */
export function imageNodeOptions(dockerfile = "Dockerfile"): string {
  const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(dockerfile, "utf8"));
  if (!m) throw new Error(`${dockerfile}: no ENV NODE_OPTIONS="…" line`);
  return m[1] ?? "";
}

interface DeploymentDoc {
  spec?: {
    template?: {
      spec?: { containers?: { env?: { name?: string; value?: string }[] }[] };
    };
  };
}

/** The adapter container's NODE_OPTIONS in deploy/base/deployment.yaml; undefined when unset. */
export function deploymentNodeOptions(file = "deploy/base/deployment.yaml"): string | undefined {
  return containerEnv(file)["NODE_OPTIONS"];
}

/**
 * The adapter container's env in a Deployment patch of an overlay (name → value), e.g. the
 * kubelet source's sizing in deploy/overlays/resource-metrics/sizing.yaml.
 */
export function overlayContainerEnv(file: string): Record<string, string> {
  const env = containerEnv(file);
  if (Object.keys(env).length === 0) throw new Error(`${file}: no container env`);
  return env;
}

/** The first container's env in a Deployment (or a patch of one), name → value. */
function containerEnv(file: string): Record<string, string> {
  const doc = parse(readFileSync(file, "utf8")) as DeploymentDoc;
  const out: Record<string, string> = {};
  for (const e of doc.spec?.template?.spec?.containers?.[0]?.env ?? []) {
    if (e.name !== undefined) out[e.name] = e.value ?? "";
  }
  return out;
}

/** The NODE_OPTIONS a deployment runs with; throws when the image and deploy/ disagree. */
export function deployedNodeOptions(): string {
  const image = imageNodeOptions();
  const deployment = deploymentNodeOptions();
  if (deployment !== undefined && deployment !== image) {
    throw new Error(
      `NODE_OPTIONS differ: Dockerfile "${image}", deploy/base/deployment.yaml "${deployment}"; ` +
        "the bench measures what ships, so make them equal",
    );
  }
  return image;
}

/**
 * BENCH_OUR_NODE_ARGS (space-separated): node flags for every start of ours, for experiments
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`). Figures so made are not the deployed configuration's:
 * the run's log says so.
 */
function experimentNodeArgs(): string[] {
  return (process.env["BENCH_OUR_NODE_ARGS"] ?? "").split(" ").filter((x) => x !== "");
}

/**
 * How to start `serve` with `args` as deployed: `nodeArgs` (e.g. `--cpu-prof`) go to node before
 * the script; `main` replaces the entrypoint (e.g. an older build's cli/main.js, for A/B).
 */
export function ourServe(
  args: readonly string[],
  o: { readonly nodeArgs?: readonly string[] | undefined; readonly main?: string | undefined } = {},
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    command: process.execPath,
    args: [...(o.nodeArgs ?? []), ...experimentNodeArgs(), o.main ?? OUR_BIN, "serve", ...args],
    env: { ...process.env, NODE_OPTIONS: deployedNodeOptions() },
  };
}

/** The V8 flags bin/ sets before loading the CLI (its `setFlagsFromString` calls). */
export function binV8Flags(bin = "bin/k8s-custom-metrics.js"): string[] {
  return [...readFileSync(bin, "utf8").matchAll(/setFlagsFromString\("([^"]+)"\)/g)].map(
    (m) => m[1] ?? "",
  );
}

/** One markdown sentence saying exactly how ours was started. */
export function deployedSentence(): string {
  const flags = binV8Flags();
  return (
    `Ours runs as the image starts it: \`NODE_OPTIONS="${deployedNodeOptions()}" node bin/k8s-custom-metrics.js serve\`` +
    ` (NODE_OPTIONS from the Dockerfile, the same in deploy/base/deployment.yaml` +
    `${flags.length > 0 ? `; bin/ sets V8's ${flags.map((f) => `\`${f}\``).join(" ")}` : ""}).`
  );
}

/** Figures of ours before issue #12 item 5 (bench/baseline-memory.json), for before/after. */
export interface MemoryBaseline {
  readonly note: string;
  readonly queries: {
    readonly date: string;
    readonly rows: readonly {
      readonly kind: string;
      readonly concurrency: number;
      readonly peakRssMb: number;
      readonly p50Ms: number;
      readonly p99Ms: number;
      readonly reqPerSec: number;
      readonly cpuSecondsPer1000: number;
    }[];
  };
  readonly fleet: {
    readonly date: string;
    readonly adapters: readonly {
      readonly adapter: string;
      readonly peakRssMb: number;
      readonly p50Ms: number;
      readonly p99Ms: number;
      readonly maxMs: number;
      readonly cpuSeconds: number;
    }[];
  };
}

export function memoryBaseline(file = "bench/baseline-memory.json"): MemoryBaseline | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as MemoryBaseline;
  } catch {
    return undefined;
  }
}

/** Peak RSS under which every cell must stay: kube-prometheus' 180Mi limit, with headroom. */
export const RSS_GOAL_MIB = 150;
