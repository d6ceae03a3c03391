/**
 * @module bench/scenario
 * What every benchmark scenario gets and gives back. bench/run.ts starts one local cluster, builds
 * the adapter, runs the selected scenarios one after the other and writes their sections.
 */
import type { ClusterInfo } from "../src/harness/cluster.ts";

export interface BenchContext {
  /** The running local cluster (API server, Prometheus, node agent) the scenario may use. */
  readonly info: ClusterInfo;
  readonly stateDir: string;
  /** Admin kubeconfig of that cluster. */
  readonly kubeconfig: string;
  /** Progress lines for the operator (stderr); results go in the returned section. */
  readonly log: (line: string) => void;
}

export interface ScenarioResult {
  /** Machine-readable figures, written under the scenario's name in bench/results.json. */
  readonly json: unknown;
  /** A markdown section (heading, one-line method, table with ours/upstream ratios). */
  readonly markdown: string;
}

export interface Scenario {
  /** Key in BENCH_SCENARIOS and results.json. */
  readonly name: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
