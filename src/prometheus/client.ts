/**
 * @module prometheus/client
 * A Prometheus HTTP API client (also for Thanos, Mimir and VictoriaMetrics) on an undici `Pool`:
 * keep-alive connections to one origin, explicit timeouts, CA and mTLS through `connect`. It
 * covers what a metrics adapter needs: instant queries, series discovery, label names and values.
 * Requests are built as in prometheus-adapter's `pkg/client/api.go` (see request-url.ts for the
 * deliberate differences); every failure is a {@link PrometheusError}.
 *
 * @example
 * const prom = await PrometheusClient.create({ url: "http://127.0.0.1:9090" });
 * const r = await prom.query('sum(rate(http_requests_total[2m])) by (pod)');
 * if (r.resultType === "vector") for (const s of r.result) console.log(s.metric["pod"], s.value[1]);
 * await prom.close();
 */
import { performance } from "node:perf_hooks";
import { Pool } from "../http/undici.ts";
import { withPrometheusServer } from "../observability/server-label.ts";
import {
  decodeQueryData,
  decodeSeries,
  decodeStringList,
  decodeWarnings,
  type Labels,
  type QueryResult,
} from "./api-types.ts";
import { BearerTokenSource } from "./bearer-token.ts";
import { InFlight } from "./coalesce.ts";
import { maskHeaders } from "./mask.ts";
import type { PrometheusApi } from "./api.ts";
import { readEnvelope } from "./envelope.ts";
import { isPrometheusError, PrometheusError } from "./errors.ts";
import {
  resolveOptions,
  type PrometheusClientOptions,
  type RequestOutcome,
  type ResolvedOptions,
} from "./options.ts";
import { formatTime, prepareRequest, type Params } from "./request-url.ts";
import { transportError } from "./transport-error.ts";

const QUERY = "/api/v1/query";
const SERIES = "/api/v1/series";
const LABELS = "/api/v1/labels";
const LABEL_VALUES = "/api/v1/label/:name/values";

function timeParams(start: Date | undefined, end: Date | undefined): Params {
  const out: [string, string][] = [];
  if (start !== undefined) out.push(["start", formatTime(start)]);
  if (end !== undefined) out.push(["end", formatTime(end)]);
  return out;
}

function matchParams(matches: readonly string[]): Params {
  return matches.map((m) => ["match[]", m] as const);
}

export class PrometheusClient implements PrometheusApi {
  readonly #o: ResolvedOptions;
  readonly #pool: Pool;
  readonly #token: BearerTokenSource | undefined;
  readonly #headers: Readonly<Record<string, string>>;
  /**
   * Per client, so a tenant's view (see {@link withTenant}) never shares an in-flight query with
   * another tenant's or with the untenanted client.
   */
  readonly #queries = new InFlight<QueryResult>();
  /** The base URL without credentials or query, for messages. */
  readonly #target: string;
  /** The tenant this view sends, or undefined for the server's own client. */
  readonly tenant: string | undefined;
  readonly #views = new Map<string, PrometheusClient>();
  /** A view shares the pool: only the client that owns it closes it. */
  readonly #ownsPool: boolean;
  #closed = false;

  private constructor(
    o: ResolvedOptions,
    token: BearerTokenSource | undefined,
    view?: { readonly pool: Pool; readonly tenant: string; readonly header: string },
  ) {
    this.#o = o;
    this.#token = token;
    this.#target = `${o.url.origin}${o.url.pathname}`.replace(/\/+$/, "");
    this.tenant = view?.tenant;
    this.#ownsPool = view === undefined;
    const headers: Record<string, string> = {};
    const has = (name: string): boolean =>
      Object.keys(o.headers).some((h) => h.toLowerCase() === name);
    if (!has("user-agent")) headers["user-agent"] = "k8s-custom-metrics";
    // Go's http.Client sends URL user info as basic auth; do the same for drop-in URLs.
    if (o.url.username !== "" && token === undefined && !has("authorization")) {
      const user = `${decodeURIComponent(o.url.username)}:${decodeURIComponent(o.url.password)}`;
      headers["authorization"] = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    const all: Record<string, string> = { ...headers, ...o.headers };
    // A tenant replaces any header of the same name (e.g. a --prometheus-header default).
    this.#headers =
      view === undefined
        ? all
        : {
            ...Object.fromEntries(
              Object.entries(all).filter(([h]) => h.toLowerCase() !== view.header.toLowerCase()),
            ),
            [view.header]: view.tenant,
          };
    this.#pool =
      view?.pool ??
      new Pool(o.url.origin, {
        connections: o.maxConnections,
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        connect: {
          ...o.tls,
          rejectUnauthorized: !o.insecureSkipVerify,
          timeout: o.timeoutMs,
        },
      });
  }

  /** Validates the options, reads the CA, client certificate and token files, and connects lazily. */
  static async create(options: PrometheusClientOptions): Promise<PrometheusClient> {
    const o = await resolveOptions(options);
    const token =
      o.bearerTokenFile === undefined
        ? undefined
        : await BearerTokenSource.open(o.bearerTokenFile, o.bearerTokenRefreshMs);
    return new PrometheusClient(o, token);
  }

  /** The server's base URL without credentials, for logs: which server answered. */
  get server(): string {
    return this.#target;
  }

  /** The server's short name in the adapter's metrics: `default`, or a rule's server's host. */
  get serverLabel(): string {
    return this.#o.serverLabel;
  }

  /**
   * Headers sent on every request, with secret values masked (authorization, cookies, tokens,
   * keys, passwords): for `explain` and the debug routes. The bearer token file is not read here.
   */
  get shownHeaders(): Record<string, string> {
    return maskHeaders({
      ...this.#headers,
      ...(this.#token ? { authorization: "Bearer ***" } : {}),
    });
  }

  /**
   * The same server and connections, sending `header: tenant` on every request. Views are cached
   * per (header, tenant); each has its own coalescing, so requests of different tenants never
   * share a query.
   */
  withTenant(header: string, tenant: string): PrometheusClient {
    const key = `${header.toLowerCase()}\u0000${tenant}`;
    let v = this.#views.get(key);
    if (!v) {
      v = new PrometheusClient(this.#o, this.#token, { pool: this.#pool, tenant, header });
      this.#views.set(key, v);
    }
    return v;
  }

  /**
   * An instant query at `time` (default now). Calls with the same PromQL whose times fall in the
   * same coalescing window while one is in flight share its request, and get the same (read-only)
   * result object; the request is made with the first caller's time.
   */
  query(promql: string, time: Date = new Date()): Promise<QueryResult> {
    const run = (): Promise<QueryResult> => this.#query(promql, time);
    const window = this.#o.coalesceWindowMs;
    if (window === 0) return run();
    const bucket = Math.floor(time.getTime() / window);
    return this.#queries.run(`${String(bucket)}\u0000${promql}`, run);
  }

  async #query(promql: string, time: Date): Promise<QueryResult> {
    const params: Params = [
      ["query", promql],
      ["time", formatTime(time)],
      // A real `timeout` lets Prometheus stop work nobody waits for any more. Upstream's has its
      // sign inverted and is effectively empty (prometheus-adapter PR #710).
      ["timeout", (this.#o.timeoutMs / 1000).toString()],
    ];
    const envelope = await this.#request(QUERY, QUERY, params);
    return this.#decode(QUERY, () => ({
      ...decodeQueryData(envelope["data"]),
      warnings: decodeWarnings(envelope["warnings"]),
    }));
  }

  /** `/api/v1/series`: the label sets of series matching any of `matches` in [start, end]. */
  async series(matches: readonly string[], start?: Date, end?: Date): Promise<Labels[]> {
    const params = [...matchParams(matches), ...timeParams(start, end)];
    const envelope = await this.#request(SERIES, SERIES, params);
    return this.#decode(SERIES, () => decodeSeries(envelope["data"]));
  }

  /** `/api/v1/labels`: label names, restricted to series matching `matches` when given. */
  async labelNames(matches: readonly string[] = [], start?: Date, end?: Date): Promise<string[]> {
    const params = [...matchParams(matches), ...timeParams(start, end)];
    const envelope = await this.#request(LABELS, LABELS, params);
    return this.#decode(LABELS, () => decodeStringList(envelope["data"]));
  }

  /** `/api/v1/label/<label>/values`, restricted to series matching `matches` when given. */
  async labelValues(
    label: string,
    matches: readonly string[] = [],
    start?: Date,
    end?: Date,
  ): Promise<string[]> {
    const path = `/api/v1/label/${encodeURIComponent(label)}/values`;
    const params = [...matchParams(matches), ...timeParams(start, end)];
    const envelope = await this.#request(LABEL_VALUES, path, params);
    return this.#decode(LABEL_VALUES, () => decodeStringList(envelope["data"]));
  }

  /** Waits for requests in flight, then closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.#views.values()) v.#closed = true;
    if (this.#ownsPool) await this.#pool.close();
  }

  #decode<T>(endpoint: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new PrometheusError(
        `invalid ${endpoint} response from Prometheus at ${this.#target} (${why}): ` +
          "check --prometheus-url points at a Prometheus-compatible API",
        { kind: "bad_response", endpoint, cause: e },
      );
    }
  }

  /** One HTTP exchange; resolves to a `status: "success"` envelope or throws PrometheusError. */
  async #request(endpoint: string, path: string, params: Params): Promise<Record<string, unknown>> {
    const started = performance.now();
    let outcome: RequestOutcome = "unreachable";
    try {
      const envelope = await this.#exchange(endpoint, path, params);
      outcome = "success";
      return envelope;
    } catch (e) {
      if (isPrometheusError(e)) outcome = e.kind;
      throw e;
    } finally {
      try {
        const hook = this.#o.onRequest;
        const server = this.#o.serverLabel;
        // The label is also set around the call for hooks that take three arguments.
        if (hook) {
          withPrometheusServer(server, () => {
            hook(endpoint, performance.now() - started, outcome, server);
          });
        }
      } catch {
        // A metrics hook must never fail a query.
      }
    }
  }

  async #exchange(
    endpoint: string,
    path: string,
    params: Params,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) {
      throw new PrometheusError(`the Prometheus client for ${this.#target} is closed`, {
        kind: "unreachable",
        endpoint,
      });
    }
    const req = prepareRequest(this.#o.url, path, params, this.#o.verb);
    const headers: Record<string, string> = { ...this.#headers };
    if (this.#token) headers["authorization"] = `Bearer ${await this.#token.token()}`;
    if (req.body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";

    // headersTimeout/bodyTimeout bound each phase; this deadline bounds the whole exchange.
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort();
    }, this.#o.timeoutMs);
    let status: number;
    let contentType: string;
    let text: string;
    try {
      const res = await this.#pool.request({
        path: req.path,
        method: req.method,
        headers,
        body: req.body ?? null,
        signal: deadline.signal,
      });
      status = res.statusCode;
      const ct = res.headers["content-type"];
      contentType = (Array.isArray(ct) ? ct[0] : ct) ?? "no content type";
      text = await res.body.text();
    } catch (e) {
      throw transportError(e, {
        target: this.#target,
        endpoint,
        timeoutMs: this.#o.timeoutMs,
        timedOut: deadline.signal.aborted,
      });
    } finally {
      clearTimeout(timer);
    }
    return readEnvelope(this.#target, endpoint, status, contentType, text);
  }
}

/** Same as {@link PrometheusClient.create}. */
export function createPrometheusClient(
  options: PrometheusClientOptions,
): Promise<PrometheusClient> {
  return PrometheusClient.create(options);
}

export { PrometheusError, isPrometheusError } from "./errors.ts";
export type { PrometheusErrorKind } from "./errors.ts";
export type {
  Labels,
  MatrixSeries,
  QueryData,
  QueryResult,
  SamplePair,
  VectorSample,
} from "./api-types.ts";
export type { PrometheusApi } from "./api.ts";
export type { PrometheusClientOptions, RequestOutcome } from "./options.ts";
export { MAX_GET_URL_LENGTH } from "./request-url.ts";
