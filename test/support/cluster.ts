/**
 * @module test/support/cluster
 * Access to the local cluster that scripts/test.mjs starts once per test run.
 */
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { readClusterInfo, type ClusterInfo } from "../../src/harness/cluster.ts";

const exec = promisify(execFile);

export async function testCluster(): Promise<ClusterInfo> {
  const dir = process.env["K8SCM_TEST_STATE_DIR"];
  if (!dir) throw new Error("K8SCM_TEST_STATE_DIR is unset: run the tests with `npm test`");
  const info = await readClusterInfo(dir);
  if (!info) throw new Error(`no local cluster in ${dir}: run the tests with \`npm test\``);
  return info;
}

export async function kubectl(info: ClusterInfo, args: string[], input?: string): Promise<string> {
  const p = exec("kubectl", [`--kubeconfig=${info.kubeconfig}`, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  const { stdout } = await p;
  return stdout;
}

export async function kubectlJson<T>(info: ClusterInfo, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(info, [...args, "-o", "json"])) as T;
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`, {
        cause: last,
      });
    }
    await sleep(intervalMs);
  }
}

export interface PromVectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export async function promQuery(info: ClusterInfo, query: string): Promise<PromVectorSample[]> {
  const url = `${info.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: { result: PromVectorSample[] } };
  if (body.status !== "success") throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** A fresh namespace per test file keeps tests independent on the shared cluster. */
export async function freshNamespace(info: ClusterInfo, prefix: string): Promise<string> {
  const ns = `${prefix}-${Date.now().toString(36)}`;
  await kubectl(info, ["create", "namespace", ns]);
  await waitFor("the namespace's default service account", async () =>
    (await kubectl(info, ["-n", ns, "get", "serviceaccount", "default", "--ignore-not-found"]))
      ? true
      : undefined,
  );
  return ns;
}
