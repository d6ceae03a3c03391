/**
 * @module providers/prometheus/custom-provider.test
 * What a `*` request answers when the adapter's own RBAC may not list the objects a rule names:
 * a 500 whose message names the missing ClusterRole rule (no user name, no address), and an error
 * log line that also names the user. prometheus-adapter answers a bare `unable to list matching
 * resources` (pkg/custom-provider/provider.go, GetMetricBySelector); the prefix is kept.
 */
import { StatusError } from "../../apimachinery/status.ts";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { KubeApiError, KubeClient } from "../../kube/client.ts";
import { RestMapper, type ResourceInfo } from "../../kube/rest-mapper.ts";
import type { ResourceConverter } from "../../naming/resource-label.ts";
import { createLogger } from "../../observability/logger.ts";
import { createMetricNamer } from "../../naming/name-as.ts";
import { FakePrometheus } from "../../prometheus/fake-prometheus.ts";
import { PrometheusCustomProvider } from "./custom-provider.ts";
import { CustomRegistry } from "./registry.ts";
import { compileQueryTemplate, type CompiledRule } from "./rules.ts";

const SA = "system:serviceaccount:custom-metrics:k8s-custom-metrics";
const DEPLOYMENTS = { group: "apps", resource: "deployments" };
const NODES = { group: "", resource: "nodes" };
const INFO = { groupResource: DEPLOYMENTS, namespaced: true, metric: "replicas_ready" };
const NODE_INFO = { groupResource: NODES, namespaced: false, metric: "load" };

const resources: ResourceInfo[] = [
  {
    group: "apps",
    version: "v1",
    resource: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    verbs: ["list"],
  },
  {
    group: "",
    version: "v1",
    resource: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    verbs: ["list"],
  },
];

const labels: ResourceConverter = {
  resourcesForLabels: () => ({ resources: [], namespaced: true }),
  unresolvedOverrides: () => [],
  labelForResource: (gr) => (gr.resource === "nodes" ? "node" : "deployment"),
};

function rule(): CompiledRule {
  return {
    origin: "rules[0]",
    seriesQuery: "",
    filters: [],
    namer: createMetricNamer({}),
    resources: labels,
    metricsQuery: compileQueryTemplate(
      "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      "metrics-query",
    ),
    namespaced: true,
  };
}

/** kube-apiserver's Status for an RBAC denial of a list. */
function forbidden(user: string, gr: string, resource: string, group: string, ns?: string) {
  const where =
    ns === undefined ? "at the cluster scope" : `in the namespace ${JSON.stringify(ns)}`;
  return new KubeApiError(
    403,
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `${gr} is forbidden: User ${JSON.stringify(user)} cannot list resource ${JSON.stringify(resource)} in API group ${JSON.stringify(group)} ${where}`,
      reason: "Forbidden",
      details: { group, kind: resource },
      code: 403,
    }),
    "GET /apis/apps/v1/namespaces/demo/deployments",
  );
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A kubeconfig for an API server never reached: every call of the client below is stubbed. */
function unreachableKubeconfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), "kcm-custom-provider-")), "kubeconfig");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  return file;
}

/** The Kubernetes client with its one request answered by `error`. */
class FailingKube extends KubeClient {
  readonly #error: Error;
  constructor(error: Error) {
    super({ kubeconfig: unreachableKubeconfig() });
    this.#error = error;
  }
  override json<T>(): Promise<T> {
    return Promise.reject(this.#error);
  }
}

/** A provider whose object lists fail with `error`; the log lines are collected. */
function provider(error: Error) {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n"))
        if (l !== "") lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const registry = new CustomRegistry();
  registry.add(DEPLOYMENTS, true, "replicas_ready", { seriesName: "ready", rule: rule() });
  registry.add(NODES, false, "load", { seriesName: "node_load", rule: rule() });
  const prometheus = new FakePrometheus();
  const p = new PrometheusCustomProvider({
    prometheus,
    mapper: RestMapper.fromResources(resources),
    kube: new FailingKube(error),
    registry: () => registry,
    log: createLogger(0, sink),
  });
  return { p, lines, queries: prometheus.queries };
}

async function statusOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (e instanceof StatusError) return e.status;
    throw e;
  }
  throw new Error("expected a StatusError");
}

describe("PrometheusCustomProvider: the adapter may not list the objects", () => {
  test("403: the Status names the missing ClusterRole rule, not the user", async () => {
    const { p, lines, queries } = provider(
      forbidden(SA, "deployments.apps", "deployments", "apps", "demo"),
    );
    const status = await statusOf(p.getMetricBySelector("demo", "app=web", INFO, []));
    const reason =
      'unable to list matching resources: the adapter\'s ServiceAccount may not list "deployments.apps"; grant it the ClusterRole rule {apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}';
    assert.deepEqual(status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `Internal error occurred: ${reason}`,
      reason: "InternalError",
      details: { causes: [{ message: reason }] },
      code: 500,
    });
    assert.doesNotMatch(JSON.stringify(status), /system:serviceaccount|namespaces\/demo/);
    assert.deepEqual(queries, [], "no query without objects");

    // The log line says the same, with the user and the namespace.
    const errors = lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1);
    const line = errors[0];
    assert.ok(line);
    assert.equal(
      line.msg,
      `unable to list matching resources: the adapter's ServiceAccount "${SA}" may not list "deployments.apps" in namespace "demo"; grant it the ClusterRole rule {apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}`,
    );
    assert.equal(line["user"], SA);
    assert.equal(line["group"], "apps");
    assert.equal(line["resource"], "deployments");
    assert.equal(line["namespace"], "demo");
    assert.equal(
      line["rule"],
      '{apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}',
    );
    assert.match(String(line["err"]), /HTTP 403: deployments\.apps is forbidden: User /);
  });

  test("403 on a cluster-scoped resource: core group, no namespace", async () => {
    const { p, lines } = provider(forbidden(SA, "nodes", "nodes", ""));
    const status = await statusOf(p.getMetricBySelector("", "", NODE_INFO, []));
    assert.equal(
      status.message,
      'Internal error occurred: unable to list matching resources: the adapter\'s ServiceAccount may not list "nodes"; grant it the ClusterRole rule {apiGroups: [""], resources: ["nodes"], verbs: ["list"]}',
    );
    const line = lines.find((l) => l.level === 50);
    assert.ok(line);
    assert.equal(line["namespace"], "");
    assert.match(line.msg, /may not list "nodes"; grant it/);
  });

  test("any other failure keeps the bare message, and no address reaches the client", async () => {
    const { p, lines } = provider(new Error("connect ECONNREFUSED 10.96.0.1:443"));
    const status = await statusOf(p.getMetricBySelector("demo", "", INFO, []));
    assert.equal(status.code, 500);
    assert.equal(status.message, "Internal error occurred: unable to list matching resources");
    assert.doesNotMatch(JSON.stringify(status), /10\.96|ECONNREFUSED/);
    const line = lines.find((l) => l.level === 50);
    assert.ok(line);
    assert.equal(line.msg, "unable to list matching resource names");
    assert.match(String(line["err"]), /ECONNREFUSED/);
  });
});
