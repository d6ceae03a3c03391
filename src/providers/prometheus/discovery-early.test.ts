/**
 * @module providers/prometheus/discovery-early.test
 * Discovery requests started before the rules are compiled (startEarly): the first pass takes
 * them instead of asking again, lists exactly what a pass of its own lists, asks again for what
 * failed (not for a selector Prometheus refused), and a second pass takes nothing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultConfig } from "../../config/defaults.ts";
import { RestMapper } from "../../kube/rest-mapper.ts";
import { PrometheusError } from "../../prometheus/errors.ts";
import { FakePrometheus, type FakePrometheusOptions } from "../../prometheus/fake-prometheus.ts";
import { discover, startEarly } from "./discovery.ts";
import {
  compileRule,
  fetchRule,
  namingMapper,
  type CompiledRule,
  type FetchRule,
} from "./rules.ts";

const mapper = RestMapper.fromResources(
  (
    [
      ["pods", "Pod", true],
      ["namespaces", "Namespace", false],
      ["services", "Service", true],
    ] as const
  ).map(([resource, kind, namespaced]) => ({
    group: "",
    version: "v1",
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    verbs: ["get", "list"],
  })),
);
const config = defaultConfig({ rateInterval: "1m", labelPrefix: "" });
const configRules = config.rules ?? [];
const compiled: CompiledRule[] = configRules.map((r, i) =>
  compileRule(r, `rules[${String(i)}]`, namingMapper(mapper)),
);
// What startEarlyDiscovery makes of the same config: no mapper needed.
const fetchRules: FetchRule[] = configRules.map((r, i) => fetchRule(r, `rules[${String(i)}]`));
const rules = { custom: compiled, external: [] };

const NAMES = [
  "container_cpu_usage_seconds_total",
  "container_fs_reads_total",
  "http_requests_total",
];
const answers: FakePrometheusOptions = {
  later: true,
  labelValues: () => NAMES,
  labelNames: (m) =>
    m.some((x) => x.includes("http_requests_total"))
      ? ["__name__", "namespace", "pod", "service"]
      : ["__name__", "namespace", "pod", "container"],
};
const requests = (p: FakePrometheus) => p.requests.map((r) => `${r.endpoint} ${r.matches.join()}`);
const listed = (r: Awaited<ReturnType<typeof discover>>) =>
  r.custom
    .list()
    .map((m) => `${m.groupResource.resource}/${m.metric}`)
    .sort();

describe("early discovery requests", () => {
  test("the first pass takes them: the same requests once, the same metrics", async () => {
    const alone = new FakePrometheus(answers);
    const expected = await discover(alone, rules, { maxAgeMs: 60_000 });
    assert.ok(listed(expected).length > 0);

    const prometheus = new FakePrometheus(answers);
    const early = startEarly(
      prometheus,
      { custom: fetchRules, external: [] },
      { maxAgeMs: 60_000 },
    );
    // Some early requests are answered before the pass, others are still in flight.
    await new Promise((r) => setImmediate(r));
    const got = await discover(prometheus, rules, { maxAgeMs: 60_000, early });
    assert.deepEqual(listed(got), listed(expected));
    assert.deepEqual(requests(prometheus).sort(), requests(alone).sort());
    assert.deepEqual(got.requests, expected.requests);
    assert.equal(early.size, 0);

    // A later pass sends its own.
    await discover(prometheus, rules, { maxAgeMs: 60_000, early });
    assert.equal(prometheus.requests.length, 2 * alone.requests.length);
  });

  test("a failed early request is asked again; a refused selector is not", async () => {
    let down = true;
    const refused = configRules[0]?.seriesQuery ?? "";
    const prometheus = new FakePrometheus({
      ...answers,
      labelValues: (_label, m) => {
        if (m.includes(refused)) {
          return new PrometheusError("bad selector", {
            kind: "api_error",
            endpoint: "/api/v1/label/__name__/values",
            httpStatus: 400,
            errorType: "bad_data",
          });
        }
        return down
          ? new PrometheusError("cannot reach Prometheus", {
              kind: "unreachable",
              endpoint: "/api/v1/label/__name__/values",
            })
          : NAMES;
      },
    });
    const early = startEarly(
      prometheus,
      { custom: fetchRules, external: [] },
      { maxAgeMs: 60_000 },
    );
    await new Promise((r) => setTimeout(r, 5));
    const askedEarly = prometheus.requests.length;
    down = false;
    const got = await discover(prometheus, rules, { maxAgeMs: 60_000, early });
    const refusedAsks = prometheus.requests.filter((r) => r.matches.includes(refused)).length;
    assert.equal(refusedAsks, 1, "the refused selector was asked once, early");
    assert.ok(prometheus.requests.length > askedEarly, "the failed ones were asked again");
    // Every rule of that selector (the container rules share one) lists nothing, the others do.
    assert.deepEqual(
      got.ruleErrors.map((e) => e.rule),
      fetchRules.filter((r) => r.seriesQuery === refused).map((r) => r.origin),
    );
    assert.ok(listed(got).length > 0);
  });

  test("requests of another client are not taken", async () => {
    const alone = new FakePrometheus(answers);
    await discover(alone, rules, { maxAgeMs: 60_000 });
    const first = new FakePrometheus(answers);
    const other = new FakePrometheus({ ...answers, server: "http://other" });
    const early = startEarly(first, { custom: fetchRules, external: [] }, { maxAgeMs: 60_000 });
    await discover(other, rules, { maxAgeMs: 60_000, early });
    assert.equal(other.requests.length, alone.requests.length);
    assert.ok(early.size > 0);
  });
});
