import { test } from "node:test";
import assert from "node:assert/strict";
import { createCa } from "../pki/pki.ts";
import { judgeAggregationLayer } from "./aggregation-layer.ts";

const now = new Date();

test("a configured aggregation layer passes, naming the CA and headers", async () => {
  const ca = await createCa("front-proxy-ca");
  const checks = judgeAggregationLayer(
    {
      "client-ca-file": ca.certPem,
      "requestheader-client-ca-file": ca.certPem,
      "requestheader-username-headers": '["X-Remote-User"]',
      "requestheader-group-headers": '["X-Remote-Group"]',
      "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
      "requestheader-allowed-names": '["front-proxy-client"]',
    },
    undefined,
    now,
  );
  assert.equal(checks.length, 1);
  assert.equal(checks[0]?.status, "ok");
  assert.match(
    checks[0].title,
    /CN=front-proxy-ca .* user headers X-Remote-User, group headers X-Remote-Group, allowed names front-proxy-client/,
  );
});

test("no requestheader CA: the aggregation layer is off", () => {
  const [c] = judgeAggregationLayer({ "client-ca-file": "x" }, undefined, now);
  assert.equal(c?.status, "fail");
  assert.equal(c.kind, "no-requestheader-ca");
  assert.match(c.fix ?? "", /--requestheader-client-ca-file/);
});

test("header names missing, an expired CA, an unreadable ConfigMap", async () => {
  const ca = await createCa("front-proxy-ca", 1);
  const later = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  const checks = judgeAggregationLayer(
    { "requestheader-client-ca-file": ca.certPem, "requestheader-username-headers": "[]" },
    undefined,
    later,
  );
  assert.deepEqual(
    checks.map((c) => c.kind),
    ["no-requestheader-headers", "requestheader-ca-expired"],
  );
  const [c] = judgeAggregationLayer(undefined, "GET …: HTTP 403: forbidden", now);
  assert.equal(c?.kind, "configmap-unreadable");
  assert.equal(c.cause, "GET …: HTTP 403: forbidden");
});
