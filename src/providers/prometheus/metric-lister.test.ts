/**
 * @module providers/prometheus/metric-lister.test
 * The lister's hold on sharp drops: an empty or much smaller result waits for the next pass before
 * it replaces the last good list; a pass that recovers meanwhile is applied at once; failures keep
 * the list; the first pass applies whatever it finds. Discovery is replaced by scripted results.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "../../observability/logger.ts";
import { Backends, readTenancy } from "./backends.ts";
import { PrometheusClient } from "../../prometheus/client.ts";
import { FakePrometheus } from "../../prometheus/fake-prometheus.ts";
import type { DiscoveryResult } from "./discovery.ts";
import { MetricLister, type MetricListerOptions, type RelistOutcome } from "./metric-lister.ts";
import { sharpDrop } from "./pass-results.ts";
import { CustomRegistry, ExternalRegistry } from "./registry.ts";
import type { CompiledRule } from "./rules.ts";

const RULE = {} as CompiledRule;
const PODS = { group: "", resource: "pods" };

/** A result with these custom (pods) and external metric names; `null` fails the pass. */
type Step = { custom?: string[]; external?: string[] } | null;

function result(s: { custom?: string[]; external?: string[] }): DiscoveryResult {
  const custom = new CustomRegistry();
  for (const m of s.custom ?? []) custom.add(PODS, true, m, { seriesName: m, rule: RULE });
  const external = new ExternalRegistry();
  for (const m of s.external ?? []) external.add(m, { seriesName: m, rule: RULE });
  return { custom, external, requests: {}, ruleErrors: [] };
}

function lister(steps: Step[], o: Partial<MetricListerOptions> = {}) {
  const outcomes: RelistOutcome[] = [];
  const l = new MetricLister(
    new FakePrometheus(),
    { custom: [], external: [] },
    {
      relistIntervalMs: 600_000,
      maxAgeMs: 600_000,
      log: silentLogger(),
      onRelist: (outcome) => outcomes.push(outcome),
      discover: () => {
        const s = steps.shift();
        if (s === undefined) throw new Error("no more scripted passes");
        return s === null
          ? Promise.reject(new Error("prometheus down"))
          : Promise.resolve(result(s));
      },
      ...o,
    },
  );
  const names = () => ({
    custom: l.custom.list().map((i) => i.metric),
    external: l.external.list().map((i) => i.metric),
  });
  return { l, outcomes, names };
}

const FULL = { custom: ["a", "b", "c", "d"], external: ["x", "y"] };

describe("MetricLister", () => {
  test("the first pass applies whatever it finds, even nothing", async () => {
    const { l, outcomes, names } = lister([{}, FULL]);
    assert.equal(await l.relist(), true);
    assert.equal(l.ready, true);
    assert.deepEqual(names(), { custom: [], external: [] });
    // Growing from nothing is applied at once.
    await l.relist();
    assert.deepEqual(names(), FULL);
    assert.deepEqual(outcomes, ["success", "success"]);
  });

  test("the first pass applies a small list; later growth and mild shrinks apply at once", async () => {
    const { l, outcomes, names } = lister([
      { custom: ["a"] },
      FULL,
      // Loses 2 of 4 custom names and 1 of 2 external: exactly half is not sharp.
      { custom: ["a", "b"], external: ["x"] },
    ]);
    await l.relist();
    assert.deepEqual(names(), { custom: ["a"], external: [] });
    await l.relist();
    await l.relist();
    assert.deepEqual(names(), { custom: ["a", "b"], external: ["x"] });
    assert.deepEqual(outcomes, ["success", "success", "success"]);
    assert.equal(l.unconfirmed, undefined);
  });

  test("an empty pass after a non-empty list is held, then applied when the next confirms it", async () => {
    const { l, outcomes, names } = lister([FULL, {}, {}]);
    await l.relist();
    assert.equal(await l.relist(), true);
    assert.equal(l.unconfirmed, "empty");
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.equal(l.unconfirmed, undefined);
    assert.deepEqual(names(), { custom: [], external: [] });
    assert.deepEqual(outcomes, ["success", "unconfirmed-empty", "success"]);
  });

  test("a sharp shrink is held; so is one API going empty while the other stays", async () => {
    const { l, outcomes, names } = lister([
      FULL,
      // 3 of 4 custom names gone.
      { custom: ["a"], external: ["x", "y"] },
      FULL,
      // External loses everything; custom grows.
      { custom: ["a", "b", "c", "d", "e"] },
      { custom: ["a", "b", "c", "d", "e"] },
    ]);
    await l.relist();
    await l.relist();
    assert.equal(l.unconfirmed, "shrink");
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.equal(l.unconfirmed, "shrink");
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.deepEqual(names(), { custom: ["a", "b", "c", "d", "e"], external: [] });
    assert.deepEqual(outcomes, [
      "success",
      "unconfirmed-shrink",
      "success",
      "unconfirmed-shrink",
      "success",
    ]);
  });

  test("a pass that recovers before confirmation keeps the metrics and applies its own list", async () => {
    const { l, outcomes, names } = lister([
      FULL,
      {},
      { ...FULL, custom: [...FULL.custom, "e"] },
      FULL,
    ]);
    await l.relist();
    await l.relist();
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.equal(l.unconfirmed, undefined);
    assert.deepEqual(names(), { custom: ["a", "b", "c", "d", "e"], external: ["x", "y"] });
    // Losing one name of five afterwards is ordinary.
    await l.relist();
    assert.deepEqual(names(), FULL);
    assert.deepEqual(outcomes, ["success", "unconfirmed-empty", "success", "success"]);
  });

  test("new rules (a config reload) apply at once, even a much smaller list", async () => {
    const { l, outcomes, names } = lister([FULL, { custom: ["a"] }]);
    await l.relist();
    assert.equal(await l.setRules({ custom: [], external: [] }), true);
    assert.deepEqual(names(), { custom: ["a"], external: [] });
    assert.deepEqual(outcomes, ["success", "success"]);
  });

  test("a failure between a held pass and the next starts the hold over", async () => {
    const { l, outcomes, names } = lister([FULL, {}, null, {}, {}]);
    await l.relist();
    await l.relist();
    assert.equal(await l.relist(), false);
    assert.equal(l.unconfirmed, undefined);
    assert.deepEqual(names(), FULL);
    // Empty again right after Prometheus came back: held again, not taken as the confirmation.
    await l.relist();
    assert.equal(l.unconfirmed, "empty");
    assert.deepEqual(names(), FULL);
    await l.relist();
    assert.deepEqual(names(), { custom: [], external: [] });
    assert.deepEqual(outcomes, [
      "success",
      "unconfirmed-empty",
      "error",
      "unconfirmed-empty",
      "success",
    ]);
  });

  test("after a held pass the next one runs a minute later, not an interval later", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const steps: Step[] = [FULL, {}, FULL, FULL];
    const { l, outcomes } = lister(steps, { relistIntervalMs: 600_000 });
    const settle = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    await l.start();
    await settle();
    t.mock.timers.tick(600_000);
    await settle();
    assert.deepEqual(outcomes, ["success", "unconfirmed-empty"]);
    t.mock.timers.tick(59_999);
    await settle();
    assert.equal(outcomes.length, 2);
    t.mock.timers.tick(1);
    await settle();
    assert.deepEqual(outcomes, ["success", "unconfirmed-empty", "success"]);
    // Back to the interval.
    t.mock.timers.tick(599_999);
    await settle();
    assert.equal(outcomes.length, 3);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(outcomes.length, 4);
    l.stop();
  });
});

describe("sharpDrop", () => {
  const r = result;
  test("the default thresholds", () => {
    assert.equal(sharpDrop(r({}), r({})), undefined);
    assert.equal(sharpDrop(r(FULL), r(FULL)), undefined);
    assert.equal(sharpDrop(r({ custom: ["a"] }), r({ custom: ["b"] }))?.reason, "shrink");
    assert.equal(sharpDrop(r({ custom: ["a", "b"] }), r({ custom: ["b"] })), undefined);
    assert.deepEqual(sharpDrop(r(FULL), r({})), {
      reason: "empty",
      custom: { before: 4, after: 0 },
      external: { before: 2, after: 0 },
      lost: ["a", "b", "c", "d", "x", "y"],
    });
    // A metric served for several resources counts once.
    const many = new CustomRegistry();
    for (const resource of ["pods", "namespaces", "deployments"]) {
      many.add({ group: "", resource }, true, "a", { seriesName: "a", rule: RULE });
    }
    many.add(PODS, true, "b", { seriesName: "b", rule: RULE });
    const fewer = new CustomRegistry();
    fewer.add(PODS, true, "a", { seriesName: "a", rule: RULE });
    assert.equal(
      sharpDrop(
        { custom: many, external: new ExternalRegistry() },
        { custom: fewer, external: new ExternalRegistry() },
      ),
      undefined,
    );
  });
});

describe("tenants", () => {
  test("one pass per tenant with its own client; lists per tenant, union listed", async () => {
    const main = await PrometheusClient.create({ url: "http://127.0.0.1:9" });
    const labels: Record<string, string>[] = [{ t: "a" }, { t: "b" }];
    const backends = new Backends({
      main,
      tenancy: readTenancy({ namespaceLabel: "t" }),
      allNamespaceLabels: () => Promise.resolve(labels),
    });
    const rule = { origin: "rules[0]" } as CompiledRule;
    const seen: (string | undefined)[] = [];
    const l = new MetricLister(
      main,
      { custom: [rule], external: [] },
      {
        relistIntervalMs: 600_000,
        maxAgeMs: 600_000,
        log: silentLogger(),
        backends,
        discover: (clients) => {
          const c = typeof clients === "function" ? clients(rule) : clients;
          seen.push(c.tenant);
          return Promise.resolve(result({ custom: [`only_${c.tenant ?? "none"}`] }));
        },
      },
    );
    assert.equal(await l.relist(), true);
    assert.deepEqual(seen.sort(), ["a", "b"]);
    assert.deepEqual(
      l.custom
        .list()
        .map((i) => i.metric)
        .sort(),
      ["only_a", "only_b"],
    );
    assert.deepEqual(
      l
        .customFor("a")
        .list()
        .map((i) => i.metric),
      ["only_a"],
    );
    assert.deepEqual(
      l
        .customFor("b")
        .list()
        .map((i) => i.metric),
      ["only_b"],
    );
    // A tenant no pass covered: nothing yet, and a pass starts now that covers it.
    labels.push({ t: "c" });
    assert.equal(l.customFor("c").size, 0);
    for (let i = 0; i < 100 && l.customFor("c").size === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(
      l
        .customFor("c")
        .list()
        .map((i) => i.metric),
      ["only_c"],
    );
    l.stop();
    await main.close();
  });
});

test("a tenant whose pass fails keeps its last lists; the others are updated", async () => {
  const main = await PrometheusClient.create({ url: "http://127.0.0.1:9" });
  const backends = new Backends({
    main,
    tenancy: readTenancy({ namespaces: { x: "a", y: "b" } }),
  });
  const rule = { origin: "rules[0]" } as CompiledRule;
  let round = 0;
  const l = new MetricLister(
    main,
    { custom: [rule], external: [] },
    {
      relistIntervalMs: 600_000,
      maxAgeMs: 600_000,
      log: silentLogger(),
      backends,
      discover: (clients) => {
        const c = typeof clients === "function" ? clients(rule) : clients;
        if (round > 0 && c.tenant === "b") return Promise.reject(new Error("401 for b"));
        return Promise.resolve(result({ custom: [`${c.tenant ?? ""}_${String(round)}`] }));
      },
    },
  );
  assert.equal(await l.relist(), true);
  round = 1;
  assert.equal(await l.relist(), true);
  const names = (t: string) =>
    l
      .customFor(t)
      .list()
      .map((i) => i.metric);
  assert.deepEqual(names("a"), ["a_1"]);
  assert.deepEqual(names("b"), ["b_0"]);
  l.stop();
  await main.close();
});
