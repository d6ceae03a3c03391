import { test } from "node:test";
import assert from "node:assert/strict";
import { doctorExitCode, formatChecks, formatChecksJson, type Check } from "./checks.ts";

const checks: Check[] = [
  { section: "APIServices", status: "ok", title: "v1beta2.custom.metrics.k8s.io: Available" },
  {
    section: "APIServices",
    status: "fail",
    kind: "tls-unknown-authority",
    title: "v1beta1.custom.metrics.k8s.io: not Available",
    cause: "wrong caBundle",
    fix: "set spec.caBundle",
  },
  { section: "HPAs", status: "skip", title: "no HorizontalPodAutoscaler" },
  { section: "adapter", status: "warn", title: "certificate expires in 3 days" },
];

test("the checklist groups lines by section with ✓ ✗ ! - and indents cause and fix", () => {
  assert.equal(
    formatChecks(checks),
    [
      "APIServices",
      "  ✓ v1beta2.custom.metrics.k8s.io: Available",
      "  ✗ v1beta1.custom.metrics.k8s.io: not Available",
      "      cause: wrong caBundle",
      "      fix: set spec.caBundle",
      "HPAs",
      "  - no HorizontalPodAutoscaler",
      "adapter",
      "  ! certificate expires in 3 days",
      "",
      "1 of 3 checks failed, 1 warning",
      "",
    ].join("\n"),
  );
  assert.match(
    formatChecks(checks.filter((c) => c.status !== "fail")),
    /all 1 checks passed, 1 warning\n$/,
  );
});

test("any ✗ makes the exit code 1; JSON carries every check and a summary", () => {
  assert.equal(doctorExitCode(checks), 1);
  assert.equal(doctorExitCode(checks.filter((c) => c.status !== "fail")), 0);
  const parsed = JSON.parse(formatChecksJson(checks)) as {
    checks: Check[];
    summary: Record<string, number>;
  };
  assert.equal(parsed.checks.length, 4);
  assert.deepEqual(parsed.summary, { passed: 1, failed: 1, warnings: 1, skipped: 1 });
});
