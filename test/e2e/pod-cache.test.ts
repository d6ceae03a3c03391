/**
 * @module test/pod-cache
 * The watched pod cache against the local cluster's real kube-apiserver: pods created, relabelled,
 * moved to Running (status subresource) and deleted in a fresh namespace show up in the cache; a
 * watch cut by a TCP proxy makes the cache unusable (callers list directly) after the staleness
 * bound, and it recovers with the changes made meanwhile. Pods are bound to a node that does not
 * exist, so no node agent runs them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { PodCache, type PodCacheEvent } from "../../src/kube/pod-cache.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { freshNamespace, kubectl, testCluster, waitFor } from "../support/cluster.ts";

const T = { timeout: 120_000 };
const NOWHERE_NODE = "kcm-test-nowhere";

let info: ClusterInfo;
let ns: string;
let kube: KubeClient;
let cache: PodCache;
const events: PodCacheEvent[] = [];

function podYaml(name: string, labels: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels },
    spec: { nodeName: NOWHERE_NODE, containers: [{ name: "app", image: "kcm-test/none" }] },
  });
}

async function createPod(name: string, labels: Record<string, string>): Promise<void> {
  await kubectl(info, ["create", "-f", "-"], podYaml(name, labels));
}

const namesIn = (c: PodCache, selector = "", phase?: string) =>
  c.list(ns, selector, phase === undefined ? {} : { phase })?.map((p) => p.name);

/** Waits until the cache lists exactly `want`. */
async function expectNames(c: PodCache, want: string[], selector = "", phase?: string) {
  await waitFor(
    `pods ${JSON.stringify(want)} for ${JSON.stringify(selector)}`,
    () => {
      const got = namesIn(c, selector, phase);
      return Promise.resolve(JSON.stringify(got) === JSON.stringify(want) ? true : undefined);
    },
    20_000,
    50,
  );
}

before(async () => {
  info = await testCluster();
  ns = await freshNamespace(info, "kcm-podcache");
  kube = new KubeClient({ kubeconfig: info.kubeconfig });
  cache = new PodCache({ kube, log: silentLogger(), onEvent: (e) => events.push(e), pageSize: 2 });
  // Some pods before the first list, more than one page of 2.
  for (const n of ["c", "a", "b"]) await createPod(n, { app: "web" });
  cache.start();
  await cache.waitForSync(30_000);
});

after(async () => {
  await cache.stop();
  kube.close();
  await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
});

describe("pod cache against the API server", () => {
  test("the chunked first list has every pod, in the API server's order", T, async () => {
    assert.equal(cache.synced, true);
    assert.deepEqual(events.slice(0, 2), ["list", "watch"]);
    const direct = JSON.parse(
      await kubectl(info, ["get", "--raw", `/api/v1/namespaces/${ns}/pods`]),
    ) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(
      namesIn(cache),
      direct.items.map((i) => i.metadata.name),
    );
    assert.deepEqual(namesIn(cache), ["a", "b", "c"]);
    const a = cache.get(ns, "a");
    assert.deepEqual(a, {
      namespace: ns,
      name: "a",
      labels: { app: "web" },
      phase: "Pending",
      nodeName: NOWHERE_NODE,
    });
    // Every namespace: the other pods of the cluster are there too, in key order.
    const everywhere = cache.list("", "") ?? [];
    const keys = everywhere.map((p) => `${p.namespace}/${p.name}`);
    assert.deepEqual(keys, [...keys].sort());
    assert.ok(keys.includes(`${ns}/a`));
  });

  test("adds, label changes, phase changes and deletes arrive through the watch", T, async () => {
    await createPod("d", { app: "db" });
    await expectNames(cache, ["a", "b", "c", "d"]);
    await expectNames(cache, ["d"], "app=db");
    await kubectl(info, ["-n", ns, "label", "pod", "a", "app=db", "--overwrite"]);
    await expectNames(cache, ["a", "d"], "app=db");
    await expectNames(cache, ["b", "c"], "app in (web),app!=db");
    assert.deepEqual(namesIn(cache, "", "Running"), []);
    await kubectl(info, [
      "-n",
      ns,
      "patch",
      "pod",
      "b",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Running"}}',
    ]);
    await expectNames(cache, ["b"], "", "Running");
    await expectNames(cache, [], "app=db", "Running");
    // No node agent will confirm a graceful delete: force it.
    await kubectl(info, ["-n", ns, "delete", "pod", "c", "--grace-period=0", "--force"]);
    await expectNames(cache, ["a", "b", "d"]);
    assert.equal(cache.get(ns, "c"), null);
  });
});

describe("pod cache through a connection that breaks", () => {
  let proxy: Server;
  let open = true;
  const sockets = new Set<Socket>();
  let cut: PodCache;
  let cutKube: KubeClient;
  const cutEvents: PodCacheEvent[] = [];

  before(async () => {
    const server = new URL(kube.server);
    proxy = createServer((client) => {
      if (!open) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(server.port), server.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), "kcm-podcache-"));
    const file = join(dir, "kubeconfig");
    // The API server's certificate names 127.0.0.1, so TLS passes through the proxy unchanged.
    writeFileSync(
      file,
      readFileSync(info.kubeconfig, "utf8").replaceAll(server.host, `127.0.0.1:${String(port)}`),
    );
    cutKube = new KubeClient({ kubeconfig: file });
    cut = new PodCache({
      kube: cutKube,
      log: silentLogger(),
      staleAfterMs: 500,
      onEvent: (e) => cutEvents.push(e),
    });
    cut.start();
    await cut.waitForSync(30_000);
  });

  after(async () => {
    await cut.stop();
    cutKube.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
  });

  test("stale after the bound while cut off, then caught up from the last version", T, async () => {
    await expectNames(cut, ["a", "b", "d"]);
    open = false;
    for (const s of sockets) s.destroy();
    await waitFor(
      "the cache to turn stale",
      () => Promise.resolve(!cut.usable || undefined),
      20_000,
      50,
    );
    assert.equal(cut.list(ns, ""), undefined, "a stale cache leaves callers to list directly");
    assert.ok(cutEvents.includes("watch-error"));
    await createPod("f", { app: "web" });
    await kubectl(info, ["-n", ns, "delete", "pod", "d", "--grace-period=0", "--force"]);
    open = true;
    // Backoff is at most 30 s; the resumed watch replays what happened meanwhile.
    await waitFor(
      "the cache to recover",
      () => Promise.resolve(cut.usable || undefined),
      60_000,
      50,
    );
    await expectNames(cut, ["a", "b", "f"]);
  });
});
