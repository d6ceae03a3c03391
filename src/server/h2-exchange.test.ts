/**
 * @module server/h2-exchange.test
 * HTTP/2 requests served from their streams, over real node:http2 connections: status, headers
 * and bodies (long ones through writeBody's drain path), HEAD, what the compatibility layer
 * answered itself (unmet expectations), unread request bodies, and a client's reset
 * ending only its own stream.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BODY_SLICE, writeBody } from "./api-server.ts";
import { serveStream, type H2Request, type H2Response } from "./h2-exchange.ts";

interface Reply {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function ask(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let got: IncomingHttpHeaders = {};
    stream.on("response", (h) => (got = h));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      resolve({ headers: got, body: Buffer.concat(chunks) });
    });
    stream.on("error", reject);
    if (body !== undefined) stream.end(body);
  });
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await sleep(10);
  assert.ok(cond(), "not within 1 s");
}

describe("HTTP/2 exchanges without the compatibility layer", () => {
  const long = `[${'"abc",'.repeat(50_000)}"end"]`;
  const seen: { url: string; method: string; fields: number }[] = [];
  let closed = 0;
  const server = createServer();
  let session: ClientHttp2Session;

  before(async () => {
    server.on(
      "stream",
      serveStream((req: H2Request, res: H2Response) => {
        seen.push({ url: req.url, method: req.method, fields: req.rawHeaders.length / 2 });
        res.once("close", () => closed++);
        res.statusCode = req.url === "/missing" ? 404 : 200;
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-cache, private");
        writeBody(res, req.url === "/long" ? long : '{"ok":true}');
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    session = connect(`http://127.0.0.1:${String(port)}`);
  });

  after(() => {
    session.close();
    server.close();
  });

  test("status, headers (date added, names lower-cased) and body", async () => {
    const r = await ask(session, { ":path": "/missing", "x-extra": "1" });
    assert.equal(r.headers[":status"], 404);
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["cache-control"], "no-cache, private");
    assert.match(String(r.headers.date), /GMT$/);
    assert.equal(r.body.toString(), '{"ok":true}');
    const last = seen.at(-1);
    assert.deepEqual(last && { url: last.url, method: last.method }, {
      url: "/missing",
      method: "GET",
    });
    // The pseudo-headers and the client's own field, as the compatibility layer's rawHeaders.
    assert.ok((last?.fields ?? 0) >= 5);
  });

  test("a long body in slices, with its length", async () => {
    const r = await ask(session, { ":path": "/long" });
    assert.ok(long.length > BODY_SLICE);
    assert.equal(r.headers["content-length"], String(long.length));
    assert.equal(r.body.toString(), long);
  });

  test("HEAD: headers only", async () => {
    const r = await ask(session, { ":path": "/long", ":method": "HEAD" });
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.body.length, 0);
  });

  test("a request body nobody reads does not keep the stream open", async () => {
    const closedBefore = closed;
    // Past the 64 KiB flow-control window: if the stream waited for the client to finish
    // sending, it (and its in-flight place) would stay open.
    const r = await ask(session, { ":path": "/post", ":method": "POST" }, "x".repeat(200_000));
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.body.toString(), '{"ok":true}');
    await waitFor(() => closed > closedBefore);
  });

  test("an Expect other than 100-continue: 417 without reaching the handler", async () => {
    const before = seen.length;
    const r = await ask(session, { ":path": "/x", expect: "something" });
    assert.equal(r.headers[":status"], 417);
    assert.equal(seen.length, before);
    const ok = await ask(session, { ":path": "/y", expect: "100-continue" }, "body");
    assert.equal(ok.headers[":status"], 200);
  });

  test("a stream the client resets ends alone; the connection serves on", async () => {
    const closedBefore = closed;
    const stream = session.request({ ":path": "/long" });
    stream.on("error", () => undefined); // the client's side of the reset
    await once(stream, "response");
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    await new Promise((resolve) => stream.once("close", resolve));
    const r = await ask(session, { ":path": "/after" });
    assert.equal(r.headers[":status"], 200);
    // "close" reached the response of the reset stream too (the in-flight place is given back).
    for (let i = 0; i < 50 && closed < closedBefore + 2; i++)
      await new Promise((t) => setTimeout(t, 10));
    assert.ok(closed >= closedBefore + 2, `closed ${String(closed - closedBefore)}`);
  });
});
