/**
 * @module test/adapter-secure
 * The secure aggregated API server, end to end: the adapter registered behind the local cluster's
 * aggregator (a real kube-apiserver), reached through it and directly over TLS with explicit CAs,
 * client certificates and tokens. Covers APIService availability, delegated authentication and
 * authorization (401/403 bodies compared with kube's own), serving-certificate rotation without a
 * restart, graceful SIGTERM, and a loopback latency measurement (printed, never asserted).
 * Loopback only.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { API_SERVICES } from "../../src/harness/adapter-registration.ts";
import type { RunningAdapter } from "../../src/harness/adapter-process.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { createCa, issue, loadCa } from "../../src/pki/pki.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";
import { httpsGet as freshHttpsGet, type Reply } from "../support/http.ts";
import { freePort } from "../support/prometheus.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const T = { timeout: 120_000 };
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(REPO, "bin", "k8s-custom-metrics.js");
const CM = "/apis/custom.metrics.k8s.io";
const EM = "/apis/external.metrics.k8s.io";
const SERVICE_NAME = "k8s-custom-metrics.custom-metrics.svc";
/** A metric the node agent's cAdvisor-style series give every running pod (default rules). */
const METRIC = "memory_usage_bytes";
const SUFFIX = Date.now().toString(36);
const DENIED = `kcm-denied-${SUFFIX}`;
const ALLOWED = `kcm-allowed-${SUFFIX}`;
const METRICS_READER = `kcm-metrics-reader-${SUFFIX}`;
const ROLE = `kcm-secure-metric-reader-${SUFFIX}`;
const METRICS_ROLE = `kcm-secure-metrics-endpoint-${SUFFIX}`;

interface Creds {
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: OutgoingHttpHeaders;
}

/** One HTTPS GET on a fresh connection (so each request makes its own TLS handshake). */
function httpsGet(url: string, ca: string, creds: Creds = {}): Promise<Reply> {
  return freshHttpsGet({ url, ca, ...creds });
}

/** metav1.Status as Go serializes it (key order, omitempty). */
function statusJson(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, string>,
): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
}

const UNAUTHORIZED = statusJson(401, "Unauthorized", "Unauthorized");

/** kubectl's stderr when it exits non-zero, else its stdout. */
async function kubectlOutcome(
  info: ClusterInfo,
  args: string[],
): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await kubectl(info, args) };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: unknown }).stderr ?? e) };
  }
}

/** Asks kube-apiserver (SubjectAccessReview) whether `user` may do what `attrs` describe. */
async function allowedByKube(
  info: ClusterInfo,
  user: string,
  attrs: Record<string, unknown>,
): Promise<boolean> {
  const out = await kubectl(
    info,
    ["create", "-f", "-", "-o", "json"],
    JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user, groups: ["system:authenticated"], ...attrs },
    }),
  );
  return (JSON.parse(out) as { status?: { allowed?: boolean } }).status?.allowed === true;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

function h2Get(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "GET", ":path": path, ...headers });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("end", () => {
      resolve({ status, text: Buffer.concat(chunks).toString("utf8") });
    });
    stream.end();
  });
}

/** `total` GETs of `path` over one HTTP/2 session, `concurrency` in flight; latencies in ms. */
async function loadRun(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders,
  total: number,
  concurrency: number,
): Promise<{ latencies: number[]; wallMs: number; statuses: Map<number, number> }> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      const s = performance.now();
      const r = await h2Get(session, path, headers);
      latencies.push(performance.now() - s);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies: latencies.sort((a, b) => a - b), wallMs: performance.now() - t0, statuses };
}

describe("the secure aggregated API server (real adapter behind the real aggregator)", () => {
  let info: ClusterInfo;
  let adapter: RunningAdapter;
  let ns: string;
  let base: string;
  let clusterCa: string;
  let frontProxy: { cert: string; key: string };
  let admin: { cert: string; key: string };
  const metricPath = () => `${CM}/v1beta1/namespaces/${ns}/pods/*/${METRIC}`;

  before(async () => {
    info = await testCluster();
    adapter = await ensureRegisteredAdapter(info);
    base = `https://127.0.0.1:${String(info.ports.adapter)}`;
    clusterCa = await readFile(info.pki.caCert, "utf8");
    frontProxy = {
      cert: await readFile(info.pki.frontProxyClientCert, "utf8"),
      key: await readFile(info.pki.frontProxyClientKey, "utf8"),
    };
    admin = {
      cert: await readFile(info.pki.adminCert, "utf8"),
      key: await readFile(info.pki.adminKey, "utf8"),
    };
    ns = await freshNamespace(info, "secure");
    // A pod the node agent runs, so the default rules discover container_memory_usage_bytes.
    await kubectl(info, [
      "-n",
      ns,
      "run",
      "sleeper",
      "--image=busybox",
      "--restart=Never",
      "--command",
      "--",
      "sh",
      "-c",
      "sleep 3600",
    ]);
    // RBAC: one user may read pod metrics in the namespace, another may read /metrics.
    await applyObjects(info, [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: ROLE },
        rules: [
          {
            apiGroups: ["custom.metrics.k8s.io"],
            resources: [`pods/${METRIC}`],
            verbs: ["get"],
          },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "metric-readers", namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
        subjects: [
          { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: ALLOWED },
          { kind: "ServiceAccount", name: "reader", namespace: ns },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: METRICS_ROLE },
        rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: METRICS_ROLE },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: METRICS_ROLE,
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: METRICS_READER }],
      },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "reader", namespace: ns } },
    ]);
    // The metric through the aggregator (as system:masters): discovery has seen the pod's series.
    await waitFor(
      `${METRIC} for the sleeper pod through the aggregator`,
      async () => {
        const r = await kubectlOutcome(info, ["get", "--raw", metricPath()]);
        return r.ok && r.out.includes('"name":"sleeper"') ? true : undefined;
      },
      90_000,
      1000,
    );
    // RBAC is live in kube-apiserver before the adapter asks (it caches denials for 10 s).
    await waitFor("RBAC for the test users", async () =>
      (await allowedByKube(info, ALLOWED, {
        resourceAttributes: {
          namespace: ns,
          verb: "get",
          group: "custom.metrics.k8s.io",
          resource: "pods",
          subresource: METRIC,
          name: "*",
        },
      })) &&
      (await allowedByKube(info, METRICS_READER, {
        nonResourceAttributes: { path: "/metrics", verb: "get" },
      }))
        ? true
        : undefined,
    );
  });

  after(async () => {
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
    await kubectl(info, [
      "delete",
      "clusterrole,clusterrolebinding",
      ROLE,
      METRICS_ROLE,
      "--ignore-not-found",
    ]).catch(() => undefined);
  });

  test(
    "all three APIServices are Available and the aggregator reaches every group version",
    T,
    async () => {
      const list = await kubectlJson<{
        items: {
          metadata: { name: string };
          status?: { conditions?: { type: string; status: string; reason?: string }[] };
        }[];
      }>(info, ["get", "apiservices"]);
      for (const a of API_SERVICES) {
        const name = `${a.version}.${a.group}`;
        const svc = list.items.find((i) => i.metadata.name === name);
        assert.ok(svc, `APIService ${name} exists`);
        const avail = svc.status?.conditions?.find((c) => c.type === "Available");
        assert.deepEqual(
          { status: avail?.status, reason: avail?.reason },
          { status: "True", reason: "Passed" },
          name,
        );
      }

      for (const gv of [`${CM}/v1beta1`, `${CM}/v1beta2`, `${EM}/v1beta1`]) {
        const body = JSON.parse(await kubectl(info, ["get", "--raw", gv])) as {
          kind: string;
          apiVersion: string;
          groupVersion: string;
          resources: { name: string; namespaced: boolean; kind: string; verbs: string[] }[];
        };
        assert.equal(body.kind, "APIResourceList", gv);
        assert.equal(body.apiVersion, "v1", gv);
        assert.equal(body.groupVersion, gv.slice("/apis/".length), gv);
        assert.ok(Array.isArray(body.resources), gv);
        if (gv.startsWith(CM)) {
          assert.deepEqual(
            body.resources.find((r) => r.name === `pods/${METRIC}`),
            {
              name: `pods/${METRIC}`,
              singularName: "",
              namespaced: true,
              kind: "MetricValueList",
              verbs: ["get"],
            },
            gv,
          );
        }
      }

      // A metric route through the aggregator: the pod's value.
      const values = JSON.parse(await kubectl(info, ["get", "--raw", metricPath()])) as {
        kind: string;
        apiVersion: string;
        items: { describedObject: Record<string, string>; metricName: string; value: string }[];
      };
      assert.equal(values.kind, "MetricValueList");
      assert.equal(values.apiVersion, "custom.metrics.k8s.io/v1beta1");
      assert.deepEqual(
        values.items.map((i) => [i.describedObject, i.metricName]),
        [[{ kind: "Pod", namespace: ns, name: "sleeper", apiVersion: "/v1" }, METRIC]],
      );
      assert.match(values.items[0]?.value ?? "", /^\d+(k|M|m)?$/);

      // An unknown metric: the adapter's exact 404 Status, passed through by the aggregator.
      const unknown = `${CM}/v1beta2/namespaces/${ns}/pods/*/kcm_no_such_metric`;
      const viaKubectl = await kubectlOutcome(info, ["get", "--raw", unknown]);
      assert.equal(viaKubectl.ok, false);
      assert.equal(
        viaKubectl.out.trim(),
        "Error from server (NotFound): the server could not find the metric kcm_no_such_metric for pods",
      );
      const raw = await httpsGet(`${info.server}${unknown}`, clusterCa, admin);
      assert.equal(raw.status, 404);
      assert.equal(
        raw.text,
        statusJson(
          404,
          "NotFound",
          "the server could not find the metric kcm_no_such_metric for pods",
        ),
      );
    },
  );

  test("delegated authentication and authorization, direct to the adapter", T, async () => {
    const path = metricPath();
    const url = `${base}${path}`;

    // No client certificate and no token.
    const anon = await httpsGet(url, clusterCa);
    assert.equal(anon.status, 401);
    assert.equal(anon.text, UNAUTHORIZED);
    assert.equal(anon.headers["content-type"], "application/json");

    // A client certificate from a CA the adapter does not trust, with forged headers.
    const stranger = await createCa(`stranger-${SUFFIX}`);
    const strangerLeaf = await issue(stranger, {
      commonName: "front-proxy-client",
      usage: "client",
    });
    const r1 = await httpsGet(url, clusterCa, {
      cert: strangerLeaf.certPem,
      key: strangerLeaf.keyPem,
      headers: { "x-remote-user": "system:admin", "x-remote-group": "system:masters" },
    });
    assert.equal(r1.status, 401);
    assert.equal(r1.text, UNAUTHORIZED);

    // The front-proxy CA, but a CN not in requestheader-allowed-names.
    const fpCa = await loadCa(
      await readFile(info.pki.frontProxyCaCert, "utf8"),
      await readFile(join(dirname(info.pki.caCert), "front-proxy-ca.key"), "utf8"),
    );
    const wrongCn = await issue(fpCa, { commonName: "not-the-proxy", usage: "client" });
    const r2 = await httpsGet(url, clusterCa, {
      cert: wrongCn.certPem,
      key: wrongCn.keyPem,
      headers: { "x-remote-user": "system:admin", "x-remote-group": "system:masters" },
    });
    assert.equal(r2.status, 401);
    assert.equal(r2.text, UNAUTHORIZED);

    // Forged identity headers without any client certificate are not trusted.
    const r3 = await httpsGet(url, clusterCa, {
      headers: { "x-remote-user": "system:admin", "x-remote-group": "system:masters" },
    });
    assert.equal(r3.status, 401);
    assert.equal(r3.text, UNAUTHORIZED);

    // The real front-proxy client cert, for a user RBAC denies: kube's exact 403.
    const denied = await httpsGet(url, clusterCa, {
      ...frontProxy,
      headers: { "x-remote-user": DENIED },
    });
    assert.equal(denied.status, 403);
    const forbiddenBody = statusJson(
      403,
      "Forbidden",
      `pods.custom.metrics.k8s.io "*" is forbidden: User "${DENIED}" cannot get resource "pods/${METRIC}" in API group "custom.metrics.k8s.io" in the namespace "${ns}"`,
      { name: "*", group: "custom.metrics.k8s.io", kind: "pods" },
    );
    assert.equal(denied.text, forbiddenBody);
    // kube-apiserver's own answer for the same user and path (impersonated) is the same Status.
    const kube403 = await httpsGet(`${info.server}${path}`, clusterCa, {
      ...admin,
      headers: { "impersonate-user": DENIED, accept: "application/json" },
    });
    assert.equal(kube403.status, 403);
    assert.deepEqual(JSON.parse(denied.text), JSON.parse(kube403.text));

    // A user RBAC allows (RoleBinding to get custom.metrics.k8s.io pods/<metric>; RBAC has no `pods/*`).
    const allowed = await httpsGet(url, clusterCa, {
      ...frontProxy,
      headers: { "x-remote-user": ALLOWED, "x-remote-group": ["team-a", "team-b"] },
    });
    assert.equal(allowed.status, 200, allowed.text);
    const list = JSON.parse(allowed.text) as {
      kind: string;
      items: { describedObject: { name: string } }[];
    };
    assert.equal(list.kind, "MetricValueList");
    assert.deepEqual(
      list.items.map((i) => i.describedObject.name),
      ["sleeper"],
    );

    // Header names that are Object.prototype members are headers like any other: they used to
    // make the authentication filter throw for the whole process.
    const protoNames = { constructor: "x", ["__proto__"]: "y", tostring: "z" };
    const odd = await httpsGet(url, clusterCa, {
      ...frontProxy,
      headers: {
        ...protoNames,
        "x-remote-user": ALLOWED,
        "x-remote-group": "team-a",
        // The user's extra, as the aggregator forwards an impersonated one.
        "x-remote-extra-constructor": "v",
        "x-remote-extra-__proto__": "w",
      },
    });
    assert.equal(odd.status, 200, odd.text);
    const oddAnon = await httpsGet(url, clusterCa, { headers: protoNames });
    assert.equal(oddAnon.status, 401);
    assert.equal(oddAnon.text, UNAUTHORIZED);

    // system:masters is allowed without a review, whoever the user is.
    const master = await httpsGet(url, clusterCa, {
      ...frontProxy,
      headers: { "x-remote-user": `kcm-master-${SUFFIX}`, "x-remote-group": "system:masters" },
    });
    assert.equal(master.status, 200, master.text);
    assert.equal((JSON.parse(master.text) as { kind: string }).kind, "MetricValueList");

    // A real ServiceAccount token bound by RBAC, and an invalid token.
    const token = (await kubectl(info, ["-n", ns, "create", "token", "reader"])).trim();
    const sa = await httpsGet(url, clusterCa, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(sa.status, 200, sa.text);
    assert.equal((JSON.parse(sa.text) as { kind: string }).kind, "MetricValueList");
    const badToken = await httpsGet(url, clusterCa, {
      headers: { authorization: "Bearer not-a-real-token" },
    });
    assert.equal(badToken.status, 401);
    assert.equal(badToken.text, UNAUTHORIZED);
    // The token's user without RBAC for another namespace: 403 naming the service account.
    const otherNs = await httpsGet(
      `${base}${CM}/v1beta1/namespaces/kube-system/pods/*/${METRIC}`,
      clusterCa,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    assert.equal(otherNs.status, 403);
    assert.equal(
      otherNs.text,
      statusJson(
        403,
        "Forbidden",
        `pods.custom.metrics.k8s.io "*" is forbidden: User "system:serviceaccount:${ns}:reader" cannot get resource "pods/${METRIC}" in API group "custom.metrics.k8s.io" in the namespace "kube-system"`,
        { name: "*", group: "custom.metrics.k8s.io", kind: "pods" },
      ),
    );

    // Health paths answer without credentials.
    for (const p of ["/healthz", "/readyz", "/livez"]) {
      const r = await httpsGet(`${base}${p}`, clusterCa);
      assert.deepEqual(
        { path: p, status: r.status, text: r.text },
        { path: p, status: 200, text: "ok" },
      );
    }

    // /metrics is authorized like any non-resource path.
    const m0 = await httpsGet(`${base}/metrics`, clusterCa);
    assert.equal(m0.status, 401);
    assert.equal(m0.text, UNAUTHORIZED);
    const m1 = await httpsGet(`${base}/metrics`, clusterCa, {
      ...frontProxy,
      headers: { "x-remote-user": DENIED },
    });
    assert.equal(m1.status, 403);
    assert.equal(
      m1.text,
      statusJson(403, "Forbidden", `forbidden: User "${DENIED}" cannot get path "/metrics"`, {}),
    );
    const kubeMetrics403 = await httpsGet(`${info.server}/metrics`, clusterCa, {
      ...admin,
      headers: { "impersonate-user": DENIED, accept: "application/json" },
    });
    assert.equal(kubeMetrics403.status, 403);
    assert.deepEqual(JSON.parse(m1.text), JSON.parse(kubeMetrics403.text));
    const m2 = await httpsGet(`${base}/metrics`, clusterCa, {
      ...frontProxy,
      headers: { "x-remote-user": METRICS_READER },
    });
    assert.equal(m2.status, 200, m2.text);
    assert.match(m2.headers["content-type"] ?? "", /^text\/plain/);
    assert.match(m2.text, /^# HELP apiserver_request_total /m);
    assert.match(m2.text, /^apiserver_request_total\{/m);
    // The reviews these requests cost are counted: at least the DENIED and METRICS_READER ones.
    const sars =
      /^k8s_custom_metrics_subject_access_reviews_total\{trigger="request"\} (\d+)/m.exec(m2.text);
    assert.ok(Number(sars?.[1] ?? 0) >= 2, m2.text);
  });

  test(
    "a rotated serving certificate is served to new connections without a restart",
    T,
    async () => {
      const pidFile = join(info.stateDir, "run", "adapter.pid");
      const pid = Number((await readFile(pidFile, "utf8")).trim());
      assert.equal(pid, adapter.pid);
      const peerSerial = async (): Promise<string> => {
        const socket = tlsConnect({
          host: "127.0.0.1",
          port: info.ports.adapter,
          ca: clusterCa,
          servername: SERVICE_NAME,
          ALPNProtocols: ["h2", "http/1.1"],
        });
        try {
          await once(socket, "secureConnect");
          return socket.getPeerCertificate().serialNumber;
        } finally {
          socket.destroy();
        }
      };
      const before = await peerSerial();
      const ca = await loadCa(clusterCa, await readFile(info.pki.caKey, "utf8"));
      const leaf = await issue(ca, {
        commonName: "k8s-custom-metrics",
        dnsNames: [SERVICE_NAME, `${SERVICE_NAME}.cluster.local`, "localhost"],
        ipAddresses: ["127.0.0.1", "::1"],
        usage: "server",
      });
      const wanted = new X509Certificate(leaf.certPem).serialNumber.toUpperCase();
      assert.notEqual(wanted, before.toUpperCase());
      // Key first, then the certificate, each file replaced in place.
      await writeFile(adapter.keyFile, leaf.keyPem, { mode: 0o600 });
      await writeFile(adapter.certFile, leaf.certPem, { mode: 0o644 });
      const t0 = Date.now();
      const seen = await waitFor(
        "the adapter to serve the new certificate",
        async () => ((await peerSerial()).toUpperCase() === wanted ? Date.now() - t0 : undefined),
        10_000,
        200,
      );
      console.log(
        `[adapter-secure] serving certificate rotation picked up after ${String(seen)} ms`,
      );
      assert.equal(Number((await readFile(pidFile, "utf8")).trim()), pid);
      process.kill(pid, 0);

      // Requests over the new certificate still work, and the aggregator still trusts it.
      const healthy = await httpsGet(`${base}/healthz`, clusterCa);
      assert.equal(healthy.status, 200);
      const gv = JSON.parse(await kubectl(info, ["get", "--raw", `${CM}/v1beta1`])) as {
        groupVersion: string;
      };
      assert.equal(gv.groupVersion, "custom.metrics.k8s.io/v1beta1");
      const avail = await kubectlJson<{
        items: {
          metadata: { name: string };
          status?: { conditions?: { type: string; status: string }[] };
        }[];
      }>(info, ["get", "apiservices"]);
      for (const a of API_SERVICES) {
        const s = avail.items.find((i) => i.metadata.name === `${a.version}.${a.group}`);
        assert.equal(s?.status?.conditions?.find((c) => c.type === "Available")?.status, "True");
      }
    },
  );

  test(
    "SIGTERM lets an in-flight request finish, refuses new connections, exits 0",
    T,
    async () => {
      // A Prometheus stand-in: discovery answers for http_requests_total, queries delayed by 3 s,
      // everything else proxied to the cluster's Prometheus.
      const upstream = new URL(info.prometheusUrl);
      let queryArrived: () => void = () => undefined;
      const queried = new Promise<void>((resolve) => {
        queryArrived = resolve;
      });
      const json = (res: ServerResponse, body: unknown) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(body));
      };
      const prom: Server = createServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://prom");
        const match = u.searchParams.getAll("match[]").join(" ");
        if (
          u.pathname === "/api/v1/label/__name__/values" &&
          match.includes("http_requests_total")
        ) {
          json(res, { status: "success", data: ["http_requests_total"] });
          return;
        }
        if (u.pathname === "/api/v1/labels" && match.includes("http_requests_total")) {
          json(res, { status: "success", data: ["__name__", "namespace", "pod"] });
          return;
        }
        if (u.pathname === "/api/v1/query") {
          queryArrived();
          setTimeout(() => {
            json(res, {
              status: "success",
              data: {
                resultType: "vector",
                result: [
                  {
                    metric: { namespace: "default", pod: "kcm-slow" },
                    value: [Date.now() / 1000, "42"],
                  },
                ],
              },
            });
          }, 3_000);
          return;
        }
        const fwd = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        fwd.on("error", () => {
          res.statusCode = 502;
          res.end();
        });
        req.pipe(fwd);
      });
      prom.listen(0, "127.0.0.1");
      await once(prom, "listening");
      const promUrl = `http://127.0.0.1:${String((prom.address() as AddressInfo).port)}`;

      const certDir = await mkdtemp(join(tmpdir(), "kcm-secure-"));
      const port = await freePort();
      let log = "";
      const child: ChildProcess = spawn(
        process.execPath,
        [
          BIN,
          "serve",
          "--config",
          join(REPO, "examples", "adapter-config.yaml"),
          "--prometheus-url",
          promUrl,
          "--lister-kubeconfig",
          adapter.kubeconfig,
          "--authentication-kubeconfig",
          adapter.kubeconfig,
          "--authorization-kubeconfig",
          adapter.kubeconfig,
          "--bind-address",
          "127.0.0.1",
          "--secure-port",
          String(port),
          "--cert-dir",
          certDir,
          "--metrics-relist-interval",
          "10s",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
      const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
      try {
        const url = `https://127.0.0.1:${String(port)}`;
        // The self-signed pair is written before the adapter listens: its file holds leaf and CA.
        const ca = await Promise.race([
          waitFor(
            "the second adapter's /readyz",
            async () => {
              const pem = await readFile(join(certDir, "apiserver.crt"), "utf8");
              const r = await httpsGet(`${url}/readyz`, pem);
              return r.status === 200 ? pem : undefined;
            },
            60_000,
            200,
          ),
          exited.then(([code, signal]) => {
            throw new Error(`the adapter exited early (${String(code ?? signal)})`);
          }),
        ]).catch((e: unknown) => {
          throw new Error(`${String(e)}\nadapter log:\n${log}`);
        });

        const slowPath = `${CM}/v1beta1/namespaces/default/pods/kcm-slow/http_requests_per_second`;
        const who = { "x-remote-user": "kcm-shutdown-test", "x-remote-group": "system:masters" };
        // The aggregator speaks HTTP/2, kubectl and curl often HTTP/1.1: one request of each.
        const session = http2Connect(url, { ca, ...frontProxy });
        session.on("error", () => undefined);
        await once(session, "connect");
        const t0 = Date.now();
        const inFlight1 = httpsGet(`${url}${slowPath}`, ca, { ...frontProxy, headers: who });
        const inFlight2 = h2Get(session, slowPath, who);
        await queried;
        await sleep(500);
        child.kill("SIGTERM");
        const sigtermAt = Date.now() - t0;
        // New connections are refused once the adapter stopped listening. A probe that reached the
        // listen backlog in the instant the listener closed is reset by the kernel (ECONNRESET):
        // that is the same moment, so the probe tries again; anything else fails the test.
        const seen: string[] = [];
        const refused = await waitFor(
          "new connections to be refused",
          async () => {
            try {
              await httpsGet(`${url}/healthz`, ca);
              seen.push("200");
              return undefined;
            } catch (e) {
              const code = (e as NodeJS.ErrnoException).code ?? String(e);
              seen.push(code);
              return code === "ECONNRESET" ? undefined : code;
            }
          },
          2_000,
          50,
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}; probes saw ${seen.join(", ")}`);
        });
        assert.equal(refused, "ECONNREFUSED", `probes saw ${seen.join(", ")}`);

        for (const [proto, reply] of [
          ["HTTP/1.1", inFlight1],
          ["HTTP/2", inFlight2],
        ] as const) {
          const r = await reply;
          const doneAt = Date.now() - t0;
          // The query is held 3 s after it arrives and SIGTERM comes 0.5 s after that.
          assert.ok(
            doneAt - sigtermAt >= 1_000,
            `${proto}: answered ${String(doneAt - sigtermAt)} ms after SIGTERM`,
          );
          assert.equal(r.status, 200, `${proto}: ${r.text}`);
          const body = JSON.parse(r.text) as {
            kind: string;
            apiVersion: string;
            metadata: unknown;
            items: {
              describedObject: unknown;
              metricName: string;
              value: string;
              selector: unknown;
            }[];
          };
          assert.equal(body.kind, "MetricValueList", proto);
          assert.equal(body.apiVersion, "custom.metrics.k8s.io/v1beta1", proto);
          assert.deepEqual(
            body.items.map((i) => ({ ...i, timestamp: undefined })),
            [
              {
                describedObject: {
                  kind: "Pod",
                  namespace: "default",
                  name: "kcm-slow",
                  apiVersion: "/v1",
                },
                metricName: "http_requests_per_second",
                timestamp: undefined,
                value: "42",
                selector: null,
              },
            ],
            proto,
          );
        }
        session.destroy();
        const [code, signal] = await exited;
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, log);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        prom.close();
        prom.closeAllConnections();
        await rm(certDir, { recursive: true, force: true });
      }
    },
  );

  /** `serve` on a free port against the cluster's Prometheus; resolves once /readyz is 200. */
  const spawnServe = async (extra: string[]) => {
    const certDir = await mkdtemp(join(tmpdir(), "kcm-secure-"));
    const port = await freePort();
    const out = { log: "" };
    const child: ChildProcess = spawn(
      process.execPath,
      [
        BIN,
        "serve",
        "--config",
        join(REPO, "examples", "adapter-config.yaml"),
        "--prometheus-url",
        info.prometheusUrl,
        "--lister-kubeconfig",
        adapter.kubeconfig,
        "--authentication-kubeconfig",
        adapter.kubeconfig,
        "--authorization-kubeconfig",
        adapter.kubeconfig,
        "--bind-address",
        "127.0.0.1",
        "--secure-port",
        String(port),
        "--cert-dir",
        certDir,
        ...extra,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (d: Buffer) => (out.log += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out.log += d.toString()));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const url = `https://127.0.0.1:${String(port)}`;
    const ca = await Promise.race([
      waitFor(
        "the adapter's /readyz",
        async () => {
          const pem = await readFile(join(certDir, "apiserver.crt"), "utf8");
          const r = await httpsGet(`${url}/readyz`, pem);
          return r.status === 200 ? pem : undefined;
        },
        60_000,
        200,
      ),
      exited.then(([code, signal]) => {
        throw new Error(`the adapter exited early (${String(code ?? signal)})`);
      }),
    ]).catch((e: unknown) => {
      child.kill("SIGKILL");
      throw new Error(`${String(e)}\nadapter log:\n${out.log}`);
    });
    const cleanup = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await rm(certDir, { recursive: true, force: true });
    };
    return { child, port, url, ca, exited, out, cleanup };
  };

  test(
    "SIGTERM with an HTTP/2 connection open: a GOAWAY naming the last stream taken, before the connection ends; a stream sent after it is above it, so the client retries it",
    T,
    async () => {
      const a = await spawnServe([]);
      try {
        // A raw HTTP/2 client, so a request can be sent after the GOAWAY arrived but before the
        // client acted on it, as the aggregator's requests race a pod's shutdown (node:http2's
        // client would refuse it locally). Frames: RFC 9113 section 4.1.
        const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
          const h = Buffer.alloc(9);
          h.writeUIntBE(payload.length, 0, 3);
          h[3] = type;
          h[4] = flags;
          h.writeUInt32BE(stream, 5);
          return Buffer.concat([h, payload]);
        };
        // GET https://a/healthz, HPACK (RFC 7541): :method GET, :scheme https from the static
        // table, :path and :authority as literals with indexed names.
        const path = Buffer.from("/healthz");
        const get = Buffer.concat([
          Buffer.from([0x82, 0x87, 0x04, path.length]),
          path,
          Buffer.from([0x01, 0x01, 0x61]),
        ]);
        const HEADERS = 1;
        const SETTINGS = 4;
        const GOAWAY = 7;
        const END_STREAM_HEADERS = 0x5;
        const events: string[] = [];
        let goawayLast: number | undefined;
        const answered = new Set<number>();
        let buf = Buffer.alloc(0);
        const socket = tlsConnect({
          host: "127.0.0.1",
          port: a.port,
          ca: a.ca,
          servername: "localhost",
          ALPNProtocols: ["h2"],
        });
        let onGoaway: () => void = () => undefined;
        const ended = new Promise<void>((resolve) => {
          socket.on("close", () => {
            events.push("closed");
            resolve();
          });
        });
        socket.on("error", (e: Error) => events.push(`error ${e.message}`));
        socket.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
            const len = buf.readUIntBE(0, 3);
            const type = buf[3];
            const flags = buf[4] ?? 0;
            const stream = buf.readUInt32BE(5) & 0x7fffffff;
            const payload = buf.subarray(9, 9 + len);
            buf = buf.subarray(9 + len);
            if (type === SETTINGS && (flags & 1) === 0)
              socket.write(frame(SETTINGS, 1, 0, Buffer.alloc(0)));
            if (type === HEADERS) {
              answered.add(stream);
              events.push(`HEADERS ${String(stream)}`);
            }
            if (type === GOAWAY) {
              goawayLast = payload.readUInt32BE(0) & 0x7fffffff;
              events.push(`GOAWAY last=${String(goawayLast)}`);
              onGoaway();
            }
          }
        });
        socket.on("end", () => events.push("EOF"));
        await once(socket, "secureConnect");
        assert.equal(socket.alpnProtocol, "h2");
        socket.write(
          Buffer.concat([
            Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            frame(SETTINGS, 0, 0, Buffer.alloc(0)),
            frame(HEADERS, END_STREAM_HEADERS, 1, get),
          ]),
        );
        await waitFor(
          "the first request's answer",
          () => Promise.resolve(answered.has(1) ? true : undefined),
          10_000,
          20,
        );
        // The second request goes out the moment the GOAWAY is read: it crossed it on the wire.
        onGoaway = () => {
          onGoaway = () => undefined;
          socket.write(frame(HEADERS, END_STREAM_HEADERS, 3, get));
          events.push("sent 3");
        };
        a.child.kill("SIGTERM");
        await Promise.race([ended, sleep(10_000)]);
        const seen = events.join(", ");
        assert.notEqual(goawayLast, undefined, `no GOAWAY before the connection ended: ${seen}`);
        assert.ok(
          events.indexOf("EOF") === -1 ||
            events.indexOf("EOF") > events.findIndex((e) => e.startsWith("GOAWAY")),
          seen,
        );
        // Stream 3, sent after the GOAWAY, is answered or above the GOAWAY's last stream, which a
        // client retries elsewhere (RFC 9113 section 6.8). Within it and never answered (a GOAWAY
        // naming 2^31-1), the client waits for it until the connection ends, and it fails.
        assert.ok(answered.has(3) || (goawayLast ?? 0) < 3, `stream 3 lost: ${seen}`);
        assert.equal(goawayLast, 1, `the GOAWAY names the last stream taken: ${seen}`);
        assert.ok(events.includes("closed"), `the connection ends: ${seen}`);
        const [code, signal] = await a.exited;
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.out.log);
      } finally {
        await a.cleanup();
      }
    },
  );

  test(
    "--shutdown-delay-duration: after SIGTERM, /readyz fails at once, requests are still served until the delay ends, then connections are refused",
    T,
    async () => {
      const a = await spawnServe(["--shutdown-delay-duration=3s"]);
      try {
        const t0 = Date.now();
        a.child.kill("SIGTERM");
        const notReady = await waitFor(
          "/readyz to fail",
          async () => {
            const r = await httpsGet(`${a.url}/readyz`, a.ca);
            return r.status === 503 ? Date.now() - t0 : undefined;
          },
          2_000,
          50,
        );
        assert.ok(notReady < 1_000, `/readyz failed ${String(notReady)} ms after SIGTERM`);
        // Served on new connections for the delay: the health endpoints and the API.
        await sleep(Math.max(0, 2_000 - (Date.now() - t0)));
        assert.equal((await httpsGet(`${a.url}/livez`, a.ca)).status, 200);
        const api = await httpsGet(`${a.url}${CM}/v1beta1`, a.ca, {
          ...frontProxy,
          headers: { "x-remote-user": ALLOWED },
        });
        assert.equal(api.status, 200, api.text);
        assert.ok(Date.now() - t0 < 3_000, "the checks above ran within the delay");
        const refusedAt = await waitFor(
          "new connections to be refused",
          async () => {
            try {
              await httpsGet(`${a.url}/livez`, a.ca);
              return undefined;
            } catch (e) {
              return (e as NodeJS.ErrnoException).code === "ECONNREFUSED"
                ? Date.now() - t0
                : undefined;
            }
          },
          5_000,
          50,
        );
        assert.ok(refusedAt >= 3_000, `refused ${String(refusedAt)} ms after SIGTERM`);
        const [code, signal] = await a.exited;
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.out.log);
        assert.match(a.out.log, /shutdown-delay-duration/);
      } finally {
        await a.cleanup();
      }
    },
  );

  test(
    "loopback latency of authorized requests over HTTP/2 (measured, not asserted)",
    T,
    async () => {
      const session = http2Connect(base, {
        ca: clusterCa,
        ...frontProxy,
        servername: SERVICE_NAME,
      });
      await once(session, "connect");
      try {
        // Through a SubjectAccessReview (cached 10 s), as the aggregator's callers are.
        const headers = { "x-remote-user": ALLOWED };
        const routes = [
          { name: "discovery", path: `${CM}/v1beta1` },
          { name: "metric", path: metricPath() },
        ];
        for (const r of routes) {
          // Warm the caches (SubjectAccessReview, REST mapper, connections).
          const warm = await loadRun(session, r.path, headers, 50, 8);
          assert.deepEqual([...warm.statuses.keys()], [200]);
          const run = await loadRun(session, r.path, headers, 2_000, 8);
          assert.equal(run.latencies.length, 2_000);
          console.log(
            `[adapter-secure] LOAD ${r.name} ${r.path}: 2000 requests, concurrency 8, HTTP/2, ` +
              `p50=${percentile(run.latencies, 50).toFixed(2)}ms ` +
              `p99=${percentile(run.latencies, 99).toFixed(2)}ms ` +
              `max=${percentile(run.latencies, 100).toFixed(2)}ms ` +
              `throughput=${((2_000 / run.wallMs) * 1000).toFixed(0)}/s ` +
              `statuses=${JSON.stringify(Object.fromEntries(run.statuses))}`,
          );
        }
      } finally {
        session.close();
      }
    },
  );
});
