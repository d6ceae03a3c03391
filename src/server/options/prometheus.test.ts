import { test } from "node:test";
import assert from "node:assert/strict";
import { isKcmError } from "../../errors.ts";
import { prometheusFlags, validatePrometheus, type PrometheusFlagValues } from "./prometheus.ts";
import { parseFlags } from "./test-parse.ts";

const validate = (...argv: string[]) =>
  validatePrometheus(parseFlags<PrometheusFlagValues>(prometheusFlags, argv));

test("defaults: prometheus-adapter's URL, GET, 10s; grouping waits 25ms; relist 10m", () => {
  assert.deepEqual(validate(), {
    client: { url: "https://localhost", verb: "GET", headers: {}, timeoutMs: 10_000 },
    grouping: { maxObjects: 256, maxQueryLength: 16384, waitMs: 25 },
    relist: { intervalMs: 600_000, maxAgeMs: 600_000 },
  });
});

test("files and headers reach the client; an empty file flag is no file", () => {
  const c = validate(
    "--prometheus-header=X-Scope-OrgID=a",
    "--prometheus-header",
    "B=c",
    "--prometheus-token-file=",
    "--prometheus-ca-file=/ca.pem",
  ).client;
  assert.deepEqual(c.headers, { "X-Scope-OrgID": "a", B: "c" });
  assert.equal(c.caFile, "/ca.pem");
  assert.equal("bearerTokenFile" in c, false);
});

test("no grouping, no waiting", () => {
  assert.equal(validate("--query-grouping-max-objects=0").grouping.waitMs, 0);
  assert.equal(validate("--query-grouping-wait=0").grouping.waitMs, 0);
});

test("--metrics-max-age below the relist interval is refused", () => {
  assert.throws(
    () => validate("--metrics-max-age=1m", "--metrics-relist-interval=10m"),
    (e: unknown) =>
      isKcmError(e) &&
      e.code === "KCM_ERR_USAGE" &&
      e.message ===
        "--metrics-max-age must be at least --metrics-relist-interval, or metrics would vanish between relists",
  );
  assert.equal(validate("--metrics-max-age=20m").relist.maxAgeMs, 1_200_000);
});

test("a relist interval or Prometheus timeout of zero or less is refused, naming the flag", () => {
  for (const [arg, flag] of [
    ["--metrics-relist-interval=0s", "--metrics-relist-interval"],
    ["--metrics-relist-interval=-5m", "--metrics-relist-interval"],
    ["--prometheus-timeout=0s", "--prometheus-timeout"],
  ] as const) {
    assert.throws(
      () => validate(arg),
      (e: unknown) =>
        isKcmError(e) &&
        e.code === "KCM_ERR_USAGE" &&
        e.message === `${flag} must be longer than 0`,
      arg,
    );
  }
});
