import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeApiError, KubeClient } from "./client.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let dir: string;
let server: Server;
let handler: Handler = (_req, res) => res.end("{}");
let connections = 0;
let kubeconfig: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kcm-kube-client-"));
  server = createServer((req, res) => {
    handler(req, res);
  });
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: c",
      "clusters:",
      "- name: k",
      "  cluster:",
      `    server: http://127.0.0.1:${String(port)}`,
      "users:",
      "- name: u",
      "  user:",
      "    token: the-token",
      "contexts:",
      "- name: c",
      "  context: {cluster: k, user: u}",
      "",
    ].join("\n"),
  );
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function client(timeoutMs = 2000): KubeClient {
  return new KubeClient({ kubeconfig, timeoutMs });
}

describe("KubeClient.json", () => {
  test("sends the headers and body, parses the answer, reuses the connection", async () => {
    const seen: {
      method: string | undefined;
      url: string | undefined;
      headers: IncomingMessage["headers"];
      body: string;
    }[] = [];
    handler = (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ ok: req.method }));
      });
    };
    const kube = client();
    const before = connections;
    assert.deepEqual(await kube.json("GET", "/api/v1/nodes?limit=1"), { ok: "GET" });
    assert.deepEqual(
      await kube.json("POST", "/apis/x/v1/reviews", { spec: 1 }, { accept: "a/b" }),
      {
        ok: "POST",
      },
    );
    for (let i = 0; i < 5; i++) await kube.json("GET", "/api/v1/nodes");
    kube.close();
    // undici opens a second connection when asked again in the same tick as an answer ends.
    assert.ok(connections - before <= 2, `connections: ${String(connections - before)}`);
    const [get, post] = seen;
    assert.equal(get?.url, "/api/v1/nodes?limit=1");
    assert.equal(get.headers.accept, "application/json");
    assert.equal(get.headers.authorization, "Bearer the-token");
    assert.equal(get.headers["user-agent"], "k8s-custom-metrics");
    assert.equal(get.headers["content-type"], "application/json");
    assert.equal(post?.method, "POST");
    assert.equal(post.headers.accept, "a/b");
    assert.equal(post.headers["content-length"], String('{"spec":1}'.length));
    assert.equal(post.body, '{"spec":1}');
  });

  test("a non-2xx answer is a KubeApiError with the Status' message", async () => {
    handler = (_req, res) => {
      res.statusCode = 403;
      res.end(
        JSON.stringify({ kind: "Status", message: "nodes is forbidden", reason: "Forbidden" }),
      );
    };
    const kube = client();
    const e = await kube.json("GET", "/api/v1/nodes").catch((x: unknown) => x);
    kube.close();
    assert.ok(e instanceof KubeApiError);
    assert.equal(e.message, "GET /api/v1/nodes: HTTP 403: nodes is forbidden");
    assert.equal(e.reason, "Forbidden");
  });

  test("no answer within the timeout", async () => {
    handler = () => undefined;
    const kube = client(200);
    await assert.rejects(kube.json("GET", "/x"), { message: "timeout after 200 ms" });
    kube.close();
  });

  test("a connection closed before the answer is ECONNRESET, as Node's client said (retried)", async () => {
    handler = (req) => {
      req.socket.end();
    };
    const kube = client();
    await assert.rejects(kube.json("GET", "/x"), { code: "ECONNRESET", message: "socket hang up" });
    kube.close();
  });

  test("a refused connection keeps its code", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const cfg = join(dir, "refused");
    await writeFile(
      cfg,
      `current-context: c\nclusters: [{name: k, cluster: {server: "http://127.0.0.1:${String(port)}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n`,
    );
    const kube = new KubeClient({ kubeconfig: cfg });
    await assert.rejects(kube.json("GET", "/x"), { code: "ECONNREFUSED" });
    kube.close();
  });
});

describe("KubeClient.stream", () => {
  test("hands each line over as it arrives, lines split across chunks too", async () => {
    let next: () => void = () => undefined;
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"n":1}\n{"n"');
      next = () => {
        res.end(':2}\n\n{"n":3}');
      };
    };
    const kube = client();
    const events: unknown[] = [];
    let opened = false;
    await kube.stream(
      "/api/v1/pods?watch=1",
      (e) => {
        events.push(e);
        // The second chunk is only sent once the first line has been seen: a stream, not a body.
        if (events.length === 1) next();
      },
      {
        onOpen: () => {
          opened = true;
        },
      },
    );
    kube.close();
    assert.ok(opened);
    assert.deepEqual(events, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  test("a non-2xx answer is a KubeApiError", async () => {
    handler = (_req, res) => {
      res.statusCode = 410;
      res.end(JSON.stringify({ message: "too old resource version" }));
    };
    const kube = client();
    const e = await kube.stream("/w", () => undefined).catch((x: unknown) => x);
    kube.close();
    assert.ok(e instanceof KubeApiError);
    assert.equal(e.status, 410);
  });

  test("silence for idleTimeoutMs, a closed connection, an abort, a failing onEvent", async () => {
    handler = (req, res) => {
      res.writeHead(200);
      res.write('{"n":1}\n');
      if (req.url === "/close") res.socket?.end();
      if (req.url === "/bad") res.write("not json\n");
    };
    const kube = client();
    await assert.rejects(
      kube.stream("/idle", () => undefined, { idleTimeoutMs: 200 }),
      {
        message: "no data for 200 ms",
      },
    );
    await assert.rejects(
      kube.stream("/close", () => undefined),
      {
        message: "GET /close: stream aborted",
      },
    );
    const ac = new AbortController();
    await assert.rejects(
      kube.stream(
        "/abort",
        () => {
          ac.abort();
        },
        { signal: ac.signal },
      ),
      { name: "AbortError", code: "ABORT_ERR" },
    );
    const gone = new Error("gone");
    await assert.rejects(
      kube.stream("/throw", () => {
        throw gone;
      }),
      (e) => e === gone,
    );
    await assert.rejects(
      kube.stream("/bad", () => undefined),
      SyntaxError,
    );
    kube.close();
  });
});
