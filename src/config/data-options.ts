/**
 * @module config/data-options
 * A rule's `k8sCustomMetrics` block (our own key; prometheus-adapter has no equivalent) read into
 * numbers: what to answer for an object without a sample, how old a sample may be, and how long
 * the last good value may stand in while Prometheus cannot answer. config/semantics reports the
 * problems with file:line:col; providers use the values.
 */
import { parsePromDuration } from "./duration.ts";
import type { DataOptionsConfig } from "./schema.ts";

export interface DataOptions {
  /** Answered for an object without a sample; undefined: 404 / empty list, as upstream. */
  readonly valueWhenMissing: number | undefined;
  /** A sample older than this counts as missing; undefined: Prometheus' lookback alone. */
  readonly maxSampleAgeMs: number | undefined;
  /** How long a last good value may answer while Prometheus fails; 0: off. */
  readonly lastGoodValueForMs: number;
}

/** Prometheus' default `--query.lookback-delta`: older samples are missing anyway. */
export const PROMETHEUS_LOOKBACK_MS = 5 * 60 * 1000;

export const NO_DATA_OPTIONS: DataOptions = {
  valueWhenMissing: undefined,
  maxSampleAgeMs: undefined,
  lastGoodValueForMs: 0,
};

export interface DataOptionProblem {
  readonly key: keyof DataOptionsConfig;
  readonly message: string;
  readonly severity?: "warning";
}

// A plain decimal as Go's strconv.ParseFloat and Kubernetes quantities agree on (no NaN, Inf, 0x).
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function text(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v).trim();
}

/** The options of one rule and the problems of its values (keys named relative to the block). */
export function readDataOptions(cfg: DataOptionsConfig | undefined): {
  readonly options: DataOptions;
  readonly problems: readonly DataOptionProblem[];
} {
  if (cfg === undefined) return { options: NO_DATA_OPTIONS, problems: [] };
  const problems: DataOptionProblem[] = [];
  let valueWhenMissing: number | undefined;
  const value = text(cfg.valueWhenMissing);
  if (value !== undefined) {
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n)) {
      problems.push({
        key: "valueWhenMissing",
        message: `is ${JSON.stringify(value)}, not a decimal number; write a number such as 0 or 1.5`,
      });
    } else valueWhenMissing = n;
  }
  const duration = (key: "maxSampleAge" | "lastGoodValueFor"): number | undefined => {
    const t = text(cfg[key]);
    if (t === undefined) return undefined;
    try {
      return parsePromDuration(t);
    } catch (e) {
      problems.push({
        key,
        message: `${JSON.stringify(t)} is not a Prometheus duration (${e instanceof Error ? e.message : String(e)}); write it like 90s, 2m or 1h`,
      });
      return undefined;
    }
  };
  const maxAge = duration("maxSampleAge");
  if (maxAge === 0) {
    problems.push({
      key: "maxSampleAge",
      message:
        "is 0, so every sample would be too old; give a positive duration such as 2m, or remove the key",
    });
  } else if (maxAge !== undefined && maxAge > PROMETHEUS_LOOKBACK_MS) {
    problems.push({
      key: "maxSampleAge",
      severity: "warning",
      message: `is longer than Prometheus' default lookback (5m), which already drops older samples, so it has no effect unless Prometheus runs with a larger --query.lookback-delta; use 5m or less`,
    });
  }
  const lastGood = duration("lastGoodValueFor") ?? 0;
  return {
    options: {
      valueWhenMissing,
      maxSampleAgeMs: maxAge === 0 ? undefined : maxAge,
      lastGoodValueForMs: lastGood,
    },
    problems,
  };
}
