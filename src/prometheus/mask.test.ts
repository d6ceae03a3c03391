import assert from "node:assert/strict";
import { test } from "node:test";
import { isSecretHeader, maskHeaders } from "./mask.ts";

test("credentials are masked, tenant and plain headers are shown", () => {
  assert.deepEqual(
    maskHeaders({
      Authorization: "Bearer s3cr3t",
      "X-Scope-OrgID": "team-a",
      "X-Api-Key": "k",
      "X-Grafana-Token": "t",
      cookie: "a=b",
      "X-Rule-Server": "b",
      "Proxy-Authorization": "Basic dXNlcjpwYXNz",
    }),
    {
      Authorization: "Bearer ***",
      "X-Scope-OrgID": "team-a",
      "X-Api-Key": "***",
      "X-Grafana-Token": "***",
      cookie: "***",
      "X-Rule-Server": "b",
      "Proxy-Authorization": "Basic ***",
    },
  );
  assert.equal(isSecretHeader("x-scope-orgid"), false);
  assert.equal(isSecretHeader("X-Client-Secret"), true);
});
