/**
 * @module providers/prometheus/metric-lister
 * Runs discovery at start and every relist interval. A failed relist keeps the last good result,
 * is logged and counted; until the first success the lists are empty and `ready` is false.
 */
import type { Logger } from "../../observability/logger.ts";
import type { PrometheusClient } from "./client.ts";
import { discover, type DiscoveryResult } from "./discovery.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

export interface MetricListerOptions {
  readonly relistIntervalMs: number;
  readonly maxAgeMs: number;
  readonly log: Logger;
  /** Called after every pass, for metrics. */
  readonly onRelist?: (
    outcome: "success" | "error",
    durationMs: number,
    result?: DiscoveryResult,
  ) => void;
}

export class MetricLister {
  readonly #client: PrometheusClient;
  readonly #rules: { custom: readonly CompiledRule[]; external: readonly CompiledRule[] };
  readonly #o: MetricListerOptions;
  #custom = new CustomRegistry();
  #external = new ExternalRegistry();
  #timer: NodeJS.Timeout | undefined;
  #ready = false;
  #lastError: string | undefined;
  #running: Promise<boolean> | undefined;

  constructor(
    client: PrometheusClient,
    rules: { custom: readonly CompiledRule[]; external: readonly CompiledRule[] },
    o: MetricListerOptions,
  ) {
    this.#client = client;
    this.#rules = rules;
    this.#o = o;
  }

  get custom(): CustomRegistry {
    return this.#custom;
  }

  get external(): ExternalRegistry {
    return this.#external;
  }

  /** True once a discovery pass has succeeded. */
  get ready(): boolean {
    return this.#ready;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** One pass; resolves true on success. Concurrent callers share the pass in flight. */
  relist(): Promise<boolean> {
    this.#running ??= this.#relist().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #relist(): Promise<boolean> {
    const t0 = performance.now();
    try {
      const r = await discover(this.#client, this.#rules, { maxAgeMs: this.#o.maxAgeMs });
      this.#custom = r.custom;
      this.#external = r.external;
      this.#ready = true;
      this.#lastError = undefined;
      const ms = performance.now() - t0;
      this.#o.log.info(
        {
          custom: r.custom.size,
          external: r.external.size,
          durationMs: Math.round(ms),
          requests: r.requests,
        },
        "discovered metrics",
      );
      this.#o.onRelist?.("success", ms, r);
      return true;
    } catch (e) {
      this.#lastError = e instanceof Error ? e.message : String(e);
      this.#o.log.error(
        { err: this.#lastError },
        "metric discovery failed; keeping the last good list",
      );
      this.#o.onRelist?.("error", performance.now() - t0);
      return false;
    }
  }

  /** First pass now, then one every interval (re-armed after each pass, as upstream). */
  start(): Promise<boolean> {
    const loop = async () => {
      await this.relist();
      this.#timer = setTimeout(() => void loop(), this.#o.relistIntervalMs);
      this.#timer.unref();
    };
    const first = this.relist();
    void first.then(() => {
      this.#timer = setTimeout(() => void loop(), this.#o.relistIntervalMs);
      this.#timer.unref();
    });
    return first;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
