/**
 * @module server/options/compatibility
 * What prometheus-adapter deployments pass that means little or nothing here: klog's flags (only
 * `--v` has an effect: logs always go to stdout as JSON), a few generic apiserver flags, and the
 * upstream image's entrypoint as an argument. Accepted so those deployments start unchanged
 * (docs/flags.md).
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { KcmError } from "../../errors.ts";
import { bool } from "./parsers.ts";

/** What the Helm chart passes first: the upstream image runs `/adapter /adapter --flags…`. */
export const UPSTREAM_ENTRYPOINT = "/adapter";

/**
 * Flags without effect: klog's own (k8s.io/klog/v2 InitFlags, in Go's underscore spelling and the
 * hyphen one component-base normalizes to), component-base's --log-flush-frequency, and the
 * generic apiserver's profiling and client rate-limit flags.
 */
export const COMPATIBILITY_FLAGS: readonly (readonly [flags: string, kind: "bool" | "value"])[] = [
  ...(
    [
      ["logtostderr", "bool"],
      ["alsologtostderr", "bool"],
      ["add-dir-header", "bool"],
      ["skip-headers", "bool"],
      ["skip-log-headers", "bool"],
      ["one-output", "bool"],
      ["log-dir", "value"],
      ["log-file", "value"],
      ["log-file-max-size", "value"],
      ["stderrthreshold", "value"],
      ["vmodule", "value"],
      ["log-backtrace-at", "value"],
    ] as const
  ).flatMap(([name, kind]) =>
    [...new Set([name, name.replaceAll("-", "_")])].map(
      (n) => [kind === "bool" ? `--${n} [bool]` : `--${n} <value>`, kind] as const,
    ),
  ),
  ["--log-flush-frequency <duration>", "value"],
  ["--profiling [bool]", "bool"],
  ["--contention-profiling [bool]", "bool"],
  ["--client-qps <n>", "value"],
  ["--client-burst <n>", "value"],
  // The adapter serves no mutating request: the generic apiserver's second in-flight limit.
  ["--max-mutating-requests-inflight <n>", "value"],
  // The rest of what custom-metrics-apiserver's secure serving and feature options add
  // (prometheus-adapter --help): Node.js listens with SO_REUSEADDR already and has no
  // SO_REUSEPORT before v22.12; --max-requests-inflight is the limit (no priority and fairness);
  // no debug socket, as no profiling.
  ["--permit-address-sharing [bool]", "bool"],
  ["--permit-port-sharing [bool]", "bool"],
  ["--enable-priority-and-fairness [bool]", "bool"],
  ["--debug-socket-path <path>", "value"],
];

/** klog's Level.Set: a base-10 int32 (`--v=abc` is refused, as upstream refuses it). */
function klogLevel(v: string): number {
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new InvalidArgumentError("expected an integer log level");
  }
  return n;
}

export const compatibilityFlags = {
  /** klog's verbosity, the one logging flag with an effect (createLogger's level). */
  verbosity: () =>
    new Option("--v <level>", "log verbosity (klog style)").default(0).argParser(klogLevel),
};

/** Commander's attribute name for an option: `--log-file` → `logFile`, `--log_file` stays. */
function optionKey(flags: string): string {
  return new Option(flags).attributeName();
}

/** Adds the flags without effect, hidden from --help. */
export function withCompatibilityFlags<C extends Command>(cmd: C): C {
  for (const [flags, kind] of COMPATIBILITY_FLAGS) {
    const opt = new Option(flags, "accepted for compatibility, without effect").hideHelp();
    cmd.addOption(kind === "bool" ? opt.argParser(bool) : opt);
  }
  return cmd;
}

export interface CompatibilityConfig {
  /** The upstream entrypoint was passed (and is ignored). */
  readonly entrypointIgnored: boolean;
  /** The flags without effect given on the command line, as `--name`. */
  readonly inertFlags: readonly string[];
}

/**
 * Operands: none, or only the upstream entrypoint. `given(attribute)` tells whether an option was
 * set on the command line (commander's getOptionValueSource(...) === "cli").
 */
export function validateCompatibility(
  args: readonly string[],
  given: (attribute: string) => boolean,
): CompatibilityConfig {
  const [operand, ...more] = args;
  if (more.length > 0 || (operand !== undefined && operand !== UPSTREAM_ENTRYPOINT)) {
    throw new KcmError(
      "KCM_ERR_USAGE",
      `unexpected arguments for 'serve': ${JSON.stringify(args)} (only ${UPSTREAM_ENTRYPOINT}, the prometheus-adapter image's entrypoint, is accepted and ignored)`,
    );
  }
  const inertFlags = COMPATIBILITY_FLAGS.filter(([flags]) => given(optionKey(flags))).map(
    ([flags]) => flags.split(" ")[0] ?? flags,
  );
  return { entrypointIgnored: operand !== undefined, inertFlags };
}
