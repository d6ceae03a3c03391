/**
 * @module test/drop-in-manifests
 * The container args of real prometheus-adapter deployments start `serve` unchanged: kube-prometheus'
 * manifests/prometheusAdapter-deployment.yaml and the prometheus-community Helm chart rendered with
 * its default values (test/fixtures/drop-in/, each file naming its source and commit). The adapter
 * runs as a real process against a real Prometheus and the shared local cluster, until `/readyz`
 * answers 200; then the API group the manifest's config serves is listed over HTTPS.
 *
 * Only what names the pod's environment is changed, by {@link localArgs}: in-cluster paths (the
 * cert dir, the mounted config file) become temporary ones, the Prometheus Service becomes the test
 * Prometheus (path kept), the container port becomes a free port. Two args are added for what the
 * pod has without args: its service account (`--lister-kubeconfig`) and its own network
 * (`--bind-address=127.0.0.1`: loopback only here). Everything else is passed exactly.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { testCluster } from "../support/cluster.ts";
import { stopChild } from "../support/process.ts";
import { freePort, startPrometheus, type RunningPrometheus } from "../support/prometheus.ts";
import { constantSeries } from "../support/series.ts";

const T = { timeout: 180_000 };
const BIN = fileURLToPath(new URL("../../bin/k8s-custom-metrics.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/drop-in/", import.meta.url));

interface Deployment {
  spec: { template: { spec: { containers: { args?: string[] }[] } } };
}

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), "utf8");
}

/** The single container's args of a Deployment manifest. */
function containerArgs(deploymentYaml: string): string[] {
  const d = parseYaml(deploymentYaml) as Deployment;
  const [container, ...others] = d.spec.template.spec.containers;
  assert.equal(others.length, 0);
  assert.ok(container?.args);
  return container.args;
}

interface Local {
  readonly certDir: string;
  readonly config: string;
  readonly prometheusUrl: string;
  readonly port: number;
}

/**
 * The manifest's args for this machine: the value of each flag naming something of the pod's
 * environment is replaced, every other arg is kept as it is. Fails if a flag to replace is absent,
 * so a changed manifest is noticed.
 */
function localArgs(args: readonly string[], local: Local): string[] {
  const replace: Record<string, (v: string) => string> = {
    "--cert-dir": () => local.certDir,
    "--config": () => local.config,
    // The Service address becomes the test Prometheus; the path stays.
    "--prometheus-url": (v) => new URL(new URL(v).pathname, local.prometheusUrl).toString(),
    "--secure-port": () => String(local.port),
  };
  const used = new Set<string>();
  const out = args.map((a) => {
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const fn = replace[name];
    if (fn === undefined) return a;
    used.add(name);
    return `${name}=${fn(a.slice(eq + 1))}`;
  });
  assert.deepEqual([...used].sort(), Object.keys(replace).sort(), "flags to localize");
  return out;
}

interface Reply {
  readonly status: number;
  readonly text: string;
}

function httpsGet(url: string, ca: string, creds: { cert?: string; key?: string } = {}) {
  return new Promise<Reply>((resolve, reject) => {
    const req = httpsRequest(url, { ca, ...creds, agent: false, timeout: 10_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`timed out: GET ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  /** The serving certificate's file (self-signed in the cert dir: leaf and CA). */
  readonly ca: string;
  logs(): string;
}

/** Runs `serve` with exactly `args` and waits (bounded) for /readyz 200 over HTTPS. */
async function startServe(args: readonly string[], local: Local): Promise<Started> {
  const child = spawn(process.execPath, [BIN, "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const append = (d: Buffer) => (log = (log + d.toString()).slice(-200_000));
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const url = `https://127.0.0.1:${String(local.port)}`;
  const deadline = Date.now() + 90_000;
  let last = "";
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const ca = await readFile(join(local.certDir, "apiserver.crt"), "utf8");
      const r = await httpsGet(`${url}/readyz`, ca);
      last = `${String(r.status)} ${r.text}`;
      if (r.status === 200) return { child, url, ca, logs: () => log };
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  await stopChild(child);
  throw new Error(`serve ${args.join(" ")}: /readyz never 200 (last: ${last})\n${log}`);
}

describe("real prometheus-adapter manifests start serve", () => {
  let info: ClusterInfo;
  let prom: RunningPrometheus;
  let tmp: string;
  let admin: { cert: string; key: string };
  const children: ChildProcess[] = [];

  before(async () => {
    info = await testCluster();
    admin = {
      cert: await readFile(info.pki.adminCert, "utf8"),
      key: await readFile(info.pki.adminKey, "utf8"),
    };
    tmp = await mkdtemp(join(tmpdir(), "kcm-drop-in-"));
    const pod = { namespace: "default", pod: "web-1" };
    prom = await startPrometheus({
      openMetrics: constantSeries([
        ["http_requests_total", pod, "42"],
        ["container_memory_usage_bytes", { ...pod, container: "web" }, "1000"],
        ["container_memory_working_set_bytes", { ...pod, container: "web" }, "900"],
        ["container_cpu_usage_seconds_total", { ...pod, container: "web" }, "12"],
      ]),
    });
  });

  after(async () => {
    for (const c of children) await stopChild(c);
    await prom.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Temporary paths in place of the pod's volumes, and the manifest's config written there. */
  async function local(name: string, configYaml: string): Promise<Local> {
    const dir = join(tmp, name);
    await mkdir(join(dir, "adapter"), { recursive: true });
    const config = join(dir, "adapter", "config.yaml");
    await writeFile(config, configYaml);
    return {
      certDir: join(dir, "serving-cert"),
      config,
      prometheusUrl: prom.url,
      port: await freePort(),
    };
  }

  /** What the pod has without args: its service account and its own network. */
  function environment(): string[] {
    return [`--lister-kubeconfig=${info.kubeconfig}`, "--bind-address=127.0.0.1"];
  }

  test("kube-prometheus: manifests/prometheusAdapter-deployment.yaml", T, async () => {
    const manifest = containerArgs(await fixture("kube-prometheus-deployment.yaml"));
    // The adapter-config ConfigMap mounted at /etc/adapter holds config.yaml.
    const cm = parseYaml(await fixture("kube-prometheus-configmap.yaml")) as {
      data: Record<string, string>;
    };
    const configYaml = cm.data["config.yaml"];
    assert.ok(configYaml);
    const l = await local("kube-prometheus", configYaml);
    const args = localArgs(manifest, l);
    assert.deepEqual(
      args.filter((a, i) => a !== manifest[i]).map((a) => a.split("=")[0]),
      ["--cert-dir", "--config", "--prometheus-url", "--secure-port"],
    );
    assert.equal(
      args.find((a) => a.startsWith("--prometheus-url=")),
      `--prometheus-url=${prom.url}/`,
    );
    const s = await startServe([...args, ...environment()], l);
    children.push(s.child);
    // The cipher list is taken whole: no suite warning (all 15 are in this OpenSSL).
    assert.doesNotMatch(s.logs(), /tls-cipher-suites/);
    // The config's resourceRules serve metrics.k8s.io.
    const r = await httpsGet(`${s.url}/apis/metrics.k8s.io/v1beta1`, s.ca, admin);
    assert.equal(r.status, 200, r.text);
    const list = JSON.parse(r.text) as { resources: { name: string }[] };
    assert.deepEqual(list.resources.map((x) => x.name).sort(), ["nodes", "pods"]);
    // A TLS 1.2 client gets a suite of the manifest's list (the client offers everything).
    const suites = (args.find((a) => a.startsWith("--tls-cipher-suites=")) ?? "")
      .slice("--tls-cipher-suites=".length)
      .split(",");
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: l.port,
      ca: s.ca,
      maxVersion: "TLSv1.2",
      ciphers: "ALL",
    });
    try {
      await once(socket, "secureConnect");
      const name = socket.getCipher().standardName;
      // Go's legacy ChaCha20 names stand for the _SHA256 suites.
      assert.ok(
        suites.some((x) => x === name || `${x}_SHA256` === name),
        `${name} not in ${suites.join(",")}`,
      );
    } finally {
      socket.destroy();
    }
  });

  test("prometheus-community Helm chart, default values", T, async () => {
    const rendered = parseYaml(await fixture("helm-rendered-args.yaml")) as string[];
    // The chart's args begin with the upstream image's entrypoint.
    assert.equal(rendered[0], "/adapter");
    const l = await local("helm", await fixture("helm-rendered-config.yaml"));
    const args = localArgs(rendered, l);
    const s = await startServe([...args, ...environment()], l);
    children.push(s.child);
    assert.match(s.logs(), /ignoring the argument \/adapter/);
    // The chart's default rules over the test Prometheus' series.
    const r = await httpsGet(`${s.url}/apis/custom.metrics.k8s.io/v1beta1`, s.ca, admin);
    assert.equal(r.status, 200, r.text);
    const names = (JSON.parse(r.text) as { resources: { name: string }[] }).resources
      .map((x) => x.name)
      .sort();
    for (const n of ["pods/http_requests", "pods/memory_usage_bytes"]) {
      assert.ok(names.includes(n), `${n} not in ${names.join(",")}`);
    }
  });
});
