import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { LabelSelectorError } from "../apimachinery/label-selector.ts";
import { parseLabelSelector } from "../apimachinery/label-selector-parser.ts";
import type { KubeClient } from "./client.ts";
import { PodCache } from "./pod-cache.ts";
import { PodStore, type PodJson } from "./pod-store.ts";
import { backoffMs, WatchGoneError } from "./reflector.ts";
import { silentLogger } from "../observability/logger.ts";

function pod(
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  phase = "Running",
  rv = "1",
): PodJson {
  return {
    metadata: { namespace, name, labels, resourceVersion: rv },
    spec: { nodeName: "n1" },
    status: { phase },
  };
}

const all = parseLabelSelector("");
const names = (s: PodStore, ns = "", sel = all, phase?: string) =>
  s.list(ns, sel, phase === undefined ? {} : { phase }).map((p) => `${p.namespace}/${p.name}`);

describe("PodStore", () => {
  test("replace keeps what callers need and lists in API server (etcd key) order", () => {
    const s = new PodStore();
    s.replace(
      [pod("b", "web-2"), pod("a", "z"), pod("b", "web-10"), pod("a-b", "x"), pod("b", "Web-1")],
      "42",
    );
    assert.equal(s.resourceVersion, "42");
    assert.equal(s.size, 5);
    // "a-b/x" < "a/z": '-' sorts before '/' in the key; names byte order ("W" < "w", "10" < "2").
    assert.deepEqual(names(s), ["a-b/x", "a/z", "b/Web-1", "b/web-10", "b/web-2"]);
    assert.deepEqual(names(s, "b"), ["b/Web-1", "b/web-10", "b/web-2"]);
    assert.deepEqual(names(s, "nope"), []);
    assert.deepEqual(s.get("a", "z"), {
      namespace: "a",
      name: "z",
      labels: {},
      phase: "Running",
      nodeName: "n1",
    });
  });

  test("ADDED, MODIFIED, DELETED and BOOKMARK events", () => {
    const s = new PodStore();
    s.replace([pod("ns", "b", { app: "web" })], "10");
    assert.deepEqual(names(s), ["ns/b"]); // builds the sorted cache
    s.apply({ type: "ADDED", object: pod("ns", "a", { app: "web" }, "Pending", "11") });
    assert.equal(s.resourceVersion, "11");
    assert.deepEqual(names(s), ["ns/a", "ns/b"]);
    assert.deepEqual(names(s, "ns", all, "Running"), ["ns/b"]);
    s.apply({ type: "MODIFIED", object: pod("ns", "a", { app: "db" }, "Running", "12") });
    assert.deepEqual(names(s, "ns", parseLabelSelector("app=web")), ["ns/b"]);
    assert.deepEqual(names(s, "ns", parseLabelSelector("app=db"), "Running"), ["ns/a"]);
    s.apply({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } });
    assert.equal(s.resourceVersion, "15");
    assert.equal(s.size, 2);
    s.apply({ type: "DELETED", object: pod("ns", "b", {}, "Running", "16") });
    assert.deepEqual(names(s), ["ns/a"]);
    s.apply({ type: "DELETED", object: pod("ns", "a", {}, "Running", "17") });
    assert.deepEqual(names(s), []);
    assert.equal(s.size, 0);
    // Deleting what is not there is harmless (a relist raced the event).
    s.apply({ type: "DELETED", object: pod("ns", "a", {}, "Running", "18") });
    assert.equal(s.resourceVersion, "18");
  });

  test("ERROR 410 asks for a relist, other errors for a re-watch; the version stays", () => {
    const s = new PodStore();
    s.replace([], "5");
    assert.throws(() => {
      s.apply({
        type: "ERROR",
        object: { code: 410, reason: "Expired", message: "too old resource version: 1 (5)" },
      });
    }, WatchGoneError);
    assert.throws(
      () => {
        s.apply({ type: "ERROR", object: { code: 500, message: "boom" } });
      },
      (e: unknown) =>
        e instanceof Error && !(e instanceof WatchGoneError) && /boom/.test(e.message),
    );
    assert.equal(s.resourceVersion, "5");
  });

  test("label selectors have the API server's semantics", () => {
    const s = new PodStore();
    s.replace(
      [
        pod("ns", "a", { app: "web", tier: "1" }),
        pod("ns", "b", { app: "db", tier: "3" }),
        pod("ns", "c", {}),
      ],
      "1",
    );
    const sel = (x: string) => names(s, "ns", parseLabelSelector(x));
    assert.deepEqual(sel("app"), ["ns/a", "ns/b"]);
    assert.deepEqual(sel("!app"), ["ns/c"]);
    assert.deepEqual(sel("app!=web"), ["ns/b", "ns/c"]);
    assert.deepEqual(sel("app in (web,db),tier notin (3)"), ["ns/a"]);
    assert.deepEqual(sel("tier>2"), ["ns/b"]);
    assert.deepEqual(sel("app=web,app=db"), []);
  });
});

describe("PodStore.select (remembered selections)", () => {
  const NS = ["a", "b", "c"];
  const NAMES = ["p1", "p2", "p3", "p4"];
  const SELECTORS = ["", "app=web", "app!=web", "app in (web,db),tier", "!tier"];
  const event = fc.record({
    type: fc.constantFrom("ADDED", "MODIFIED", "DELETED"),
    ns: fc.constantFrom(...NS),
    name: fc.constantFrom(...NAMES),
    app: fc.constantFrom("web", "db"),
    tier: fc.boolean(),
    phase: fc.constantFrom("Running", "Pending"),
  });
  const read = fc.record({
    ns: fc.constantFrom("", ...NS),
    selector: fc.constantFrom(...SELECTORS),
    phase: fc.constantFrom(undefined, "Running"),
  });

  test("always answers what list answers, through any events, relists and reads", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            event.map((e) => ({ e })),
            read.map((r) => ({ r })),
            fc.constant({}),
          ),
          {
            maxLength: 60,
          },
        ),
        (steps) => {
          const s = new PodStore();
          s.replace([pod("a", "p1", { app: "web" })], "1");
          for (const step of steps) {
            if ("e" in step) {
              const { type, ns, name, app, tier, phase } = step.e;
              const labels: Record<string, string> = tier ? { app, tier: "x" } : { app };
              s.apply({ type, object: pod(ns, name, labels, phase) });
            } else if ("r" in step) {
              const { ns, selector, phase } = step.r;
              const filter = phase === undefined ? {} : { phase };
              const expected = s.list(ns, parseLabelSelector(selector), filter);
              // Twice: the second one is the remembered answer.
              assert.deepEqual(s.select(ns, selector, filter), expected);
              assert.deepEqual(s.select(ns, selector, filter), expected);
            } else {
              s.replace([pod("b", "p2", { app: "db" })], "2");
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("the answer is the caller's: changing it changes no later answer", () => {
    const s = new PodStore();
    s.replace([pod("a", "p1", { app: "web" }), pod("a", "p2", { app: "web" })], "1");
    const first = s.select("a", "app=web");
    first.pop();
    assert.equal(s.select("a", "app=web").length, 2);
  });

  test("a bad selector still throws each time", () => {
    const s = new PodStore();
    assert.throws(() => s.select("a", "app in ("), LabelSelectorError);
    assert.throws(() => s.select("a", "app in ("), LabelSelectorError);
  });
});

describe("PodCache", () => {
  // A cache whose loop is never started: only the synced/stale gate is exercised.
  const idle = () => {
    let now = 1000;
    const lookups: string[] = [];
    const c = new PodCache({
      kube: {} as KubeClient,
      log: silentLogger(),
      staleAfterMs: 30_000,
      now: () => now,
      onLookup: (s) => lookups.push(s),
    });
    return { c, lookups, advance: (ms: number) => (now += ms) };
  };

  test("falls back (undefined) until synced, counting lookups", () => {
    const { c, lookups } = idle();
    assert.equal(c.synced, false);
    assert.equal(c.list("ns", ""), undefined);
    assert.equal(c.get("ns", "a"), undefined);
    assert.deepEqual(lookups, ["fallback", "fallback"]);
  });

  test("a bad selector is the parser's LabelSelectorError", () => {
    const { c } = idle();
    // Not synced: undefined before the selector is even looked at (the direct list will 400).
    assert.equal(c.list("ns", "a=("), undefined);
  });

  test("backoff doubles up to the cap, with jitter of half to full", () => {
    assert.equal(
      backoffMs(0, 500, 30_000, () => 1),
      500,
    );
    assert.equal(
      backoffMs(0, 500, 30_000, () => 0),
      250,
    );
    assert.equal(
      backoffMs(3, 500, 30_000, () => 1),
      4000,
    );
    assert.equal(
      backoffMs(20, 500, 30_000, () => 1),
      30_000,
    );
    assert.equal(
      backoffMs(1000, 500, 30_000, () => 0),
      15_000,
    );
  });

  test("LabelSelectorError is what the store's caller sees for bad selectors", () => {
    assert.throws(() => parseLabelSelector("a=("), LabelSelectorError);
  });
});
