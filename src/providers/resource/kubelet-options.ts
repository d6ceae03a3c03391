/**
 * @module providers/resource/kubelet-options
 * The kubelet source's flag rules, as metrics-server v0.8.0 checks them before it starts
 * (cmd/metrics-server/app/options/options.go and kubelet_client.go): the same limits and the same
 * messages, so a metrics-server command line that fails there fails here, and one that starts
 * there starts here.
 */
import { LabelSelectorError } from "../../apimachinery/label-selector.ts";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import { formatGoDuration } from "../../apimachinery/time.ts";

/** metrics-server refuses a shorter `--metric-resolution`. */
export const MIN_RESOLUTION_MS = 10_000;
/** `--kubelet-request-timeout`'s default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface KubeletFlags {
  readonly resolutionMs: number;
  readonly requestTimeoutMs: number;
  readonly insecureTls: boolean;
  readonly caFile?: string | undefined;
  readonly clientCertFile?: string | undefined;
  readonly clientKeyFile?: string | undefined;
  readonly nodeSelector?: string | undefined;
}

const goDuration = (ms: number) => formatGoDuration(BigInt(Math.round(ms * 1e6)));

/** Every problem with the flags, in metrics-server's order and words; empty when they are fine. */
export function kubeletFlagErrors(f: KubeletFlags): string[] {
  const errors: string[] = [];
  const has = (s: string | undefined) => s !== undefined && s !== "";
  if (has(f.caFile) && f.insecureTls) {
    errors.push("cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls");
  }
  if (has(f.clientKeyFile) !== has(f.clientCertFile)) {
    errors.push("need both --kubelet-client-key and --kubelet-client-certificate");
  }
  if (f.requestTimeoutMs <= 0) errors.push("kubelet-request-timeout should be positive");
  if (f.resolutionMs < MIN_RESOLUTION_MS) {
    errors.push(
      `metric-resolution should be a time duration at least 10s, but value ${goDuration(f.resolutionMs)} provided`,
    );
  }
  // Go: MetricResolution*9/10 < KubeletRequestTimeout, in integer nanoseconds.
  const resolutionNs = BigInt(Math.round(f.resolutionMs * 1e6));
  if ((resolutionNs * 9n) / 10n < BigInt(Math.round(f.requestTimeoutMs * 1e6))) {
    errors.push(
      `metric-resolution should be larger than kubelet-request-timeout, but metric-resolution value ${goDuration(f.resolutionMs)} kubelet-request-timeout value ${goDuration(f.requestTimeoutMs)} provided`,
    );
  }
  const selector = nodeSelectorError(f.nodeSelector);
  if (selector) errors.push(selector);
  return errors;
}

/** `--node-selector` as metrics-server reads it: trimmed, labels.ParseToRequirements. */
export function normalizeNodeSelector(selector: string | undefined): string {
  return (selector ?? "").trim();
}

function nodeSelectorError(selector: string | undefined): string | undefined {
  const s = normalizeNodeSelector(selector);
  if (s === "") return undefined;
  try {
    parseRequirements(s);
    return undefined;
  } catch (e) {
    if (e instanceof LabelSelectorError) return e.message;
    throw e;
  }
}
