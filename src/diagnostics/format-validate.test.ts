import { test } from "node:test";
import assert from "node:assert/strict";
import { formatValidateText } from "./format-validate.ts";
import type { ValidateReport } from "./validate.ts";

const report: ValidateReport = {
  file: "c.yaml",
  online: true,
  prometheusUrl: "http://prom:9090",
  findings: [
    {
      severity: "warning",
      check: "query",
      file: "c.yaml",
      line: 6,
      col: 19,
      message: "rules[0].metricsQuery … keep <<.GroupBy>>",
    },
  ],
  rules: [
    {
      rule: "rules[0]",
      line: 2,
      col: 5,
      seriesQuery: '{__name__=~"^http_.*"}',
      series: 12,
      names: 2,
      kept: 2,
      jobs: ["app"],
      notQueried: 1,
      metrics: [
        {
          metric: "http_requests",
          seriesName: "http_requests_total",
          resources: ["namespaces", "pods"],
          queried: true,
          example: { object: "pods ns/p-1", query: "q1", samples: 1, forObject: 1, value: 0.25 },
        },
        {
          metric: "http_errors",
          seriesName: "http_errors_total",
          resources: ["pods"],
          queried: true,
          example: { object: "pods ns/p-1", query: "q2", samples: 2, forObject: 0 },
        },
        {
          metric: "http_bad",
          seriesName: "http_bad_total",
          resources: ["pods"],
          queried: true,
          example: { object: "pods ns/p-1", query: "q3", error: "parse error" },
        },
        { metric: "http_more", seriesName: "http_more_total", resources: ["pods"], queried: false },
      ],
    },
  ],
  counts: { errors: 0, warnings: 1 },
};

test("online output: findings, then each rule with its example queries, then the summary", () => {
  assert.equal(
    formatValidateText(report),
    [
      "c.yaml:6:19: warning: rules[0].metricsQuery … keep <<.GroupBy>>",
      "",
      'rules[0] (c.yaml:2:5) {__name__=~"^http_.*"}',
      "  12 series selected, 2 names; 2 kept by seriesFilters and name.matches; 4 metrics",
      "  resources: namespaces, pods",
      "    ✓ http_requests for pods ns/p-1: 1 sample, value 0.25",
      "        q1",
      "    ! http_errors for pods ns/p-1: 2 samples, 0 for the object",
      "        q2",
      "    ✗ http_bad for pods ns/p-1: parse error",
      "        q3",
      "    … 1 more metric not queried (--max-queries-per-rule)",
      "",
      "c.yaml: 0 errors, 1 warning (rules run against http://prom:9090)",
      "",
    ].join("\n"),
  );
});
