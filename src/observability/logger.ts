/**
 * @module observability/logger
 * JSON logs through pino. `--v` maps klog verbosity onto pino levels: 0-1 info, 2-4 debug, 5+ trace.
 */
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = Pick<PinoLogger, "info" | "warn" | "error" | "debug" | "trace" | "child">;

export function levelForVerbosity(v: number): "info" | "debug" | "trace" {
  if (v >= 5) return "trace";
  if (v >= 2) return "debug";
  return "info";
}

export function createLogger(verbosity = 0, destination?: NodeJS.WritableStream): Logger {
  const opts = { level: levelForVerbosity(verbosity), base: { component: "k8s-custom-metrics" } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything, for tests that don't look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
