/**
 * @module providers/prometheus/query-grouping.test
 * Grouped-then-split equals per-request answers. A small in-memory PromQL evaluator (selectors
 * with `=`/`=~`, aggregations `by`) stands in for Prometheus, so generated data and generated
 * concurrent requests can be checked by the thousand; test/e2e/query-grouping.test.ts does the same
 * against a real Prometheus. Also: how many queries go out, the cap, the length limit (split then
 * merged equals unsplit) and failures.
 */
import { notFound, StatusError } from "../../apimachinery/status.ts";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import fc from "fast-check";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, silentLogger } from "../../observability/logger.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import type { VectorSample } from "../../prometheus/api-types.ts";
import { PrometheusError } from "../../prometheus/errors.ts";
import { FakePrometheus, vectorResult } from "../../prometheus/fake-prometheus.ts";
import { buildCustomQuery, buildCustomQueryShape } from "./query-builder.ts";
import {
  DEFAULT_MAX_QUERY_LENGTH,
  lazyMember,
  QueryGrouping,
  type GroupMember,
  type QueryMode,
} from "./query-grouping.ts";
import type { GroupableShape } from "./query-shape.ts";
import { compileQueryTemplate } from "./rules.ts";
import { Arrivals } from "../../server/arrivals.ts";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];
type Series = { readonly labels: Record<string, string>; readonly value: number };

const kids = (n: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
};

/** Evaluates the subset the tests' templates render to. */
function evaluate(query: string, data: readonly Series[]): VectorSample[] {
  const src = (n: SyntaxNode) => query.slice(n.from, n.to);
  const expr = (n: SyntaxNode): Series[] => {
    if (n.name === "VectorSelector") {
      const tests = kids(n.getChild("LabelMatchers") ?? n).flatMap((m) => {
        if (m.name !== "UnquotedLabelMatcher") return [];
        const name = src(m.getChild("LabelName") ?? m);
        const op = m.getChild("MatchOp")?.firstChild?.name;
        const value = JSON.parse(src(m.getChild("StringLiteral") ?? m)) as string;
        const re = new RegExp(`^(?:${value})$`);
        return [
          (s: Series) => {
            const v = s.labels[name] ?? "";
            if (op === "EqlSingle") return v === value;
            if (op === "Neq") return v !== value;
            if (op === "EqlRegex") return re.test(v);
            throw new Error(`unsupported ${String(op)}`);
          },
        ];
      });
      const metric = src(n.getChild("Identifier") ?? n);
      return data.filter((s) => s.labels["__name__"] === metric && tests.every((t) => t(s)));
    }
    if (n.name === "AggregateExpr") {
      const op = src(n.getChild("AggregateOp") ?? n);
      const by = kids(
        n.getChild("AggregateModifier")?.getChild("GroupingLabels") ?? n.getChild("AggregateOp")!,
      )
        .filter((l) => l.name === "LabelName")
        .map(src);
      const input = expr(kids(n.getChild("FunctionCallBody")!)[0]!);
      const groups = new Map<string, Series[]>();
      for (const s of input) {
        const k = JSON.stringify(by.map((l) => s.labels[l] ?? ""));
        groups.set(k, [...(groups.get(k) ?? []), s]);
      }
      return [...groups.values()].map((g) => {
        const labels: Record<string, string> = {};
        for (const l of by) if (g[0]?.labels[l]) labels[l] = g[0].labels[l];
        const vs = g.map((s) => s.value);
        const value =
          op === "sum"
            ? vs.reduce((a, b) => a + b, 0)
            : op === "max"
              ? Math.max(...vs)
              : op === "count"
                ? vs.length
                : Number.NaN;
        return { labels, value };
      });
    }
    throw new Error(`unsupported ${n.name}`);
  };
  const top = parser.parse(query).topNode.firstChild;
  if (!top) throw new Error("empty query");
  // Prometheus returns series in no promised order; shuffle-free but reversed, to catch any
  // dependence on it.
  return expr(top)
    .reverse()
    .map((s) => ({ metric: s.labels, value: [0, s.value] as [number, number] }));
}

/** A Prometheus over `data` that answers on a later turn, so concurrent callers overlap. */
function fakePrometheus(data: readonly Series[], fail?: (q: string) => Error | undefined) {
  return new FakePrometheus({
    later: true,
    query: (q) => fail?.(q) ?? vectorResult(evaluate(q, data)),
  });
}

const labels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) => ({ namespaces: "namespace", pods: "pod" })[gr.resource] ?? "unknown",
};
const PODS = { group: "", resource: "pods" };
const TEMPLATES = [
  "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
  "max(sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>, container)) by (<<.GroupBy>>)",
  "count by (<<.GroupBy>>) (<<.Series>>{<<.LabelMatchers>>})",
];

function setup(template: string, namespaced = true) {
  const t = compileQueryTemplate(template, "t");
  const s = buildCustomQueryShape(t, labels, {
    series: "m",
    groupResource: PODS,
    namespace: namespaced ? "x" : "",
    metricSelector: [],
  });
  const member = (namespace: string, names: readonly string[]): GroupMember => ({
    namespace,
    names,
    query: buildCustomQuery(t, labels, {
      series: "m",
      groupResource: PODS,
      namespace,
      names,
      metricSelector: [],
    }),
  });
  return { s, member };
}

/** What the per-request path answers: its own query, value by name, for the names asked. */
function reference(data: readonly Series[], m: GroupMember): Map<string, number> {
  const all = new Map<string, number>();
  for (const s of evaluate(m.query, data)) all.set(s.metric["pod"] ?? "", s.value[1]);
  return new Map(m.names.flatMap((n) => (all.has(n) ? [[n, all.get(n) ?? 0] as const] : [])));
}

function restrict(values: Map<string, number>, names: readonly string[]): Map<string, number> {
  return new Map(names.flatMap((n) => (values.has(n) ? [[n, values.get(n) ?? 0] as const] : [])));
}

// Names with regex metacharacters, and names they would wrongly match unescaped.
const NAMES = ["p0", "p1", "a.b", "aXb", "c-1", "web-7f9c"];
const NAMESPACES = ["n0", "n1", "n2"];

describe("QueryGrouping", () => {
  test("grouped-then-split equals per-request answers (generated data and requests)", async () => {
    const seriesArb = fc.array(
      fc.record({
        ns: fc.constantFrom(...NAMESPACES),
        pod: fc.constantFrom(...NAMES),
        container: fc.constantFrom("a", "b"),
        value: fc.integer({ min: -1000, max: 1000 }),
      }),
      { maxLength: 40 },
    );
    const requestArb = fc.record({
      ns: fc.constantFrom(...NAMESPACES),
      names: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(
        seriesArb,
        fc.array(requestArb, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...TEMPLATES),
        fc.integer({ min: 1, max: 8 }),
        async (rows, requests, template, maxObjects) => {
          const data = rows.map((r) => ({
            labels: { __name__: "m", namespace: r.ns, pod: r.pod, container: r.container },
            value: r.value,
          }));
          const { s, member } = setup(template);
          const prom = fakePrometheus(data);
          const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects });
          const shape = g.shape(s);
          assert.ok(shape.groupable);
          const members = requests.map((r) => member(r.ns, r.names));
          const got = await Promise.all(members.map((m) => g.values(shape, m)));
          members.forEach((m, i) => {
            assert.deepEqual(
              restrict(got[i] ?? new Map<string, number>(), m.names),
              reference(data, m),
            );
          });
          // One query for the first request, then the rest in as few as the cap allows.
          assert.ok(prom.queries.length <= members.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("root-scoped objects: grouped by names alone", async () => {
    const { s, member } = setup(TEMPLATES[0] ?? "", false);
    const data = NAMES.map((pod, i) => ({ labels: { __name__: "m", pod }, value: i }));
    const prom = fakePrometheus(data);
    const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects: 10 });
    const shape = g.shape(s) as GroupableShape;
    const members = [["p0"], ["a.b"], ["aXb", "p1"]].map((n) => member("", n));
    const got = await Promise.all(members.map((m) => g.values(shape, m)));
    members.forEach((m, i) => {
      assert.deepEqual(got[i], reference(data, m));
    });
    assert.deepEqual(prom.queries, [
      'sum(m{pod="p0"}) by (pod)',
      'sum(m{pod=~"a\\\\.b|aXb|p1"}) by (pod)',
    ]);
  });

  test("60 concurrent requests cost 2 queries; the cap splits the second", async () => {
    const data = NAMESPACES.flatMap((ns) =>
      NAMES.map((pod, i) => ({ labels: { __name__: "m", namespace: ns, pod }, value: i })),
    );
    for (const [maxObjects, expected] of [
      [100, 2],
      [3, 4],
    ] as const) {
      const { s, member } = setup(TEMPLATES[0] ?? "");
      const prom = fakePrometheus(data);
      const counted: [QueryMode, number, number][] = [];
      const g = new QueryGrouping({
        prometheus: prom,
        log: silentLogger(),
        maxObjects,
        onQuery: (mode, n, q) => counted.push([mode, n, q]),
      });
      const shape = g.shape(s) as GroupableShape;
      const members = Array.from({ length: 60 }, (_, i) =>
        member(NAMESPACES[i % 3] ?? "", [NAMES[i % 6] ?? "", NAMES[(i + 1) % 6] ?? ""]),
      );
      const got = await Promise.all(members.map((m) => g.values(shape, m)));
      members.forEach((m, i) => {
        assert.deepEqual(got[i], reference(data, m));
      });
      assert.equal(prom.queries.length, expected, prom.queries.join("\n"));
      assert.deepEqual(counted[0], ["single", 1, 1]);
      assert.equal(
        counted.reduce((n, [, r]) => n + r, 0),
        60,
      );
      // Requests identical to the first one joined it (no query of their own).
      assert.equal(
        counted.reduce((n, [, , q]) => n + q, 0),
        expected,
      );
    }
  });

  test("a burst's first request waits for the rest of the turn's requests: one query, later arrivals not waited for", async () => {
    const data = NAMES.map((pod, i) => ({
      labels: { __name__: "m", namespace: "n0", pod },
      value: i,
    }));
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const prom = fakePrometheus(data);
    const arrivals = new Arrivals(10_000);
    const g = new QueryGrouping({
      prometheus: prom,
      log: silentLogger(),
      maxObjects: 100,
      arrivals,
    });
    const shape = g.shape(s) as GroupableShape;
    const members = [0, 1, 2].map((i) => member("n0", [NAMES[i] ?? ""]));
    const answers: Promise<Map<string, number>>[] = [];
    const reach = (i: number, t: ReturnType<Arrivals["take"]>) => {
      const m = members[i];
      if (!m) throw new Error("no such request");
      arrivals.spend(t);
      answers.push(g.values(shape, m, t));
    };
    // One burst, as Node.js serves it: the first request reaches the query step before the
    // others of its read are received, later in the same turn (each stream is its own callback,
    // microtasks run between them), and they reach the query step later still.
    const received = new Promise<ReturnType<Arrivals["take"]>[]>((resolve) => {
      setImmediate(() => {
        resolve([arrivals.take("pods/m"), arrivals.take("pods/m")]);
      });
    });
    reach(0, arrivals.take("pods/m"));
    const peers = await received;
    await sleep(5);
    // Received in a later turn: never waited for.
    const later = arrivals.take("pods/m");
    assert.equal(prom.queries.length, 0, "the first request went out alone");
    reach(1, peers[0] ?? later);
    await sleep(5);
    reach(2, peers[1] ?? later);
    const got = await Promise.all(answers);
    members.forEach((m, i) => {
      assert.deepEqual(got[i], reference(data, m));
    });
    assert.equal(prom.queries.length, 1, prom.queries.join("\n"));
    assert.equal(arrivals.ahead("pods/m", later.seq + 1), true);
  });

  test("lazy members: a request's own query is rendered only when it goes out alone; a failed render fails that request alone", async () => {
    const data = NAMESPACES.flatMap((ns) =>
      NAMES.map((pod, i) => ({ labels: { __name__: "m", namespace: ns, pod }, value: i })),
    );
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const g = new QueryGrouping({
      prometheus: fakePrometheus(data),
      log: silentLogger(),
      maxObjects: 100,
    });
    const shape = g.shape(s) as GroupableShape;
    const renders: string[] = [];
    const lazy = (ns: string, names: string[], broken = false) =>
      lazyMember(ns, names, () => {
        renders.push(`${ns}/${names.join(",")}`);
        if (broken) throw new StatusError(notFound("cannot render", {}));
        return member(ns, names).query;
      });
    // The first goes out alone: its own query, rendered once. The 9 after it wait for it; the one
    // identical to it joins it, the other 8 go out as one grouped query: only the first of that
    // chunk renders its own, to be measured against the length limit.
    const first = lazy("n0", ["p0"]);
    const rest = Array.from({ length: 9 }, (_, i) =>
      lazy(NAMESPACES[i % 3] ?? "", [NAMES[i % 6] ?? ""]),
    );
    const got = await Promise.all([first, ...rest].map((m) => g.values(shape, m)));
    [first, ...rest].forEach((m, i) => {
      assert.deepEqual(got[i], restrict(reference(data, member(m.namespace, m.names)), m.names));
    });
    assert.deepEqual(renders, ["n0/p0", "n1/p1"]);
    // Alone and unrenderable: that request gets its own error.
    await assert.rejects(
      g.values(shape, lazy("n2", ["p5"], true)),
      (e: unknown) => e instanceof StatusError && e.status.code === 404,
    );
  });

  test("an identical request joins the one in flight instead of waiting for the next", async () => {
    const data = [{ labels: { __name__: "m", namespace: "n0", pod: "p0" }, value: 5 }];
    const prom = fakePrometheus(data);
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects: 9 });
    const shape = g.shape(s) as GroupableShape;
    const got = await Promise.all(
      Array.from({ length: 5 }, () => g.values(shape, member("n0", ["p0"]))),
    );
    assert.deepEqual(
      got,
      Array.from({ length: 5 }, () => new Map([["p0", 5]])),
    );
    assert.equal(prom.queries.length, 1);
    // Once settled, nothing is reused: the next request makes its own query.
    await g.values(shape, member("n0", ["p0"]));
    assert.equal(prom.queries.length, 2);
  });

  test("a grouped query that fails for its size is retried per request", async () => {
    const data = [{ labels: { __name__: "m", namespace: "n0", pod: "p0" }, value: 5 }];
    const tooBig = new PrometheusError("too big", {
      kind: "api_error",
      endpoint: "/api/v1/query",
      errorType: "execution",
    });
    const prom = fakePrometheus(data, (q) => (q.includes("=~") ? tooBig : undefined));
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects: 9 });
    const shape = g.shape(s) as GroupableShape;
    const members = [member("n0", ["p1"]), member("n0", ["p0"]), member("n1", ["p0"])];
    const got = await Promise.all(members.map((m) => g.values(shape, m)));
    assert.deepEqual(got, [new Map(), new Map([["p0", 5]]), new Map()]);
    assert.equal(prom.queries.length, 1 + 1 + 2);
  });

  test("other failures: 500 unable to fetch metrics for every request of the group", async () => {
    const down = new PrometheusError("refused", { kind: "unreachable", endpoint: "/api/v1/query" });
    const prom = fakePrometheus([], () => down);
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects: 9 });
    const shape = g.shape(s) as GroupableShape;
    const results = await Promise.allSettled(
      [member("n0", ["p0"]), member("n0", ["p1"]), member("n1", ["p0"])].map((m) =>
        g.values(shape, m),
      ),
    );
    for (const r of results) {
      if (r.status !== "rejected") assert.fail("fulfilled");
      const e: unknown = r.reason;
      assert.ok(e instanceof StatusError);
      assert.equal(e.status.message, "Internal error occurred: unable to fetch metrics");
    }
    assert.equal(prom.queries.length, 2);
  });
});

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n")) {
        if (l.trim() !== "") lines.push(JSON.parse(l) as { level: number; msg: string });
      }
      done();
    },
  });
  return { log: createLogger(0, sink), lines };
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
/** Object names of any length, with regex metacharacters and non-ASCII text. */
const nameArb = fc
  .array(fc.constantFrom("a", "b", "7", "-", ".", "é", "|", "x"), { minLength: 1, maxLength: 24 })
  .map((cs) => cs.join(""));

describe("QueryGrouping: --prometheus-max-query-length", () => {
  test("split then merged equals unsplit; every query within the limit", async () => {
    let splitRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(nameArb, { minLength: 1, maxLength: 30 }),
        fc.array(
          fc.record({
            ns: fc.constantFrom(...NAMESPACES),
            picks: fc.uniqueArray(fc.nat(29), { minLength: 1, maxLength: 30 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.constantFrom(...TEMPLATES),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        async (names, requests, template, limit, maxObjects, namespaced) => {
          const data = NAMESPACES.flatMap((ns, i) =>
            names.map((pod, j) => ({
              labels: { __name__: "m", ...(namespaced ? { namespace: ns } : {}), pod },
              value: i * 100 + j,
            })),
          );
          const { s, member } = setup(template, namespaced);
          const members = requests.map((r) =>
            member(namespaced ? r.ns : "", [
              ...new Set(r.picks.map((i) => names[i % names.length] ?? "")),
            ]),
          );
          const run = async (maxQueryLength: number) => {
            const prom = fakePrometheus(data);
            const counted: number[] = [];
            const g = new QueryGrouping({
              prometheus: prom,
              log: silentLogger(),
              maxObjects,
              maxQueryLength,
              onQuery: (_mode, n) => counted.push(n),
            });
            const shape = g.shape(s) as GroupableShape;
            const got = await Promise.all(members.map((m) => g.values(shape, m)));
            return { got, queries: prom.queries, requests: counted.reduce((a, b) => a + b, 0) };
          };
          const unsplit = await run(0);
          const split = await run(limit);
          members.forEach((m, i) => {
            const want = reference(data, m);
            assert.deepEqual(restrict(unsplit.got[i] ?? new Map<string, number>(), m.names), want);
            assert.deepEqual(restrict(split.got[i] ?? new Map<string, number>(), m.names), want);
          });
          if (split.queries.length > unsplit.queries.length) splitRuns++;
          // Each request is counted once, however many queries answered it.
          assert.equal(split.requests, members.length);
          // Only a query naming a single object (no regex matcher) may exceed the limit.
          if (limit > 0) {
            for (const q of split.queries) {
              assert.ok(bytes(q) <= limit || !q.includes("pod=~"), `${String(bytes(q))}: ${q}`);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // The generated limits do split, in a good share of the runs.
    assert.ok(splitRuns > 20, String(splitRuns));
  });

  test("the default limit splits one request over 800 pods into queries of at most 16384 bytes", async () => {
    const names = Array.from(
      { length: 800 },
      (_, i) => `web-7f9c5d8b4-${String(i).padStart(5, "0")}x`,
    );
    const data = names.map((pod, i) => ({
      labels: { __name__: "m", namespace: "n0", pod },
      value: i,
    }));
    const { s, member } = setup(TEMPLATES[1] ?? "");
    const m = member("n0", names);
    assert.ok(bytes(m.query) > DEFAULT_MAX_QUERY_LENGTH, String(bytes(m.query)));
    const prom = fakePrometheus(data);
    const modes: QueryMode[] = [];
    const g = new QueryGrouping({
      prometheus: prom,
      log: silentLogger(),
      maxObjects: 256,
      onQuery: (mode) => modes.push(mode),
    });
    const got = await g.values(g.shape(s) as GroupableShape, m);
    assert.deepEqual(got, reference(data, m));
    assert.equal(got.size, 800);
    assert.equal(prom.queries.length, 2);
    for (const q of prom.queries) assert.ok(bytes(q) <= DEFAULT_MAX_QUERY_LENGTH, String(bytes(q)));
    // One request's own queries: "single", as opposed to a query shared by several requests.
    assert.deepEqual(modes, ["single", "single"]);
  });

  test("a burst is cut where the next request would overflow the limit", async () => {
    const data = NAMESPACES.flatMap((ns) =>
      NAMES.map((pod, i) => ({ labels: { __name__: "m", namespace: ns, pod }, value: i })),
    );
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const members = Array.from({ length: 12 }, (_, i) =>
      member(NAMESPACES[i % 3] ?? "", [NAMES[i % 6] ?? "", NAMES[(i + 2) % 6] ?? ""]),
    );
    const prom = fakePrometheus(data);
    const g = new QueryGrouping({
      prometheus: prom,
      log: silentLogger(),
      maxObjects: 100,
      maxQueryLength: 80,
    });
    const shape = g.shape(s) as GroupableShape;
    const got = await Promise.all(members.map((m) => g.values(shape, m)));
    members.forEach((m, i) => {
      assert.deepEqual(got[i], reference(data, m));
    });
    for (const q of prom.queries) assert.ok(bytes(q) <= 80, q);
    // Without the limit the burst after the first request is one query.
    assert.ok(prom.queries.length > 2, prom.queries.join("\n"));
  });

  test("0 means no limit", async () => {
    const names = Array.from({ length: 800 }, (_, i) => `pod-${String(i).padStart(20, "0")}`);
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const prom = fakePrometheus([]);
    const g = new QueryGrouping({
      prometheus: prom,
      log: silentLogger(),
      maxObjects: 256,
      maxQueryLength: 0,
    });
    await g.values(g.shape(s) as GroupableShape, member("n0", names));
    assert.equal(prom.queries.length, 1);
    assert.ok(bytes(prom.queries[0] ?? "") > DEFAULT_MAX_QUERY_LENGTH);
  });

  test("a query for one object that is still too long is sent anyway, logged once", async () => {
    const long = `p${"x".repeat(300)}`;
    const data = [{ labels: { __name__: "m", namespace: "n0", pod: long }, value: 3 }];
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const prom = fakePrometheus(data);
    const { log, lines } = recordingLogger();
    const g = new QueryGrouping({
      prometheus: prom,
      log,
      maxObjects: 9,
      maxQueryLength: 100,
    });
    const shape = g.shape(s) as GroupableShape;
    assert.deepEqual(await g.values(shape, member("n0", [long])), new Map([[long, 3]]));
    // Split to one name per query; each still too long, sent anyway.
    assert.deepEqual(await g.values(shape, member("n0", [long, `${long}y`])), new Map([[long, 3]]));
    assert.equal(prom.queries.length, 3);
    const warned = lines.filter((l) => l.msg.includes("--prometheus-max-query-length"));
    assert.equal(warned.length, 1, JSON.stringify(lines));
  });

  test("a grouped query refused for its length (VictoriaMetrics: 422) is retried per request", async () => {
    const data = [{ labels: { __name__: "m", namespace: "n0", pod: "p0" }, value: 5 }];
    const tooLong = new PrometheusError("too long", {
      kind: "api_error",
      endpoint: "/api/v1/query",
      httpStatus: 422,
      errorType: "422",
    });
    const prom = fakePrometheus(data, (q) => (q.includes("=~") ? tooLong : undefined));
    const { s, member } = setup(TEMPLATES[0] ?? "");
    const g = new QueryGrouping({ prometheus: prom, log: silentLogger(), maxObjects: 9 });
    const shape = g.shape(s) as GroupableShape;
    const members = [member("n0", ["p1"]), member("n0", ["p0"]), member("n1", ["p0"])];
    const got = await Promise.all(members.map((m) => g.values(shape, m)));
    assert.deepEqual(got, [new Map(), new Map([["p0", 5]]), new Map()]);
    assert.equal(prom.queries.length, 1 + 1 + 2);
  });

  test("rejects a negative or fractional limit", () => {
    for (const maxQueryLength of [-1, 1.5]) {
      assert.throws(
        () =>
          new QueryGrouping({
            prometheus: fakePrometheus([]),
            log: silentLogger(),
            maxObjects: 1,
            maxQueryLength,
          }),
        RangeError,
      );
    }
  });
});
