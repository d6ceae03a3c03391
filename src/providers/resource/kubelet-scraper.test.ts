import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, describe, test } from "node:test";
import type { KubeJson } from "../../kube/client.ts";
import { createCa, issue } from "../../pki/pki.ts";
import {
  KubeletScraper,
  NODE_PAGE_SIZE,
  RESOURCE_METRICS_PATH_ANNOTATION,
  kubeletUrl,
  scrapeTarget,
  type KubeletOptions,
  type NodeJson,
} from "./kubelet-scraper.ts";

const BODY = [
  "node_cpu_usage_seconds_total 10 1000",
  "node_memory_working_set_bytes 20 1000",
  'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} 1 1000',
  'container_memory_working_set_bytes{container="c",namespace="ns",pod="p"} 2 1000',
].join("\n");

const base: KubeletOptions = {
  scheme: "https",
  port: 10250,
  useNodeStatusPort: false,
  preferredAddressTypes: ["InternalIP"],
  insecureTls: false,
  timeoutMs: 2000,
};

function nodeAt(port: number, annotations?: Record<string, string>): NodeJson {
  return {
    metadata: { name: "n", ...(annotations ? { annotations } : {}) },
    status: {
      addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Only listNodes talks to the API server; it records the paths asked for. */
function fakeKube(paths: string[]): KubeJson {
  return {
    json: (_method: string, path: string) => {
      paths.push(path);
      return Promise.resolve({ items: [] });
    },
  };
}

describe("the metrics path annotation (metrics-server's client.go)", () => {
  test("a node's metrics.k8s.io/resource-metrics-path replaces /metrics/resource", () => {
    const url = kubeletUrl(
      nodeAt(1, { [RESOURCE_METRICS_PATH_ANNOTATION]: "/metrics/resource/v1alpha1" }),
      { ...base, useNodeStatusPort: true },
    );
    assert.equal(String(url), "https://127.0.0.1:1/metrics/resource/v1alpha1");
  });

  test("it is only ever a path: it cannot name another host, a query or a fragment", () => {
    for (const path of ["@evil.example/x", "//evil.example/x", "x?y=1#z", "/a/../../b"]) {
      const url = kubeletUrl(nodeAt(1, { [RESOURCE_METRICS_PATH_ANNOTATION]: path }), {
        ...base,
        useNodeStatusPort: true,
      });
      assert.ok(url instanceof URL);
      assert.equal(url.host, "127.0.0.1:1", path);
      assert.equal(url.search, "", path);
      assert.equal(url.hash, "", path);
    }
  });
});

describe("--node-selector", () => {
  test("only the nodes the selector picks are listed, as metrics-server trims and reads it", async () => {
    const paths: string[] = [];
    await new KubeletScraper(fakeKube(paths), base).listNodes();
    await new KubeletScraper(fakeKube(paths), { ...base, nodeSelector: "  " }).listNodes();
    await new KubeletScraper(fakeKube(paths), {
      ...base,
      nodeSelector: " pool=metrics,zone!=b ",
    }).listNodes();
    assert.deepEqual(paths, [
      `/api/v1/nodes?limit=${String(NODE_PAGE_SIZE)}`,
      `/api/v1/nodes?limit=${String(NODE_PAGE_SIZE)}`,
      `/api/v1/nodes?labelSelector=pool%3Dmetrics%2Czone!%3Db&limit=${String(NODE_PAGE_SIZE)}`,
    ]);
  });
});

describe("watched nodes", () => {
  test("the watched nodes when they can be used, else a list from the API server", async () => {
    const paths: string[] = [];
    let watched: NodeJson[] | undefined = [{ metadata: { name: "w" } }];
    const s = new KubeletScraper(fakeKube(paths), base, { list: () => watched });
    assert.deepEqual(
      (await s.listNodes()).map((n) => n.metadata.name),
      ["w"],
    );
    assert.deepEqual(paths, []);
    // Not synced yet, or the watch broken past its bound: listed directly.
    watched = undefined;
    await s.listNodes();
    assert.deepEqual(paths, [`/api/v1/nodes?limit=${String(NODE_PAGE_SIZE)}`]);
  });
});

describe("the node list each round", () => {
  /** A Node as the API server gives it: far more than a scrape reads. */
  function fullNode(i: number): unknown {
    return {
      metadata: {
        name: `n${String(i)}`,
        labels: { "kubernetes.io/hostname": `n${String(i)}` },
        annotations: {
          "node.alpha.kubernetes.io/ttl": "0",
          ...(i === 1 ? { [RESOURCE_METRICS_PATH_ANNOTATION]: "/metrics/resource/v1alpha1" } : {}),
        },
        managedFields: [{ manager: "kubelet" }],
      },
      spec: { podCIDR: "10.0.0.0/24" },
      status: {
        addresses: [
          { type: "InternalIP", address: `10.0.0.${String(i)}` },
          { type: "Hostname", address: `n${String(i)}` },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 + i } },
        images: [{ names: ["registry.example.com/app@sha256:00"], sizeBytes: 1 }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    };
  }

  test("is read page by page, following continue, the selector on every page", async () => {
    const paths: string[] = [];
    const pages = new Map<string, { continue: string; items: number[] }>([
      ["", { continue: "tok/en+1", items: [0, 1] }],
      ["tok/en+1", { continue: "t2", items: [2] }],
      ["t2", { continue: "", items: [3] }],
    ]);
    const kube: KubeJson = {
      json: (_method: string, path: string) => {
        paths.push(path);
        const q = new URL(path, "https://api").searchParams;
        const page = pages.get(q.get("continue") ?? "");
        if (!page) return Promise.reject(new Error(`unexpected ${path}`));
        return Promise.resolve({
          metadata: page.continue === "" ? {} : { continue: page.continue },
          items: page.items.map(fullNode),
        });
      },
    };
    const nodes = await new KubeletScraper(kube, { ...base, nodeSelector: "a=b" }).listNodes();
    assert.deepEqual(
      nodes.map((n) => n.metadata.name),
      ["n0", "n1", "n2", "n3"],
    );
    const limit = `labelSelector=a%3Db&limit=${String(NODE_PAGE_SIZE)}`;
    assert.deepEqual(paths, [
      `/api/v1/nodes?${limit}`,
      `/api/v1/nodes?${limit}&continue=tok%2Fen%2B1`,
      `/api/v1/nodes?${limit}&continue=t2`,
    ]);
  });

  test("keeps of each node only what its scrape reads, and the same URL comes of it", async () => {
    const kube: KubeJson = {
      json: () => Promise.resolve({ metadata: {}, items: [fullNode(0), fullNode(1)] }),
    };
    const nodes = await new KubeletScraper(kube, base).listNodes();
    assert.deepEqual(nodes[1], {
      metadata: {
        name: "n1",
        annotations: { [RESOURCE_METRICS_PATH_ANNOTATION]: "/metrics/resource/v1alpha1" },
      },
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.1" },
          { type: "Hostname", address: "n1" },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10251 } },
      },
    });
    assert.deepEqual(nodes[0]?.metadata, { name: "n0" });
    const o = { ...base, useNodeStatusPort: true };
    for (const [i, n] of nodes.entries()) {
      assert.equal(String(kubeletUrl(n, o)), String(kubeletUrl(fullNode(i) as NodeJson, o)));
    }
    assert.deepEqual(scrapeTarget({ metadata: { name: "bare" } }), {
      metadata: { name: "bare" },
      status: { addresses: [] },
    });
  });
});

describe("HTTPS to kubelets", () => {
  let dir: string;
  let kubeconfig: string;
  let clientCert: string;
  let clientKey: string;
  let caFile: string;
  let port: number;
  let server: Server;
  const seen: { cn: string; auth: string }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kcm-kubelet-scraper-"));
    const ca = await createCa("test-ca");
    const serving = await issue(ca, {
      commonName: "kubelet",
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    const fromKubeconfig = await issue(ca, { commonName: "kubeconfig-user", usage: "client" });
    const own = await issue(ca, { commonName: "kubelet-client", usage: "client" });
    caFile = join(dir, "ca.crt");
    clientCert = join(dir, "client.crt");
    clientKey = join(dir, "client.key");
    kubeconfig = join(dir, "kubeconfig");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    await writeFile(caFile, ca.certPem);
    await writeFile(clientCert, own.certPem);
    await writeFile(clientKey, own.keyPem);
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: c",
        "clusters:",
        "- name: k",
        "  cluster:",
        "    server: https://127.0.0.1:1",
        `    certificate-authority-data: ${b64(ca.certPem)}`,
        "users:",
        "- name: u",
        "  user:",
        `    client-certificate-data: ${b64(fromKubeconfig.certPem)}`,
        `    client-key-data: ${b64(fromKubeconfig.keyPem)}`,
        "    token: the-token",
        "contexts:",
        "- name: c",
        "  context: {cluster: k, user: u}",
        "",
      ].join("\n"),
    );
    server = createHttpsServer(
      { cert: serving.certPem, key: serving.keyPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push({ cn: String(peer.subject.CN), auth: req.headers.authorization ?? "" });
        res.end(BODY);
      },
    );
    port = await listen(server);
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the kubeconfig's certificate and token by default", async () => {
    const s = new KubeletScraper(fakeKube([]), { ...base, kubeconfig, port });
    const b = await s.scrape(nodeAt(0));
    s.close();
    assert.equal(b.node?.cpuNs, 10e9);
    assert.deepEqual(seen.pop(), { cn: "kubeconfig-user", auth: "Bearer the-token" });
  });

  test("--kubelet-client-certificate/--kubelet-client-key replace the certificate; the token stays", async () => {
    const s = new KubeletScraper(fakeKube([]), {
      ...base,
      kubeconfig,
      port,
      clientCertFile: clientCert,
      clientKeyFile: clientKey,
      caFile,
    });
    await s.scrape(nodeAt(0));
    s.close();
    assert.deepEqual(seen.pop(), { cn: "kubelet-client", auth: "Bearer the-token" });
  });
});

test("--kubelet-request-timeout bounds the whole request, a body that trickles in too", async () => {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200);
    const t = setInterval(() => res.write("# still going\n"), 50);
    res.on("close", () => {
      clearInterval(t);
    });
  });
  const port = await listen(server);
  const s = new KubeletScraper(fakeKube([]), {
    ...base,
    scheme: "http",
    useNodeStatusPort: true,
    timeoutMs: 300,
  });
  const t0 = Date.now();
  await assert.rejects(s.scrape(nodeAt(port)), /timeout after 300 ms/);
  assert.ok(Date.now() - t0 < 2000);
  s.close();
  server.closeAllConnections();
  server.close();
});
