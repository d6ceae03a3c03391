import assert from "node:assert/strict";
import { test } from "node:test";
import { PrometheusError } from "../../prometheus/errors.ts";
import { isOutage, LastGood, ThrottledLog } from "./last-good.ts";
import { withMaxSampleAge } from "./sample-age.ts";

test("a last good value is handed back only while young enough", () => {
  const c = new LastGood<number>();
  c.put("a", 1, 1000, 0);
  assert.deepEqual(c.get("a", 1000), { value: 1, at: 0 });
  assert.equal(c.get("a", 1001), undefined);
  assert.equal(c.size, 0);
});

test("the cache is bounded; the oldest entries go first", () => {
  const c = new LastGood<number>(3);
  for (let i = 0; i < 5; i++) c.put(String(i), i, 10_000, i);
  assert.equal(c.size, 3);
  assert.equal(c.get("0", 5), undefined);
  assert.equal(c.get("4", 5)?.value, 4);
});

test("outages: unreachable, timeouts, 5xx; not a bad query", () => {
  const err = (d: ConstructorParameters<typeof PrometheusError>[1]) => new PrometheusError("x", d);
  const wrapped = (e: Error) => new Error("unable to fetch metrics", { cause: e });
  assert.equal(isOutage(wrapped(err({ kind: "unreachable", endpoint: "/q" }))), true);
  assert.equal(isOutage(err({ kind: "timeout", endpoint: "/q" })), true);
  assert.equal(isOutage(err({ kind: "bad_response", endpoint: "/q", httpStatus: 503 })), true);
  assert.equal(isOutage(err({ kind: "bad_response", endpoint: "/q", httpStatus: 404 })), false);
  assert.equal(isOutage(err({ kind: "api_error", endpoint: "/q", errorType: "bad_data" })), false);
  assert.equal(isOutage(err({ kind: "api_error", endpoint: "/q", errorType: "timeout" })), true);
  assert.equal(isOutage(new Error("other")), false);
});

test("the outage log speaks once per interval and key", () => {
  const l = new ThrottledLog(100);
  assert.equal(l.take("r", 0), true);
  assert.equal(l.take("r", 50), false);
  assert.equal(l.take("s", 50), true);
  assert.equal(l.take("r", 100), true);
});

test("maxSampleAge wraps the query per object (custom) or as a whole (external)", () => {
  assert.equal(
    withMaxSampleAge("sum(x) by (<<.GroupBy>>) # note", 90_000, "custom"),
    "(\nsum(x) by (<<.GroupBy>>) # note\n) and on(<<.GroupBy>>) (\nmax by (<<.GroupBy>>) (timestamp(<<.Series>>{<<.LabelMatchers>>})) > time() - 90\n)",
  );
  assert.match(
    withMaxSampleAge("sum(x)", 1500, "external"),
    /and on\(\) \(\nmax\(timestamp\(<<\.Series>>\{<<\.LabelMatchers>>\}\)\) > time\(\) - 1\.5\n\)$/,
  );
  assert.equal(withMaxSampleAge(" ", 1000, "custom"), " ");
});
