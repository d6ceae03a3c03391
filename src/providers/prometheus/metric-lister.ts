/**
 * @module providers/prometheus/metric-lister
 * Runs discovery at start and every relist interval. A failed relist keeps the last good result,
 * is logged and counted; until the first success the lists are empty and `ready` is false.
 *
 * A pass that succeeds but finds an API's list empty, or missing more than half of its metric
 * names, is held: the last good list keeps serving until the next pass, run after
 * `confirmDelayMs`, still finds it so. Prometheus answers that way for a while after a restart
 * without persistent storage, or after being down longer than `--metrics-max-age`: until its first
 * scrapes land, nothing was seen within the max age. Applying that would answer 404 to every HPA
 * for a whole relist interval.
 */
import type { Logger } from "../../observability/logger.ts";
import {
  withDiscoveredByServer,
  type DiscoveredByServer,
} from "../../observability/server-label.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { RuleClients } from "./backends.ts";
import { discover, failedServerOf, type DiscoveryResult, type EarlyRequests } from "./discovery.ts";
import {
  perServer,
  perServerLabel,
  sharpDrop,
  union,
  type UnconfirmedReason,
} from "./pass-results.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

export type { UnconfirmedReason } from "./pass-results.ts";

export type RelistOutcome = "success" | "error" | `unconfirmed-${UnconfirmedReason}`;

/**
 * The longest wait before the confirming pass. The transient ends with the first scrape after
 * Prometheus starts, within one scrape interval, and a minute is Prometheus' default interval (the
 * usual 15 s and 30 s fit too). Confirming sooner could see the same transient again; waiting the
 * default 10 min relist interval would keep a removed metric set that much longer.
 */
export const MAX_CONFIRM_DELAY_MS = 60_000;

/** Least time between two passes started for the same not yet discovered tenant. */
export const UNKNOWN_TENANT_RELIST_MS = 30_000;

export interface MetricListerOptions {
  readonly relistIntervalMs: number;
  readonly maxAgeMs: number;
  readonly log: Logger;
  /** Wait before the pass that confirms a held one (default: the interval, at most a minute). */
  readonly confirmDelayMs?: number;
  /**
   * Called after every pass, for metrics. `result` only when the pass was applied; a held pass
   * reports `unconfirmed-<reason>` (and its confirmation later reports `success`).
   */
  readonly onRelist?: (
    outcome: RelistOutcome,
    durationMs: number,
    result?: DiscoveryResult,
    /** With `result`: its metrics per API by the `server` label of the adapter's metrics. */
    byServer?: DiscoveredByServer,
  ) => void;
  /** One discovery pass (tests replace it). */
  readonly discover?: typeof discover;
  /**
   * Rules' own servers and tenants: each rule is discovered on its server, once per tenant, and
   * each tenant keeps its own lists. Without it every rule asks the lister's client.
   */
  readonly backends?: RuleClients;
  /** Requests started at start-up (discovery.ts startEarly), for the first pass to take. */
  readonly early?: EarlyRequests;
}

export class MetricLister {
  readonly #client: PrometheusApi;
  #rules: { custom: readonly CompiledRule[]; external: readonly CompiledRule[] };
  /** The next pass follows a config change: its result is meant, so it is never held. */
  #rulesChanged = false;
  /** `rule: message` of the rule errors last logged, to log each change once. */
  #ruleErrors = new Set<string>();
  readonly #o: MetricListerOptions;
  readonly #discover: typeof discover;
  #custom = new CustomRegistry();
  #external = new ExternalRegistry();
  /** With tenants: each tenant's own lists (the fields above hold their union). */
  #byTenant = new Map<string, { custom: CustomRegistry; external: ExternalRegistry }>();
  /** When a pass was last started for a tenant no pass covered. */
  readonly #unknownAsked = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #ready = false;
  #lastError: string | undefined;
  #running: Promise<boolean> | undefined;
  /** The last pass was held; the next one confirms or replaces it. */
  #held: UnconfirmedReason | undefined;
  /** Until the first pass starts: requests started for it at start-up. */
  #early: EarlyRequests | undefined;

  constructor(
    client: PrometheusApi,
    rules: { custom: readonly CompiledRule[]; external: readonly CompiledRule[] },
    o: MetricListerOptions,
  ) {
    this.#client = client;
    this.#rules = rules;
    this.#o = o;
    this.#discover = o.discover ?? discover;
    this.#early = o.early;
  }

  get custom(): CustomRegistry {
    return this.#custom;
  }

  get external(): ExternalRegistry {
    return this.#external;
  }

  /** What discovery found for `tenant` (undefined: tenants are off, the whole list). */
  customFor(tenant: string | undefined): CustomRegistry {
    if (tenant === undefined) return this.#custom;
    return this.#tenant(tenant)?.custom ?? new CustomRegistry();
  }

  externalFor(tenant: string | undefined): ExternalRegistry {
    if (tenant === undefined) return this.#external;
    return this.#tenant(tenant)?.external ?? new ExternalRegistry();
  }

  /**
   * A tenant's lists. A tenant no pass has covered yet (a namespace newly labelled with a new
   * tenant) starts a pass now rather than at the next interval, at most once per
   * {@link UNKNOWN_TENANT_RELIST_MS} per tenant; the request at hand finds nothing yet.
   */
  #tenant(tenant: string): { custom: CustomRegistry; external: ExternalRegistry } | undefined {
    const known = this.#byTenant.get(tenant);
    if (known || !this.#ready || this.#stopped) return known;
    const now = performance.now();
    const last = this.#unknownAsked.get(tenant);
    if (last === undefined || now - last >= UNKNOWN_TENANT_RELIST_MS) {
      this.#unknownAsked.set(tenant, now);
      this.#o.log.info({ tenant }, "a tenant no discovery pass covered yet; discovering now");
      void this.relist();
    }
    return undefined;
  }

  /** True once a discovery pass has succeeded. */
  get ready(): boolean {
    return this.#ready;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Why the last pass was held, while the last good list keeps serving; else undefined. */
  get unconfirmed(): UnconfirmedReason | undefined {
    return this.#held;
  }

  get #confirmDelayMs(): number {
    return this.#o.confirmDelayMs ?? Math.min(this.#o.relistIntervalMs, MAX_CONFIRM_DELAY_MS);
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
    let r: DiscoveryResult;
    let byTenant = new Map<string, DiscoveryResult>();
    const options = {
      maxAgeMs: this.#o.maxAgeMs,
      ...(this.#early === undefined ? {} : { early: this.#early }),
    };
    this.#early = undefined;
    try {
      const b = this.#o.backends;
      if (b === undefined) {
        r = await this.#discover(this.#client, this.#rules, options);
      } else {
        const rules = this.#rules;
        await b.prepare([...rules.custom, ...rules.external]);
        const tenants = await b.tenants();
        const settled = await Promise.allSettled(
          tenants.map((t) => this.#discover((rule) => b.client(rule, t), rules, options)),
        );
        // One tenant the backend refuses (e.g. a namespace labelled with a tenant that does not
        // exist) must not stop discovery for the others: it keeps its last lists, if any.
        const passes: (readonly [string | undefined, DiscoveryResult])[] = [];
        let failed: Error | undefined;
        settled.forEach((s, i) => {
          const t = tenants[i];
          if (s.status === "fulfilled") {
            passes.push([t, s.value]);
            return;
          }
          const reason: unknown = s.reason;
          const err = reason instanceof Error ? reason : new Error(String(reason));
          failed ??= err;
          const last = t === undefined ? undefined : this.#byTenant.get(t);
          this.#o.log.warn(
            { tenant: t, err: err.message, keptLastLists: last !== undefined },
            "metric discovery failed for one tenant; the other tenants are not affected",
          );
          if (t !== undefined && last) {
            passes.push([t, { ...last, requests: {}, ruleErrors: [] }]);
          }
        });
        if (passes.length === 0 && failed !== undefined) {
          throw failed;
        }
        byTenant = new Map(
          passes.flatMap(([t, one]) => (t === undefined ? [] : [[t, one] as const])),
        );
        r = union(passes.map(([, one]) => one));
      }
    } catch (e) {
      this.#lastError = e instanceof Error ? e.message : String(e);
      // A held result is confirmed only by the very next pass: after a failure Prometheus may
      // have restarted again, so the next drop is held anew.
      this.#held = undefined;
      const server = failedServerOf(e);
      this.#o.log.error(
        { err: this.#lastError, ...(server === undefined ? {} : { server }) },
        "metric discovery failed; keeping the last good list",
      );
      this.#o.onRelist?.("error", performance.now() - t0);
      return false;
    }
    this.#lastError = undefined;
    const ms = performance.now() - t0;
    const fields = {
      custom: r.custom.size,
      external: r.external.size,
      durationMs: Math.round(ms),
      requests: r.requests,
      servers: perServer(r),
      ...(r.serverRequests === undefined ? {} : { serverRequests: r.serverRequests }),
      ...(byTenant.size > 0 ? { tenants: [...byTenant.keys()] } : {}),
    };
    this.#logRuleErrors(r);
    // The first pass has nothing to keep: it applies whatever it finds; nor does a pass after a
    // config change, whose new rules may list fewer metrics on purpose.
    const changed = this.#rulesChanged;
    this.#rulesChanged = false;
    const drop = this.#ready && !changed ? sharpDrop(this, r) : undefined;
    if (drop && this.#held === undefined) {
      this.#held = drop.reason;
      this.#o.log.warn(
        { ...fields, ...drop, confirmInMs: this.#confirmDelayMs },
        drop.reason === "empty"
          ? "metric discovery found no metrics; keeping the last good list until the next pass confirms it"
          : "metric discovery lost more than half of the metric names; keeping the last good list until the next pass confirms it",
      );
      this.#o.onRelist?.(`unconfirmed-${drop.reason}`, ms);
      return true;
    }
    if (drop) {
      this.#o.log.warn({ ...fields, ...drop }, "metric discovery confirmed the smaller list");
    } else if (this.#held !== undefined) {
      this.#o.log.info(fields, "metric discovery recovered before the smaller list was confirmed");
    }
    this.#held = undefined;
    this.#custom = r.custom;
    this.#external = r.external;
    this.#byTenant = new Map(
      [...byTenant].map(([t, one]) => [t, { custom: one.custom, external: one.external }]),
    );
    this.#ready = true;
    this.#o.log.info(fields, "discovered metrics");
    const byServer = perServerLabel(r, this.#rules);
    withDiscoveredByServer(byServer, () => this.#o.onRelist?.("success", ms, r, byServer));
    return true;
  }

  /**
   * New rules (a config reload): the next pass, run now after any pass in flight, uses them and
   * replaces the lists whatever it finds. Resolves as that pass does.
   */
  async setRules(rules: {
    custom: readonly CompiledRule[];
    external: readonly CompiledRule[];
  }): Promise<boolean> {
    this.#rules = rules;
    this.#rulesChanged = true;
    this.#held = undefined;
    await this.#running;
    return this.relist();
  }

  /** Rules Prometheus refused (or that are empty): logged when they change, not every pass. */
  #logRuleErrors(r: DiscoveryResult): void {
    const now = new Set(r.ruleErrors.map((e) => `${e.rule}: ${e.message}`));
    for (const e of r.ruleErrors) {
      if (!this.#ruleErrors.has(`${e.rule}: ${e.message}`)) {
        this.#o.log.warn(
          { rule: e.rule, err: e.message },
          `${e.rule} lists no metrics: ${e.message}; the other rules are not affected`,
        );
      }
    }
    for (const old of this.#ruleErrors) {
      if (!now.has(old)) this.#o.log.info({ was: old }, "a rule discovers again");
    }
    this.#ruleErrors = now;
  }

  /**
   * First pass now, then one every interval (re-armed after each pass, as upstream); after a
   * held pass the next one comes after the confirmation delay instead.
   */
  start(): Promise<boolean> {
    const next = () => {
      if (this.#stopped) return;
      const wait = this.#held === undefined ? this.#o.relistIntervalMs : this.#confirmDelayMs;
      this.#timer = setTimeout(() => void this.relist().then(next), wait);
      this.#timer.unref();
    };
    const first = this.relist();
    void first.then(next);
    return first;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
