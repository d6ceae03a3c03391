/**
 * @module test/max-in-flight
 * `--max-requests-inflight`: the adapter as a real process in front of a real Prometheus whose
 * queries a loopback proxy holds for 2 s (discovery passes straight through). With a limit of 2,
 * five concurrent requests get two answers and three 429s in the generic apiserver's words with
 * `Retry-After: 1`; once the two are done, requests are served again. Without the limit all five
 * wait and are answered.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startAdapter, type RunningAdapter } from "../support/adapter.ts";
import { testCluster } from "../support/cluster.ts";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries } from "../support/series.ts";

const CONFIG = fileURLToPath(new URL("../fixtures/adapter-config.yaml", import.meta.url));
const PATH = "/apis/external.metrics.k8s.io/v1beta1/namespaces/inflight/ext_queue_depth";
const HOLD_MS = 2_000;

let prom: RunningPrometheus;
let proxy: { url: string; close(): Promise<void> };
let kubeconfig: string;
/** Stopped in reverse by after() (before() may fail halfway). */
const started: { stop(): Promise<void> }[] = [];

/** Forwards to Prometheus; instant queries are held for HOLD_MS first. */
async function holdingProxy(target: string) {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const forward = () => {
      const up = httpRequest(
        { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    if (req.url?.startsWith("/api/v1/query")) setTimeout(forward, HOLD_MS);
    else forward();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function get(a: RunningAdapter) {
  const res = await fetch(`${a.url}${PATH}`, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
}

before(async () => {
  kubeconfig = (await testCluster()).kubeconfig;
  prom = await startPrometheus({
    openMetrics: constantSeries([["ext_queue_depth", { namespace: "inflight", queue: "q" }, "7"]]),
  });
  started.push(prom);
  proxy = await holdingProxy(prom.url);
  started.push({ stop: () => proxy.close() });
});

after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function adapter(extraArgs: string[]) {
  const a = await startAdapter({
    prometheusUrl: proxy.url,
    kubeconfig,
    config: CONFIG,
    maxAge: "1h",
    extraArgs,
  });
  started.push(a);
  return a;
}

test("past --max-requests-inflight, 429 with Retry-After: 1; served again once there is room", async () => {
  const a = await adapter(["--max-requests-inflight=2"]);
  const first = [get(a), get(a)];
  // The two are held at Prometheus; three more arrive meanwhile.
  await sleep(300);
  const refused = await Promise.all([get(a), get(a), get(a)]);
  for (const r of refused) {
    assert.equal(r.status, 429, r.text);
    assert.equal(r.retryAfter, "1");
    assert.equal(r.text, "Too many requests, please try again later.\n");
  }
  const served = await Promise.all(first);
  assert.deepEqual(
    served.map((r) => r.status),
    [200, 200],
  );
  assert.match(served[0]?.text ?? "", /"value":"7"/);
  // The places were given back.
  const again = await Promise.all([get(a), get(a)]);
  assert.deepEqual(
    again.map((r) => r.status),
    [200, 200],
  );
});

test("with --max-requests-inflight=0 nothing is refused", async () => {
  const a = await adapter(["--max-requests-inflight=0"]);
  const all = await Promise.all([get(a), get(a), get(a), get(a), get(a)]);
  assert.deepEqual(
    all.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
});

test("a negative or non-numeric limit stops the adapter at once", async () => {
  await assert.rejects(
    adapter(["--max-requests-inflight=-1"]),
    /max-requests-inflight.*expected a non-negative integer/s,
  );
});
