// The test runner. Node 20's --test takes paths, not globs, so this expands the file list.
// Real-process tests (test/**) share one local cluster per run: started here once, before them,
// and stopped at the end whatever happened. test/e2e/teardown/** runs last (it tests `local down`).
//
// Usage: node scripts/test.mjs [--unit] [files...]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const explicit = args.filter((a) => !a.startsWith("--"));
const all = explicit.length > 0 ? explicit : [...walk("src"), ...(unitOnly ? [] : walk("test"))];
const needsCluster = all.some((f) => f.startsWith("test/") || f.startsWith("test\\"));
const last = all.filter((f) => f.includes("teardown"));
const first = all.filter((f) => !last.includes(f));

const cli = ["bin/k8s-custom-metrics.js"];
const stateDir = process.env.K8SCM_TEST_STATE_DIR ?? mkdtempSync(join(tmpdir(), "kcm-test-"));
const env = { ...process.env, K8SCM_TEST_STATE_DIR: stateDir };

function node(argv, opts = {}) {
  return spawnSync(process.execPath, argv, { stdio: "inherit", env, ...opts });
}

function runTests(files) {
  if (files.length === 0) return 0;
  const r = node(["--import", "tsx", "--test", "--test-concurrency=1", ...files]);
  return r.status ?? 1;
}

let status = 0;
if (needsCluster && !process.env.K8SCM_TEST_REUSE_CLUSTER) {
  const up = node(
    [
      ...cli,
      "local",
      "up",
      `--state-dir=${stateDir}`,
      `--port-base=${process.env.K8SCM_TEST_PORT_BASE ?? "26000"}`,
      "--hpa-sync-period=2",
      "--hpa-downscale-stabilization=20",
      "--scrape-interval=2",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (up.status !== 0) {
    console.error(`the local cluster for the tests did not start; logs: ${stateDir}/logs`);
    node([...cli, "local", "down", `--state-dir=${stateDir}`]);
    process.exit(1);
  }
}
try {
  status = runTests(first) || status;
  status = runTests(last) || status;
} finally {
  if (needsCluster && !process.env.K8SCM_TEST_REUSE_CLUSTER) {
    node([...cli, "local", "down", `--state-dir=${stateDir}`], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
}
process.exit(status);
