/**
 * @module observability/server-label
 * The `server` label of a Prometheus request metric, set by the client around its synchronous
 * `onRequest` hook. Hooks that forward the label themselves (their fourth argument) do not need
 * it; it lets a hook written for three arguments (endpoint, duration, outcome) still record the
 * server, as the hook runs synchronously inside {@link withPrometheusServer}.
 */

/**
 * The `server` label's value for `--prometheus-url`. Other values are a rule's server's host (and
 * path), from the config only: one per distinct `k8sCustomMetrics.server` URL, never from a
 * request, so the label's cardinality is bounded by the config.
 */
export const DEFAULT_SERVER = "default";

let current: string | undefined;

export function withPrometheusServer<T>(server: string, fn: () => T): T {
  const before = current;
  current = server;
  try {
    return fn();
  } finally {
    current = before;
  }
}

/** The server of the request whose hook is running, if any. */
export function currentPrometheusServer(): string | undefined {
  return current;
}

/** Metrics a discovery pass found, per API, by the `server` label of the server that has them. */
export type DiscoveredByServer = Readonly<
  Record<string, { readonly custom: number; readonly external: number }>
>;

let discovered: DiscoveredByServer | undefined;

/** As {@link withPrometheusServer}, for the lister's `onRelist` hook: the pass's counts per server. */
export function withDiscoveredByServer<T>(counts: DiscoveredByServer, fn: () => T): T {
  const before = discovered;
  discovered = counts;
  try {
    return fn();
  } finally {
    discovered = before;
  }
}

export function currentDiscoveredByServer(): DiscoveredByServer | undefined {
  return discovered;
}
