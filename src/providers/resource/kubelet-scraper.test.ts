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
  RESOURCE_METRICS_PATH_ANNOTATION,
  kubeletUrl,
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
      "/api/v1/nodes",
      "/api/v1/nodes",
      "/api/v1/nodes?labelSelector=pool%3Dmetrics%2Czone!%3Db",
    ]);
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
