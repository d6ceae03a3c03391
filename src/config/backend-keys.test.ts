import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "./errors.ts";
import { parseConfig } from "./load.ts";

/** The ConfigError message for a text that must not load. */
function errorOf(text: string): string {
  try {
    parseConfig(text, "adapter.yaml");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

const RULE = `rules:
  - seriesQuery: 'up'
    metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
`;

test("k8sCustomMetrics.server and tenants load as written", () => {
  const cfg = parseConfig(
    `${RULE}    k8sCustomMetrics:
      server: { url: "http://b:9090", headers: { X-A: b }, timeout: 5s }
k8sCustomMetrics:
  tenants: { namespaceLabel: tenant, namespaces: { a: t1 }, default: shared }
`,
    "adapter.yaml",
  );
  assert.equal(cfg.rules?.[0]?.k8sCustomMetrics?.server?.url, "http://b:9090");
  assert.equal(cfg.k8sCustomMetrics?.tenants?.default, "shared");
});

test("a bad server is an error at its line and column", () => {
  const msg = errorOf(`${RULE}    k8sCustomMetrics:
      server: { url: "ftp://b", timeout: 5 min, clientCertFile: /c }
`);
  assert.match(msg, /adapter\.yaml:5:\d+: .*url "ftp:\/\/b" is not an http or https URL/);
  assert.match(msg, /only one of clientCertFile and clientKeyFile/);
  assert.match(msg, /timeout "5 min" is not a Prometheus duration/);
});

test("bad tenants are errors; unknown keys too", () => {
  const msg = errorOf(`${RULE}k8sCustomMetrics:
  tenants: { header: "X Scope", namespaces: { a: "" } }
`);
  assert.match(msg, /tenants\.header "X Scope" is not an HTTP header name/);
  assert.match(msg, /tenants\.namespaces\.a "" cannot be sent as a header value/);
  assert.match(errorOf(`${RULE}k8sCustomMetrics: { tenant: {} }\n`), /tenant/);
});
