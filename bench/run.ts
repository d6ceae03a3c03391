/**
 * @module bench/run
 * `npm run bench`: builds the adapter, starts a local cluster on its own ports, runs the selected
 * scenarios side by side with prometheus-adapter v0.12.0 one after the other, writes
 * bench/results.json and bench/RESULTS.md, and stops the cluster.
 *
 * BENCH_SCENARIOS=a,b picks scenarios (default: all); sections of scenarios not run this time are
 * kept from the previous results.json, each with its own date. BENCH_PORT_BASE moves the cluster.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { readClusterInfo } from "../src/harness/cluster.ts";
import { KUBE_VERSION } from "../src/harness/kube-binaries.ts";
import { UPSTREAM_VERSION } from "../test/support/upstream-adapter.ts";
import { discovery } from "./discovery.ts";
import { fleet, fleet10k } from "./fleet.ts";
import { soak } from "./soak.ts";
import { profile, queries } from "./queries.ts";
import { kubeletSource } from "./kubelet-source.ts";
import type { Scenario } from "./scenario.ts";
import { deployedNodeOptions, OUR_BIN, OUR_DIST } from "./support/deployed.ts";

const SCENARIOS: readonly Scenario[] = [
  discovery,
  kubeletSource,
  queries,
  profile,
  fleet,
  fleet10k,
  soak,
];

interface Section {
  readonly date: string;
  readonly machine: string;
  readonly json: unknown;
  readonly markdown: string;
}

const wanted = process.env["BENCH_SCENARIOS"]?.split(",").filter((s) => s !== "");
const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}\n`,
  );
  process.exit(2);
}
// The soak takes an hour: it runs only when named (BENCH_SCENARIOS=soak).
const selected = SCENARIOS.filter((s) => wanted?.includes(s.name) ?? s.name !== "soak");
const portBase = process.env["BENCH_PORT_BASE"] ?? "12000";
const stateDir = mkdtempSync(join(tmpdir(), "kcm-bench-cluster-"));
const cli = (args: string[]) =>
  execFileSync(process.execPath, ["bin/k8s-custom-metrics.js", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
const machine = `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
const previous = existsSync("bench/results.json")
  ? (JSON.parse(readFileSync("bench/results.json", "utf8")) as {
      sections?: Record<string, Section>;
    })
  : {};
const sections: Record<string, Section> = { ...previous.sections };

/**
 * Sections other tools write into RESULTS.md between `<!-- name:begin … -->` and
 * `<!-- name:end -->` (the fault suite, test/chaos/main.ts): kept as they are, after ours.
 */
function keptBlocks(): string[] {
  if (!existsSync("bench/RESULTS.md")) return [];
  const text = readFileSync("bench/RESULTS.md", "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/<!-- ([\w-]+):begin[^>]*-->[\s\S]*?<!-- \1:end -->/g)) {
    out.push(`${m[0]}\n`);
  }
  return out;
}

function write(): void {
  const versions = `Node.js ${process.version}, Kubernetes ${KUBE_VERSION}, k8s-custom-metrics v0.1.0 vs prometheus-adapter ${UPSTREAM_VERSION}, ${execFileSync("prometheus", ["--version"], { encoding: "utf8" }).split("\n")[0] ?? ""}`;
  writeFileSync("bench/results.json", JSON.stringify({ versions, sections }, null, 2) + "\n");
  const body = SCENARIOS.flatMap((s) => {
    const sec = sections[s.name];
    return sec ? [`${sec.markdown.trim()}\n\n_Run ${sec.date} on ${sec.machine}._\n`] : [];
  });
  writeFileSync(
    "bench/RESULTS.md",
    `# Benchmark results\n\n${versions}.\n\n${[...body, ...keptBlocks()].join("\n")}`,
  );
}

// Measure the compiled adapter, laid out and started as the image does (support/deployed.ts);
// tsx's on-the-fly compilation would dominate.
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", OUR_DIST], {
  stdio: "inherit",
});
execFileSync(process.execPath, ["scripts/bundle.mjs", OUR_DIST], { stdio: "inherit" });
mkdirSync(dirname(OUR_BIN), { recursive: true });
copyFileSync("bin/k8s-custom-metrics.js", OUR_BIN);
process.stderr.write(
  `bench: ours runs as NODE_OPTIONS="${deployedNodeOptions()}" node ${OUR_BIN} serve\n`,
);
// An experiment's flags (support/deployed.ts): every section written says so.
const experimentFlags = process.env["BENCH_OUR_NODE_ARGS"]?.trim() ?? "";
const experimentNote =
  experimentFlags === ""
    ? ""
    : `\n_Experiment: ours ran with the extra node flags \`${experimentFlags}\` (BENCH_OUR_NODE_ARGS), not as deployed._\n`;
if (experimentNote !== "")
  process.stderr.write(`bench: extra node flags for ours: ${experimentFlags}\n`);
cli(["local", "up", `--state-dir=${stateDir}`, `--port-base=${portBase}`]);
try {
  const info = await readClusterInfo(stateDir);
  if (!info) throw new Error(`bench: the local cluster in ${stateDir} did not start`);
  for (const s of selected) {
    process.stderr.write(`bench: ${s.name}\n`);
    const r = await s.run({
      info,
      stateDir,
      kubeconfig: join(stateDir, "admin.kubeconfig"),
      log: (line) => process.stderr.write(`  ${s.name}: ${line}\n`),
    });
    sections[s.name] = {
      date: new Date().toISOString(),
      machine,
      ...r,
      markdown: r.markdown + experimentNote,
    };
    write();
    process.stdout.write(r.markdown + "\n");
  }
} finally {
  cli(["local", "down", `--state-dir=${stateDir}`]);
}
