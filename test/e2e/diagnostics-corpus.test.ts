/**
 * @module test/diagnostics-corpus
 * `validate` over the real-world config corpus (test/fixtures/corpus, see
 * test/e2e/config-corpus.test.ts): each config prometheus-adapter v0.12.0 refuses at startup gets at
 * least one error at `file:line:col`, and no config it accepts gets an error (warnings are fine).
 *
 * Which configs upstream refuses was measured with its binary (`adapter --config=FILE` with the
 * local cluster's kubeconfig exits 255 at once with "unable to load metrics discovery config" or
 * "unable to construct naming scheme", and keeps running with every other config); when the
 * cached binary is present, the refusals are measured again here.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatFinding } from "../../src/diagnostics/findings.ts";
import { runValidate } from "../../src/diagnostics/validate.ts";
import { testCluster } from "../support/cluster.ts";
import { upstreamBinaryPath } from "../support/upstream-adapter.ts";

const exec = promisify(execFile);
const DIR = fileURLToPath(new URL("../fixtures/corpus/", import.meta.url));
const ALL = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** The configs prometheus-adapter v0.12.0 refuses to start with, and why. */
const UPSTREAM_REFUSES = new Map<string, string>([
  ["08-pa-docs-sample-config.yaml", "yaml: line 31: did not find expected key"],
  ["21-issue-412-helm-values-as-config.yaml", "yaml: unmarshal errors (rules is a mapping)"],
  ["23-kube-rainbow-infra.yaml", "yaml: line 4: did not find expected key"],
  ["24-prometheus-operator-hpa-duplicate-key.yaml", "yaml: unmarshal errors (duplicate key)"],
  ["26-kubecon-eu-2018-demo.yaml", "label template without {{.Resource}}"],
  ["31-kubernetes-autoscaler-values-as-config.yaml", "yaml: unmarshal errors (unknown field)"],
  ["32-hpa-with-custom-metrics-bad-indent.yaml", "yaml: line 12: did not find expected key"],
]);

describe("validate over the real-world config corpus", { timeout: 300_000 }, () => {
  test("the corpus holds every config named here", () => {
    for (const f of UPSTREAM_REFUSES.keys()) assert.ok(ALL.includes(f), f);
    assert.ok(ALL.length >= 30, String(ALL.length));
  });

  for (const file of ALL) {
    const refused = UPSTREAM_REFUSES.get(file);
    test(`${file}: ${refused === undefined ? "no error (upstream starts)" : `an error at file:line:col (upstream: ${refused})`}`, async () => {
      const path = join("test/fixtures/corpus", file);
      const r = await runValidate({ configPath: path, maxAgeMs: 600_000, maxQueriesPerRule: 1 });
      const errors = r.findings.filter((f) => f.severity === "error");
      const lines = errors.map(formatFinding);
      if (refused === undefined) {
        assert.deepEqual(lines, [], "a config upstream accepts gets no error");
        return;
      }
      assert.ok(errors.length > 0, "a config upstream refuses gets an error");
      for (const e of errors) {
        assert.ok(
          e.line !== undefined && e.line > 0 && e.col !== undefined && e.col > 0,
          formatFinding(e),
        );
      }
      assert.match(
        lines[0] ?? "",
        new RegExp(`^test/fixtures/corpus/${file.replace(/\./g, "\\.")}:\\d+:\\d+: error: `),
      );
    });
  }

  const binary = upstreamBinaryPath();
  test(
    "upstream's binary refuses exactly these at startup (when it is cached)",
    { skip: existsSync(binary) ? false : `no cached prometheus-adapter at ${binary}` },
    async () => {
      const info = await testCluster();
      const kc = info.kubeconfig;
      for (const file of UPSTREAM_REFUSES.keys()) {
        let stderr = "";
        let code = 0;
        try {
          await exec(
            binary,
            [
              `--config=${join(DIR, file)}`,
              "--prometheus-url=http://127.0.0.1:9",
              `--lister-kubeconfig=${kc}`,
              `--authentication-kubeconfig=${kc}`,
              `--authorization-kubeconfig=${kc}`,
              "--secure-port=0",
              `--cert-dir=${join(info.stateDir, "upstream-refusal-certs")}`,
            ],
            { timeout: 20_000 },
          );
        } catch (e) {
          const x = e as { code?: number | string; stderr?: string; killed?: boolean };
          assert.notEqual(x.killed, true, `${file}: upstream kept running`);
          code = typeof x.code === "number" ? x.code : -1;
          stderr = x.stderr ?? "";
        }
        assert.notEqual(code, 0, file);
        assert.match(
          stderr,
          /unable to load metrics discovery config|unable to construct naming scheme/,
          `${file}: ${stderr.slice(-400)}`,
        );
      }
    },
  );
});
