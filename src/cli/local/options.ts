/**
 * @module cli/local/options
 * What the `local` subcommands share: option value parsers, `--state-dir`, `--adapter` choices,
 * progress lines on stderr, and the harness modules loaded only when a `local` command runs.
 */
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { parseGoDuration } from "../../apimachinery/go-duration.ts";
import { KcmError } from "../../errors.ts";
import { defaultStateDir } from "../../harness/paths.ts";

// The harness (and @kubernetes/client-node, which the node agent uses) loads only when a
// `local` command runs, so `serve` starts without it.
export const cluster = () => import("../../harness/cluster.ts");
export const playground = () => import("../../harness/playground.ts");
export const workload = () => import("../../harness/playground-workload.ts");

export const KINDS =
  "ours (k8s-custom-metrics), upstream (prometheus-adapter v0.12.0, built from source once and cached) or none";

export function adapterKind(v: string): "ours" | "upstream" | "none" {
  if (v === "ours" || v === "upstream" || v === "none") return v;
  throw new InvalidArgumentError("expected ours, upstream or none");
}

export function number(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${String(min)} to ${String(max)}`);
    }
    return n;
  };
}

/**
 * `--adapter` and `--config` of `local up`: `--config` alone means ours; an adapter without a
 * config takes examples/adapter-config.yaml. Refused as KCM_ERR_USAGE before anything starts.
 */
export function upAdapterChoice(
  adapter: "ours" | "upstream" | "none" | undefined,
  config: string | undefined,
  defaultConfig: string,
): { kind: "ours" | "upstream" | "none"; config?: string } {
  if (adapter === "none" && config !== undefined) {
    throw new KcmError("KCM_ERR_USAGE", "--config goes with --adapter ours or upstream, not none");
  }
  const kind = adapter ?? (config === undefined ? "none" : "ours");
  return kind === "none" ? { kind } : { kind, config: config ?? defaultConfig };
}

/**
 * Whole seconds from `min` to `max`, as a Go duration (`15s`, `1m`, as `validate
 * --scrape-interval` takes it) or a bare number of seconds.
 */
export function seconds(min: number, max: number) {
  return (v: string): number => {
    let n = Number(v);
    if (!/^\d+$/.test(v)) {
      try {
        n = parseGoDuration(v) / 1000;
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    }
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected whole seconds from ${String(min)}s to ${String(max)}s (e.g. 15s)`,
      );
    }
    return n;
  };
}

export function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${String(min)} to ${String(max)}`,
      );
    }
    return n;
  };
}

export const progress = (line: string) => {
  process.stderr.write(`${line}\n`);
};

export function stateDirOption() {
  return [
    "--state-dir <dir>",
    "folder for the cluster's PKI, data, logs and pids",
    defaultStateDir(),
  ] as const;
}
