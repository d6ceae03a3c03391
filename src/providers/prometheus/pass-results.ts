/**
 * @module providers/prometheus/pass-results
 * What the metric lister does with discovery passes' results: the union of one pass per tenant,
 * the counts per server for logs and metrics, and whether a pass drops sharply from the list in
 * use (metric-lister.ts then holds it until the next pass confirms it). Pure functions of results.
 */
import { DEFAULT_SERVER } from "../../observability/server-label.ts";
import type { DiscoveryResult } from "./discovery.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

/** Why a successful pass was not applied at once: nothing found, or most names gone. */
export type UnconfirmedReason = "empty" | "shrink";

/** The union of several passes (one per tenant), for the API's discovery documents. */
export function union(results: readonly DiscoveryResult[]): DiscoveryResult {
  if (results.length === 1 && results[0] !== undefined) return results[0];
  const custom = new CustomRegistry();
  const external = new ExternalRegistry();
  const requests: Record<string, number> = {};
  const serverRequests: Record<string, Record<string, number>> = {};
  for (const r of results) {
    for (const [server, per] of Object.entries(r.serverRequests ?? {})) {
      const into = (serverRequests[server] ??= {});
      for (const [k, n] of Object.entries(per)) into[k] = (into[k] ?? 0) + n;
    }
    for (const info of r.custom.list()) {
      const e = r.custom.get(info);
      if (e) custom.add(info.groupResource, info.namespaced, info.metric, e);
    }
    for (const { metric } of r.external.list()) {
      const e = r.external.get(metric);
      if (e) external.add(metric, e);
    }
    for (const [k, n] of Object.entries(r.requests)) requests[k] = (requests[k] ?? 0) + n;
  }
  return {
    custom,
    external,
    requests,
    serverRequests,
    ruleErrors: results.flatMap((r) => r.ruleErrors),
  };
}

/**
 * Metrics per API by the `server` label of the adapter's metrics (`default`: --prometheus-url),
 * every configured server present (at 0 when it gives nothing).
 */
export function perServerLabel(
  r: DiscoveryResult,
  rules: { readonly custom: readonly CompiledRule[]; readonly external: readonly CompiledRule[] },
): Record<string, { custom: number; external: number }> {
  const out: Record<string, { custom: number; external: number }> = {};
  const of = (rule: CompiledRule) =>
    (out[rule.server?.label ?? DEFAULT_SERVER] ??= { custom: 0, external: 0 });
  for (const rule of [...rules.custom, ...rules.external]) of(rule);
  for (const info of r.custom.list()) {
    const e = r.custom.get(info);
    if (e) of(e.rule).custom++;
  }
  for (const { metric } of r.external.list()) {
    const e = r.external.get(metric);
    if (e) of(e.rule).external++;
  }
  return out;
}

/** Metric names per server that answers them, for the log: which server discovery found what on. */
export function perServer(r: DiscoveryResult): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (rule: CompiledRule) => {
    const name = rule.server?.name ?? "--prometheus-url";
    out[name] = (out[name] ?? 0) + 1;
  };
  for (const info of r.custom.list()) {
    const e = r.custom.get(info);
    if (e) add(e.rule);
  }
  for (const { metric } of r.external.list()) {
    const e = r.external.get(metric);
    if (e) add(e.rule);
  }
  return out;
}

/** What a pass found compared with the list in use, per API. */
export interface Drop {
  readonly reason: UnconfirmedReason;
  readonly custom: { readonly before: number; readonly after: number };
  readonly external: { readonly before: number; readonly after: number };
  /** A few of the names that would go, for the log. */
  readonly lost: readonly string[];
}

function customNames(r: CustomRegistry): Set<string> {
  return new Set(r.list().map((i) => i.metric));
}

function externalNames(r: ExternalRegistry): Set<string> {
  return new Set(r.list().map((i) => i.metric));
}

/**
 * Whether `next` drops sharply from `last`: some API that had metric names loses more than half of
 * them (an empty list included). Per API, so a small external list going away is not hidden by a
 * large custom one. A list that only grows or loses up to half is applied at once.
 */
export function sharpDrop(
  last: { readonly custom: CustomRegistry; readonly external: ExternalRegistry },
  next: { readonly custom: CustomRegistry; readonly external: ExternalRegistry },
): Drop | undefined {
  const apis = [
    [customNames(last.custom), customNames(next.custom)],
    [externalNames(last.external), externalNames(next.external)],
  ] as const;
  let sharp = false;
  const lost: string[] = [];
  for (const [before, after] of apis) {
    const gone = [...before].filter((n) => !after.has(n));
    if (before.size > 0 && gone.length * 2 > before.size) sharp = true;
    lost.push(...gone.slice(0, 10 - lost.length));
  }
  if (!sharp) return undefined;
  const [c, e] = apis;
  return {
    reason: next.custom.size + next.external.size === 0 ? "empty" : "shrink",
    custom: { before: c[0].size, after: c[1].size },
    external: { before: e[0].size, after: e[1].size },
    lost,
  };
}
