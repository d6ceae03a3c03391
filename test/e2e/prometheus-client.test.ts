/**
 * @module test/prometheus-client
 * The Prometheus client against a real Prometheus 2.42 (backfilled with promtool), a recording
 * loopback proxy in front of it for what goes over the wire, and small loopback servers that
 * misbehave on purpose. Loopback only.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { request } from "undici";
import { KcmError } from "../../src/errors.ts";
import { createCa, issue } from "../../src/pki/pki.ts";
import {
  MAX_GET_URL_LENGTH,
  PrometheusClient,
  PrometheusError,
  type PrometheusClientOptions,
  type RequestOutcome,
} from "../../src/prometheus/client.ts";
import {
  freePort,
  startPrometheus,
  startRecordingProxy,
  type RecordingProxy,
  type RunningPrometheus,
} from "../support/prometheus.ts";

const T = { timeout: 60_000 };

// All samples lie in the last 10 minutes; T_LAST is the newest sample time (Unix seconds).
const T0 = Math.floor(Date.now() / 1000) - 600;
const T_LAST = T0 + 300;
const AT_LAST = new Date(T_LAST * 1000);

function openMetrics(): string {
  const lines = ["# TYPE http_requests counter"];
  for (let i = 0; i <= 5; i++) {
    const t = T0 + i * 60;
    lines.push(
      `http_requests_total{namespace="default",pod="web-1"} ${String(i * 10)} ${String(t)}`,
    );
    lines.push(
      `http_requests_total{namespace="default",pod="web-2"} ${String(i * 5)} ${String(t)}`,
    );
    lines.push(`http_requests_total{namespace="other",pod="api-1"} ${String(i)} ${String(t)}`);
  }
  lines.push("# TYPE odd gauge");
  lines.push(`odd{k="nan"} NaN ${String(T_LAST)}`);
  lines.push(`odd{k="pinf"} +Inf ${String(T_LAST)}`);
  lines.push(`odd{k="ninf"} -Inf ${String(T_LAST)}`);
  lines.push("# EOF", "");
  return lines.join("\n");
}

let prom: RunningPrometheus;
const clients: PrometheusClient[] = [];
const proxies: RecordingProxy[] = [];

async function client(o: Partial<PrometheusClientOptions> = {}): Promise<PrometheusClient> {
  const c = await PrometheusClient.create({ url: prom.url, ...o });
  clients.push(c);
  return c;
}

async function proxy(
  opts: Parameters<typeof startRecordingProxy>[1] = {},
): Promise<RecordingProxy> {
  const p = await startRecordingProxy(prom.url, opts);
  proxies.push(p);
  return p;
}

async function rejection(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PrometheusError, `expected a PrometheusError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a rejection");
}

before(
  async () => {
    prom = await startPrometheus({ openMetrics: openMetrics() });
  },
  { timeout: 60_000 },
);

after(
  async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(proxies.map((p) => p.stop()));
    await prom.stop();
  },
  { timeout: 60_000 },
);

describe("instant queries", () => {
  test("vector: exact labels and values at the sample time", T, async () => {
    const c = await client();
    const r = await c.query('http_requests_total{namespace="default"}', AT_LAST);
    assert.equal(r.resultType, "vector");
    assert.deepEqual(r.warnings, []);
    const got = [...r.result].sort((a, b) =>
      (a.metric["pod"] ?? "").localeCompare(b.metric["pod"] ?? ""),
    );
    assert.deepEqual(got, [
      {
        metric: { __name__: "http_requests_total", namespace: "default", pod: "web-1" },
        value: [T_LAST, 50],
      },
      {
        metric: { __name__: "http_requests_total", namespace: "default", pod: "web-2" },
        value: [T_LAST, 25],
      },
    ]);
  });

  test('"NaN", "+Inf" and "-Inf" become numbers', T, async () => {
    const c = await client();
    const r = await c.query("odd", AT_LAST);
    assert.equal(r.resultType, "vector");
    const byK = new Map(r.result.map((s) => [s.metric["k"], s.value[1]]));
    assert.ok(Number.isNaN(byK.get("nan")));
    assert.equal(byK.get("pinf"), Infinity);
    assert.equal(byK.get("ninf"), -Infinity);
  });

  test("scalar, and time sent with millisecond precision", T, async () => {
    const c = await client();
    const sum = await c.query('scalar(sum(http_requests_total{namespace="default"}))', AT_LAST);
    assert.deepEqual(sum, { resultType: "scalar", result: [T_LAST, 75], warnings: [] });
    const at = new Date(T_LAST * 1000 + 323);
    const t = await c.query("time()", at);
    assert.deepEqual(t, {
      resultType: "scalar",
      result: [T_LAST + 0.323, T_LAST + 0.323],
      warnings: [],
    });
  });

  test("matrix results keep their sample lists", T, async () => {
    const c = await client();
    const r = await c.query('http_requests_total{pod="web-2"}[5m]', AT_LAST);
    assert.equal(r.resultType, "matrix");
    assert.equal(r.result.length, 1);
    const values = r.result[0]!.values;
    assert.ok(values.length >= 5);
    assert.deepEqual(values.at(-1), [T_LAST, 25]);
  });
});

describe("series and labels", () => {
  const start = new Date((T0 - 60) * 1000);

  test("series with match[] and start", T, async () => {
    const c = await client();
    const s = await c.series(['http_requests_total{namespace="default"}', "odd"], start);
    const names = s.map((l) => `${l["__name__"] ?? ""}/${l["pod"] ?? l["k"] ?? ""}`).sort();
    assert.deepEqual(names, [
      "http_requests_total/web-1",
      "http_requests_total/web-2",
      "odd/nan",
      "odd/ninf",
      "odd/pinf",
    ]);
    assert.ok(s.some((l) => l["pod"] === "web-1" && l["namespace"] === "default"));
  });

  test("series start/end outside the data give an empty list", T, async () => {
    const c = await client();
    const later = new Date((T_LAST + 3600) * 1000);
    const evenLater = new Date((T_LAST + 7200) * 1000);
    assert.deepEqual(await c.series(["http_requests_total"], later, evenLater), []);
  });

  test("label names and values, with and without match[]", T, async () => {
    const c = await client();
    assert.deepEqual(await c.labelNames(["odd"], start), ["__name__", "k"]);
    const all = await c.labelNames();
    for (const l of ["__name__", "k", "namespace", "pod"]) assert.ok(all.includes(l), l);
    assert.deepEqual(
      await c.labelValues("pod", ['http_requests_total{namespace="default"}'], start),
      ["web-1", "web-2"],
    );
    assert.deepEqual(await c.labelValues("namespace"), ["default", "other"]);
  });
});

describe("requests on the wire", () => {
  test("GET sends parameters in the URL, POST as a form; base path and query kept", T, async () => {
    const p = await proxy({ stripPrefix: "/prefix" });
    const get = await client({ url: `${p.url}/prefix?tenant=a` });
    const post = await client({ url: `${p.url}/prefix/?tenant=a`, verb: "POST" });
    const q = 'sum(http_requests_total{namespace="default"})';
    const r1 = await get.query(q, AT_LAST);
    const r2 = await post.query(q, AT_LAST);
    assert.deepEqual(r1, r2);
    assert.deepEqual(r1.resultType === "vector" && r1.result[0]?.value, [T_LAST, 75]);

    const [g, po] = p.requests;
    assert.equal(g?.method, "GET");
    assert.equal(
      g.url,
      `/prefix/api/v1/query?tenant=a&${new URLSearchParams({ query: q }).toString()}` +
        `&time=${String(T_LAST)}&timeout=10`,
    );
    assert.equal(g.body, "");
    assert.equal(po?.method, "POST");
    assert.equal(po.url, "/prefix/api/v1/query?tenant=a");
    assert.equal(po.headers["content-type"], "application/x-www-form-urlencoded");
    const form = new URLSearchParams(po.body);
    assert.equal(form.get("query"), q);
    assert.equal(form.get("time"), String(T_LAST));

    await post.series(["odd", "http_requests_total"], new Date(T0 * 1000));
    const s = p.requests[2]!;
    assert.equal(s.method, "POST");
    assert.deepEqual(new URLSearchParams(s.body).getAll("match[]"), ["odd", "http_requests_total"]);
    assert.equal(new URLSearchParams(s.body).get("start"), String(T0));
  });

  test("a GET longer than 8 KiB goes out as POST and succeeds", T, async () => {
    // The proxy refuses long URLs, as nginx and VictoriaMetrics do (prometheus-adapter #668).
    const p = await proxy({ maxUrlLength: MAX_GET_URL_LENGTH });
    const pods = Array.from({ length: 800 }, (_, i) => `pod-${String(i).padStart(6, "0")}`);
    const q = `http_requests_total{pod=~"${["web-1", ...pods].join("|")}"}`;
    assert.ok(q.length > MAX_GET_URL_LENGTH);

    // Proof that the GET form of this query is too long for this server.
    const direct = await request(`${p.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    await direct.body.dump();
    assert.equal(direct.statusCode, 414);

    const c = await client({ url: p.url, verb: "GET" });
    const r = await c.query(q, AT_LAST);
    assert.equal(r.resultType, "vector");
    assert.deepEqual(r.result, [
      {
        metric: { __name__: "http_requests_total", namespace: "default", pod: "web-1" },
        value: [T_LAST, 50],
      },
    ]);
    const last = p.requests.at(-1)!;
    assert.equal(last.method, "POST");
    assert.equal(last.url, "/api/v1/query");

    // A short query from the same client stays a GET.
    await c.query("odd", AT_LAST);
    assert.equal(p.requests.at(-1)?.method, "GET");
  });

  test("configured headers reach the server", T, async () => {
    const p = await proxy();
    const c = await client({ url: p.url, headers: { "X-Scope-OrgID": "tenant-a" } });
    await c.query("odd", AT_LAST);
    await c.series(["odd"]);
    await c.labelValues("k", ["odd"]);
    assert.equal(p.requests.length, 3);
    for (const r of p.requests) {
      assert.equal(r.headers["x-scope-orgid"], "tenant-a");
      assert.equal(r.headers["user-agent"], "k8s-custom-metrics");
    }
  });

  test("bearer token from a file, re-read when it changes", T, async () => {
    const dir = await mkdtemp(join(tmpdir(), "kcm-token-"));
    try {
      const file = join(dir, "token");
      await writeFile(file, "s3cret\n");
      const p = await proxy();
      const c = await client({ url: p.url, bearerTokenFile: file, bearerTokenRefreshMs: 0 });
      await c.query("odd", AT_LAST);
      assert.equal(p.requests[0]?.headers.authorization, "Bearer s3cret");
      await writeFile(file, "rotated-token");
      await c.query("odd", new Date(T_LAST * 1000 + 5_000));
      assert.equal(p.requests[1]?.headers.authorization, "Bearer rotated-token");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("errors", () => {
  test("bad PromQL is an api_error with errorType and HTTP status", T, async () => {
    const c = await client();
    const e = await rejection(c.query("sum(", AT_LAST));
    assert.equal(e.kind, "api_error");
    assert.equal(e.errorType, "bad_data");
    assert.equal(e.httpStatus, 400);
    assert.match(e.error ?? "", /parse error/);
    assert.match(e.message, /rejected \/api\/v1\/query \(HTTP 400\): bad_data: .*parse error/);
  });

  test("a closed port is unreachable, with a message naming the flag", T, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${String(port)}`;
    const c = await client({ url });
    const e = await rejection(c.query("up"));
    assert.equal(e.kind, "unreachable");
    assert.equal(
      e.message,
      `cannot reach Prometheus at ${url} (ECONNREFUSED): check --prometheus-url`,
    );
  });

  test("a server that never answers times out after timeoutMs", T, async () => {
    const silent = createServer(() => {
      // Never answer.
    });
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as AddressInfo;
    try {
      const c = await client({ url: `http://127.0.0.1:${String(port)}`, timeoutMs: 200 });
      const started = Date.now();
      const e = await rejection(c.query("up"));
      const took = Date.now() - started;
      assert.equal(e.kind, "timeout");
      assert.match(e.message, /did not answer \/api\/v1\/query within 200 ms/);
      assert.ok(took >= 150 && took < 2_000, `took ${String(took)} ms`);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test("non-API answers are bad_response", T, async () => {
    const odd = createServer((req, res) => {
      if (req.url?.startsWith("/html")) {
        res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>");
      } else {
        res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
      }
    });
    odd.listen(0, "127.0.0.1");
    await once(odd, "listening");
    const base = `http://127.0.0.1:${String((odd.address() as AddressInfo).port)}`;
    try {
      const html = await rejection((await client({ url: `${base}/html` })).query("up"));
      assert.equal(html.kind, "bad_response");
      assert.match(html.message, /text\/html: <html>login<\/html>/);
      const gw = await rejection((await client({ url: base })).series(["up"]));
      assert.equal(gw.kind, "bad_response");
      assert.equal(gw.httpStatus, 502);
      assert.match(gw.message, /unexpected HTTP 502 .* for \/api\/v1\/series \(bad gateway\)/);
    } finally {
      odd.closeAllConnections();
      odd.close();
    }
  });

  test("client certificate without key is a usage error", T, async () => {
    await assert.rejects(
      PrometheusClient.create({ url: prom.url, clientCertFile: "/nonexistent.crt" }),
      (e: unknown) => e instanceof KcmError && e.code === "KCM_ERR_USAGE" && /both/.test(e.message),
    );
  });

  test("a closed client refuses requests", T, async () => {
    const c = await client();
    await c.close();
    const e = await rejection(c.query("up"));
    assert.equal(e.kind, "unreachable");
    assert.match(e.message, /closed/);
  });
});

describe("coalescing and hooks", () => {
  test("identical concurrent queries share one request", T, async () => {
    const p = await proxy({ delayMs: 100 });
    const c = await client({ url: p.url });
    const q = 'sum(http_requests_total{namespace="default"})';
    const [a, b] = await Promise.all([c.query(q, AT_LAST), c.query(q, AT_LAST)]);
    assert.equal(p.requests.length, 1);
    assert.equal(a, b);
    assert.deepEqual(a.resultType === "vector" && a.result[0]?.value, [T_LAST, 75]);

    // Another query, or another time window, is a request of its own.
    await Promise.all([c.query("odd", AT_LAST), c.query(q, new Date(T_LAST * 1000 - 60_000))]);
    assert.equal(p.requests.length, 3);

    // Nothing is cached once a request has settled.
    await c.query(q, AT_LAST);
    assert.equal(p.requests.length, 4);
  });

  test("coalescing can be turned off", T, async () => {
    const p = await proxy({ delayMs: 50 });
    const c = await client({ url: p.url, coalesceWindowMs: 0 });
    await Promise.all([c.query("odd", AT_LAST), c.query("odd", AT_LAST)]);
    assert.equal(p.requests.length, 2);
  });

  test("onRequest sees each request's endpoint, latency and outcome", T, async () => {
    const seen: [string, number, RequestOutcome][] = [];
    const c = await client({ onRequest: (ep, ms, outcome) => seen.push([ep, ms, outcome]) });
    await c.query("odd", AT_LAST);
    await c.labelValues("pod");
    await rejection(c.query("sum(", AT_LAST));
    assert.deepEqual(
      seen.map(([ep, , o]) => [ep, o]),
      [
        ["/api/v1/query", "success"],
        ["/api/v1/label/:name/values", "success"],
        ["/api/v1/query", "api_error"],
      ],
    );
    assert.ok(seen.every(([, ms]) => ms > 0 && ms < 10_000));
  });
});

describe("TLS", () => {
  test("CA file, client certificate, and insecureSkipVerify", T, async () => {
    const dir = await mkdtemp(join(tmpdir(), "kcm-tls-"));
    const ca = await createCa("test-ca");
    const server = await issue(ca, {
      commonName: "prometheus",
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    const clientCert = await issue(ca, { commonName: "adapter", usage: "client" });
    const files = {
      ca: join(dir, "ca.crt"),
      cert: join(dir, "client.crt"),
      key: join(dir, "client.key"),
    };
    await writeFile(files.ca, ca.certPem);
    await writeFile(files.cert, clientCert.certPem);
    await writeFile(files.key, clientCert.keyPem);
    const peers: string[] = [];
    const https = createHttpsServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: ca.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        peers.push(socket.authorized ? String(peer.subject.CN) : "anonymous");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "success", data: ["__name__"] }));
      },
    );
    https.listen(0, "127.0.0.1");
    await once(https, "listening");
    const url = `https://127.0.0.1:${String((https.address() as AddressInfo).port)}`;
    try {
      const untrusted = await rejection((await client({ url })).labelNames());
      assert.equal(untrusted.kind, "unreachable");
      assert.match(untrusted.message, /check --prometheus-ca-file/);

      const mtls = await client({
        url,
        caFile: files.ca,
        clientCertFile: files.cert,
        clientKeyFile: files.key,
      });
      assert.deepEqual(await mtls.labelNames(), ["__name__"]);
      const skip = await client({ url, insecureSkipVerify: true });
      assert.deepEqual(await skip.labelNames(), ["__name__"]);
      // Without --prometheus-ca-file, the system bundle is trusted as Go trusts it: here the CA
      // is the bundle ($SSL_CERT_FILE), as when a private CA is mounted over the system's.
      const saved = process.env["SSL_CERT_FILE"];
      process.env["SSL_CERT_FILE"] = files.ca;
      try {
        const system = await client({ url });
        assert.deepEqual(await system.labelNames(), ["__name__"]);
      } finally {
        if (saved === undefined) delete process.env["SSL_CERT_FILE"];
        else process.env["SSL_CERT_FILE"] = saved;
      }
      assert.deepEqual(peers, ["adapter", "anonymous", "anonymous"]);
    } finally {
      https.closeAllConnections();
      https.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
