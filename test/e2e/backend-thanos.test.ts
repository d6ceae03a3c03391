/**
 * @module test/backend-thanos
 * Thanos as the adapter's backend, for real: Thanos Query v0.42.5 (built once from the Go module
 * proxy, test/support/backends.ts) in front of two Prometheus replicas that hold the differential
 * test's series (test/support/differential-corpus.ts), each with the external label `replica`
 * and a Thanos sidecar (gRPC store API), deduplicated with `--query.replica-label=replica`. Our
 * adapter runs on Thanos and on a plain Prometheus with the same data and config: every request
 * of the corpus (custom, external, metrics.k8s.io) must give the same status and JSON through
 * both, discovery documents included, and discovery must go through Thanos' label APIs with
 * `match[]`. Then one replica (its Prometheus and sidecar) is stopped, and the corpus must still
 * give the same answers. Loopback only.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import {
  Cleanup,
  endpoints,
  matchersSent,
  promqlOf,
  startComparison,
  startThanos,
  type Comparison,
  type RunningThanos,
} from "../support/backends.ts";
import { testCluster } from "../support/cluster.ts";
import {
  corpusOpenMetrics,
  createCorpusWorld,
  deleteCorpusWorld,
  differentialCorpus,
  type Answer,
  type CorpusWorld,
  writeCorpusConfig,
} from "../support/differential-corpus.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";

const T = { timeout: 300_000 };

let info: ClusterInfo;
let world: CorpusWorld;
let prom: RunningPrometheus;
let thanos: RunningThanos;
let c: Comparison;

const cleanup = new Cleanup();

before(async () => {
  info = await testCluster();
  world = await createCorpusWorld(info, "kcm-thanos");
  cleanup.defer(() => deleteCorpusWorld(info, world));
  const openMetrics = corpusOpenMetrics(world);
  prom = cleanup.stops(await startPrometheus({ openMetrics }));
  thanos = cleanup.stops(await startThanos({ openMetrics, replicas: 2 }));
  c = cleanup.stops(
    await startComparison({
      world,
      kubeconfig: info.kubeconfig,
      config: writeCorpusConfig(),
      prometheusUrl: prom.url,
      backendUrl: thanos.url,
    }),
  );
});

after(() => cleanup.run());

function assertSame(p: { ref: Answer; got: Answer }, path: string): void {
  const r = `${String(p.ref.status)} ${p.ref.text}`;
  const g = `${String(p.got.status)} ${p.got.text}`;
  if (r === g) return;
  assert.fail(
    [
      `GET ${path}`,
      `on Prometheus: ${r}`,
      `on Thanos: ${g}`,
      `PromQL: ${JSON.stringify(promqlOf(p.got.prom))}`,
      `Thanos:\n${thanos.logs().slice(-5_000)}`,
    ].join("\n"),
  );
}

function corpus(prefix: string): void {
  for (const [name, path, bug] of differentialCorpus) {
    test(`${prefix}${name}`, bug === undefined ? T : { ...T, todo: bug }, async () => {
      const p = path(world);
      assertSame(await c.both(p), p);
    });
  }
}

describe("Thanos: the differential corpus answers as on Prometheus", () => {
  corpus("");
});

describe("Thanos: discovery through its label APIs", () => {
  test("names and label names with match[], never /api/v1/series", T, () => {
    const seen = endpoints(c.gotProxy.requests);
    assert.ok(seen.has("/api/v1/label/__name__/values"), [...seen].join(" "));
    assert.ok(seen.has("/api/v1/labels"), [...seen].join(" "));
    assert.ok(!seen.has("/api/v1/series"), [...seen].join(" "));
    const sent = (r: typeof c.refProxy.requests, e: string) =>
      [...new Set(matchersSent(r, e))].sort();
    for (const e of ["/api/v1/labels", "/api/v1/label/__name__/values"]) {
      assert.deepEqual(sent(c.gotProxy.requests, e), sent(c.refProxy.requests, e), e);
    }
  });

  test("label names carry the external labels, the replica label too", T, async () => {
    const match = encodeURIComponent('{__name__="diff_cpu_load"}');
    const names = async (url: string) => {
      const res = await fetch(`${url}/api/v1/labels?match[]=${match}`);
      return ((await res.json()) as { data: string[] }).data;
    };
    assert.deepEqual(await names(prom.url), ["__name__", "namespace", "pod"]);
    // Harmless unless a rule maps any label to a resource and one is named `replica`
    // (docs/backends.md); the corpus' discovery documents are the same.
    assert.deepEqual(await names(thanos.url), ["__name__", "namespace", "pod", "replica"]);
  });
});

/** An instant query straight to Thanos Query, with extra parameters. */
async function thanosQuery(
  query: string,
  params: Record<string, string> = {},
): Promise<{
  status: number;
  body: {
    status: string;
    data?: { result: { value: [number, string] }[] };
    warnings?: string[];
    error?: string;
  };
}> {
  const res = await fetch(
    `${thanos.url}/api/v1/query?${new URLSearchParams({ query, ...params }).toString()}`,
  );
  return { status: res.status, body: (await res.json()) as never };
}

describe("Thanos: the replica label", () => {
  test(
    "deduplicated by --query.replica-label; without it (dedup=false) sums double",
    T,
    async () => {
      const q = `sum(diff_cpu_load{namespace="${world.ns}",pod="db.0"})`;
      const value = async (params: Record<string, string>) =>
        (await thanosQuery(q, params)).body.data?.result[0]?.value[1];
      assert.equal(await value({}), "2000");
      assert.equal(await value({ dedup: "false" }), "4000");
    },
  );
});

describe("Thanos: one replica lost", () => {
  before(async () => {
    const [lost] = thanos.replicas;
    assert.ok(lost);
    await lost.stop();
    // A few relists (every 2 s) of our adapter after the loss.
    await sleep(5_000);
  });

  test("Thanos answers from the other replica, with a warning (partial response)", T, async () => {
    const q = `sum(diff_cpu_load{namespace="${world.ns}",pod="db.0"})`;
    const { status, body } = await thanosQuery(q);
    assert.equal(status, 200);
    assert.equal(body.status, "success");
    assert.equal(body.data?.result[0]?.value[1], "2000");
    assert.ok(
      body.warnings?.some((w) => w.includes('replica="r0"')),
      JSON.stringify(body.warnings),
    );
    // Without partial responses the lost store fails the query (docs/backends.md).
    const strict = await thanosQuery(q, { partial_response: "false" });
    assert.equal(strict.status, 422, JSON.stringify(strict.body));
    assert.match(strict.body.error ?? "", /replica="r0"/);
  });

  corpus("after losing a replica: ");
});
