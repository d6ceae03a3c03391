/**
 * @module providers/prometheus/query-grouping
 * Answers many custom-metrics requests for one metric from one Prometheus query. A fleet of HPAs
 * asks every 15 s for the same few metrics, each for its own pods; prometheus-adapter sends one
 * query per request. Requests whose rendered queries differ only in the namespace and object-name
 * matchers (query-shape.ts decides when that is exact) are batched per shape by next-batch.ts (no
 * timer: a lone request goes out at once with its own query; requests arriving meanwhile go out
 * together when it returns) and sent as one query over the union of their namespaces and names,
 * at most `maxObjects` distinct names each. The result is split back by (namespace, name).
 *
 * Each query also stays within `maxQueryLength` bytes of PromQL: VictoriaMetrics answers 422 to
 * anything longer than its `-search.maxQueryLen` (16384 by default; prometheus-adapter #668). A
 * batch is cut where the next request would overflow it, and a request whose own query is too
 * long has its names spread over several grouped queries (exact for the same reason grouping
 * is). Only a query naming a single object can still be too long: it is sent anyway.
 *
 * A grouping sends through one client, i.e. one server and one tenant (backends.ts): the custom
 * provider keeps one grouping per client, so no group ever spans two tenants or two servers.
 */
import type { Logger } from "../../observability/logger.ts";
import type { PrometheusApi } from "../../prometheus/api.ts";
import type { VectorSample } from "../../prometheus/api-types.ts";
import { isPrometheusError } from "../../prometheus/errors.ts";
import type { ArrivalTickets, Ticket } from "../arrival-ticket.ts";
import { queryVector, type QueryOptions } from "./fetch.ts";
import { NextBatch } from "./next-batch.ts";
import type { CustomQueryShape } from "./query-builder.ts";
import { bytes, LengthBound, sortedUnique } from "./query-length.ts";
import { analyzeShape, groupedQuery, type GroupableShape, type QueryShape } from "./query-shape.ts";

/** Default cap on distinct object names in one grouped query. */
export const DEFAULT_GROUPING_MAX_OBJECTS = 256;

/**
 * Default bound on one query's PromQL, in bytes: VictoriaMetrics' default `-search.maxQueryLen`
 * (Prometheus and Thanos set none).
 */
export const DEFAULT_MAX_QUERY_LENGTH = 16_384;

/** How a Prometheus query for custom metrics was made: for one request, or for a group. */
export type QueryMode = "single" | "grouped";

export interface QueryGroupingDeps {
  readonly prometheus: PrometheusApi;
  readonly log: Logger;
  /** Most distinct object names in one grouped query (≥ 1). */
  readonly maxObjects: number;
  /**
   * Most bytes of PromQL in one query (`--prometheus-max-query-length`); 0: no limit. Default
   * {@link DEFAULT_MAX_QUERY_LENGTH}.
   */
  readonly maxQueryLength?: number;
  /**
   * Called per Prometheus query (`queries` 1) with the number of requests it answers, and per
   * request that joined an identical one in flight (`requests` 1, `queries` 0).
   */
  readonly onQuery?: (mode: QueryMode, requests: number, queries: 0 | 1) => void;
  /** When given, a batch about to be sent waits briefly for peers still on their way. */
  readonly arrivals?: ArrivalTickets;
}

/** One API request's part: its namespace ("" for root-scoped), names, and its own query. */
export interface GroupMember {
  readonly namespace: string;
  readonly names: readonly string[];
  readonly query: string;
}

/**
 * A member whose own query is rendered on first use: a grouped request needs it only if it goes
 * out alone, and rendering a template was a few percent of a fleet request's CPU.
 */
export function lazyMember(
  namespace: string,
  names: readonly string[],
  render: () => string,
): GroupMember {
  let query: string | undefined;
  return {
    namespace,
    names,
    get query() {
      return (query ??= render());
    },
  };
}

/** Value by object name, as the per-request path returns it. */
export type Values = Map<string, number>;

/** Bound on cached shape verdicts; metric selectors are part of a shape, so they can vary. */
const SHAPE_CACHE_SIZE = 4096;

/** Failures a query for fewer objects may not have: evaluation limits, request size. */
function mayBeSize(e: unknown): boolean {
  if (!isPrometheusError(e)) return false;
  // 422 with errorType "422": VictoriaMetrics refusing a query over its -search.maxQueryLen.
  if ([413, 414, 422, 431].includes(e.httpStatus ?? 0)) return true;
  return e.kind === "api_error" && (e.errorType === "execution" || e.errorType === "bad_data");
}

/** Whether `m`'s own query is over `max` bytes; one that fails to render fails alone, later. */
function ownQueryTooLong(m: GroupMember, max: number): boolean {
  try {
    return bytes(m.query) > max;
  } catch {
    return false;
  }
}

function memberKey(m: GroupMember): string {
  return `${m.namespace}\u0000${m.names.join("\u0000")}`;
}

interface Item {
  readonly shape: GroupableShape;
  readonly member: GroupMember;
  /** The request's ticket (arrivals.ts), already spent; orders it among its peers. */
  readonly ticket: Ticket | undefined;
}

/** Identical requests of a batch, answered once. */
interface Unique {
  readonly member: GroupMember;
  /** {@link memberKey} of the member. */
  readonly key: string;
  count: number;
}

/**
 * A request's answer in flight, for identical requests to join: the query that answers it and
 * its place among that query's answers (a request split over several queries has a run of its
 * own, its shares merged, at place 0).
 */
interface Flight {
  readonly mode: QueryMode;
  readonly run: Promise<readonly Values[]>;
  readonly index: number;
}

/**
 * What one query asks for one request: all its names, or a share of them when its own query is
 * too long. `count` is the requests this query answers for the metrics: the request's count on
 * its first share, 0 on the others.
 */
interface Piece {
  readonly u: Unique;
  readonly names: readonly string[];
  readonly whole: boolean;
  readonly count: number;
}

/**
 * The wait for the peers of a batch about to be sent: first the rest of this event-loop turn, then
 * the requests for its metric received by then (a burst's) that are still on their way to the
 * query step, at most the arrivals' cap. An HPA resync's requests reach the adapter in one read,
 * but Node.js serves each stream's request as far as it goes before taking the next: without the
 * turn, the first request of a burst went out alone and the rest waited for that query before
 * their own (two query times for the whole burst, and twice the queries). Requests received
 * after the turn never hold it back.
 */
function peersOf(arrivals: ArrivalTickets, items: readonly Item[]): Promise<void> | undefined {
  const key = items.find((i) => i.ticket !== undefined)?.ticket?.key;
  if (key === undefined) return undefined;
  return new Promise<void>((resolve) => {
    setImmediate(resolve);
  }).then(() => arrivals.peers(key, arrivals.next()));
}

export class QueryGrouping {
  readonly #d: QueryGroupingDeps;
  /** Most bytes in one query; Infinity without a limit. */
  readonly #maxLength: number;
  #warnedTooLong = false;
  readonly #shapes = new Map<string, QueryShape>();
  /** Answers being fetched, by shape text and then request, for identical requests to join. */
  readonly #inFlight = new Map<string, Map<string, Flight>>();
  readonly #batches: NextBatch<Item, Values>;

  constructor(deps: QueryGroupingDeps) {
    if (!Number.isInteger(deps.maxObjects) || deps.maxObjects < 1) {
      throw new RangeError(`maxObjects must be a positive integer, got ${String(deps.maxObjects)}`);
    }
    const maxLength = deps.maxQueryLength ?? DEFAULT_MAX_QUERY_LENGTH;
    if (!Number.isInteger(maxLength) || maxLength < 0) {
      throw new RangeError(
        `maxQueryLength must be a non-negative integer, got ${String(deps.maxQueryLength)}`,
      );
    }
    this.#d = deps;
    this.#maxLength = maxLength === 0 ? Infinity : maxLength;
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
    const joined = this.#inFlight.get(shape.text)?.get(memberKey(member));
    if (joined) {
      this.#d.onQuery?.(joined.mode, 1, 0);
      return joined.run.then((v) => v[joined.index] ?? new Map<string, number>());
    }
    // Batched by the shape's text: the same text always analyzes to an equal shape.
    return this.#batches.load(shape.text, { shape, member, ticket });
  }

  /**
   * Sends a batch and settles each of its requests once all its queries are back. Per request it
   * keeps a key and a place in a query's answers, no promise of its own: in a 10,000-HPA burst
   * the requests waiting here outlive several young-generation collections, so what each holds
   * is copied and promoted.
   */
  async #send(items: readonly Item[]): Promise<PromiseSettledResult<Values>[]> {
    const shape = items[0]?.shape;
    if (!shape) return [];
    // Identical requests (same namespace and names) share an answer.
    const keys = items.map((i) => memberKey(i.member));
    const unique = new Map<string, Unique>();
    items.forEach(({ member }, i) => {
      const key = keys[i] as string;
      const u = unique.get(key);
      if (u) u.count++;
      else unique.set(key, { member, key, count: 1 });
    });
    const flights = new Map<string, Flight>();
    const shares = new Map<string, Promise<readonly Values[]>[]>();
    for (const chunk of this.#chunks(shape, [...unique.values()])) {
      const run = this.#chunk(shape, chunk);
      // Settled through allSettled below; keep Node from flagging it meanwhile.
      run.catch(() => undefined);
      const mode = chunk.length === 1 ? "single" : "grouped";
      chunk.forEach((piece, index) => {
        if (piece.whole) flights.set(piece.u.key, { mode, run, index });
        else {
          const mine = shares.get(piece.u.key);
          if (mine) mine.push(run);
          else shares.set(piece.u.key, [run]);
        }
      });
    }
    // A request too long for one query: its shares, each alone in its query, merged.
    for (const [key, runs] of shares) {
      const run = Promise.all(runs).then((vs) => [
        new Map(vs.flatMap((v) => [...(v[0] ?? new Map<string, number>())])),
      ]);
      run.catch(() => undefined);
      flights.set(key, { mode: "single", run, index: 0 });
    }
    this.#fly(shape.text, flights);
    const runs = [...new Set([...flights.values()].map((f) => f.run))];
    const settled = new Map(
      (await Promise.allSettled(runs)).map((r, i) => [runs[i] as Promise<readonly Values[]>, r]),
    );
    return keys.map((key): PromiseSettledResult<Values> => {
      const f = flights.get(key);
      const r = f && settled.get(f.run);
      if (!f || !r) return { status: "rejected", reason: new Error("lost member") };
      return r.status === "fulfilled"
        ? { status: "fulfilled", value: r.value[f.index] ?? new Map<string, number>() }
        : r;
    });
  }

  /** Lists a batch's answers for identical requests to join, each until its query settles. */
  #fly(text: string, flights: ReadonlyMap<string, Flight>): void {
    let byKey = this.#inFlight.get(text);
    if (!byKey) {
      byKey = new Map();
      this.#inFlight.set(text, byKey);
    }
    const byRun = new Map<Promise<readonly Values[]>, string[]>();
    for (const [key, f] of flights) {
      byKey.set(key, f);
      const keys = byRun.get(f.run);
      if (keys) keys.push(key);
      else byRun.set(f.run, [key]);
    }
    for (const [run, keys] of byRun) {
      const done = (): void => {
        const m = this.#inFlight.get(text);
        if (!m) return;
        // A later batch's flight for the same request has a run of its own: left in place.
        for (const key of keys) if (m.get(key)?.run === run) m.delete(key);
        if (m.size === 0) this.#inFlight.delete(text);
      };
      void run.then(done, done);
    }
  }

  /**
   * Unique requests in arrival order, cut so no chunk names more than maxObjects objects nor
   * renders to more than maxLength bytes; a request whose own query is too long is split.
   */
  *#chunks(shape: GroupableShape, unique: readonly Unique[]): Generator<Piece[]> {
    // Rendered once per batch, and only under a limit.
    const bound = this.#maxLength === Infinity ? undefined : new LengthBound(shape);
    let chunk: Piece[] = [];
    let names = new Set<string>();
    for (const u of unique) {
      const m = u.member;
      const added = m.names.filter((n) => !names.has(n)).length;
      if (
        chunk.length > 0 &&
        (names.size + added > this.#d.maxObjects ||
          (bound !== undefined && bound.with(m.namespace, m.names) > this.#maxLength))
      ) {
        yield chunk;
        chunk = [];
        bound?.clear();
        names = new Set();
      }
      // Alone, a request is sent with its own query.
      if (chunk.length === 0 && bound !== undefined && ownQueryTooLong(m, this.#maxLength)) {
        yield* this.#split(shape, u);
        continue;
      }
      chunk.push({ u, names: m.names, whole: true, count: u.count });
      for (const n of m.names) names.add(n);
      bound?.add(m.namespace, m.names);
    }
    if (chunk.length > 0) yield chunk;
  }

  /** A request whose own query is too long: its names in shares that fit, one query each. */
  *#split(shape: GroupableShape, u: Unique): Generator<Piece[]> {
    const names = sortedUnique(u.member.names);
    if (names.length < 2) {
      yield [{ u, names: u.member.names, whole: true, count: u.count }];
      return;
    }
    let share: string[] = [];
    const bound = new LengthBound(shape);
    let count = u.count;
    for (const n of names) {
      if (share.length > 0 && bound.with(u.member.namespace, [n]) > this.#maxLength) {
        yield [{ u, names: share, whole: false, count }];
        count = 0;
        share = [];
        bound.clear();
      }
      share.push(n);
      bound.add(u.member.namespace, [n]);
    }
    yield [{ u, names: share, whole: false, count }];
  }

  /** Values for each piece of `chunk`, in order: a request's own query if alone, else grouped. */
  async #chunk(shape: GroupableShape, chunk: readonly Piece[]): Promise<Values[]> {
    const [only] = chunk;
    if (only && chunk.length === 1 && only.whole) {
      return [await this.#single(shape, only.u.member, only.count)];
    }
    const requests = chunk.reduce((n, p) => n + p.count, 0);
    const namespaces = sortedUnique(chunk.map((p) => p.u.member.namespace));
    const names = sortedUnique(chunk.flatMap((p) => p.names));
    const query = groupedQuery(shape, namespaces, names);
    // A grouped query refused for its size is retried as each request's own query, unless a
    // share of a split request is in it: that has no smaller query of its own to fall back to.
    const retry = chunk.every((p) => p.whole);
    let samples: readonly VectorSample[];
    try {
      this.#d.onQuery?.(chunk.length === 1 ? "single" : "grouped", requests, 1);
      samples = await this.#query(query, { recovers: (e) => retry && mayBeSize(e) });
    } catch (e) {
      if (!(retry && mayBeSize(e))) throw e;
      this.#d.log.warn(
        { err: String(e), objects: names.length },
        "grouped query failed; retrying each request with its own query",
      );
      return Promise.all(chunk.map((p) => this.#single(shape, p.u.member, p.count)));
    }
    const byObject = new Map<string, number>();
    for (const s of samples) {
      const ns = shape.namespaceLabel === undefined ? "" : (s.metric[shape.namespaceLabel] ?? "");
      byObject.set(`${ns}\u0000${s.metric[shape.label] ?? ""}`, s.value[1]);
    }
    return chunk.map(({ u, names }) => {
      const values: Values = new Map();
      for (const n of names) {
        const v = byObject.get(`${u.member.namespace}\u0000${n}`);
        if (v !== undefined) values.set(n, v);
      }
      return values;
    });
  }

  /** One request's own query, split as the per-request path does (last sample wins). */
  async #single(shape: GroupableShape, m: GroupMember, count: number): Promise<Values> {
    this.#d.onQuery?.("single", count, 1);
    const values: Values = new Map();
    for (const s of await this.#query(m.query)) values.set(s.metric[shape.label] ?? "", s.value[1]);
    return values;
  }

  /**
   * Sends `query` through the providers' one query path (fetch.ts); one naming a single object
   * can still be too long: sent anyway, logged once.
   */
  #query(query: string, o?: QueryOptions): Promise<readonly VectorSample[]> {
    if (!this.#warnedTooLong && bytes(query) > this.#maxLength) {
      this.#warnedTooLong = true;
      this.#d.log.warn(
        { bytes: bytes(query), limit: this.#maxLength, query: query.slice(0, 200) },
        "a query for a single object is longer than --prometheus-max-query-length; sending it anyway (logged once)",
      );
    }
    return queryVector(this.#d.prometheus, this.#d.log, query, o);
  }
}
