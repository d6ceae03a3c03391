/**
 * @module test/node-targets
 * The kubelet source's watched nodes (providers/resource/node-targets.ts) against the local
 * cluster's real kube-apiserver: Node objects created, re-addressed (status subresource),
 * relabelled out of the node selector and deleted show up in what the scraper is handed, as
 * metrics-server's node informer sees them; the scraper takes them from the watch, not from a list
 * each round. The nodes carry a label of their own; no kubelet runs them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import {
  KubeletScraper,
  nodesPath,
  type NodeJson,
} from "../../src/providers/resource/kubelet-scraper.ts";
import { NodeTargets } from "../../src/providers/resource/node-targets.ts";
import { kubectl, testCluster, waitFor } from "../support/cluster.ts";
import { objectList } from "../support/objects.ts";

const T = { timeout: 120_000 };
const LABEL = "kcm-test-node-targets";
const run = `r${String(process.pid)}`;

let info: ClusterInfo;
let kube: KubeClient;
let targets: NodeTargets;

function nodeObject(name: string, ip: string, pool: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { [LABEL]: run, pool } },
    status: { addresses: [{ type: "InternalIP", address: ip }] },
  };
}

async function putNodes(nodes: Record<string, unknown>[]): Promise<void> {
  await kubectl(info, ["apply", "-f", "-"], objectList(nodes));
  // Create drops status; set it through the status subresource.
  await kubectl(info, ["replace", "--subresource=status", "-f", "-"], objectList(nodes));
}

/** name → InternalIP of what the watch holds now. */
function held(): Record<string, string> | undefined {
  const nodes = targets.list();
  if (!nodes) return undefined;
  return Object.fromEntries(
    nodes.map((n: NodeJson) => [n.metadata.name, n.status?.addresses?.[0]?.address ?? ""]),
  );
}

async function expectHeld(want: Record<string, string>): Promise<void> {
  await waitFor(
    `watched nodes ${JSON.stringify(want)}`,
    () => {
      const got = held();
      return Promise.resolve(JSON.stringify(got) === JSON.stringify(want) ? true : undefined);
    },
    20_000,
    50,
  );
}

const name = (i: number) => `kcm-nt-${run}-${String(i)}`;

before(async () => {
  info = await testCluster();
  kube = new KubeClient({ kubeconfig: info.kubeconfig });
  await putNodes([
    nodeObject(name(0), "127.0.9.1", "metrics"),
    nodeObject(name(1), "127.0.9.2", "metrics"),
  ]);
  targets = new NodeTargets({
    kube,
    log: silentLogger(),
    path: nodesPath(`${LABEL}=${run},pool=metrics`),
  });
  targets.start();
});

after(async () => {
  await targets.stop();
  kube.close();
  await kubectl(info, ["delete", "nodes", "-l", `${LABEL}=${run}`, "--wait=false"]).catch(() => "");
});

describe("the kubelet source's watched nodes against the API server", () => {
  test("listed first, then kept up to date by the watch", T, async () => {
    await expectHeld({ [name(0)]: "127.0.9.1", [name(1)]: "127.0.9.2" });
    // A new node of the pool, one of another pool (the selector leaves it out).
    await putNodes([
      nodeObject(name(2), "127.0.9.3", "metrics"),
      nodeObject(name(3), "127.0.9.4", "other"),
    ]);
    await expectHeld({ [name(0)]: "127.0.9.1", [name(1)]: "127.0.9.2", [name(2)]: "127.0.9.3" });
    // A new address (status), a node relabelled out of the selector, a node deleted.
    await putNodes([nodeObject(name(0), "127.0.9.9", "metrics")]);
    await kubectl(info, ["label", "node", name(1), "pool=other", "--overwrite"]);
    await kubectl(info, ["delete", "node", name(2)]);
    await expectHeld({ [name(0)]: "127.0.9.9" });
  });

  test("the scraper is handed the watched nodes", T, async () => {
    await expectHeld({ [name(0)]: "127.0.9.9" });
    // A client whose JSON calls fail: the nodes can only have come from the watch.
    const noList = {
      json: () => Promise.reject(new Error("listed instead of watched")),
    };
    const scraper = new KubeletScraper(
      noList,
      {
        scheme: "http",
        port: 1,
        useNodeStatusPort: false,
        preferredAddressTypes: ["InternalIP"],
        insecureTls: false,
        timeoutMs: 1000,
      },
      targets,
    );
    const nodes = await scraper.listNodes();
    assert.deepEqual(
      nodes.map((n) => n.metadata.name),
      [name(0)],
    );
  });
});
