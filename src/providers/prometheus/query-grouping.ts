/**
 * @module providers/prometheus/query-grouping
 * Answers many custom-metrics requests for one metric from one Prometheus query. A fleet of HPAs
 * asks every 15 s for the same few metrics, each for its own pods; prometheus-adapter sends one
 * query per request. Requests whose rendered queries differ only in the namespace and object-name
 * matchers (query-shape.ts decides when that is exact) are batched per shape by next-batch.ts (no
 * timer: a lone request goes out at once with its own query; requests arriving meanwhile go out
 * together when it returns) and sent as one query over the union of their namespaces and names,
 * at most `maxObjects` distinct names each. The result is split back by (namespace, name).
 */
import { internalError } from "../../apimachinery/status.ts";
import type { Logger } from "../../observability/logger.ts";
import { StatusError } from "../types.ts";
import type { PrometheusClient, QueryResult } from "./client.ts";
import { isPrometheusError } from "./errors.ts";
import type { Arrivals, Ticket } from "./arrivals.ts";
import { NextBatch } from "./next-batch.ts";
import type { CustomQueryShape } from "./query-builder.ts";
import { analyzeShape, groupedQuery, type GroupableShape, type QueryShape } from "./query-shape.ts";

/** Default cap on distinct object names in one grouped query. */
export const DEFAULT_GROUPING_MAX_OBJECTS = 256;

/** How a Prometheus query for custom metrics was made: for one request, or for a group. */
export type QueryMode = "single" | "grouped";

export interface QueryGroupingDeps {
  readonly prometheus: PrometheusClient;
  readonly log: Logger;
  /** Most distinct object names in one grouped query (≥ 1). */
  readonly maxObjects: number;
  /**
   * Called per Prometheus query (`queries` 1) with the number of requests it answers, and per
   * request that joined an identical one in flight (`requests` 1, `queries` 0).
   */
  readonly onQuery?: (mode: QueryMode, requests: number, queries: 0 | 1) => void;
  /** When given, a batch about to be sent waits briefly for peers still on their way. */
  readonly arrivals?: Arrivals;
}

/** One API request's part: its namespace ("" for root-scoped), names, and its own query. */
export interface GroupMember {
  readonly namespace: string;
  readonly names: readonly string[];
  readonly query: string;
}

/** Value by object name, as the per-request path returns it. */
export type Values = Map<string, number>;

/** Bound on cached shape verdicts; metric selectors are part of a shape, so they can vary. */
const SHAPE_CACHE_SIZE = 4096;

const fetchFailed = (cause: unknown): StatusError =>
  new StatusError(internalError("unable to fetch metrics"), { cause });

/** Failures a query for fewer objects may not have: evaluation limits, request size. */
function mayBeSize(e: unknown): boolean {
  if (!isPrometheusError(e)) return false;
  if (e.httpStatus === 413 || e.httpStatus === 414 || e.httpStatus === 431) return true;
  return e.kind === "api_error" && (e.errorType === "execution" || e.errorType === "bad_data");
}

function memberKey(m: GroupMember): string {
  return `${m.namespace}\u0000${m.names.join("\u0000")}`;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Item {
  readonly shape: GroupableShape;
  readonly member: GroupMember;
  /** The request's ticket (arrivals.ts), already spent; orders it among its peers. */
  readonly ticket: Ticket | undefined;
}

/** The wait for peers that entered before the newest request of a batch about to be sent. */
function peersOf(arrivals: Arrivals, items: readonly Item[]): Promise<void> | undefined {
  let newest: Ticket | undefined;
  for (const { ticket } of items)
    if (ticket && (!newest || ticket.seq > newest.seq)) newest = ticket;
  return newest ? arrivals.peers(newest.key, newest.seq) : undefined;
}

export class QueryGrouping {
  readonly #d: QueryGroupingDeps;
  readonly #shapes = new Map<string, QueryShape>();
  /** Answers being fetched, by shape and request, for identical requests to join. */
  readonly #inFlight = new Map<string, { mode: QueryMode; values: Promise<Values> }>();
  readonly #batches: NextBatch<Item, Values>;

  constructor(deps: QueryGroupingDeps) {
    if (!Number.isInteger(deps.maxObjects) || deps.maxObjects < 1) {
      throw new RangeError(`maxObjects must be a positive integer, got ${String(deps.maxObjects)}`);
    }
    this.#d = deps;
    const arrivals = deps.arrivals;
    this.#batches = new NextBatch(
      (_key, items) => this.#send(items),
      arrivals ? (_key, items) => peersOf(arrivals, items) : undefined,
    );
  }

  /** The verdict for a rendered shape, cached; logs why a shape is not grouped, once. */
  shape(s: CustomQueryShape): QueryShape {
    const cached = this.#shapes.get(s.text);
    if (cached) return cached;
    const verdict = analyzeShape(s);
    if (!verdict.groupable) {
      this.#d.log.debug({ query: s.text, reason: verdict.reason }, "query not grouped");
    }
    if (this.#shapes.size >= SHAPE_CACHE_SIZE) this.#shapes.clear();
    this.#shapes.set(s.text, verdict);
    return verdict;
  }

  /** The values for `member`, from its own query or a grouped one. */
  values(shape: GroupableShape, member: GroupMember, ticket?: Ticket): Promise<Values> {
    // An identical request already in flight is joined, as the client coalesces identical
    // queries: grouping must not make those wait for the next query.
    const joined = this.#inFlight.get(`${shape.text}\u0001${memberKey(member)}`);
    if (joined) {
      this.#d.onQuery?.(joined.mode, 1, 0);
      return joined.values;
    }
    // Batched by the shape's text: the same text always analyzes to an equal shape.
    return this.#batches.load(shape.text, { shape, member, ticket });
  }

  async #send(items: readonly Item[]): Promise<PromiseSettledResult<Values>[]> {
    const shape = items[0]?.shape;
    if (!shape) return [];
    const members = items.map((i) => i.member);
    // Identical requests (same namespace and names) share an answer.
    const unique = new Map<string, { member: GroupMember; count: number }>();
    for (const m of members) {
      const k = memberKey(m);
      const u = unique.get(k);
      if (u) u.count++;
      else unique.set(k, { member: m, count: 1 });
    }
    const answers = new Map<string, Promise<Values>>();
    for (const chunk of this.#chunks([...unique.values()])) {
      const run = this.#chunk(shape, chunk);
      chunk.forEach((u, i) => {
        const p = run.then((values) => values[i] ?? new Map<string, number>());
        // Settled below through allSettled; keep Node from flagging it meanwhile.
        p.catch(() => undefined);
        answers.set(memberKey(u.member), p);
        const key = `${shape.text}\u0001${memberKey(u.member)}`;
        const entry = {
          mode: chunk.length === 1 ? ("single" as const) : ("grouped" as const),
          values: p,
        };
        this.#inFlight.set(key, entry);
        void p
          .finally(() => {
            if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
          })
          .catch(() => undefined);
      });
    }
    return Promise.allSettled(
      members.map((m) => answers.get(memberKey(m)) ?? Promise.reject(new Error("lost member"))),
    );
  }

  /** Unique requests in arrival order, cut so no chunk names more than maxObjects objects. */
  *#chunks<U extends { member: GroupMember }>(unique: readonly U[]): Generator<U[]> {
    let chunk: U[] = [];
    let names = new Set<string>();
    for (const u of unique) {
      const added = u.member.names.filter((n) => !names.has(n)).length;
      if (chunk.length > 0 && names.size + added > this.#d.maxObjects) {
        yield chunk;
        chunk = [];
        names = new Set();
      }
      chunk.push(u);
      for (const n of u.member.names) names.add(n);
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Values for each request of `chunk`, in order: its own query if alone, else a grouped one. */
  async #chunk(
    shape: GroupableShape,
    chunk: readonly { member: GroupMember; count: number }[],
  ): Promise<Values[]> {
    const [only] = chunk;
    if (only && chunk.length === 1) return [await this.#single(shape, only.member, only.count)];
    const requests = chunk.reduce((n, u) => n + u.count, 0);
    const namespaces = sortedUnique(chunk.map((u) => u.member.namespace));
    const names = sortedUnique(chunk.flatMap((u) => u.member.names));
    const query = groupedQuery(shape, namespaces, names);
    let result: QueryResult;
    try {
      this.#d.onQuery?.("grouped", requests, 1);
      result = await this.#d.prometheus.query(query);
    } catch (e) {
      if (mayBeSize(e)) {
        this.#d.log.warn(
          { err: String(e), objects: names.length },
          "grouped query failed; retrying each request with its own query",
        );
        return Promise.all(chunk.map((u) => this.#single(shape, u.member, u.count)));
      }
      this.#d.log.error({ err: String(e), query }, "unable to fetch metrics from prometheus");
      throw fetchFailed(e);
    }
    const byObject = new Map<string, number>();
    for (const s of vectorOf(result, query, this.#d.log)) {
      const ns = shape.namespaceLabel === undefined ? "" : (s.metric[shape.namespaceLabel] ?? "");
      byObject.set(`${ns}\u0000${s.metric[shape.label] ?? ""}`, s.value[1]);
    }
    return chunk.map(({ member }) => {
      const values: Values = new Map();
      for (const n of member.names) {
        const v = byObject.get(`${member.namespace}\u0000${n}`);
        if (v !== undefined) values.set(n, v);
      }
      return values;
    });
  }

  /** One request's own query, split as the per-request path does (last sample wins). */
  async #single(shape: GroupableShape, m: GroupMember, count: number): Promise<Values> {
    let result: QueryResult;
    try {
      this.#d.onQuery?.("single", count, 1);
      result = await this.#d.prometheus.query(m.query);
    } catch (e) {
      this.#d.log.error(
        { err: String(e), query: m.query },
        "unable to fetch metrics from prometheus",
      );
      throw fetchFailed(e);
    }
    const values: Values = new Map();
    for (const s of vectorOf(result, m.query, this.#d.log)) {
      values.set(s.metric[shape.label] ?? "", s.value[1]);
    }
    return values;
  }
}

function vectorOf(result: QueryResult, query: string, log: Logger) {
  if (result.resultType !== "vector") {
    log.error({ query, resultType: result.resultType }, "expected a vector from prometheus");
    throw new StatusError(internalError("unable to fetch metrics"));
  }
  return result.result;
}
